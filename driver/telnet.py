"""The telnet layer: telnetlib3's protocol engine, fitted to a MUD.

telnetlib3 does the telnet protocol (IAC parsing, option negotiation); this
module owns how the driver uses it.  The protocol object sits on top of the
connection's TLS layer and never knows whether its bytes are encrypted: it
writes to a transport the connection gives it, and the connection feeds it
plaintext.

Two choices differ from telnetlib3's defaults, both because a MUD is not a
shell:

* ``line_mode=True`` and no idle timeout: the client edits and echoes lines
  itself (MUD clients have an input bar), and a player may sit idle for hours.
* No shell coroutine.  Input goes to ``LineReader``, which splits it into
  lines as it arrives and hands each one to the connection synchronously, so
  a command runs in the same turn of the event loop as the bytes that carried
  it, and no per-player task exists.
"""

from __future__ import annotations

from typing import Callable

from telnetlib3.server import TelnetServer
from telnetlib3.telopt import ECHO, WILL, WONT

#: Longest line a player may send; the rest of a longer line is dropped.
MAX_LINE = 8192


class LineReader:
    """Receives the in-band bytes telnetlib3 parsed and emits decoded lines.

    Implements the part of telnetlib3's reader interface its protocol calls
    (``feed_data``, ``feed_eof``, ``set_exception``, ``exception``).
    """

    __slots__ = ("_buffer", "_deliver", "_overlong", "_exception", "eof")

    def __init__(self, deliver: Callable[[str], bool]) -> None:
        #: ``deliver(line)`` runs a line; returning False stops the reader, and
        #: what is still buffered can be taken back with ``take_unread``.
        self._deliver = deliver
        self._buffer = bytearray()
        self._overlong = False
        self._exception: BaseException | None = None
        self.eof = False

    def feed_data(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                if len(buffer) > MAX_LINE:
                    del buffer[:]
                    self._overlong = True
                return
            raw = bytes(buffer[:end])
            del buffer[: end + 1]
            if self._overlong:  # the tail of a line that was too long
                self._overlong = False
                continue
            line = raw.rstrip(b"\r\x00").decode("utf-8", errors="replace")
            if not self._deliver(line):
                return

    def take_unread(self) -> bytes:
        """Bytes received but not yet delivered as lines."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    def feed_eof(self) -> None:
        self.eof = True

    def set_exception(self, exc: BaseException) -> None:
        self._exception = exc

    def exception(self) -> BaseException | None:
        return self._exception


class MudTelnetProtocol(TelnetServer):
    """telnetlib3's server protocol with the driver's line reader."""

    def __init__(self, deliver_line: Callable[[str], bool], negotiate: bool = True) -> None:
        self.line_reader = LineReader(deliver_line)
        #: False on connections the driver opened itself (net_connect): the
        #: remote end is a server, and a server does not ask a server for
        #: its terminal type.
        self.negotiate = negotiate
        super().__init__(
            encoding=False,  # the driver encodes and decodes UTF-8 itself
            line_mode=True,
            timeout=0,
            connect_maxwait=0.5,
            reader_factory=lambda **_kw: self.line_reader,
        )

    def begin_negotiation(self) -> None:
        if self.negotiate:
            super().begin_negotiation()

    def set_echo_hidden(self, hidden: bool) -> None:
        """WILL ECHO hides what the player types (passwords); WONT shows it again."""
        if hidden:
            self.writer.iac(WILL, ECHO)
        elif self.writer.local_option.enabled(ECHO) or self.writer.pending_option.enabled(WILL + ECHO):
            self.writer.iac(WONT, ECHO)
            # A client that never answered leaves WILL ECHO "pending", and
            # telnetlib3 would then skip the next WILL ECHO as a repeat.
            self.writer.pending_option[WILL + ECHO] = False

    def send_prompt_end(self) -> None:
        """Mark the end of a prompt: EOR if the client asked for it, else GA."""
        if not self.writer.send_eor():
            self.writer.send_ga()
