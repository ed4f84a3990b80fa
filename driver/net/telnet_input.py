"""Telnet input: what a client sends, split into text and telnet commands.

This module owns the parsing of the byte stream from the client (RFC 854's
IAC sequences, RFC 855's subnegotiations) and nothing else: what a command
means, and how the driver answers it, is the telnet layer's (telnet.py).
It is sans-I/O: ``TelnetInput.feed`` takes bytes as they arrive, in reads
of any size, and calls its sink, in stream order, with

* ``text_received(data)``: in-band bytes (``IAC IAC`` already made one 255);
* ``negotiation_received(command, option)``: ``IAC WILL/WONT/DO/DONT <option>``;
* ``subnegotiation_received(option, payload)``: ``IAC SB <option> ... IAC SE``,
  the payload unescaped.

Theory of operation
-------------------

The parser exists because of its cost.  telnetlib3 parses a byte at a time
once a read holds an IAC (a Python call and a state-machine step for every
byte), so a client that sent IAC NOP, IAC IAC or short subnegotiations all
day cost the driver a hundred times what a player typing text did, and one
such client at a few hundred KB/s delayed every other player.

Here the cost follows the number of *things* in a read, not its bytes, and
runs of the cheap things cost one C-level scan:

* Text between IACs is found with ``bytes.find`` and sliced, never walked.
* ``IAC IAC`` and the two-byte commands begin a run of text, escapes and
  two-byte commands that lasts until the next negotiation; it is matched
  in one go by a regular expression, and unescaped and rid of the
  commands in three C-level passes (``_in_band_text``).  Two-byte commands (NOP, GA, AYT, EC, ...) mean
  nothing to a MUD: MUD clients edit lines themselves, and the driver
  neither interrupts nor erases on a client's say-so.
* A subnegotiation's payload is collected by ``find`` and slicing, up to
  ``max_subnegotiation`` bytes (8 KiB: the longest a MUD client sends is a
  GMCP message, and those are small).  Beyond that the subnegotiation is
  dropped with a debug log line, the rest of it skipped as it arrives
  without being kept, and parsing goes on after its IAC SE: the connection
  keeps working.  So what one subnegotiation costs is bounded: at most
  8 KiB held, and each byte of it scanned once, in the read it came in.
* Back-to-back NAWS reports (a window being dragged, or a flood) collapse
  to the last one, which replaces the ones before it anyway, and a report
  the same as the last one passed on is not passed on again.

In-band text is handed over in one piece per read, or, when negotiation
comes between two pieces, before that negotiation: the sink sees text and
commands in the order the client sent them (a NAWS report excepted: a
window size is a state, and text around it may be handed over after it).

A read may end anywhere, in the middle of a command or a subnegotiation.
An incomplete command (at most ``IAC SB <option>``, three bytes) is held
and put in front of the next read; an open subnegotiation is a state
(``_sb_option``), continued by the next read without rescanning what was
already collected.

Deviations from strict RFC 854, both as telnetlib3 behaves: ``IAC`` before
a byte that is no command drops the IAC and keeps the byte as text; and a
command other than ``IAC SE`` inside a subnegotiation ends it unfinished
(dropped) and is then parsed as the command it is.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

log = logging.getLogger("driver.telnet")

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
#: The lowest two-byte command (EOF, RFC 1184); EOF..GA are all two bytes.
FIRST_TWO_BYTE_COMMAND = 236
NAWS = 31

#: The longest subnegotiation payload kept; a longer one is dropped.
MAX_SUBNEGOTIATION = 8192

#: Not an option number: the subnegotiation had none (``IAC SB IAC SE``).
NO_OPTION = -1

_IAC = b"\xff"
_ESCAPED_IAC = b"\xff\xff"
#: Text with escaped IACs in it: stops before an IAC that is not ``IAC IAC``
#: (and before a lone IAC at the end of the read).
_TEXT_WITH_ESCAPES = re.compile(rb"(?:\xff\xff|[^\xff]+)+")
#: Text, IAC IAC and two-byte commands (EOF, SUSP, ABORT, EOR, SE, NOP, DM,
#: BRK, IP, AO, AYT, EC, EL, GA), up to a negotiation, a lone IAC at the end
#: of the read or an IAC before a byte that is no command.
_IN_BAND = re.compile(rb"(?:\xff[\xec-\xf9\xff]|[^\xff]+)+")
#: A run of complete NAWS subnegotiations; group 1 is the last of them.
_NAWS_RUN = re.compile(rb"(\xff\xfa\x1f(?:[^\xff]|\xff\xff){4}\xff\xf0)+")
#: A run of two-byte commands and nothing else.
_COMMANDS = re.compile(rb"(?:\xff[\xec-\xf9])+")
#: One two-byte command, in a run whose IAC IACs are marked (_in_band_text).
_TWO_BYTE_COMMAND = re.compile(rb"\xff[\xec-\xf9]")
#: What IAC IAC stands for while the two-byte commands of a run are dropped:
#: IAC DONT, which cannot be in the run (a negotiation ends it).
_MARK = b"\xff\xfe"
#: Commands in a run beyond which the likeliest case, a flood of one
#: command, is tried first.
_MANY_COMMANDS = 16


def _in_band_text(run: bytes) -> bytes:
    """The text of an ``_IN_BAND`` run: IAC IAC made IAC, two-byte commands dropped.

    Every pass is a C-level scan from left to right, as a byte-at-a-time
    parser reads, so each IAC pairs with the byte after it as it would.
    Counting tells whether there are commands at all (every IAC not in an
    IAC IAC starts one).  If there are, IAC IAC is marked first (``_MARK``),
    so that every IAC left starts a command, and the commands are deleted
    (a deletion cannot make a new pair, as every IAC left starts one); then
    the marks become IAC.  Deleting takes ``re.sub`` (about 0.1 µs a
    command), or for many commands first one ``bytes.replace`` of the first
    command wherever it is, since a flood is mostly one command.  (A group
    in ``re.sub``'s replacement would do it all in one pass, but calls
    Python code for every match.)
    """
    escapes = run.count(_ESCAPED_IAC)
    commands = run.count(_IAC) - 2 * escapes
    if not commands:
        return run.replace(_ESCAPED_IAC, _IAC) if escapes else run
    if escapes:
        run = run.replace(_ESCAPED_IAC, _MARK)
    if commands > _MANY_COMMANDS:
        run = run.replace(_TWO_BYTE_COMMAND.search(run).group(), b"")
        commands = run.count(_IAC) - escapes
    if commands:
        run = _TWO_BYTE_COMMAND.sub(b"", run)
    return run.replace(_MARK, _IAC) if escapes else run


class TelnetInputSink(Protocol):
    """Where ``TelnetInput`` delivers what it parsed."""

    def text_received(self, data: bytes) -> None: ...

    def negotiation_received(self, command: int, option: int) -> None: ...

    def subnegotiation_received(self, option: int, payload: bytes) -> None: ...


class TelnetInput:
    """The parser of one connection's telnet input (see the module's docstring)."""

    __slots__ = ("_sink", "max_subnegotiation", "_held", "_sb_option", "_sb_parts", "_sb_size",
                 "_sb_dropped", "_last_naws")

    def __init__(self, sink: TelnetInputSink, max_subnegotiation: int = MAX_SUBNEGOTIATION) -> None:
        self._sink = sink
        self.max_subnegotiation = max_subnegotiation
        #: the start of a command the last read ended in (at most 3 bytes)
        self._held = b""
        #: inside a subnegotiation: its option (NO_OPTION if it had none), else None
        self._sb_option: int | None = None
        self._sb_parts: list[bytes] = []
        self._sb_size = 0
        #: the open subnegotiation outgrew max_subnegotiation: skip to its end
        self._sb_dropped = False
        #: the last NAWS report passed on, as it came (IAC SB NAWS ... IAC SE)
        self._last_naws = b""

    @property
    def in_subnegotiation(self) -> bool:
        return self._sb_option is not None

    def feed(self, data: bytes) -> None:
        """Parse one read; the sink hears of everything complete in it."""
        if not self._held and self._sb_option is None and 0xFF not in data:
            # Text and nothing else (a typed line: the usual read).
            if data:
                self._sink.text_received(data)
            return
        if self._held:
            data, self._held = self._held + data, b""
        pos = 0
        if self._sb_option is not None:
            pos = self._continue_subnegotiation(data, 0)
            if pos < 0:
                return
        sink = self._sink
        size = len(data)
        find = data.find
        text: list[bytes] = []
        while True:
            iac = find(_IAC, pos)
            if iac < 0:
                if pos < size:
                    text.append(data[pos:] if pos else data)
                break
            if iac > pos:
                text.append(data[pos:iac])
            if iac + 1 == size:
                self._held = _IAC
                break
            command = data[iac + 1]
            if command == IAC or FIRST_TWO_BYTE_COMMAND <= command < SB:
                if command != IAC and iac + 2 < size and data[iac + 2] == IAC:
                    # Two-byte commands: a run of nothing else is skipped.
                    end = _COMMANDS.match(data, iac).end()
                    if end == size or data[end] == IAC:
                        pos = end
                        continue
                # Text, IAC IAC and two-byte commands, up to the next
                # negotiation: one match, then C-level passes over it.
                end = _IN_BAND.match(data, iac).end()
                piece = _in_band_text(data[iac:end])
                if piece:
                    text.append(piece)
                pos = end
            elif command >= WILL:
                if iac + 2 == size:
                    self._held = data[iac:]
                    break
                if text:
                    sink.text_received(b"".join(text))
                    text = []
                sink.negotiation_received(command, data[iac + 2])
                pos = iac + 3
            elif command == SB:
                if iac + 2 == size:
                    self._held = data[iac:]
                    break
                option = data[iac + 2]
                if option == NAWS:
                    # A window size is a state, not an event in the text:
                    # the text around it need not be handed over first.
                    naws = _NAWS_RUN.match(data, iac)
                    if naws is not None:
                        last = naws.group(1)
                        if last != self._last_naws:  # a repeat changes nothing
                            self._last_naws = last
                            sink.subnegotiation_received(
                                NAWS, last[3:-2].replace(_ESCAPED_IAC, _IAC))
                        pos = naws.end()
                        continue
                if text:
                    sink.text_received(b"".join(text))
                    text = []
                if option == IAC:  # IAC SB IAC ...: no option byte
                    self._open_subnegotiation(NO_OPTION)
                    pos = self._continue_subnegotiation(data, iac + 2)
                else:
                    self._open_subnegotiation(option)
                    pos = self._continue_subnegotiation(data, iac + 3)
                if pos < 0:
                    break
            else:
                pos = iac + 1  # not a command: the IAC goes, the byte is text
        if text:
            sink.text_received(text[0] if len(text) == 1 else b"".join(text))

    # -- subnegotiation --------------------------------------------------------------

    def _open_subnegotiation(self, option: int) -> None:
        self._sb_option = option
        self._sb_parts = []
        self._sb_size = 0
        self._sb_dropped = False

    def _collect(self, piece: bytes) -> None:
        if self._sb_dropped or not piece:
            return
        self._sb_size += len(piece)
        if self._sb_size > self.max_subnegotiation:
            self._sb_dropped = True
            self._sb_parts = []
            log.debug("telnet: subnegotiation of option %s is longer than %d bytes: dropped",
                      self._sb_option, self.max_subnegotiation)
            return
        self._sb_parts.append(piece)

    def _continue_subnegotiation(self, data: bytes, pos: int) -> int:
        """Collect the open subnegotiation's payload from ``data[pos:]``.

        Returns where parsing goes on: after its ``IAC SE``, or at a command
        that cut it off; or -1 if the read ended inside it (it stays open).
        """
        size = len(data)
        find = data.find
        while True:
            iac = find(_IAC, pos)
            if iac < 0:
                self._collect(data[pos:])
                return -1
            self._collect(data[pos:iac])
            if iac + 1 == size:
                self._held = _IAC
                return -1
            after = data[iac + 1]
            if after == IAC:
                end = _TEXT_WITH_ESCAPES.match(data, iac).end()
                if not self._sb_dropped:
                    self._collect(data[iac:end].replace(_ESCAPED_IAC, _IAC))
                pos = end
                continue
            option, dropped = self._sb_option, self._sb_dropped
            payload = b"".join(self._sb_parts)
            self._sb_option, self._sb_parts, self._sb_size = None, [], 0
            if after != SE:
                log.debug("telnet: subnegotiation of option %s cut off by IAC %d: dropped",
                          option, after)
                return iac
            if not dropped and option != NO_OPTION:
                self._sink.subnegotiation_received(option, payload)
            return iac + 2
