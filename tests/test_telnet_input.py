"""The telnet input parser (driver/net/telnet_input.py): what it makes of a
client's bytes, however they are split into reads, and that a flood of
telnet commands from one client leaves the others served.

The unit tests feed bytes to the parser, or to the telnet protocol object,
directly; a plain byte-at-a-time parser written here is the reference the
parser is held to.
"""

from __future__ import annotations

import asyncio
import logging
import random
import select
import socket
import threading

from conftest import TIMEOUT
from driver.net.telnet import MudTelnetProtocol
from driver.net.telnet_input import MAX_SUBNEGOTIATION, TelnetInput
from mudclient import (DO, EOR, EOR_OPT, IAC, NAWS, NOP, SB, SE, TTYPE, WILL, TelnetPeer, connect,
                       iac, sb)
from test_telnet import world  # noqa: F401  (the client-protocols world, module-scoped)
from test_telnet_writer import RecordingTransport

GA, AYT, EC = 249, 246, 247


class Recorder:
    """A sink that records what the parser found, text merged as a client sees it."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def text_received(self, data: bytes) -> None:
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", self.events[-1][1] + data)
        else:
            self.events.append(("text", data))

    def negotiation_received(self, command: int, option: int) -> None:
        self.events.append(("neg", command, option))

    def subnegotiation_received(self, option: int, payload: bytes) -> None:
        self.events.append(("sb", option, payload))


def reference(stream: bytes, limit: int = MAX_SUBNEGOTIATION) -> list[tuple]:
    """What a byte-at-a-time parser makes of ``stream`` (the same rules)."""
    sink = Recorder()
    state, sb_option, payload = "data", None, bytearray()
    for byte in stream:
        if state == "data":
            if byte == 255:
                state = "iac"
            else:
                sink.text_received(bytes([byte]))
        elif state == "iac":
            state = "data"
            if byte == 255:
                sink.text_received(b"\xff")
            elif byte >= 251:
                state, command = "option", byte
            elif byte == 250:
                state = "sb-option"
            elif byte < 236:
                sink.text_received(bytes([byte]))  # not a command: the byte is text
        elif state == "option":
            sink.negotiation_received(command, byte)
            state = "data"
        elif state == "sb-option":
            sb_option, payload = (None if byte == 255 else byte), bytearray()
            state = "sb-iac" if byte == 255 else "sb"
        elif state == "sb":
            if byte == 255:
                state = "sb-iac"
            else:
                payload.append(byte)
        elif state == "sb-iac":
            if byte == 255:
                payload.append(255)
                state = "sb"
            elif byte == 240:
                if sb_option is not None and len(payload) <= limit:
                    sink.subnegotiation_received(sb_option, bytes(payload))
                state = "data"
            else:  # cut off by another command: dropped, and that command parsed
                state = "data"
                if byte >= 251:
                    state, command = "option", byte
                elif byte == 250:
                    state = "sb-option"
                elif byte < 236:
                    sink.text_received(bytes([byte]))
    return sink.events


def parse(reads: list[bytes], limit: int = MAX_SUBNEGOTIATION) -> list[tuple]:
    sink = Recorder()
    parser = TelnetInput(sink, limit)
    for read in reads:
        parser.feed(read)
    return sink.events


PIECES = [b"say hello", b"\r\n", iac(IAC), iac(NOP), iac(GA), iac(AYT), iac(EC),
          iac(WILL, 24), iac(DO, 1), iac(253, 255), sb(201, b'Core.Hello {"client":"x"}'),
          sb(24, b"\x00XTERM"), sb(99, b"\xff\xff payload with IAC"), bytes([IAC, SB, IAC, SE]),
          bytes([IAC, SB, 98]) + b"cut off" + iac(WILL, 3), iac(7), b"\xf1\xfa", b"x"]


def test_iac_iac_is_one_255_data_byte_and_pairs_left_to_right():
    assert parse([b"a" + iac(IAC) + b"b"]) == [("text", b"a\xffb")]
    # IAC IAC NOP: an escaped IAC, then the byte 241 as text (not a NOP)
    assert parse([iac(IAC, NOP) + b"!"]) == [("text", b"\xff\xf1!")]
    # IAC NOP IAC IAC: a NOP dropped, then a 255
    assert parse([b"x" + iac(NOP) + iac(IAC) + b"y"]) == [("text", b"x\xffy")]
    assert parse([iac(NOP) * 100 + b"z"]) == [("text", b"z")]


def test_random_streams_match_a_byte_at_a_time_parser():
    rng = random.Random(1143)
    for _ in range(400):
        stream = b"".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25)))
        expected = reference(stream)
        assert parse([stream]) == expected, stream
        cuts = sorted(rng.sample(range(1, len(stream)), min(len(stream) - 1, rng.randint(1, 6))))
        reads = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
        assert parse(reads) == expected, (stream, cuts)


def test_every_split_of_every_sequence_across_reads():
    stream = b"".join(PIECES)
    expected = reference(stream)
    for cut in range(1, len(stream)):
        assert parse([stream[:cut], stream[cut:]]) == expected, cut
    assert parse([bytes([byte]) for byte in stream]) == expected


def test_naws_runs_collapse_to_the_last_report_and_repeats_are_not_passed_on():
    def naws(cols, rows):
        return sb(NAWS, bytes([0, cols, 0, rows]))
    assert parse([naws(80, 24) * 50 + naws(120, 40)]) == [("sb", NAWS, bytes([0, 120, 0, 40]))]
    assert parse([naws(80, 24), b"hi", naws(80, 24)]) == [("sb", NAWS, bytes([0, 80, 0, 24])),
                                                           ("text", b"hi")]
    # an IAC in the payload is escaped (255 columns)
    assert parse([sb(NAWS, bytes([0, 255, 0, 24]))]) == [("sb", NAWS, bytes([0, 255, 0, 24]))]


def test_an_oversized_subnegotiation_is_dropped_and_parsing_goes_on(caplog):
    fits = b"a" * MAX_SUBNEGOTIATION
    too_long = b"b" * (MAX_SUBNEGOTIATION + 1)
    stream = sb(201, fits) + sb(201, too_long) + b"look\r\n" + sb(201, b"ok")
    with caplog.at_level(logging.DEBUG, logger="driver.telnet"):
        events = parse([stream[i:i + 1000] for i in range(0, len(stream), 1000)])
    assert events == [("sb", 201, fits), ("text", b"look\r\n"), ("sb", 201, b"ok")]
    assert "longer than 8192 bytes: dropped" in caplog.text
    # a subnegotiation that never ends holds no more than the limit
    parser = TelnetInput(Recorder())
    parser.feed(bytes([IAC, SB, 201]))
    for _ in range(100):
        parser.feed(b"x" * 65536)
    assert parser.in_subnegotiation and parser._sb_parts == [] and parser._sb_dropped


def _protocol(lines: list[str]) -> MudTelnetProtocol:
    protocol = MudTelnetProtocol(lambda line: lines.append(line) or True)
    protocol.connection_made(RecordingTransport())
    return protocol


def test_the_protocol_still_negotiates_and_reads_lines():
    async def check():
        lines: list[str] = []
        protocol = _protocol(lines)
        protocol.begin_negotiation()
        written = protocol._transport.written
        written.clear()
        stream = (b"say caf" + iac(IAC) + b"\r\n"  # 255 as data: not UTF-8, read as cp1252
                  + iac(WILL, TTYPE) + iac(DO, EOR_OPT)
                  + sb(TTYPE, b"\x00MUDLET") + sb(NAWS, b"\x00\x78\x00\x28") + b"look\r\n")
        for byte in stream:  # one byte per read: every sequence split
            protocol.feed(bytes([byte]))
        assert lines == ["say caf\u00ff", "look"]
        assert bytes(written).startswith(bytes([IAC, SB, TTYPE, 1, IAC, SE]))  # SEND
        assert protocol.writer.local_option.enabled(bytes([EOR_OPT]))
        assert protocol.client.window_size == (120, 40)
        assert "MUDLET" in repr(vars(protocol.client))
        protocol.send_prompt_end()
        assert bytes(written).endswith(iac(EOR))  # IAC EOR: the client agreed
    asyncio.run(check())


# --- a flood from one client, over real sockets ---------------------------------------

def _flood(port: int, stop: threading.Event, sent: list[int]) -> None:
    unit = (iac(NOP) * 500 + iac(IAC) * 500 + b"\r\n" + sb(NAWS, b"\x00\x50\x00\x18") * 100
            + sb(200, b"z" * 20000) + sb(201, b"Core.Ping") * 10 + b"say flood\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.setblocking(False)
        while not stop.is_set():
            readable, writable, _ = select.select([sock], [sock], [], 0.1)
            try:
                if writable:
                    sent[0] += sock.send(unit)
                if readable and not sock.recv(65536):  # drained, so the driver never blocks
                    return
            except BlockingIOError:
                continue
            except OSError:
                return


def test_an_iac_flood_from_one_client_does_not_stop_anothers_replies(world):  # noqa: F811
    honest = connect(world)
    stop, sent = threading.Event(), [0]
    flooder = threading.Thread(target=_flood, args=(world.telnet_port, stop, sent), daemon=True)
    mark = world.log_mark()
    flooder.start()
    try:
        world.wait_for_log(r"telnet: subnegotiation of option 200 is longer", start=mark)
        for number in range(30):
            assert honest.run(f"echo ping {number}", "ECHO ") == f"ECHO ping {number}"
        assert flooder.is_alive(), "the flooding client was cut off"  # it flooded throughout
    finally:
        stop.set()
        flooder.join(TIMEOUT)
    # The flooding client was served too: its say lines reached the honest one.
    honest.wait_text("says: flood")
    log = "\n".join(world.lines[mark:])
    assert "Traceback" not in log, log[-3000:]
    honest.close()


def test_a_client_that_floods_can_still_play(world):  # noqa: F811
    peer = TelnetPeer(world.telnet_port)
    peer.wait_text("WELCOME ")
    peer.send((iac(NOP) * 5000 + iac(IAC) * 1000 + b"\r\n") * 20 + sb(201, b"y" * 50000))
    assert peer.run("echo after the flood", "ECHO ") == "ECHO after the flood"
    peer.close()
