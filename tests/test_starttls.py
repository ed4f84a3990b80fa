"""STARTTLS on the plain port: telnet START_TLS (option 46), as in
draft-altman-telnet-starttls.

The client here is written against the draft: raw socket, ``ssl.SSLObject``
over memory BIOs, and its FOLLOWS and ClientHello leave in ONE write, so the
driver must start the handshake at exactly the byte after the FOLLOWS.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import SHIPPED_MUDLIB, start_driver
from driver.net.starttls import FOLLOWS_SEQUENCE, FollowsScanner
from mudclient import FOLLOWS, START_TLS, WILL, WONT, TelnetPeer, iac

CLIENT_MUDLIB = Path(__file__).resolve().parent / "mudlib_clients"
STARTTLS_ON = "telnet:\n  starttls: true\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("starttls"), certs, mudlib=CLIENT_MUDLIB,
                          handshake_timeout=1, extra=STARTTLS_ON)
    yield driver
    driver.stop()


def offered(world) -> TelnetPeer:
    peer = TelnetPeer(world.telnet_port)
    peer.wait_text("WELCOME ")
    peer.wait_command(("DO", START_TLS))
    return peer


def upgrade(peer: TelnetPeer, certs, split: bool = False) -> None:
    """WILL START_TLS; on the server's FOLLOWS, our FOLLOWS and ClientHello at once."""
    peer.send(iac(WILL, START_TLS))
    peer.wait_command(("SB", START_TLS, b"\x01"))
    if split:
        peer.sock.sendall(FOLLOWS[:3])
        peer.start_tls(certs.client_context(), prefix=FOLLOWS[3:])
    else:
        peer.start_tls(certs.client_context(), prefix=FOLLOWS)
    peer.finish_tls()


def client_info(peer: TelnetPeer) -> dict:
    return json.loads(peer.run("client", "CLIENT ").split(" ", 1)[1])


def test_starttls_upgrades_the_connection_in_place(world, certs):
    peer = offered(world)
    name = peer.line("WELCOME ").split()[1]
    mark = world.log_mark()
    upgrade(peer, certs)
    world.wait_for_log(rf"STARTTLS {re.escape(name)} init=1 state=-1", start=mark)
    peer.wait_text("SECURED result=0")
    world.wait_for_log(rf"STARTTLS DONE {re.escape(name)} result=0 state=1", start=mark)
    # On the wire: the server's FOLLOWS in the clear, then nothing but TLS records.
    wire = bytes(peer.wire)
    after = wire.split(FOLLOWS_SEQUENCE, 1)[1]
    assert after[:1] == b"\x16" and after[1:3] == b"\x03\x03", after[:8]
    assert b"SECURED" not in wire
    assert client_info(peer)["tls"] == 1
    assert peer.run("echo over starttls", "ECHO ") == "ECHO over starttls"
    peer.close()


def test_follows_split_across_writes(world, certs):
    peer = offered(world)
    upgrade(peer, certs, split=True)
    peer.wait_text("SECURED result=0")
    assert peer.run("echo split", "ECHO ") == "ECHO split"
    peer.close()


def test_a_client_that_declines_stays_plain(world):
    peer = offered(world)
    mark = world.log_mark()
    peer.send(iac(WONT, START_TLS))
    world.wait_for_log(r"TELNET_NEG /player#\d+ 252 46 -", start=mark)
    assert peer.run("echo plain", "ECHO ") == "ECHO plain"
    assert client_info(peer)["tls"] == 0
    assert ("SB", START_TLS, b"\x01") not in peer.commands
    peer.close()


def test_a_client_that_never_follows_times_out_and_stays_plain(world):
    """The driver's FOLLOWS went out but the client never answers: the
    handshake deadline fails it; text held meanwhile is never sent in the clear."""
    peer = offered(world)
    mark = world.log_mark()
    peer.send(iac(WILL, START_TLS))
    peer.wait_command(("SB", START_TLS, b"\x01"))
    peer.send_line("echo held")  # runs, but its answer is held for TLS
    world.wait_for_log(r"STARTTLS DONE /player#\d+ result=-3 state=0", start=mark, timeout=5)
    assert "ECHO held" not in peer.text
    assert peer.run("echo plain again", "ECHO ") == "ECHO plain again"
    peer.close()


def test_not_offered_unless_configured(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("nostarttls"), certs, mudlib=CLIENT_MUDLIB)
    try:
        peer = TelnetPeer(driver.telnet_port)
        peer.wait_text("WELCOME ")
        peer.run("echo sync", "ECHO ")
        assert ("DO", START_TLS) not in peer.commands
        # A client offering it anyway is refused.
        peer.send(iac(WILL, START_TLS))
        peer.wait_command(("DONT", START_TLS))
        peer.close()
    finally:
        driver.stop()


def test_the_shipped_world_secures_clients_that_offer(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("starttls-shipped"), certs,
                          mudlib=SHIPPED_MUDLIB, extra=STARTTLS_ON)
    try:
        peer = TelnetPeer(driver.telnet_port)
        peer.wait_command(("DO", START_TLS))
        upgrade(peer, certs)
        peer.wait_text("now encrypted")
        peer.send_line("zoe")
        peer.wait_text("[y/n] ")
        peer.send_line("y")
        peer.wait_text("characters): ")
        peer.send_line("moorland-wind")
        peer.wait_text("Type it again: ")
        peer.send_line("moorland-wind")
        peer.wait_text("Welcome to")
        peer.send_line("tls")
        peer.wait_text("Your connection is encrypted")
        peer.close()
    finally:
        driver.stop()


def test_follows_scanner_finds_the_end_across_reads():
    scanner = FollowsScanner()
    data = b"xx" + FOLLOWS_SEQUENCE + b"\x16\x03\x01"
    assert scanner.end_within(data, 0, len(data)) == 2 + len(FOLLOWS_SEQUENCE)
    for cut in range(1, len(FOLLOWS_SEQUENCE)):
        scanner = FollowsScanner()
        first, second = FOLLOWS_SEQUENCE[:cut], FOLLOWS_SEQUENCE[cut:] + b"\x16"
        assert scanner.end_within(b"ab" + first, 0, 2 + cut) == -1
        scanner.fed(b"ab" + first)
        assert scanner.end_within(second, 0, len(second)) == len(FOLLOWS_SEQUENCE) - cut
    scanner = FollowsScanner()
    scanner.fed(FOLLOWS_SEQUENCE[:2])
    scanner.fed(b"no")
    assert scanner.end_within(FOLLOWS_SEQUENCE[2:], 0, 4) == -1
