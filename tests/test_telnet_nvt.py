"""Telnet for the plainest client: nothing offered but the documented
options, and CR LF at the end of every line on every output path.

A raw socket plays the client: one that answers nothing (``nc``), and one
that agrees to everything it is offered, as a BSD-derived ``telnet`` does,
to show that no agreement draws a further offer (telnetlib3's WILL BINARY
and DO NEW-ENVIRON, which turned netkit telnet's screen into a staircase).
netkit telnet itself is driven in tmux in tests/interop/test_plain_telnet.py.
"""

from __future__ import annotations

import re
import socket

from conftest import TIMEOUT
from mudclient import (CHARSET, DO, DONT, EOR_OPT, GMCP, MCCP2, MSSP, NAWS, TTYPE, WILL,
                       TelnetPeer, iac, sb)
from test_platform import PLATFORM_MUDLIB, connect
from test_telnet import world  # noqa: F401  (the client-protocols world, module-scoped)

BINARY, ECHO, SGA, NEW_ENVIRON = 0, 1, 3, 39

#: docs/clients.md: the offers, at connect time.
DOCUMENTED = {("DO", TTYPE), ("WILL", EOR_OPT), ("WILL", CHARSET), ("WILL", GMCP),
              ("WILL", MSSP), ("DO", NAWS), ("WILL", MCCP2)}


def _offers(commands: list[tuple]) -> set[tuple]:
    return {c for c in commands if c[0] in ("DO", "WILL")}


def test_a_client_that_answers_nothing_gets_the_documented_offers_and_text(world):  # noqa: F811
    """What ``nc`` shows: the offers in one piece, then the greeting, and nothing else."""
    with socket.create_connection(("127.0.0.1", world.telnet_port), timeout=TIMEOUT) as sock:
        received = b""
        while b"WELCOME" not in received:
            data = sock.recv(65536)
            assert data, received
            received += data
        sock.sendall(b"echo hi\r\n")
        while b"ECHO hi\r\n" not in received:
            data = sock.recv(65536)
            assert data, received
            received += data
    offers = re.findall(rb"\xff([\xfb\xfd])(.)", received, re.S)
    named = {("WILL" if c == b"\xfb" else "DO", o[0]) for c, o in offers}
    assert named == DOCUMENTED, named
    assert received.count(b"\xff") == len(offers) + received.count(b"\xff\xf9")  # and GA


def test_a_client_that_agrees_to_everything_is_offered_nothing_more(world):  # noqa: F811
    def agree(peer, command):
        if command[0] == "DO" and command[1] not in (MCCP2,):
            peer.send(iac(WILL, command[1]))
            if command[1] == NAWS:
                peer.send(sb(NAWS, b"\x00\x50\x00\x18"))
        elif command[0] == "WILL":
            peer.send(iac(DO, command[1]) if command[1] != MCCP2 else iac(DONT, MCCP2))
        elif command[0] == "SB" and command[1] == TTYPE:
            peer.send(sb(TTYPE, b"\x00XTERM"))

    peer = TelnetPeer(world.telnet_port, on_command=agree)
    peer.wait_text("WELCOME ")
    assert peer.run("echo hi", "ECHO ") == "ECHO hi"
    assert peer.run("client", "CLIENT ").startswith("CLIENT ")  # the TTYPE cycle has ended
    offers = _offers(peer.commands)
    assert offers <= DOCUMENTED, offers - DOCUMENTED
    for never in (("WILL", BINARY), ("DO", BINARY), ("DO", NEW_ENVIRON), ("WILL", ECHO),
                  ("WILL", SGA)):
        assert never not in peer.commands, never
    peer.close()


def test_binary_only_when_the_client_asks_and_new_environ_is_the_mudlibs(world):  # noqa: F811
    peer = TelnetPeer(world.telnet_port)
    peer.wait_text("WELCOME ")
    mark = world.log_mark()
    peer.send(iac(DO, BINARY) + iac(WILL, BINARY) + iac(WILL, NEW_ENVIRON))
    peer.wait_command(("WILL", BINARY))
    peer.wait_command(("DO", BINARY))
    peer.wait_command(("DONT", NEW_ENVIRON))  # the mudlib did not take it up
    world.wait_for_log(rf"TELNET_NEG /player#\d+ {WILL} {NEW_ENVIRON} -", start=mark)
    assert not any(c[0] == "SB" and c[1] == NEW_ENVIRON for c in peer.commands)
    assert peer.run("echo binary", "ECHO ") == "ECHO binary"
    peer.close()


# --- CR LF on every path -------------------------------------------------------------

def _lone_line_feeds(stream: bytes) -> list[bytes]:
    """Each LF not after a CR, with what comes before it."""
    return [stream[max(0, m.start() - 20):m.start() + 1]
            for m in re.finditer(rb"(?<!\r)\n", stream)]


def test_every_line_on_every_path_ends_with_cr_lf(make_driver):
    driver = make_driver(mudlib=PLATFORM_MUDLIB, tls_port=None, certs_=None)
    ann = connect(driver, "ann")
    wiz = connect(driver, "wiz")
    wiz.line("wiz", "WIZ")
    assert wiz.py("_ = snoop(me, find_living('ann'))") == "1"
    seen = {ann: bytearray(), wiz: bytearray()}

    def keep() -> None:  # the clients clear what they received at each command
        for client, stream in seen.items():
            stream += client.raw
            client.raw.clear()

    # text with newlines of every kind, binary_message, tell_object (and the
    # snoop copies of all of it), a password prompt; the py command's code
    # is one line: chr(10) is LF, chr(13) CR
    keep()
    ann.py("n = chr(10); write('one' + n + 'two' + chr(13) + n + 'three' + n); "
           "_ = binary_message(('bin' + n + 'ary' + n).encode())")
    keep()
    ann.py("tell_object(me, 'told' + chr(10))")
    keep()
    ann.line("ask 1", "ASKED")  # INPUT_NOECHO
    ann.send_line("secret")
    ann.read_until("ANSWER")
    keep()
    # character mode: the driver echoes each key, and Enter as a new line
    ann.line("keys 2", "KEYS")
    ann.sock.sendall(b"x")
    ann.read_until("KEY 'x'")
    ann.sock.sendall(b"\r\n")
    ann.read_until("KEY '\\r'")
    keep()
    assert ann.line("py _ = 1", "PY ") == "PY 1"
    wiz.read_until("%PY 1")
    keep()
    for who, client in (("ann", ann), ("wiz (snooping)", wiz)):
        stream = bytes(seen[client])
        assert not _lone_line_feeds(stream), (who, _lone_line_feeds(stream))
    ann_stream = bytes(seen[ann])
    for line in (b"one", b"two", b"three", b"bin", b"ary", b"told"):
        assert line + b"\r\n" in ann_stream, (line, ann_stream)
    assert b"KEY 'x'\r\n\r\n" in ann_stream  # the echo of Enter in character mode
    assert b"%two\r\n" in bytes(seen[wiz]) and b"%told\r\n" in bytes(seen[wiz])
