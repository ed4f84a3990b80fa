"""The telnet layer: telnetlib3's protocol engine, fitted to a MUD.

telnetlib3 does the telnet protocol (IAC parsing, option negotiation); this
module owns how the driver uses it.  The protocol object sits on top of the
connection's TLS layer and never knows whether its bytes are encrypted: it
writes to a transport the connection gives it, and the connection feeds it
plaintext.

Three choices differ from telnetlib3's defaults, all because a MUD is not a
shell:

* ``line_mode=True`` and no idle timeout: the client edits and echoes lines
  itself (MUD clients have an input bar), and a player may sit idle for hours.
* No shell coroutine.  Input goes to ``LineReader``, which splits it into
  lines as it arrives and hands each one to the connection synchronously, so
  a command runs in the same turn of the event loop as the bytes that carried
  it, and no per-player task exists.
* A lean writer: telnetlib3's per-connection state for LINEMODE, SLC and
  client-side option policy is made only if a client ever touches it (see
  "a lean writer" below), so a connection costs a few KiB, not twenty.

* The driver's own input parser (telnet_input.py) in place of telnetlib3's
  byte-at-a-time one, so a read full of IAC bytes costs about what a read
  of text does; telnetlib3's writer still answers each negotiation.

On top of telnetlib3 the driver speaks what MUD clients expect (see
docs/clients.md): EOR/GA after prompts, TTYPE with MTTS, NAWS, CHARSET
(UTF-8), GMCP, MSSP, MCCP2 on plain connections only, and START_TLS.  Every
offer goes out at connect time and nothing waits for an answer.  Options
the driver does not handle are the mudlib's (``TelnetEvents``), never
agreed to on its behalf.

The offers are those and no more, so that the plainest client, ``telnet``
itself, stays in the NVT's default mode: telnetlib3's own "advanced
negotiation" would add ``WILL BINARY`` (on which BSD-derived telnet clients
stop turning the Enter they echo into CR LF, and every reply starts where
the typed line ended) and ``DO NEW-ENVIRON`` (asking for the player's USER
and DISPLAY, which the driver has no use for).  BINARY is agreed to only
when the client asks for it; NEW-ENVIRON, like any option the driver does
not use, is the mudlib's.
"""

from __future__ import annotations

import collections
import datetime
import json
import logging
import re
from typing import Any, Callable, NamedTuple, Protocol

from telnetlib3 import slc
from telnetlib3._session_context import TelnetSessionContext
from telnetlib3.server import TelnetServer
from telnetlib3.stream_writer import Option, TelnetWriter
from telnetlib3.telopt import (BINARY, CHARSET, CMD_EOR, DO, DONT, ECHO, EOR, GA, GMCP, IAC,
                               LFLOW, LINEMODE, LOGOUT, MCCP2_COMPRESS, MSSP, NAWS, NEW_ENVIRON,
                               SB, SE, SGA, SNDLOC, STATUS, TM, TSPEED, TTYPE, WILL, WONT,
                               XDISPLOC)

from . import mud_protocols, starttls
from .mud_protocols import ClientInfo
from .telnet_input import NAWS as _NAWS_OPTION
from .telnet_input import TelnetInput

log = logging.getLogger("driver.telnet")

#: Longest line a player may send; the rest of a longer line is dropped.
MAX_LINE = 8192


def _char_size(buffer: bytearray) -> int:
    """Bytes in the first UTF-8 character of ``buffer``; 0 if it is incomplete."""
    if not buffer:
        return 0
    lead = buffer[0]
    size = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    return size if len(buffer) >= size else 0


class LineReader:
    """Receives the in-band bytes telnetlib3 parsed and emits decoded lines.

    Implements the part of telnetlib3's reader interface its protocol calls
    (``feed_data``, ``feed_eof``, ``set_exception``, ``exception``).
    """

    __slots__ = ("_buffer", "_deliver", "_overlong", "_exception", "eof", "codec", "char_mode",
                 "held")

    def __init__(self, deliver: Callable[[str], bool]) -> None:
        #: ``deliver(line)`` hands a line on; returning False holds the reader
        #: (bytes fed meanwhile are only buffered) until ``release``, and
        #: what is still buffered can be taken back with ``take_unread``.
        self._deliver = deliver
        self.held = False
        self._buffer = bytearray()
        self._overlong = False
        self._exception: BaseException | None = None
        self.eof = False
        #: the codec CHARSET agreed on; None: UTF-8, or Windows-1252 for a
        #: line that is not UTF-8 (``mud_protocols.decode_line``)
        self.codec: str | None = None
        #: INPUT_CHARMODE: each keypress is delivered on its own (Enter as "\r")
        self.char_mode = False

    def feed_data(self, data: bytes) -> None:
        buffer = self._buffer
        if not buffer and data and data[-1] == 10 and 10 not in data[:-1] and not self.held \
                and not self.char_mode and not self._overlong:
            # One whole line and nothing after it (the usual read): decoded
            # from ``data`` itself, with no trip through the buffer.  (The
            # tests for the newline take it as a number: ``find`` and
            # ``endswith`` parse their arguments the slow way, and ``in``
            # would first try a one-byte string as an integer.)
            self._deliver(mud_protocols.decode_line(data[:-1].rstrip(b"\r\x00"), self.codec))
            return
        buffer += data
        if self.held:
            return
        while True:
            if self.char_mode:
                size = _char_size(buffer)
                if size == 0:
                    return
                char = bytes(buffer[:size]).decode("utf-8", errors="replace")
                if char == "\r" and len(buffer) > 1 and buffer[1] in (0, 10):
                    size = 2  # CR LF and CR NUL are one Enter
                del buffer[:size]
                if char != "\n" and not self._deliver(char):
                    self.held = bool(buffer)  # more keys wait for release()
                    return
                continue
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
            line = mud_protocols.decode_line(raw.rstrip(b"\r\x00"), self.codec)
            if not self._deliver(line):
                self.held = bool(buffer)  # more lines wait for release()
                return

    def release(self) -> None:
        """Deliver again, starting with what was buffered while held."""
        self.held = False
        if self._buffer:
            self.feed_data(b"")

    @property
    def has_unread(self) -> bool:
        return bool(self._buffer)

    def take_unread(self) -> bytes:
        """Bytes received but not yet delivered as lines."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        self.held = False
        return rest

    def feed_eof(self) -> None:
        self.eof = True

    def set_exception(self, exc: BaseException) -> None:
        self._exception = exc

    def exception(self) -> BaseException | None:
        return self._exception


class TelnetEvents(Protocol):
    """What the telnet layer reports to the connection above it."""

    def telnet_negotiation(self, command: int, option: int, data: bytes) -> bool:
        """Negotiation the driver does not handle itself; True if someone answered it."""

    def gmcp_received(self, package: str, data: Any) -> None: ...

    def mssp_variables(self) -> dict: ...

    def tls_engaged(self) -> bool:
        """Whether TLS is running or starting on the connection (no compression then)."""


class TelnetPolicy(NamedTuple):
    """What the driver offers a client, from config.yaml's ``telnet`` section."""

    #: MCCP2 compression (plain connections only)
    compression: bool = False
    #: IAC DO START_TLS (plain connections only)
    starttls: bool = False


START_TLS = bytes([starttls.START_TLS])

#: Options whose DO the driver answers itself (telnetlib3 agrees to some and
#: refuses those only a client can do).  Any other DO goes to the mudlib.
_DRIVER_DO = frozenset({ECHO, SGA, BINARY, EOR, CHARSET, MSSP, GMCP, MCCP2_COMPRESS, TM, LOGOUT,
                        STATUS, LINEMODE, TTYPE, NAWS, NEW_ENVIRON, XDISPLOC, LFLOW, TSPEED,
                        SNDLOC})
#: Options whose WILL the driver answers itself.  NEW_ENVIRON is not among
#: them: the driver has no use for a player's environment variables, so a
#: client's WILL NEW-ENVIRON is the mudlib's to take up or refuse.
_DRIVER_WILL = frozenset({BINARY, SGA, ECHO, NAWS, EOR, TTYPE, CHARSET, TSPEED,
                          XDISPLOC, LFLOW, STATUS, TM, LOGOUT, LINEMODE, GMCP})
#: Subnegotiations telnetlib3's writer parses for the driver (NAWS, the one
#: a client sends often, the driver parses itself: ``receive_naws``).
_DRIVER_SB = frozenset({LINEMODE, LFLOW, CHARSET, TTYPE, TSPEED, XDISPLOC, STATUS})

#: A line feed without a carriage return before it.
_LONE_LF = re.compile(rb"(?<!\r)\n")

#: One-byte ``bytes`` for each byte value, made once (telnetlib3 keys its
#: option tables by them).
_BYTE = tuple(bytes([value]) for value in range(256))
_DO, _DONT, _WILL = DO[0], DONT[0], WILL[0]


# -- a lean writer ---------------------------------------------------------------
#
# telnetlib3's TelnetWriter.__init__ builds, for every connection, about 55
# bound-method callbacks in five tables, a 30-entry SLC table, two deques and
# eight sets: some 18 KiB and 150 microseconds per connection, most of it for
# LINEMODE, SLC and client-side option policy, which a MUD connection never
# uses.  In a handshake storm it was a fifth of the driver's CPU time.
#
# MudTelnetWriter keeps what every connection needs at once (transport,
# protocol, reader, the three option tables) and makes the rest on first
# use: ``_OnFirstUse`` turns a class attribute into an instance attribute
# the first time it is read.  Plain values (flags, None) are class defaults,
# which an assignment on the instance shadows as usual.  The callback tables
# bind the same handlers telnetlib3's __init__ binds; they are read off one
# stock writer at import, so they follow telnetlib3 rather than a copy of it.


class _OnFirstUse:
    """A class attribute made into a per-connection value when first read."""

    __slots__ = ("make", "name")

    def __init__(self, make: Callable[[Any], Any]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, writer: Any, owner: type | None = None) -> Any:
        if writer is None:
            return self
        value = writer.__dict__[self.name] = self.make(writer)
        return value


#: The callback tables of telnetlib3's writer (command byte -> handler).
_CALLBACK_TABLES = ("_iac_callback", "_slc_callback", "_ext_callback", "_ext_send_callback",
                    "_ext_offer_callback")

#: What TelnetServer.connection_made wires to the protocol instead of the
#: writer's own handlers: table -> option -> the protocol's method.
_PROTOCOL_CALLBACKS = {
    "_ext_callback": {NAWS: "on_naws", NEW_ENVIRON: "on_environ", TSPEED: "on_tspeed",
                      TTYPE: "on_ttype", XDISPLOC: "on_xdisploc", CHARSET: "on_charset"},
    "_ext_offer_callback": {NEW_ENVIRON: "on_request_environ", CHARSET: "on_request_charset"},
    # The driver chooses among a client's CHARSET offers itself.
    "_ext_send_callback": {CHARSET: "choose_charset"},
}


def _stock_handler_names() -> dict[str, dict[bytes, str]]:
    """For each callback table: option or command -> name of the writer's handler."""
    stock = TelnetWriter(transport=None, protocol=None, server=True)
    return {table: {key: handler.__name__ for key, handler in getattr(stock, table).items()}
            for table in _CALLBACK_TABLES}


_HANDLER_NAMES = _stock_handler_names()


def _callback_table(table: str) -> _OnFirstUse:
    def bind(writer: TelnetWriter) -> dict[bytes, Callable[..., Any]]:
        bound = {key: getattr(writer, name) for key, name in _HANDLER_NAMES[table].items()}
        for key, name in _PROTOCOL_CALLBACKS.get(table, {}).items():
            bound[key] = getattr(writer._protocol, name)
        return bound
    return _OnFirstUse(bind)


class _OptionState(Option):
    """telnetlib3's record of where each option's negotiation stands, at
    about a dict's cost.

    ``Option.__setitem__`` builds a description of every change for a
    debug log line before it asks whether debug logging is on, then has
    the writer check its waiters: several thousand machine instructions a
    change, and a MUD client's answers to the driver's offers make a dozen
    changes per connection.  This one describes a change only when that
    line will be written; the waiters are checked as before.
    """

    def __setitem__(self, key: bytes, value: bool) -> None:
        if self.log.isEnabledFor(logging.DEBUG):
            super().__setitem__(key, value)
            return
        dict.__setitem__(self, key, value)
        if self._on_change is not None:
            self._on_change()


class MudTelnetWriter(TelnetWriter):
    """telnetlib3's option engine with the driver's policy.

    The driver answers the options it implements; negotiation of any other
    option goes to the mudlib (the master's ``telnet_neg`` apply, LDMud's
    H_TELNET_NEG), and is refused if the mudlib does not answer it.  MUD
    protocols the driver does not speak (MSDP, MXP, MSP, ZMP, ATCP, MCCP3)
    are never agreed to on the mudlib's behalf.

    Only a server's writer: the driver's outgoing connections (net_connect)
    answer negotiation as a server does, offering nothing.
    """

    # A MUD reads lines, and control characters are text in them; telnetlib3
    # would otherwise scan every chunk with an IAC in it for SLC characters.
    slc_simulated = False

    # telnetlib3's per-connection values, as class defaults (an assignment
    # on the writer makes one its own, as usual) ...
    log = logging.getLogger("telnetlib3.stream_writer")
    _server = True
    _closed_fut = None
    _connection_closed = False
    environ_encoding = "ascii"
    _encoding_explicit = False
    environ_send_raw = None
    compression = None
    _mccp2_activated = False
    _compressed_remainder = None
    mccp2_active = False
    mccp3_active = False
    _in_loop_detection = False
    _sb_overflow = False
    _forwardmask = None
    _slc_sent = False

    # ... and its per-connection containers and callback tables, made the
    # first time they are read.
    _waiters = _OnFirstUse(lambda writer: [])
    always_will = _OnFirstUse(lambda writer: set())
    always_do = _OnFirstUse(lambda writer: set())
    always_wont = _OnFirstUse(lambda writer: set())
    always_dont = _OnFirstUse(lambda writer: set())
    passive_do = _OnFirstUse(lambda writer: set())
    rejected_will = _OnFirstUse(lambda writer: set())
    rejected_do = _OnFirstUse(lambda writer: set())
    directional_refusals = _OnFirstUse(lambda writer: set())
    will_callbacks = _OnFirstUse(lambda writer: {})
    _environ_batches = _OnFirstUse(lambda writer: [])
    ctx = _OnFirstUse(lambda writer: TelnetSessionContext())
    _sb_buffer = _OnFirstUse(lambda writer: collections.deque())
    _slc_buffer = _OnFirstUse(lambda writer: collections.deque())
    slctab = _OnFirstUse(lambda writer: slc.generate_slctab(writer.default_slc_tab))
    _linemode = _OnFirstUse(lambda writer: slc.Linemode())
    _iac_callback = _callback_table("_iac_callback")
    _slc_callback = _callback_table("_slc_callback")
    _ext_callback = _callback_table("_ext_callback")
    _ext_send_callback = _callback_table("_ext_send_callback")
    _ext_offer_callback = _callback_table("_ext_offer_callback")

    def __init__(self, transport: Any, protocol: Any, *, reader: Any = None) -> None:
        # Deliberately not TelnetWriter.__init__ (see "a lean writer" above).
        self._transport = transport
        self._protocol = protocol
        self._reader = reader
        self._connection_closed = False  # read for every line: see connection_made
        check_waiters = self._check_waiters
        self.pending_option = _OptionState("pending_option", self.log, on_change=check_waiters)
        self.local_option = _OptionState("local_option", self.log, on_change=check_waiters)
        self.remote_option = _OptionState("remote_option", self.log, on_change=check_waiters)

    def close(self) -> None:
        """telnetlib3's close, without making the containers it would empty."""
        if self._connection_closed:
            return
        if "_waiters" in self.__dict__:
            self._cancel_waiters()
        if self._protocol is not None:
            try:
                self._protocol.connection_lost(None)
            except Exception:  # the protocol's own teardown; the writer closes regardless
                pass
        if self._transport is not None:
            self._transport.close()
        for table in (*_CALLBACK_TABLES, "will_callbacks"):
            self.__dict__[table] = {}  # they hold bound methods of the protocol: break the cycles
        for options in (self.pending_option, self.local_option, self.remote_option):
            options._on_change = None  # a bound method of this writer: another cycle
        self._protocol = None
        self._transport = None
        self._connection_closed = True

    def _check_waiters(self) -> None:
        # Every change of an option's state asks; nobody has waited on this
        # writer (telnetlib3's wait_for) until its list of waiters exists.
        if "_waiters" in self.__dict__:
            super()._check_waiters()

    def _delegate(self, command: bytes, opt: bytes, data: bytes = b"") -> bool:
        return self._protocol.negotiation_hook(command[0], opt[0], data)

    def handle_do(self, opt: bytes) -> bool:
        if opt not in _DRIVER_DO:
            if opt != START_TLS and self._delegate(DO, opt):
                return False
            self.rejected_do.add(opt)
            if not self.local_option.enabled(opt):
                self.iac(WONT, opt)
            return False
        if opt == MCCP2_COMPRESS and not self._protocol.compression_allowed():
            self.iac(WONT, opt)
            return False
        agreed = super().handle_do(opt)
        if agreed and opt == MSSP:
            self._protocol.send_mssp()
        elif agreed and opt == CHARSET:
            # The client agreed to our WILL CHARSET: ask for UTF-8.
            self.local_option[CHARSET] = True
            self.request_charset()
        return agreed

    def handle_will(self, opt: bytes) -> None:
        if opt == START_TLS:
            self._protocol.starttls_will()
            return
        if opt not in _DRIVER_WILL:
            if self._delegate(WILL, opt):
                return
            self.iac(DONT, opt)
            self.rejected_will.add(opt)
            return
        if opt == CHARSET and self.pending_option.enabled(WILL + CHARSET):
            # Our WILL crossed theirs: both agree, and we must not say WILL twice.
            self.pending_option[WILL + CHARSET] = False
            self.local_option[CHARSET] = True
        super().handle_will(opt)

    def handle_wont(self, opt: bytes) -> None:
        super().handle_wont(opt)
        if opt == START_TLS or opt not in _DRIVER_WILL:
            self._delegate(WONT, opt)

    def handle_dont(self, opt: bytes) -> None:
        super().handle_dont(opt)
        if opt not in _DRIVER_DO:
            self._delegate(DONT, opt)

    # -- what the input parser found (MudTelnetProtocol passes it on) ----------------

    def receive_negotiation(self, command: int, option: int) -> None:
        """``IAC <command> <option>``, with the bookkeeping of pending offers
        that telnetlib3's byte-at-a-time parser does around its handlers."""
        opt = _BYTE[option]
        if command == _DO:
            try:
                self.local_option[opt] = self.handle_do(opt)
            finally:
                if self.pending_option.enabled(WILL + opt):
                    self.pending_option[WILL + opt] = False
        elif command == _DONT:
            try:
                self.handle_dont(opt)
            finally:
                self.pending_option[WILL + opt] = False
                self.local_option[opt] = False
        elif command == _WILL:
            try:
                self.handle_will(opt)
            finally:
                if self.pending_option.enabled(DO + opt):
                    self.pending_option[DO + opt] = False
                if self.pending_option.enabled(DONT + opt):
                    self.pending_option[DONT + opt] = False
        else:
            self.handle_wont(opt)
            self.pending_option[DO + opt] = False

    def receive_subnegotiation(self, option: int, payload: bytes) -> None:
        """``IAC SB <option> <payload> IAC SE``, the payload unescaped."""
        opt = _BYTE[option]
        if option == _NAWS_OPTION:
            self.receive_naws(payload)
            return
        if opt in _DRIVER_SB:
            # telnetlib3's handlers take the subnegotiation as it collects
            # it: a deque of one-byte values, the option first.
            buf = collections.deque(_BYTE[value] for value in payload)
            buf.appendleft(opt)
            self.handle_subnegotiation(buf)
            return
        if self.pending_option.enabled(SB + opt):
            self.pending_option[SB + opt] = False
        if opt == START_TLS:
            if payload[:1] == bytes([starttls.FOLLOWS]):
                self._protocol.starttls_follows = True
        elif opt == GMCP:
            self._protocol.receive_gmcp(payload)
        else:
            self._delegate(SB, opt, payload)

    def receive_naws(self, payload: bytes) -> None:
        """The window size (RFC 1073), as telnetlib3 would take it, minus its log lines."""
        if len(payload) != 4:
            self.log.debug("NAWS with %d bytes instead of 4: ignored", len(payload))
            return
        if self.pending_option.enabled(SB + NAWS):
            self.pending_option[SB + NAWS] = False
        if not self.remote_option.enabled(NAWS):
            self.remote_option[NAWS] = True  # a report is as good as WILL NAWS
        cols = payload[0] << 8 | payload[1]
        rows = payload[2] << 8 | payload[3]
        self._protocol.on_naws(rows, cols)


class MudTelnetProtocol(TelnetServer):
    """telnetlib3's server protocol with the driver's line reader and MUD options.

    At connect time (never waiting for answers: the login does not wait on
    negotiation) it offers EOR, CHARSET, GMCP, MSSP, NAWS, MCCP2 on plain
    connections when configured, and START_TLS on plain connections when
    configured; telnetlib3 asks for TTYPE.  What the client reveals is kept
    in ``client`` (``mud_protocols.ClientInfo``).
    """

    def __init__(self, deliver_line: Callable[[str], bool], negotiate: bool = True,
                 events: TelnetEvents | None = None, policy: TelnetPolicy = TelnetPolicy()) -> None:
        self.line_reader = LineReader(deliver_line)
        #: False on connections the driver opened itself (net_connect): the
        #: remote end is a server, and a server does not ask a server for
        #: its terminal type.
        self.negotiate = negotiate
        self.events = events
        self.policy = policy
        self.client = ClientInfo()
        #: set when the client's IAC SB START_TLS FOLLOWS IAC SE has been parsed
        self.starttls_follows = False
        super().__init__(
            encoding=False,  # the driver encodes and decodes text itself
            line_mode=True,
            timeout=0,
            connect_maxwait=0.5,
            compression=bool(policy.compression and negotiate),
        )  # reader and writer: see connection_made

    def connection_made(self, transport) -> None:
        # What telnetlib3's TelnetServer and BaseServer do here, less what a
        # MUD connection has no use for: no shell to start (the line reader
        # takes the input), no idle timer (``timeout=0``), and no callbacks
        # to wire into the writer (its tables name the protocol's methods
        # already, ``_PROTOCOL_CALLBACKS``).  Negotiation starts when the
        # connection calls ``begin_negotiation``: after the master's
        # connect() has decided whether TLS comes first.
        self._transport = transport
        self._when_connected = self._last_received = datetime.datetime.now()
        # Read for every line (``text_received``): the instance's own, not
        # telnetlib3's class default, which Python 3.11 looks up the slow way.
        self._closing = False
        self.reader = self.line_reader
        self.writer = MudTelnetWriter(transport, self, reader=self.line_reader)
        self.writer.compression = self._compression
        self.input = TelnetInput(self)

    def connection_lost(self, exc: Exception | None) -> None:
        # telnetlib3's teardown (BaseServer.connection_lost), less what does
        # not apply below a Connection: its log line (the connection logs its
        # own end); the done-callback of a shell never started; swapping the
        # transport's protocol, which TelnetFacingTransport refuses with an
        # exception every time; and closing that transport, since this runs
        # from the connection's own connection_lost or from the writer's
        # close, which closes it next.
        if self._closing:
            return
        self._closing = True
        if exc is None:
            self.reader.feed_eof()
        else:
            self.reader.set_exception(exc)
        for waiter in self._tasks:  # futures nobody awaits: cancelled for form's sake
            waiter.cancel()
        self._tasks.clear()
        self._transport = None

    def feed(self, data: bytes) -> None:
        """Plaintext from the connection: text to the line reader, telnet
        commands to the writer (``TelnetInput`` tells them apart)."""
        if not self._tls_checked:
            self._tls_checked = True
            if data[:1] == b"\x16":
                # A TLS client on the plain port (as telnetlib3 would say).
                log.warning("%s:%s: a TLS ClientHello on a plain telnet connection: closing",
                            *self.get_extra_info("peername", ("-", 0))[:2])
                self._transport.close()
                return
        self.input.feed(data)

    # -- what TelnetInput parsed (telnet_input.TelnetInputSink) -----------------------

    @property
    def _detached(self) -> bool:
        """Closed: the rest of a read that closed the connection is ignored."""
        return self._closing or self.writer._connection_closed

    def text_received(self, data: bytes) -> None:
        if not (self._closing or self.writer._connection_closed):  # _detached, inlined: every line
            self.line_reader.feed_data(data)

    def negotiation_received(self, command: int, option: int) -> None:
        if self._detached:
            return
        writer = self.writer
        try:
            writer.receive_negotiation(command, option)
        except ValueError as exc:  # telnetlib3's word for "not allowed here"
            log.debug("telnet: IAC %d %d: %s", command, option, exc)
            return
        except Exception:  # a fault in a handler: this command is lost, the connection is not
            log.warning("telnet: IAC %d %d failed", command, option, exc_info=True)
            return
        if command == _DO and option == MCCP2_COMPRESS[0] and self._mccp2_enabled \
                and not self._mccp2_pending and self._mccp2_compressor is None \
                and writer.local_option.enabled(MCCP2_COMPRESS):
            self._mccp2_start()  # the client agreed: compress from here on

    def subnegotiation_received(self, option: int, payload: bytes) -> None:
        if self._detached:
            return
        try:
            self.writer.receive_subnegotiation(option, payload)
        except ValueError as exc:
            log.debug("telnet: subnegotiation of option %d (%d bytes): %s",
                      option, len(payload), exc)
        except Exception:
            log.warning("telnet: subnegotiation of option %d (%d bytes) failed",
                        option, len(payload), exc_info=True)

    # -- negotiation -----------------------------------------------------------

    def begin_negotiation(self) -> None:
        """Every offer at once, in one write.

        telnetlib3's own start (DO TTYPE, then a timer that polls until the
        client has answered or ``connect_maxwait`` passed) exists to delay a
        shell until negotiation settles; the driver never waits, so the
        offers are written directly and marked pending, which is all
        ``writer.iac`` would do for options never negotiated before.
        """
        if not self.negotiate:
            return
        offers = [DO + TTYPE, WILL + EOR, WILL + CHARSET, WILL + GMCP, WILL + MSSP, DO + NAWS]
        if self.compression_allowed():
            offers.append(WILL + MCCP2_COMPRESS)
        if self.starttls_offerable():
            offers.append(DO + START_TLS)
        pending = self.writer.pending_option
        for offer in offers:
            dict.__setitem__(pending, offer, True)  # (nobody waits on a new writer)
        self.writer.send_iac(b"".join(IAC + offer for offer in offers))

    # telnetlib3's negotiation after the first answers, which the driver
    # never does: its offers are the ones above, all sent at once.
    # begin_advanced_negotiation would offer WILL BINARY (then DO BINARY),
    # MCCP2 again and MCCP3; _negotiate_environ, run after the first TTYPE
    # answer, DO NEW-ENVIRON; _negotiate_echo is WILL ECHO, which belongs to
    # password prompts and character mode.  (telnetlib3 calls the first from
    # its own parser, which the driver does not use; the other two from
    # on_ttype and check_negotiation.)

    def begin_advanced_negotiation(self) -> None:
        pass

    def _negotiate_environ(self) -> None:
        self._environ_requested = True

    def _negotiate_echo(self) -> None:
        self._echo_negotiated = True

    def negotiation_hook(self, command: int, option: int, data: bytes) -> bool:
        if self.events is None:
            return False
        return bool(self.events.telnet_negotiation(command, option, data))

    def on_ttype(self, ttype: str) -> None:
        self.client.add_ttype(ttype)
        super().on_ttype(ttype)

    def on_naws(self, rows: int, cols: int) -> None:
        super().on_naws(rows, cols)
        self.client.window_size = (cols, rows)

    def on_request_charset(self) -> list[str]:
        return list(mud_protocols.OFFERED_CHARSETS)

    def on_charset(self, charset: str) -> None:
        super().on_charset(charset)
        self._use_charset(charset)

    def choose_charset(self, offers: list[str]) -> str | None:
        chosen = mud_protocols.choose_charset(offers)
        if chosen is not None:
            self._use_charset(chosen)
        return chosen

    def _use_charset(self, charset: str) -> None:
        self.client.set_charset(charset)
        self.line_reader.codec = self.client.codec

    def encode_text(self, text: str) -> bytes:
        """Text for the client in its charset (``ClientInfo.text_codec``);
        a character the charset lacks is transliterated, or becomes "?"."""
        return text.encode(self.client.text_codec, errors=mud_protocols.TEXT_ERRORS)

    # -- GMCP and MSSP ---------------------------------------------------------

    @property
    def gmcp_enabled(self) -> bool:
        return self.writer.local_option.enabled(GMCP) or self.writer.remote_option.enabled(GMCP)

    def receive_gmcp(self, payload: bytes) -> None:
        text = payload.decode("utf-8", errors="replace")
        package, _, body = text.partition(" ")
        body = body.strip()
        try:
            data = json.loads(body) if body else None
        except ValueError:
            self.writer.log.debug("GMCP %s: data is not JSON: %r", package, body[:80])
            return
        self.client.gmcp_core(package, data)
        if self.events is not None:
            self.events.gmcp_received(package, data)

    def send_gmcp(self, package: str, data: Any = None) -> bool:
        if not self.gmcp_enabled:
            return False
        payload = package if data is None else package + " " + json.dumps(
            data, ensure_ascii=False, separators=(",", ":"))
        self.writer.send_iac(IAC + SB + GMCP + payload.encode("utf-8").replace(IAC, IAC + IAC)
                             + IAC + SE)
        return True

    def send_mssp(self) -> None:
        variables = self.events.mssp_variables() if self.events is not None else {}
        self.writer.send_iac(IAC + SB + MSSP + mud_protocols.mssp_payload(variables) + IAC + SE)

    def send_data(self, data: bytes) -> None:
        """Bytes as data (``binary_message``): IAC is doubled, and unless the
        client asked for BINARY a lone LF becomes CR LF, the NVT's newline
        (a bare LF moves a terminal's cursor down, not back to column 0)."""
        if not self.writer.outbinary:
            data = _LONE_LF.sub(b"\r\n", data)
        self.writer.write(data)

    def send_raw(self, data: bytes) -> None:
        """Bytes exactly as given: IAC is not escaped (negotiation the mudlib does)."""
        self.writer.send_iac(bytes(data))

    # -- compression -----------------------------------------------------------

    def compression_allowed(self) -> bool:
        """MCCP2 only on plain connections: compress-then-encrypt leaks (CRIME)."""
        return bool(self.policy.compression and self.negotiate and not self._tls_engaged())

    def _tls_engaged(self) -> bool:
        return self.events is not None and self.events.tls_engaged()

    def _mccp2_start(self) -> None:
        if not self.compression_allowed():
            self._mccp2_enabled = False
            return
        super()._mccp2_start()

    @property
    def compressing(self) -> bool:
        return self._mccp2_compressor is not None

    def end_compression(self) -> None:
        """End MCCP2 for good (before TLS starts): the zlib stream is finished."""
        if self._mccp2_compressor is not None:
            self._mccp2_end()
        self._mccp2_enabled = False
        if self.writer is not None and self.writer.local_option.get(MCCP2_COMPRESS) is not False:
            self.writer.local_option[MCCP2_COMPRESS] = False

    # -- START_TLS -------------------------------------------------------------

    def starttls_offerable(self) -> bool:
        return bool(self.policy.starttls and self.negotiate and not self._tls_engaged())

    @property
    def starttls_agreed(self) -> bool:
        """The client said WILL START_TLS: an upgrade goes by the draft's FOLLOWS."""
        return self.writer.remote_option.enabled(START_TLS)

    def starttls_will(self) -> None:
        writer = self.writer
        if not writer.pending_option.enabled(DO + START_TLS):
            # Unsolicited: agree only if we would have offered it.
            if not self.starttls_offerable():
                writer.iac(DONT, START_TLS)
                return
            if not writer.remote_option.enabled(START_TLS):
                writer.send_iac(IAC + DO + START_TLS)
        writer.remote_option[START_TLS] = True
        self.negotiation_hook(WILL[0], starttls.START_TLS, b"")

    def send_starttls_follows(self) -> None:
        self.starttls_follows = False
        self.writer.send_iac(starttls.FOLLOWS_SEQUENCE)

    # -- echo and prompts ------------------------------------------------------

    @property
    def echo_hidden(self) -> bool:
        return self.writer.local_option.enabled(ECHO) or self.writer.pending_option.enabled(WILL + ECHO)

    def set_echo_hidden(self, hidden: bool) -> None:
        """WILL ECHO hides what the player types (passwords); WONT shows it again."""
        if hidden:
            self.writer.iac(WILL, ECHO)
        elif self.echo_hidden:
            self.writer.iac(WONT, ECHO)
            # A client that never answered leaves WILL ECHO "pending", and
            # telnetlib3 would then skip the next WILL ECHO as a repeat.
            self.writer.pending_option[WILL + ECHO] = False

    def prompt_end_marker(self) -> bytes:
        """What ends a prompt for this client, as ``send_prompt_end`` would
        send it: IAC EOR if it asked for EOR, else IAC GA unless it asked
        for no go-aheads (DO SGA); then nothing."""
        local_option = self.writer.local_option  # a dict: get() is what enabled() does
        if local_option.get(EOR) is True:
            return IAC + CMD_EOR
        if local_option.get(SGA) is True:
            return b""
        return IAC + GA

    def send_prompt_end(self) -> None:
        """Mark the end of a prompt: EOR if the client asked for it, else GA."""
        if not self.writer.send_eor():
            self.writer.send_ga()
