"""TinTin++ as a player, driven in tmux: over TLS (#ssl) and plain telnet,
and as a client of the world's MSDP.

Every run gets a fresh HOME: TinTin++ pins the first certificate it sees for
a host and port under ~/.tintin/ssl.  How the screen is read:
``terminal.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import SHIPPED_MUDLIB, TIMEOUT, start_driver
from terminal import COLUMNS, PASSWORD, ROWS, TerminalClient, clients, create_character, tool


class TinTin(TerminalClient):
    name = "TinTin++"

    def __init__(self, home) -> None:
        super().__init__(home, f"{tool('tt++', '/usr/games/tt++')} -G")
        # Ready once it runs a command: the typed line shows "$r", the output "<ready>".
        self.command("#variable r ready;#showme <$r>", "<ready>")


@pytest.fixture
def tintin(tmp_path):
    yield from clients(tmp_path, TinTin)


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("tintin"), certs, mudlib=SHIPPED_MUDLIB)
    yield driver
    driver.stop()


def test_tintin_over_tls(world, tintin):
    tt = tintin()
    tt.type(f"#ssl mud localhost {world.tls_port}")
    screen = tt.wait_for("Your connection is encrypted (TLSv1.")
    assert "SAVING SERVER CERTIFICATE" in screen  # a fresh HOME: first use, pinned now
    create_character(tt, "tintls")
    assert PASSWORD not in tt.screen()  # WILL ECHO: TinTin++ hid the password
    tt.command("look", "Obvious exits")
    # The listing's last line: a client may draw the first before the rest has arrived.
    tt.command("who", "online.  'tls' means the connection is encrypted.")
    who = tt.screen()
    who = who[who.rindex("Adventurers in"):]
    assert "Tintls" in who and "tls" in who
    tt.command("tls", "Your connection is encrypted: TLSv1.")
    tt.type("quit")
    tt.wait_for("Farewell")
    tt.wait_for("#SESSION 'mud' DIED.")
    world.wait_for_log(r"Tintls quit")


def test_tintin_over_plain_telnet(world, tintin):
    tt = tintin()
    mark = world.log_mark()
    tt.type(f"#session mud localhost {world.telnet_port}")
    tt.wait_for("This connection is not encrypted.")
    create_character(tt, "tinplain")
    tt.command("tls", "Your connection is not encrypted")
    # Its own way to TLS, as it named itself in TTYPE, not every client's.
    screen = tt.wait_for(f"In TinTin++: #ssl game localhost {world.tls_port}")
    assert "connection settings" not in screen
    tt.type("quit")
    tt.wait_for("#SESSION 'mud' DIED.")
    world.wait_for_log(r"Tinplain quit", start=mark)


def test_what_tintin_negotiates(tmp_path_factory, tintin):
    """TTYPE with MTTS, NAWS and MCCP2 from a real client; CHARSET refused
    without costing the login anything."""
    driver = start_driver(tmp_path_factory.mktemp("tintin-client"), None, tls_port=None,
                          mudlib=Path(__file__).resolve().parent.parent / "mudlib_clients")
    try:
        tt = tintin()
        tt.type(f"#session mud localhost {driver.telnet_port}")
        tt.wait_for("WELCOME ")
        # The TTYPE cycle takes a few round trips; ask until it is done.
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = tt.command("client", "CLIENT {")
            info = json.loads(answer.split("CLIENT ", 1)[1].split("\n", 1)[0])
            if info["mtts"] is not None or time.monotonic() > deadline:
                break
        assert info["client"] == "TINTIN++"
        assert info["mtts"] is not None and info["mtts"] & 1      # MTTS: ANSI at least
        assert info["mccp"] is True                                  # compressed, not TLS
        assert info["window"] == [COLUMNS, ROWS]                     # the tmux window
        assert info["charset"] == "UTF-8" and info["tls"] == 0
        tt.command("unicode", "UNICODE café ☕")
    finally:
        driver.stop()


def test_tintin_reads_the_worlds_msdp(world, tintin):
    """MSDP with a real client: TinTin++ answers the world's WILL MSDP with
    DO (its IAC WILL MSDP event), asks for reports, and shows each variable
    its MSDP parser hands to the IAC SB MSDP event, as they change."""
    tt = tintin()
    tt.type(r"#event {IAC WILL MSDP} {#send {\xFF\xFD\x45\}}")
    tt.type("#event {IAC SB MSDP} {#showme MSDP<%0=%1>}")
    tt.type(f"#session mud localhost {world.telnet_port}")
    create_character(tt, "tinmsdp")
    tt.type(r"#send {\xFF\xFA\x45\x01REPORT\x02HEALTH\x02ROOM_NAME\xFF\xF0\}")
    tt.wait_for("MSDP<HEALTH=30>")
    tt.wait_for("MSDP<ROOM_NAME=The town square>")
    tt.type("south")
    tt.wait_for("MSDP<ROOM_NAME=The south gate>")
    tt.type(r"#send {\xFF\xFA\x45\x01SEND\x02ROOM_EXITS\xFF\xF0\}")
    screen = tt.wait_for("MSDP<ROOM_EXITS=")
    exits = screen[screen.rindex("MSDP<ROOM_EXITS="):]
    assert "north" in exits and "south" in exits, exits
    tt.type("quit")
    tt.wait_for("#SESSION 'mud' DIED.")
