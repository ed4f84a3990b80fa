"""Telnet as MUD clients speak it: offers, prompts, echo, TTYPE/MTTS, NAWS,
CHARSET, bad input, negotiation that never stalls a login, keepalive.

The clients are raw sockets that answer (or ignore) negotiation the way
Mudlet, TinTin++ and plain telnet do, and telnetlib3's own client.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import time
from pathlib import Path

import pytest
import telnetlib3

from conftest import TIMEOUT, start_driver
from mudclient import (CHARSET, CLIENT_MUDLIB, DO, DONT, EOR_OPT, GMCP, IAC, MCCP2, MSSP, NAWS,
                       NOP, SB, SE, SGA, TTYPE, WILL, WONT, TelnetPeer, client_info, connect, iac, sb)


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("telnet"), certs, mudlib=CLIENT_MUDLIB)
    yield driver
    driver.stop()


# --- offers, and logins that never wait on them -------------------------------------

def test_a_client_that_answers_nothing_gets_the_login_at_once(world):
    """Banner and prompt before (and without) any answer to negotiation."""
    started = time.monotonic()
    peer = TelnetPeer(world.telnet_port)
    peer.wait_text("> ")
    elapsed = time.monotonic() - started
    # telnetlib3 waits up to connect_maxwait (0.5 s) for answers; the login does not.
    assert elapsed < 0.4, elapsed
    peer.wait_command(("DO", TTYPE))
    for offer in (("WILL", EOR_OPT), ("WILL", CHARSET), ("WILL", GMCP), ("WILL", MSSP),
                  ("DO", NAWS), ("WILL", MCCP2)):
        peer.wait_command(offer)
    assert ("WILL", 1) not in peer.commands, "WILL ECHO outside a password prompt"
    assert peer.run("echo hello", "ECHO ") == "ECHO hello"
    peer.close()


def test_a_client_that_refuses_everything_plays_normally(world):
    """TinTin++ and tf5 refuse CHARSET; some clients refuse nearly everything."""
    def refuse(peer, command):
        if command[0] == "DO":
            peer.send(iac(WONT, command[1]))
        elif command[0] == "WILL":
            peer.send(iac(DONT, command[1]))

    started = time.monotonic()
    peer = TelnetPeer(world.telnet_port, on_command=refuse)
    peer.wait_text("> ")
    assert time.monotonic() - started < 0.4
    assert peer.run("echo still here", "ECHO ") == "ECHO still here"
    info = client_info(peer)
    assert info["charset"] == "UTF-8" and info["terminal"] is None and info["window"] is None
    assert info["mccp"] is False and info["gmcp_supports"] is None
    assert peer.run("unicode", "UNICODE ") == "UNICODE café ☕"
    peer.close()


def test_control_characters_are_text_with_or_without_a_telnet_command_beside_them(world):
    """A line is the same whether or not an IAC shares its chunk (the two take
    different paths through the telnet layer)."""
    peer = connect(world)
    line = b"echo a\x7fb\x15c\r\n"
    mark = len(peer.text_bytes)
    peer.send(line)
    peer.wait(lambda: peer.line("ECHO ", mark) is not None, "ECHO", TIMEOUT)
    plain = peer.line("ECHO ", mark)
    mark = len(peer.text_bytes)
    peer.send(iac(NOP) + line)
    peer.wait(lambda: peer.line("ECHO ", mark) is not None, "ECHO", TIMEOUT)
    assert peer.line("ECHO ", mark) == plain
    assert "\x15" in plain, repr(plain)
    peer.close()


def test_a_client_speaking_broken_telnet_does_not_fill_the_log(world):
    """Malformed and interrupted subnegotiations, unsolicited answers: the
    client is still served, and the log gets no tracebacks or warnings."""
    mark = world.log_mark()
    peer = connect(world)
    broken = (sb(NAWS, b"\x00\x50")              # NAWS needs 4 bytes
              + sb(99, b"unknown option")          # nobody asked
              + iac(SB, 98) + b"cut" + iac(WILL, 3)  # a subnegotiation cut off by a command
              + iac(WONT, 18) + iac(WILL, 250))    # unsolicited, and an odd option
    for _ in range(20):
        peer.send(broken)
    assert peer.run("echo still fine", "ECHO ") == "ECHO still fine"
    peer.close()
    log = "\n".join(world.lines[mark:])
    assert "Traceback" not in log, log[-3000:]
    assert not re.search(r"^\S+ \S+ (WARNING|ERROR)", log, re.M), log[-3000:]


def test_random_telnet_negotiation_never_breaks_a_connection(world):
    """Seeded noise: negotiation and subnegotiations of every option the
    driver or telnetlib3 knows (LINEMODE, NEW_ENVIRON, CHARSET, ...), with
    random payloads; each connection still runs the command that follows,
    and nothing in the telnet layer raises.  (MCCP2 and LOGOUT are left
    out: they legitimately compress or end the connection.)"""
    rng = random.Random(2026)
    options = [0, 1, 3, 5, 24, 25, 31, 32, 33, 34, 35, 36, 39, 42, 46, 69, 70, 87, 91, 93, 200, 201]
    mark = world.log_mark()
    for _ in range(150):
        noise = bytearray()
        for _ in range(rng.randint(3, 30)):
            option = rng.choice(options)
            if rng.random() < 0.3:
                noise += iac(rng.choice((DO, DONT, WILL, WONT)), option)
            else:
                payload = rng.randbytes(rng.randint(0, 24)).replace(b"\xff", b"\xff\xff")
                noise += sb(option, payload)
        with socket.create_connection(("127.0.0.1", world.telnet_port), timeout=TIMEOUT) as sock:
            sock.sendall(bytes(noise) + b"echo alive\r\n")
            received = bytearray()
            while b"ECHO alive" not in received:
                data = sock.recv(65536)
                assert data, f"closed after {bytes(noise)!r}"
                received += data
    log = "\n".join(world.lines[mark:])
    assert "Traceback" not in log, log[-3000:]


# --- prompts ------------------------------------------------------------------------

def test_prompt_ends_with_ga_by_default(world):
    peer = connect(world)
    peer.wait_command(("GA",))
    peer.commands.clear()
    peer.run("echo x", "ECHO ")
    peer.wait_command(("GA",))
    assert ("EOR",) not in peer.commands
    peer.close()


def test_prompt_ends_with_eor_when_the_client_agrees(world):
    peer = connect(world)
    peer.send(iac(DO, EOR_OPT))
    peer.run("echo sync", "ECHO ")
    peer.commands.clear()
    mark = len(peer.stream)
    peer.run("echo x", "ECHO ")
    peer.wait(lambda: b"ECHO x\r\n> " + iac(239) in peer.stream[mark:], "prompt and EOR")
    assert ("GA",) not in peer.commands
    peer.close()


def test_no_ga_once_sga_is_agreed(world):
    peer = connect(world)
    peer.send(iac(DO, SGA))
    peer.wait_command(("WILL", SGA))
    peer.commands.clear()
    mark = len(peer.stream)
    peer.run("echo x", "ECHO ")
    peer.wait(lambda: peer.stream.endswith(b"> "), "the prompt")
    assert ("GA",) not in peer.commands and ("EOR",) not in peer.commands
    assert iac(249) not in peer.stream[mark:]
    peer.close()


def test_a_message_after_the_prompt_starts_on_a_new_line(world):
    bob = connect(world)
    bob.wait_command(("GA",))
    bob_name = bob.line("WELCOME ").split()[1]
    alice = connect(world)
    mark = len(bob.text_bytes)
    alice.run("say hello there", "SAID")
    bob.wait_text("says: hello there")
    # Bob's screen ended with "> " and GA; the message begins on its own line.
    said = bytes(bob.text_bytes[mark:])
    assert bob.text_bytes[:mark].endswith(b"> ") and said.startswith(b"\r\n/player#"), said
    # The player's own command output follows their newline: no blank line.
    mark = len(bob.text_bytes)
    bob.send_line("echo mine")
    bob.wait_text("ECHO mine")
    assert bytes(bob.text_bytes[mark:]).startswith(b"ECHO mine")
    # A partial line (and the prompt behind it) is ended before new text too.
    bob.send_line("partial half a line")
    bob.wait(lambda: bob.text_bytes.endswith(b"half a line> "), "partial text and prompt")
    mark = len(bob.text_bytes)
    alice.run("say again", "SAID")
    bob.wait_text("says: again")
    assert bytes(bob.text_bytes[mark:]).startswith(b"\r\n/player#"), bytes(bob.text_bytes)
    assert bob_name in bob.line("WELCOME ")
    alice.close()
    bob.close()


def test_partial_lines_join_within_a_turn_and_break_across_turns(world):
    bob = connect(world)
    bob.wait_command(("GA",))
    assert bob.run("pieces", "PIECES") == "PIECES abc"
    bob.wait(lambda: bob.text_bytes.endswith(b"PIECES abc\r\n> "), "the prompt")
    alice = connect(world)
    mark = len(bob.text_bytes)
    alice.run("half no newline here", "HALVED")
    bob.wait_text("no newline here")
    # After Bob's prompt: a new line; then the partial line is left open...
    assert bytes(bob.text_bytes[mark:]) == b"\r\nno newline here"
    # ...and text from a later turn does not continue it.
    alice.run("say later", "SAID")
    bob.wait_text("says: later")
    assert bytes(bob.text_bytes[mark:]).startswith(b"\r\nno newline here\r\n/player#")
    alice.close()
    bob.close()


# --- passwords ----------------------------------------------------------------------

def test_will_echo_around_a_password_only(world):
    peer = connect(world)
    peer.send(iac(DO, 1))  # Mudlet agrees to WILL ECHO when it comes
    peer.commands.clear()
    peer.send_line("password")
    peer.wait_text("Password: ")
    peer.wait_command(("WILL", 1))
    mark = len(peer.commands)
    assert peer.run("secret!", "GOT ") == "GOT 7"
    assert ("WONT", 1) in peer.commands[mark:]
    peer.commands.clear()
    peer.run("echo visible", "ECHO ")
    assert ("WILL", 1) not in peer.commands
    peer.close()


def test_disconnecting_mid_password_leaks_nothing(world):
    peer = connect(world)
    peer.send_line("password")
    peer.wait_command(("WILL", 1))
    peer.close()
    again = connect(world)
    again.run("echo fresh", "ECHO ")
    assert ("WILL", 1) not in again.commands
    again.close()


# --- what the client tells us ---------------------------------------------------------

def mudlet_like(ttypes=("MUDLET", "ANSI-TRUECOLOR", "MTTS 2831")):
    answers = list(ttypes)

    def answer(peer, command):
        if command == ("DO", TTYPE):
            peer.send(iac(WILL, TTYPE))
        elif command == ("SB", TTYPE, b"\x01"):
            value = answers.pop(0) if len(answers) > 1 else answers[0]
            peer.send(sb(TTYPE, b"\x00" + value.encode()))
        elif command == ("DO", NAWS):
            peer.send(iac(WILL, NAWS) + sb(NAWS, bytes([0, 120, 0, 40])))
    return answer


def test_ttype_cycle_with_mtts_and_naws(world):
    peer = connect(world, on_command=mudlet_like())
    peer.wait(lambda: sum(c == ("SB", TTYPE, b"\x01") for c in peer.commands) >= 3, "3 TTYPE SENDs")
    info = client_info(peer)
    assert info["client"] == "MUDLET" and info["terminal"] == "ANSI-TRUECOLOR"
    assert info["mtts"] == 2831 and info["mtts"] & 2048  # bit 2048: the client can do TLS
    assert info["window"] == [120, 40]
    # A resize is seen at once.
    peer.send(sb(NAWS, bytes([0, 100, 0, 30])))
    peer.run("echo sync", "ECHO ")
    assert client_info(peer)["window"] == [100, 30]
    peer.close()


def test_plain_terminal_type_without_mtts(world):
    peer = connect(world, on_command=mudlet_like(("xterm",)))
    peer.wait(lambda: sum(c == ("SB", TTYPE, b"\x01") for c in peer.commands) >= 2, "TTYPE cycle")
    info = client_info(peer)
    assert info["terminal"] == "xterm" and info["mtts"] is None and info["client"] is None
    peer.close()


def test_charset_utf8_when_the_client_agrees(world):
    def agree(peer, command):
        if command == ("WILL", CHARSET):
            peer.send(iac(DO, CHARSET))
        elif command[:2] == ("SB", CHARSET) and command[2][:1] == b"\x01":
            peer.send(sb(CHARSET, b"\x02UTF-8"))  # ACCEPTED
    peer = connect(world, on_command=agree)
    request = peer.wait_sb(CHARSET)
    assert request == b"\x01 UTF-8", request  # REQUEST, separator, what we offer
    peer.wait(lambda: client_info(peer)["charset"] == "UTF-8", "charset")
    assert peer.run("unicode", "UNICODE ") == "UNICODE café ☕"
    peer.close()


def test_charset_request_from_the_client_prefers_utf8(world):
    peer = connect(world)
    peer.send(iac(WILL, CHARSET) + sb(CHARSET, b"\x01;ISO-8859-1;UTF-8"))
    peer.wait(lambda: any(c[:2] == ("SB", CHARSET) and c[2].startswith(b"\x02")
                          for c in peer.commands), "CHARSET ACCEPTED")
    accepted = [c for c in peer.commands if c[:2] == ("SB", CHARSET) and c[2][:1] == b"\x02"]
    assert accepted[0][2] == b"\x02UTF-8"
    peer.close()


def test_a_7bit_client_gets_ascii_without_accents(world):
    """tf5 names itself TINYFUGUE, refuses CHARSET and shows UTF-8 as
    "cafC)": it gets the text transliterated to ASCII instead."""
    peer = connect(world, on_command=mudlet_like(("TINYFUGUE", "ANSI-ATTR")))
    peer.wait(lambda: sum(c == ("SB", TTYPE, b"\x01") for c in peer.commands) >= 2, "TTYPE cycle")
    assert client_info(peer)["client"] == "TINYFUGUE"
    mark = len(peer.stream)
    peer.send_line("unicode")
    peer.wait(lambda: b"UNICODE" in peer.stream[mark:] and b"\r\n" in peer.stream[mark:], "text")
    assert b"UNICODE cafe ?\r\n" in peer.stream[mark:]
    peer.close()


def test_a_latin1_only_client_gets_latin1(world):
    peer = connect(world)
    peer.send(iac(WILL, CHARSET) + sb(CHARSET, b"\x01 ISO-8859-1 KOI8-R"))
    peer.wait(lambda: any(c[:2] == ("SB", CHARSET) and c[2][:1] == b"\x02"
                          for c in peer.commands), "CHARSET ACCEPTED")
    assert client_info(peer)["charset"] == "ISO-8859-1"
    mark = len(peer.stream)
    peer.send_line("unicode")
    peer.wait(lambda: b"UNICODE" in peer.stream[mark:] and b"\r\n" in peer.stream[mark:], "text")
    assert b"UNICODE caf\xe9 ?" in peer.stream[mark:]  # no ☕ in Latin-1
    peer.send(b"echo d\xe9j\xe0 vu\r\n")
    peer.wait(lambda: b"ECHO d\xe9j\xe0 vu" in peer.stream, "latin-1 echo")
    peer.close()


def test_invalid_utf8_and_broken_negotiation_never_hurt(world):
    peer = connect(world)
    # Windows-1252 from a client that negotiated nothing reads as such.
    peer.send(b"echo caf\xe9\r\n")
    assert peer.line("ECHO caf") is None
    peer.wait_text("ECHO café")
    # Invalid sequences, a lone IAC command, bad GMCP JSON, unknown and
    # truncated subnegotiations, an overlong line: nothing breaks.
    peer.send(b"echo \xc3\x28 \xed\xa0\x80 \x80\r\n")
    peer.wait_text("ECHO \u00c3( ")
    peer.send(iac(DO, GMCP) + sb(GMCP, b"Core.Hello {not json") + sb(GMCP, b"\xff\xfe"))
    peer.send(sb(200, b"\x00\x01\x02") + bytes([IAC, SB, IAC, SE]) + sb(CHARSET, b"\x02\xff\xfe"))
    peer.send(bytes([IAC, 7]) + b"x" * 10000 + b"\r\n")
    peer.send(b"echo \xf0\x9f\x98\x80 ok\r\n")
    peer.wait_text("ECHO 😀 ok")
    assert peer.run("echo alive", "ECHO ") == "ECHO alive"
    peer.close()


# --- telnetlib3's client ------------------------------------------------------------

def test_telnetlib3_client_negotiates_and_plays(world):
    async def play() -> tuple[str, str]:
        reader, writer = await telnetlib3.open_connection(
            "127.0.0.1", world.telnet_port, encoding="utf8", term="xterm-256color",
            cols=132, rows=50, connect_minwait=0.05, connect_maxwait=1.0)
        try:
            seen = await asyncio.wait_for(reader.readuntil(b"> "), TIMEOUT)
            writer.write("client\r\n")
            answer = await asyncio.wait_for(reader.readuntil(b"}\r\n"), TIMEOUT)
            writer.write("unicode\r\n")
            text = await asyncio.wait_for(reader.readuntil("☕".encode()), TIMEOUT)
            return (seen + answer).decode(), text.decode()
        finally:
            writer.close()

    greeting, unicode_line = asyncio.run(play())
    assert "WELCOME" in greeting, greeting
    info = json.loads(greeting.split("CLIENT ", 1)[1].split("\n")[0].strip())
    assert info["terminal"].lower() == "xterm-256color"
    assert info["window"] == [132, 50]
    # telnetlib3's client speaks GMCP and says hello.
    assert info["gmcp_client"]["client"] == "telnetlib3"
    assert "café ☕" in unicode_line


# --- the socket ---------------------------------------------------------------------

def _keepalive_timer(local_port: int, remote_port: int) -> int | None:
    """The kernel's timer for the server side of a TCP connection (2: keepalive)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, timer = fields[1], fields[2], fields[5]
            if int(local.split(":")[1], 16) == local_port and \
                    int(remote.split(":")[1], 16) == remote_port:
                return int(timer.split(":")[0], 16)
    return None


def test_tcp_keepalive_is_on_and_idle_players_stay(world):
    """SO_KEEPALIVE on the server's socket (the kernel runs its keepalive
    timer), and telnetlib3's idle timeout is off."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc/net/tcp")
    peer = connect(world)
    client_port = peer.sock.getsockname()[1]
    deadline = time.monotonic() + TIMEOUT
    timer = None
    while time.monotonic() < deadline:
        timer = _keepalive_timer(world.telnet_port, client_port)
        if timer == 2:
            break
        peer.run("echo poke", "ECHO ")  # an idle socket shows its timer once acked
    assert timer == 2, f"no keepalive timer on the server's socket (timer {timer})"
    peer.close()


def test_idle_timeout_is_off():
    from driver.net.telnet import MudTelnetProtocol

    async def make():
        protocol = MudTelnetProtocol(lambda line: True)
        return protocol.get_extra_info("timeout")

    assert asyncio.run(make()) == 0
