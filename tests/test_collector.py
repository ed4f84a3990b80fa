"""Players who leave leave nothing for the cyclic garbage collector.

The driver keeps its long-lived objects out of the collector's full passes
(``gc.freeze()``, driver/collector.py), so an object that was frozen and
later dies in a reference cycle would never be freed.  These tests play
the shipped world over real sockets (TLS and plain telnet; characters made,
played and quit, or cut off in the middle), then ask the driver process
(through ``tests/gc_probe/sitecustomize.py``, on SIGUSR1) what a full
collection finds: the driver's connection objects must not be among it.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest

from conftest import SHIPPED_MUDLIB
from test_world import create_character, do, plain_player, tls_player

PROBE = Path(__file__).parent / "gc_probe"

#: The driver's objects of one connection, none of which may die in a cycle
#: (the transport is asyncio's, or uvloop's TCPTransport on uvloop).
CONNECTION_KINDS = {"Connection", "TLSSession", "SSLObject", "MudTelnetProtocol",
                    "MudTelnetWriter", "TelnetInput", "LineReader", "Interactive",
                    "_SelectorSocketTransport", "TCPTransport", "MemoryBIO"}


def garbage(driver) -> dict[str, int]:
    """What a full collection in the driver finds now, by type."""
    mark = driver.log_mark()
    driver.process.send_signal(signal.SIGUSR1)
    found = driver.wait_for_log(r"GC-PROBE garbage \d+: (\{.*\})", start=mark)
    return json.loads(found.group(1))


def _wait_for_line(driver, pattern: str, start: int) -> int:
    """The index of the first log line from ``start`` on that matches."""
    driver.wait_for_log(pattern, start=start)
    regex = re.compile(pattern)
    return next(index for index, line in enumerate(driver.lines[start:], start)
                if regex.search(line))


@pytest.fixture
def probed_world(make_driver):
    return make_driver(mudlib=SHIPPED_MUDLIB, env={"PYTHONPATH": str(PROBE)})


def test_players_who_quit_or_vanish_leave_no_cyclic_garbage(probed_world, certs):
    world = probed_world
    garbage(world)  # whatever start-up left
    for index in range(3):
        for secure in (True, False):
            name = f"{'tls' if secure else 'plain'}{'abc'[index]}"
            player = tls_player(world, certs) if secure else plain_player(world)
            create_character(player, name)
            do(player, "look")
            if index == 0:
                player.close()  # gone without a word, as a dropped link
            else:
                player.send_line("quit")
                world.wait_for_log(rf"mudlib: {name.capitalize()} quit")
                player.close()
    # Greeted, then gone before giving a name.
    mark = world.log_mark()
    for _ in range(3):
        for player in (tls_player(world, certs), plain_player(world)):
            player.read_until("What is your name? ")
            player.close()
    for _ in range(6):  # each connection's end, logged once it is over
        found_at = _wait_for_line(world, r": (closed by the peer|lost)$", mark)
        mark = found_at + 1
    left = garbage(world)
    assert not CONNECTION_KINDS & set(left), f"died in reference cycles: {left}"
