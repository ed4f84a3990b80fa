"""A player's connection: socket, TLS layer and telnet layer, stacked.

This module owns the I/O of one connection and nothing about the game::

    mudlib object            (interactive.py binds it to a connection)
        |   lines up, text down
    telnet layer             telnetlib3, via telnet.MudTelnetProtocol
        |   plaintext          <- TelnetFacingTransport
   [WebSocket layer]         websocket.WebSession (sans-I/O), web port only
        |   plaintext
    TLS layer                tls.TLSSession (sans-I/O)
        |   bytes on the wire
    socket                   asyncio transport; Connection is its protocol

``Connection`` is the asyncio protocol of the socket.  Each chunk from the
network goes through the TLS session, which returns plaintext for the telnet
layer and bytes to send back; each write from the telnet layer goes through
the session on its way to the socket.  While a handshake runs the session
holds every write, so nothing but TLS records can reach the wire.

What happens on the connection is reported to a ``ConnectionEvents`` object
(the layer above); this module never calls into the mudlib.  The handshake
deadline lives here because it is a timer, and timers are I/O.

A connection on the web port (``web_site`` given) starts its TLS handshake
itself, at once, since a browser speaks ``wss://`` from its first byte;
then serves HTTP until the client upgrades to a WebSocket.  Only then is it
a player's connection: the telnet layer is made and ``connection_opened``
runs, so the mudlib's ``connect()`` sees a connection that is already
secure.  Until then nothing reaches the layer above, and a deadline
(``WebLimits.upgrade_timeout``) closes connections that never get there.
Once open, the same deadline slot keeps the WebSocket alive with pings.

Flow control: what one connection may hold
==========================================

A connection never holds more of the driver's memory than its ``policy``
(config.yaml's ``connections``, ``config.ConnectionLimits``)
allows, whatever its peer sends or fails to read.

Input is parsed one line at a time, and only when the layer above has run
the line before (``next_line``, then ``input_done``): a line may start TLS,
and then the bytes after it belong to the handshake, not to telnet.  What
has arrived but not been parsed waits in ``_unparsed``; when that passes
``input_buffer`` bytes the socket is no longer read (``pause_reading``), so
a flood waits in the kernel and in TCP's window, and reading resumes as the
lines are consumed.  A turn parses ``PARSE_PER_TURN`` bytes at most: input
that yields no line (a stream of telnet commands, or a very long line) is
parsed a kilobyte per turn, in the player's following turns, so a
negotiation flood holds other players up for no longer than about a
millisecond at a time, and costs them no more than a flood of commands does.

Output leaves at the end of each turn, or sooner when a turn writes more
than a quarter of ``output_buffer`` (at most 64 KiB), and waits in the
transport's buffer only when the kernel's is full.  Above a
quarter of ``output_buffer`` asyncio calls ``pause_writing``: the layer
above stops running that player's commands (``output_backed_up``), which
make most of its output.  Text that would take the total past
``output_buffer`` is discarded, and the client reads one line saying so when
the buffer drains.  If nothing is sent for ``send_timeout`` seconds while
output waits, the connection is dropped.  For TLS the total counts the
plaintext not yet encrypted as well as the records in the buffer.

New connections take turns too.  Opening one (the telnet layer, the
master's ``connect()``, the player's ``logon()``, the first offers) costs
about as much Python as a dozen commands, and a client that opens hundreds
of connections at once would otherwise have them all opened in one pass of
the event loop while every player's command waits.  A pass opens new
connections for ``OPENING_BUDGET`` seconds at most (at least one); the rest
wait, unread, in arrival order (``_Openings``), and the following passes
open them, with players' commands read and run in between.  Admission
comes first, so a refused client costs nothing of this.

A TLS session ends where the mudlib says (``stop_tls``).  A peer's own
close_notify ends the connection instead: the driver answers it and
closes, and whatever follows on the stream is never read as plaintext.

On either event loop
====================

The game runs on uvloop's loop (the default, where it can be imported) or
on asyncio's selector loop (``server.event_loop``, ``game.py``), and this
module uses only what both promise of a transport.  Where asyncio's
interface leaves room, the two fill it alike, and the tests hold them to it
(``tests/test_event_loop.py``, and the whole suite on either loop:
``MUD_TEST_EVENT_LOOP=asyncio``):

* ``write`` sends at once what the kernel takes; only the rest is buffered,
  and ``get_write_buffer_size`` counts it (uvloop: its own buffer and
  libuv's write queue).  ``pause_writing``/``resume_writing`` come at the
  limits ``set_write_buffer_limits`` set.  ``close`` sends what is buffered
  first, however long that takes; ``abort`` does not.
* ``pause_reading`` takes effect at once: no ``buffer_updated`` follows it,
  though libuv reads up to 32 times per wake-up where asyncio reads once.
* A ``BufferedProtocol``'s ``get_buffer`` is called before each read and
  ``buffer_updated`` right after it, with nothing in between.
* ``get_extra_info("socket")`` is a stand-in that forwards ``setsockopt``
  to the descriptor: asyncio's ``TransportSocket``, uvloop's
  ``PseudoSocket``.  Neither may be read, written or closed here.
* ``loop.time()`` is what deadlines are set in; uvloop's counts
  milliseconds, so durations measured with it (a handshake's) are whole
  milliseconds there.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections import deque
from time import perf_counter
from typing import Protocol

from .. import metrics
from ..config import ConnectionLimits
from . import starttls, tls
from .admission import FORWARDED, REFUSAL_LINES, Admission
from .telnet import MAX_LINE, MudTelnetProtocol, TelnetPolicy
from .websocket import (CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_POLICY_VIOLATION, WebSession,
                        WebSite)

log = logging.getLogger("driver.connection")


#: How a connection ended (``ConnectionEvents.connection_closed``).
CLOSED_BY_DRIVER = "closed by the driver"
CLOSED_BY_PEER = "closed by the peer"
CONNECTION_LOST = "lost"
CLOSED_TLS_BY_PEER = "peer closed TLS"
CLOSED_NOT_READING = "not reading: output waited too long"
CLOSED_OUTPUT_OVERFLOW = "output overflow"

#: a handshake's result code -> its name in the metrics ("ok", "not_tls", ...)
_RESULT_NAMES = {code: name[len("TLS_ERR_"):].lower() for name, code in vars(tls).items()
                 if name.startswith("TLS_ERR_") and isinstance(code, int)}
_RESULT_NAMES[tls.TLS_OK] = "ok"
metrics.handshakes.declare((name, code) for code, name in _RESULT_NAMES.items())

#: Bytes of a player's input parsed in one turn at most, when they yield no
#: line (a stream of telnet commands, or a line longer than this): the rest
#: waits for the player's next turn.  A kilobyte of dense telnet commands
#: takes up to about a millisecond to parse (negotiations and
#: subnegotiations each reach the telnet layer's Python): that is as long
#: as one player's turn may hold up everyone else's.
PARSE_PER_TURN = 1024

#: What a turn that only parses counts against the player's command rate,
#: in commands: a kilobyte is an eighth of a longest line (``MAX_LINE``), so
#: a client pays one command per 8 KiB of telnet commands, however small
#: the pieces its input is parsed in.
PARSE_TURN_COST = PARSE_PER_TURN / MAX_LINE

#: The line a client reads when output meant for it was discarded.
DISCARD_MARKER = "\n*** output discarded: your client is not reading ***\n"


class ConnectionEvents(Protocol):
    """What the layer above hears from a connection."""

    def connection_opened(self, connection: Connection) -> None: ...

    def input_ready(self, connection: Connection) -> None:
        """A line waits in ``connection.pending_lines``, or may run again
        after output drained.  The layer above takes it with ``next_line``
        when it is the player's turn, and calls ``input_done`` after."""

    def input_arrived(self, connection: Connection) -> None:
        """As ``input_ready``, for a line that has just come off the
        network, when the read that brought it is over and nothing of the
        connection's is on the stack: the layer above may run it at once,
        as that player's share of the coming turn."""

    def handshake_finished(self, connection: Connection, result: int) -> None: ...

    def connection_closed(self, connection: Connection, how: str) -> None: ...


class TelnetFacingTransport(asyncio.Transport):
    """The transport the telnet layer writes to: the top of the TLS layer.

    (No ``__slots__``: telnetlib3 starts MCCP2 by replacing ``write`` on the
    instance with a compressing wrapper.)
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self._connection = connection

    def write(self, data: bytes) -> None:
        self._connection.send_plaintext(data)

    def is_closing(self) -> bool:
        return self._connection.closing

    def close(self) -> None:
        self._connection.close()

    def abort(self) -> None:
        self._connection.close(flush=False)

    def can_write_eof(self) -> bool:
        return False

    def get_extra_info(self, name, default=None):
        if name == "ssl_object":
            session = self._connection.tls_session
            return session.ssl_object if session.state is tls.ACTIVE else default
        return self._connection.socket_info(name, default)

    def pause_reading(self) -> None:
        self._connection.pause_reading()

    def resume_reading(self) -> None:
        self._connection.resume_reading()

    def is_reading(self) -> bool:
        return not self._connection.closing

    def set_protocol(self, protocol) -> None:
        pass  # the telnet layer detaches itself on close; nothing to re-route

    def get_protocol(self):
        return self._connection.telnet


#: Where the event loop reads every connection's bytes (``get_buffer``).  A
#: plain protocol's transport reads each time into a new 256 KiB bytes object
#: (for the allocator, one mmap, mremap and munmap per read: three system
#: calls a command); reading into this one buffer and copying out the few
#: bytes that came costs none.  One buffer serves every connection: the
#: transport reads into it and hands it over (``buffer_updated``) in one step,
#: and the bytes are copied out before anything else can read.  (uvloop
#: holds the buffer from ``get_buffer`` to the end of that read, per
#: connection; libuv reads one stream at a time, so the holds never overlap.)
_RECEIVE_BUFFER = memoryview(bytearray(256 * 1024))


def tune_keepalive(sock, policy: ConnectionLimits, what: object = "listener") -> None:
    """TCP keepalive with the policy's timing, where the platform allows.

    Set on each listening socket, it is every accepted socket's (Linux and
    the BSDs copy SO_KEEPALIVE and the TCP_KEEP* timings on accept), which
    saves four system calls a connection; connections the driver opens
    itself get it one by one.  ``sock`` may be a transport's stand-in for
    its socket (asyncio's ``TransportSocket``, uvloop's ``PseudoSocket``):
    both pass ``setsockopt`` on to the descriptor."""
    options = (("TCP_KEEPIDLE", policy.keepalive_idle),
               ("TCP_KEEPINTVL", policy.keepalive_interval),
               ("TCP_KEEPCNT", policy.keepalive_count))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in options:
            option = getattr(socket, name, None)
            if option is not None:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
    except OSError as exc:  # not a TCP socket, or the platform refuses: keep the defaults
        log.debug("%r: TCP keepalive not tuned: %s", what, exc)


class _TurnOutput:
    """The connections written to in this turn of the event loop.

    Their output leaves together when the turn ends (``end_turn``: each
    connection's ``flush``): one callback for the whole driver rather than
    one per connection that wrote.  While the driver runs players' lines
    (``holding``) nothing is scheduled: the scheduler ends the turn itself
    when the lines have run (``end_turn``), in the same pass of the loop, so
    a command's reply costs no extra pass (and no extra ``epoll_wait``).
    """

    __slots__ = ("written", "handle", "loop", "holding")

    def __init__(self) -> None:
        self.written: list[Connection] = []
        self.handle: asyncio.Handle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.holding = 0

    def add(self, connection: Connection) -> None:
        loop = connection._loop
        if self.loop is not loop:  # a new event loop: whatever the old one held is gone
            self.written, self.handle, self.loop, self.holding = [], None, loop, 0
        self.written.append(connection)
        if self.handle is None and not self.holding:
            self.handle = loop.call_soon(self.end_turn)

    def end_turn(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        written, self.written = self.written, []
        for connection in written:
            # The turn's output leaves, and a partial line written in it is
            # now an earlier turn's.
            connection._line_settled = True
            connection.flush()


_turn_output = _TurnOutput()


#: Seconds one pass of the event loop spends opening new connections (the
#: master's connect() and what follows it) before the rest wait for the
#: next pass.  About ten openings of the shipped world on a current core;
#: a player's command read in the same pass waits no longer than this.
OPENING_BUDGET = 0.001


class _Openings:
    """New connections, opened a budget's worth per pass of the event loop.

    A connection arriving while the pass still has budget, and nobody
    waits, opens at once (the usual case: no queue, no extra pass).  Else
    it waits, its socket unread, until a later pass opens it, in arrival
    order.  One ``call_soon`` per pass that opened anything resets the
    budget, and opens the waiting connections it allows.
    """

    __slots__ = ("waiting", "spent", "handle", "loop")

    def __init__(self) -> None:
        self.waiting: deque[Connection] = deque()
        #: seconds spent opening connections in this pass of the loop
        self.spent = 0.0
        self.handle: asyncio.Handle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def open(self, connection: Connection) -> None:
        loop = connection._loop
        if self.loop is not loop:  # a new event loop: whatever the old one held is gone
            self.waiting, self.spent, self.handle, self.loop = deque(), 0.0, None, loop
        if self.waiting or self.spent >= OPENING_BUDGET:
            connection._wait_to_open()
            self.waiting.append(connection)
        else:
            self._run(connection)
        if self.handle is None:
            self.handle = loop.call_soon(self.next_pass)

    def next_pass(self) -> None:
        self.handle = None
        self.spent = 0.0
        waiting = self.waiting
        while waiting and self.spent < OPENING_BUDGET:
            connection = waiting.popleft()
            if not connection.closing:
                self._run(connection)
        if waiting or self.spent:
            self.handle = self.loop.call_soon(self.next_pass)

    def _run(self, connection: Connection) -> None:
        started = perf_counter()
        try:
            connection._open()
        except Exception:  # a fault in opening one connection: the others still open
            log.exception("%r: opening the connection failed; closing it", connection)
            connection.close(flush=False)
        self.spent += perf_counter() - started

    def drop_waiting(self) -> int:
        """Close every connection still waiting to open (shutdown)."""
        waiting, self.waiting = self.waiting, deque()
        dropped = 0
        for connection in waiting:
            if not connection.closing:
                connection.close(flush=False)
                dropped += 1
        return dropped


_openings = _Openings()


def drop_connections_waiting_to_open() -> int:
    """At shutdown: close the new connections not yet opened (the layer
    above never heard of them).  Returns how many there were."""
    return _openings.drop_waiting()


def hold_output() -> None:
    """Players' lines are about to run: their output waits for ``release_output``."""
    _turn_output.holding += 1


def release_output() -> None:
    """The lines have run: what they wrote leaves now, one send per connection."""
    _turn_output.holding -= 1
    if not _turn_output.holding and _turn_output.written:
        _turn_output.end_turn()


class Connection(asyncio.BufferedProtocol):
    """One TCP connection from a player (or to a remote host)."""

    # Thousands of these live at once: no per-instance __dict__.
    __slots__ = ("events", "incoming", "remote_host", "requested_owner", "tls_session", "telnet",
                 "closing", "_closed_by_driver", "peer", "local_port", "binding", "_transport",
                 "_deadline", "_loop", "awaiting_follows", "_follows", "_line", "_line_settled",
                 "_outbox", "_wire_prefix", "policy", "pending_lines", "_unparsed",
                 "_to_handshake", "_reading_paused", "output_backed_up", "_outbox_size",
                 "_discarding", "_wire_written", "_send_watch", "_last_progress",
                 "_close_reason", "_flush_at", "_parse_more", "_web_site", "web", "_admission",
                 "_admission_ticket", "_handshake_started", "_reading", "_arrived",
                 "_quick_room", "_waiting_to_open", "_early")

    def __init__(self, events: ConnectionEvents, *, incoming: bool = True,
                 remote_host: str | None = None, owner=None,
                 web_site: WebSite | None = None, admission: Admission | None = None) -> None:
        self.events = events
        #: the gate an incoming connection passes before anything else happens
        self._admission = admission
        self._admission_ticket: object | None = None
        #: loop time the current handshake started (for its duration)
        self._handshake_started: float | None = None
        #: incoming connections do server handshakes, outgoing ones client handshakes
        self.incoming = incoming
        #: for outgoing connections: the host name asked for (SNI, verification),
        #: and the object that asked (it will own the connection)
        self.remote_host = remote_host
        self.requested_owner = owner
        self.tls_session = tls.TLSSession()
        self.telnet: MudTelnetProtocol | None = None
        self.closing = False
        self._closed_by_driver = False
        self.peer: tuple[str, int] = ("-", 0)
        self.local_port = 0
        self.binding = None  # set by the layer above (its per-connection state)
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        #: STARTTLS: our FOLLOWS is out; telnet bytes until the client's FOLLOWS
        self.awaiting_follows = False
        self._follows: starttls.FollowsScanner | None = None
        #: where the player's screen is: "start" of a line, after a "prompt",
        #: or after "text" without a newline (``write_text``)
        self._line = "start"
        self._line_settled = False
        #: plaintext written this turn of the event loop, sent as one piece
        self._outbox: list[bytes] | None = None
        #: TLS records that go out ahead of the outbox (see data_received)
        self._wire_prefix: bytes | None = None
        policy = getattr(events, "flow_policy", None)
        self.policy: ConnectionLimits = (policy if isinstance(policy, ConnectionLimits)
                                         else ConnectionLimits())
        #: output of one turn past this is sent before the turn ends
        quarter = self.policy.output_buffer // 4  # (not min(): it parses its arguments as keywords)
        self._flush_at = quarter if quarter < 64 * 1024 else 64 * 1024
        #: what a turn may write while the transport is under its
        #: high-water mark and still be under ``output_buffer``
        self._quick_room = self.policy.output_buffer - quarter
        #: lines parsed and waiting for their turn (one at a time; char mode: one key)
        self.pending_lines: deque[str] = deque()
        #: plaintext received but not yet given to the telnet layer
        self._unparsed = bytearray()
        #: parsing stopped at its per-turn budget with input left: the next
        #: turn of this player continues it
        self._parse_more = False
        #: TLS began without STARTTLS: unparsed bytes are the client's handshake
        self._to_handshake = False
        self._reading_paused = False
        #: asyncio said the send buffer is past its high-water mark
        self.output_backed_up = False
        self._outbox_size = 0
        #: output was discarded; the marker goes out once the client reads again
        self._discarding = False
        #: bytes ever given to the transport (minus its buffer: bytes sent)
        self._wire_written = 0
        self._send_watch: asyncio.TimerHandle | None = None
        self._last_progress = (0, 0.0)
        #: why the driver closed the connection, if not at the mudlib's word
        self._close_reason: str | None = None
        #: the web port's shared state, and this connection's HTTP/WebSocket
        #: layer (made at connect): None on the telnet and TLS ports
        self._web_site = web_site
        self.web: WebSession | None = None
        #: inside a read from the network (``buffer_updated``), and whether
        #: a line became ready in it (told to the layer above at its end)
        self._reading = False
        self._arrived = False
        #: accepted and admitted, but not yet opened (``_Openings``): unread,
        #: and unknown to the layer above
        self._waiting_to_open = False
        #: what arrived while waiting to open (``_hold_early``)
        self._early: bytes | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.peer[0]}:{self.peer[1]} port {self.local_port}>"

    # -- socket side -----------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        peer = transport.get_extra_info("peername") or ("-", 0)
        self.peer = (str(peer[0]), int(peer[1]))
        sockname = transport.get_extra_info("sockname") or ("-", 0)
        self.local_port = int(sockname[1])
        # Admission first: a banned or flooding client costs no TLS session,
        # no telnet offers and no call into the mudlib.
        if self._admission is not None:
            self._admission_ticket, refusal = self._admission.admit(self.peer[0], self.local_port)
            if refusal is not None:
                self._refuse(refusal)
                return
        if not self.incoming:
            # An accepted socket has the keepalive its listening socket was
            # given (``tune_keepalive``): the kernel copies it on accept.
            sock = transport.get_extra_info("socket")
            if sock is not None:
                tune_keepalive(sock, self.policy, self)
        # Past the high-water mark the player's commands wait (pause_writing).
        limit = self.policy.output_buffer
        transport.set_write_buffer_limits(high=limit // 4, low=limit // 16)
        if self._web_site is not None:
            self._begin_web()
        elif self.incoming:
            _openings.open(self)  # now, or in a later pass of the loop
        else:
            self._open_telnet()  # the mudlib asked for this one: it opens at once

    def _wait_to_open(self) -> None:
        """Not opened in this pass: nothing is read until it is.  (On
        asyncio's loop.  uvloop accepts one connection a pass, so nothing
        waits there; if something did, ``_hold_early`` keeps what it reads.)"""
        self._waiting_to_open = True
        self._transport.pause_reading()

    def _hold_early(self, data: bytes) -> None:
        """Bytes read before the connection was opened: uvloop starts
        reading once ``connection_made`` returns, whatever it asked for.
        They wait for the opening, and nothing more is read meanwhile."""
        self._early = data if self._early is None else self._early + data
        self._transport.pause_reading()  # (reading now: this takes effect)

    def _open(self) -> None:
        """Opened (``_Openings``), at once or after waiting its turn."""
        if self._waiting_to_open:
            self._waiting_to_open = False
            self._open_telnet()
            early, self._early = self._early, None
            if early and not self.closing:
                self.data_received(early)  # as if it had come just now
            if not self.closing:
                self.resume_reading()
        else:
            self._open_telnet()

    def _open_telnet(self) -> None:
        """The telnet layer, and the layer above told: a player's connection."""
        policy = getattr(self.events, "telnet_policy", None)
        self.telnet = MudTelnetProtocol(
            self._line_from_telnet, negotiate=self.incoming, events=self,
            policy=policy(self) if callable(policy) else TelnetPolicy())
        self.telnet.connection_made(TelnetFacingTransport(self))
        self.events.connection_opened(self)
        # The offers go out after connect(): if it started TLS they are held
        # and leave encrypted after the handshake.
        if not self.closing and self.telnet is not None:
            self.telnet.begin_negotiation()

    def _refuse(self, reason: str) -> None:
        """Turned away at accept: one line on a plain port, then close; on
        the TLS port nothing at all (the peer expects a ServerHello)."""
        self.closing = True
        self._closed_by_driver = True
        line = self._admission.refusal_line(reason, self.local_port)
        if line:
            self._transport.write(line)
        self._transport.close()

    def get_buffer(self, sizehint: int) -> memoryview:
        return _RECEIVE_BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        # A line this read completes is announced once the read is over
        # (``input_arrived``), so the layer above can run it in this same
        # pass of the event loop without re-entering the parser.
        if self._waiting_to_open:
            self._hold_early(bytes(_RECEIVE_BUFFER[:nbytes]))
            return
        self._reading = True
        try:
            self.data_received(bytes(_RECEIVE_BUFFER[:nbytes]))
        finally:
            self._reading = False
        if self._arrived:
            self._arrived = False
            if self.pending_lines and not self.closing:
                self.events.input_arrived(self)

    def data_received(self, data: bytes) -> None:
        metrics.traffic.received += len(data)
        if self._outbox is not None:
            self.flush()  # the peer's bytes may change the TLS state
        if self.web is not None:
            self._web_received(data)
            return
        if self._to_handshake:
            data = self._take_unparsed() + data  # they arrived first
        if self.awaiting_follows:  # STARTTLS: still telnet until the client's FOLLOWS
            if not self.closing:
                self._feed_telnet(data)
            return
        # (Unpacked at once: a NamedTuple's fields are descriptors, which
        # Python 3.11 looks up the slow way on every read.)
        plaintext, to_send, outcome, fatal, closed = self.tls_session.receive(data)
        if to_send:
            if outcome == tls.TLS_OK and not (fatal or closed):
                # The handshake just ended.  What the session sends now
                # (session tickets, text held during the handshake) waits
                # for the greeting logon() is about to write: one send.
                self._wire_prefix = to_send
                if self._outbox is None:
                    self._outbox = []
                    _turn_output.add(self)
            else:
                # An alert, or the answer to the peer's close_notify: it
                # goes out now, whatever happens to the connection next.
                self._write_wire(to_send)
        if outcome is not None:
            self._handshake_over(outcome)
        if closed:
            # The peer ended TLS on its own.  Only the mudlib may turn a
            # secure connection back into plaintext (tls_deinit_connection),
            # so this ends the connection, and what the peer sends after its
            # close_notify is never read.
            if not self.closing:
                log.debug("%r: the client ended TLS with close_notify; closing", self)
                self.close(reason=CLOSED_TLS_BY_PEER)
            return
        if plaintext and not self.closing:
            self._feed_telnet(plaintext)
        if fatal:
            log.warning("%r: %s; closing", self, fatal)
            self._close_after_alert()

    def eof_received(self) -> bool:
        return False  # close our side too

    def pause_writing(self) -> None:
        """asyncio: the send buffer passed its high-water mark."""
        self.output_backed_up = True
        self._watch_sending()

    def resume_writing(self) -> None:
        """asyncio: the send buffer drained below its low-water mark."""
        self.output_backed_up = False
        if not self.closing:
            self._stop_watching_sending()
            if self._discarding:
                self._tell_discarded()
            if self.pending_lines:
                self.events.input_ready(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._admission is not None:
            if self._admission_ticket is None:
                return  # refused at accept: nothing above ever heard of it
            self._admission.release(self._admission_ticket)
            self._admission_ticket = None
        if self._waiting_to_open:
            # Gone before its turn to open: the layer above never heard of it.
            self.closing = True
            self._early = None
            log.debug("%r: closed while waiting to open%s", self, f" ({exc})" if exc else "")
            return
        # How it ended, for the master's disconnect(): the driver closed it;
        # the peer closed it cleanly (FIN, after close_notify if it was
        # secure); or the peer vanished (reset, error, or a secure stream cut
        # off without close_notify).
        if self._closed_by_driver:
            how = CLOSED_BY_DRIVER
        elif exc is not None or self.tls_session.state is tls.ACTIVE:
            how = CONNECTION_LOST
        else:
            how = CLOSED_BY_PEER
        self.closing = True
        self._cancel_deadline()
        self._stop_watching_sending()
        # asyncio's selector transport keeps a bound method of its own
        # (``_read_ready_cb``) until it is freed: a cycle the collector must
        # find.  Long-lived connections are in the collector's frozen
        # generation (driver/collector.py), where it would never look.
        # uvloop's transport (a C type, with no __dict__) holds nothing of
        # the kind, and drops its protocol and the protocol's bound methods
        # (get_buffer, buffer_updated) itself after connection_lost.
        transport = self._transport
        if transport is not None and "_read_ready_cb" in getattr(transport, "__dict__", ()):
            transport._read_ready_cb = None
        if self._close_reason is not None:
            how = self._close_reason
        self.pending_lines.clear()
        self._unparsed = bytearray()
        if self.web is not None and self.telnet is None:
            # A web connection that never opened its WebSocket: it was never
            # a player's, and the layer above never heard of it.
            log.debug("%r: web connection %s%s", self, how, f" ({exc})" if exc else "")
            self.binding = None
            return
        result = self.tls_session.peer_gone()
        if result is not None:
            self._count_handshake(result)
            self.events.handshake_finished(self, result)
        if self.telnet is not None:
            self.telnet.connection_lost(exc)
        detail = f" ({exc})" if exc is not None else ""
        log.debug("%r: %s%s", self, how, detail)
        self.events.connection_closed(self, how)
        # Break the reference cycles (the telnet writer's callback tables
        # hold bound methods of its protocol; the line reader and the binding
        # point back here), so a closed connection is freed at once rather
        # than left for the cyclic garbage collector, whose full passes stall
        # every player.
        if self.telnet is not None:
            if self.telnet.writer is not None:
                self.telnet.writer.close()
            self.telnet.input = None  # the parser's sink is the protocol
        self.telnet = None
        self.binding = None
        self.tls_session.release()

    def pause_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused:
            return  # input is still full: it resumes as the lines are consumed
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def socket_info(self, name: str, default=None):
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)

    # -- input -----------------------------------------------------------------

    def _feed_telnet(self, plaintext: bytes) -> None:
        """Plaintext for the telnet layer: parsed once the lines before it ran."""
        if not self._unparsed and not self.pending_lines and not self._parse_more \
                and len(plaintext) <= PARSE_PER_TURN \
                and plaintext[-1] == 10 and 10 not in plaintext[:-1] \
                and not self.awaiting_follows and not self.telnet.line_reader.held:
            # Nothing waits and this is one line, ending the read (the usual
            # case): the telnet layer takes it as it is, which is what
            # ``_parse_input`` would give it, less a copy in and out of
            # ``_unparsed``.
            self.telnet.feed(plaintext)
            return
        self._unparsed += plaintext
        if not self._parse_more:  # else the player's next turn goes on with it
            self._parse_input()
        if len(self._unparsed) > self.policy.input_buffer and not self._reading_paused:
            # The rest waits in the kernel and in TCP's window, not here.
            self._reading_paused = True
            self.pause_reading()

    def _parse_input(self) -> None:
        """Give the telnet layer plaintext until it yields a line, or runs out.

        A command may start TLS (a "go ahead, switch now" upgrade), and the
        client may send its ClientHello right behind that command, in the
        same read.  Those bytes belong to the handshake, not to telnet, so
        the telnet layer is never given more than the line that might start
        it, and the next piece only after that line has run (``input_done``).
        STARTTLS is the same with the client's IAC SB START_TLS FOLLOWS IAC
        SE in place of a line: the handshake starts at the byte after it.
        """
        telnet = self.telnet
        reader = telnet.line_reader
        if reader.held:
            reader.release()  # a key left from a piece in character mode
        unparsed = self._unparsed
        self._parse_more = False
        parsed = 0
        while unparsed and not self.pending_lines and not self.closing:
            if parsed >= PARSE_PER_TURN:
                # A line's worth of bytes gave no line (a stream of telnet
                # commands, say): the rest waits for this player's next turn,
                # so one client's negotiation costs a bounded share of a turn.
                self._parse_more = True
                self.events.input_ready(self)
                return
            # One line at most, and no more than is left of this turn's
            # share: up to a newline, or to the end of the share (a longer
            # line goes on in the next piece; the telnet layer keeps a
            # command or a line cut short until the rest comes).
            share = PARSE_PER_TURN - parsed
            end = unparsed.find(b"\n", 0, share)
            end = min(len(unparsed), share) if end < 0 else end + 1
            awaiting = self.awaiting_follows
            if awaiting:
                follows = self._follows.end_within(unparsed, 0, end)
                end = end if follows < 0 else follows
            piece = bytes(unparsed[:end])
            del unparsed[:end]
            parsed += end
            telnet.feed(piece)
            if awaiting:
                self._follows.fed(piece)
            if self.closing:
                return
            if self.awaiting_follows and telnet.starttls_follows:
                # Every byte after the client's FOLLOWS belongs to the handshake.
                self.awaiting_follows = False
                rest = self._take_unparsed()
                if rest:
                    self.data_received(rest)
                return

    def _take_unparsed(self) -> bytes:
        """Every byte not yet parsed as a line (they belong to a handshake)."""
        self._to_handshake = False
        rest = self.telnet.line_reader.take_unread() if self.telnet is not None else b""
        if self._unparsed:
            rest += bytes(self._unparsed)
            self._unparsed.clear()
        self._resume_reading_if_room()
        return rest

    def _resume_reading_if_room(self) -> None:
        if self._reading_paused and len(self._unparsed) <= self.policy.input_buffer // 2:
            self._reading_paused = False
            self.resume_reading()

    def _line_from_telnet(self, line: str) -> bool:
        """A complete line arrived: it waits for its turn.  Returns False, so
        the reader parses no further until this line has run."""
        if self.closing:
            return False
        self._line = "start"  # the player pressed enter: their screen is on a new line
        self.pending_lines.append(line)
        if len(self.pending_lines) == 1:
            if self._reading:
                self._arrived = True  # told when the read is over
            else:
                self.events.input_ready(self)
        return False

    @property
    def has_input(self) -> bool:
        """A line waits for its turn, or input still to be parsed does."""
        return (bool(self.pending_lines) or self._parse_more) and not self.closing

    def next_line(self) -> str | None:
        """The oldest line waiting (None: this turn only parses more input);
        the caller runs it, then calls ``input_done``."""
        if self.closing or not self.pending_lines:
            return None
        return self.pending_lines.popleft()

    def input_done(self) -> None:
        """The line taken has run: parse the next, and read the socket again
        once there is room.  If the line started TLS, the bytes after it go
        to the handshake instead."""
        if self.closing or self.telnet is None:
            return
        if self._to_handshake:
            rest = self._take_unparsed()
            if rest:
                self.data_received(rest)
            return
        if not self.pending_lines and (self._unparsed or self.telnet.line_reader.has_unread):
            self._parse_input()
        if self._reading_paused:
            self._resume_reading_if_room()

    # -- output ----------------------------------------------------------------

    def send_plaintext(self, data: bytes) -> None:
        """From the telnet layer: through the TLS layer to the socket.

        Everything written in one turn of the event loop (a command's reply,
        its prompt and the GA after it; a room's messages) goes out as one
        TLS record and one send, at the end of the turn.  Anything that
        changes the TLS state, or writes to the wire itself, flushes first,
        so the order of bytes and the layer each crosses never change.
        """
        if self.closing or self._transport is None:
            return
        if not self._little_queued(len(data)) \
                and self._queued_output() + len(data) > 2 * self.policy.output_buffer:
            self._overflow(len(data))
            return
        self._to_outbox(data)

    def _to_outbox(self, data: bytes) -> None:
        self._outbox_size += len(data)
        if type(data) is not bytes:
            data = bytes(data)  # a bytearray or memoryview could change before it is sent
        if self._outbox is None:
            self._outbox = [data]
            _turn_output.add(self)
        else:
            self._outbox.append(data)
            if self._outbox_size >= self._flush_at:
                # A turn that writes a lot (a long file, a flood) sends as it
                # goes, so the kernel's buffer takes it and only a client that
                # is not reading fills ours.
                self.flush()

    def _little_queued(self, size: int) -> bool:
        """Whether ``size`` more bytes certainly fit under ``output_buffer``,
        known without asking the transport: while asyncio has not called
        ``pause_writing`` its buffer holds at most its high-water mark (a
        quarter of ``output_buffer``), and outside a handshake the TLS
        session holds nothing back.  (The usual case: a command's reply.)"""
        state = self.tls_session.state
        return (self._outbox_size + size <= self._quick_room and not self.output_backed_up
                and state is not tls.HANDSHAKING and state is not tls.RESTARTING)

    def _queued_output(self) -> int:
        """Output held for the client: in the transport's buffer (TLS
        records, for a secure connection), written this turn, and held
        while a handshake runs."""
        return (self._transport.get_write_buffer_size() + self._outbox_size
                + self.tls_session.held_size)

    def _room_for(self, size: int) -> bool:
        """Whether ``size`` more bytes of text fit under ``output_buffer``."""
        if not self._discarding:
            state = self.tls_session.state  # _little_queued(), inlined: every write asks
            if (self._outbox_size + size <= self._quick_room and not self.output_backed_up
                    and state is not tls.HANDSHAKING and state is not tls.RESTARTING):
                return True
            if self._queued_output() + size <= self.policy.output_buffer:
                return True
            self._discarding = True
            log.info("%r: output discarded: the client is not reading", self)
        metrics.output_discarded.inc(size)
        return False

    def _overflow(self, size: int) -> None:
        """Protocol output (GMCP, negotiation) past twice the cap: dropped,
        unless it is a compressed stream, which a gap would corrupt."""
        if self.telnet is not None and self.telnet.compressing:
            log.warning("%r: compressed output overflowed %d bytes; closing",
                        self, 2 * self.policy.output_buffer)
            self.close(flush=False, reason=CLOSED_OUTPUT_OVERFLOW)
            return
        metrics.output_discarded.inc(size)
        if not self._discarding:
            self._discarding = True
            log.info("%r: output discarded: the client is not reading", self)

    def _tell_discarded(self) -> None:
        """The client reads again: one line says that something was lost."""
        self._discarding = False
        self.write_text(DISCARD_MARKER)

    def flush(self) -> None:
        """Send the plaintext written so far through the TLS layer now."""
        pending, self._outbox = self._outbox, None
        prefix, self._wire_prefix = self._wire_prefix, None
        self._outbox_size = 0
        if self._transport is None or self._transport.is_closing():
            return
        wire = b""
        if pending:
            plaintext = pending[0] if len(pending) == 1 else b"".join(pending)
            if self.web is not None:
                plaintext = self.web.message(plaintext)  # one WebSocket message per turn
            if plaintext:
                wire = self.tls_session.send(plaintext)
        if prefix:
            wire = prefix + wire
        if wire:
            self._write_wire(wire)
        if self._discarding and not self.output_backed_up and not self.closing:
            self._tell_discarded()  # the client keeps up: this turn's output was just too much

    def _write_wire(self, data: bytes) -> None:
        """Bytes for the socket, exactly as they are."""
        self._wire_written += len(data)
        metrics.traffic.sent += len(data)
        self._transport.write(data)

    # -- the send deadline -----------------------------------------------------

    def _watch_sending(self) -> None:
        """Output waits: check now and then that some of it leaves."""
        timeout = self.policy.send_timeout
        if timeout <= 0 or self._send_watch is not None or self._transport is None:
            return
        self._last_progress = (self._bytes_sent(), self._loop.time())
        self._send_watch = self._loop.call_later(self._watch_interval(), self._check_sending)

    def _watch_interval(self) -> float:
        return min(10.0, max(0.1, self.policy.send_timeout / 4))

    def _stop_watching_sending(self) -> None:
        if self._send_watch is not None:
            self._send_watch.cancel()
            self._send_watch = None

    def _bytes_sent(self) -> int:
        return self._wire_written - self._transport.get_write_buffer_size()

    def _check_sending(self) -> None:
        self._send_watch = None
        transport = self._transport
        if transport is None or transport.get_write_buffer_size() == 0:
            return  # all sent
        sent, since = self._last_progress
        now = self._loop.time()
        if self._bytes_sent() > sent:
            self._last_progress = (self._bytes_sent(), now)
        elif now - since >= self.policy.send_timeout:
            log.info("%r: the client read nothing for %.0f s with %d bytes waiting; dropping it",
                     self, now - since, transport.get_write_buffer_size())
            if self._close_reason is None:
                self._close_reason = CLOSED_NOT_READING
            self.closing = True
            self._closed_by_driver = True
            transport.abort()
            return
        self._send_watch = self._loop.call_later(self._watch_interval(), self._check_sending)

    def write_text(self, text: str) -> None:
        """Text for the player: newlines become CRLF, IAC is escaped.

        Text never continues a prompt, nor a partial line left from an
        earlier turn: it starts on a new line.  (The prompt is not shown
        again: prompts end the player's own turns, as in LDMud, and MUD
        clients keep the last one, which GA or EOR marked, on screen.)
        """
        if self.closing or self.telnet is None or not text:
            return
        data = self._encode_text(text)
        if data:
            self._write_telnet(data)

    def _encode_text(self, text: str) -> bytes:
        """``text`` as telnet data for this client (b"" if there is no room
        for it), and where the player's screen is after it."""
        if not self._room_for(len(text)):
            return b""
        new_line = self._line == "prompt" or (self._line == "text" and self._line_settled)
        if new_line and not text.startswith(("\n", "\r")):
            text = "\n" + text
        has_newline = "\n" in text
        if has_newline:  # (a prompt has none: two replace() calls fewer)
            data = self.telnet.encode_text(
                (text.replace("\r\n", "\n") if "\r" in text else text).replace("\n", "\r\n"))
        else:
            data = self.telnet.encode_text(text)
        if text[-1:] == "\n":  # (not endswith(): it parses its arguments the slow way)
            self._line = "start"
        elif self._line != "text" or new_line or has_newline:
            # A partial line begins: later text in this turn continues it.
            self._line, self._line_settled = "text", False  # settled by end_turn
        # IAC is escaped.  (The test is for the byte as a number: ``b"\xff"
        # in data`` would first try the one-byte string as an integer, and
        # build and discard a TypeError, on every write.)
        return data.replace(b"\xff", b"\xff\xff") if 0xFF in data else data

    def _write_telnet(self, data: bytes) -> None:
        """Telnet data (IAC already escaped) down through the telnet layer's
        transport: the top of the TLS layer, or MCCP2's compressor when
        telnetlib3 has put one in its place.  (What telnetlib3's writer
        would do, less its checks and debug logging on every write.)"""
        transport = self.telnet.writer._transport
        if type(transport) is TelnetFacingTransport and "write" not in transport.__dict__:
            # The usual case, with no compressor between (MCCP2 puts its
            # own ``write`` on the instance): the text has had its room
            # checked (``_room_for``), so straight to the outbox.
            if not self.closing and self._transport is not None:
                self._to_outbox(data)
        else:
            transport.write(data)

    def send_prompt(self, prompt: str) -> None:
        """A prompt, marked for MUD clients with GA or EOR: one write."""
        if self.closing or self.telnet is None or self._discarding:
            return
        data = self._encode_text(prompt) if prompt else b""
        data += self.telnet.prompt_end_marker()
        if data:
            self._write_telnet(data)
        if prompt and prompt[-1:] != "\n":
            self._line = "prompt"

    def set_echo_hidden(self, hidden: bool) -> None:
        if not self.closing and self.telnet is not None:
            self.telnet.set_echo_hidden(hidden)

    @property
    def is_handshaking(self) -> bool:
        state = self.tls_session.state
        return state is tls.HANDSHAKING or state is tls.RESTARTING

    # -- what the telnet layer reports (telnet.TelnetEvents) ----------------------

    def telnet_negotiation(self, command: int, option: int, data: bytes) -> bool:
        hook = getattr(self.events, "telnet_negotiation", None)
        return bool(hook(self, command, option, data)) if hook is not None else False

    def gmcp_received(self, package: str, data) -> None:
        hook = getattr(self.events, "gmcp_received", None)
        if hook is not None:
            hook(self, package, data)

    def mssp_variables(self) -> dict:
        hook = getattr(self.events, "mssp_variables", None)
        return hook(self) if hook is not None else {}

    def tls_engaged(self) -> bool:
        return self.awaiting_follows or self.tls_session.state is not tls.INACTIVE

    # -- TLS -------------------------------------------------------------------

    def start_tls(self, context: ssl.SSLContext, timeout: float,
                  server_hostname: str | None = None) -> None:
        """Begin a handshake now; the outcome arrives as ``handshake_finished``.

        Whatever was written before this call is already in the socket's
        buffer in plaintext; everything after is held by the session.
        Compression ends first (never compress-then-encrypt).  If the client
        agreed to telnet START_TLS, the server's FOLLOWS goes out first and
        the handshake begins after the client's FOLLOWS.
        """
        telnet = self.telnet
        if telnet is not None:
            telnet.end_compression()
        self.flush()  # what was written before the call goes out in plaintext
        if telnet is not None:
            if self.incoming and telnet.starttls_agreed \
                    and self.tls_session.state is tls.INACTIVE:
                telnet.send_starttls_follows()
                self.flush()
                self.awaiting_follows = True
                self._follows = starttls.FollowsScanner()
        if self.tls_session.state is tls.INACTIVE and not self.awaiting_follows:
            # What the client sent after the line being run (its ClientHello,
            # after a "go ahead") is the handshake's: see input_done.  Its
            # reading resumes too, since the handshake cannot wait.
            self._to_handshake = bool(self._unparsed or (
                self.telnet is not None and self.telnet.line_reader.has_unread))
            self._resume_reading_if_room()
            if self._to_handshake:
                self._loop.call_soon(self._unparsed_to_handshake)
        first_flight = self.tls_session.start(
            context, server_side=self.incoming,
            server_hostname=server_hostname or self.remote_host)
        if first_flight:
            self._write_wire(first_flight)
        self._handshake_started = self._loop.time()
        self._deadline = self._loop.call_later(timeout, self._handshake_timed_out)

    def _unparsed_to_handshake(self) -> None:
        """TLS was started outside a line's turn (a call_out, say): the
        bytes not yet parsed go to the handshake all the same."""
        if self._to_handshake and not self.closing:
            rest = self._take_unparsed()
            if rest:
                self.data_received(rest)

    def stop_tls(self) -> None:
        """``tls_deinit_connection``: close_notify, then plaintext.  No outcome."""
        session = self.tls_session
        self.awaiting_follows = False
        self.flush()  # written while secure: sent encrypted, before close_notify
        if session.state.efun_value == -1:  # handshaking, or restarting
            self._cancel_deadline()
            self._handshake_started = None  # abandoned: no outcome, not counted
            session.abandon()
        elif session.state is tls.ACTIVE:
            self._write_wire(session.shut_down())

    def update_keys(self) -> None:
        """``tls_rekey``: send a TLS 1.3 KeyUpdate now."""
        self.flush()
        self._write_wire(self.tls_session.update_keys())

    def _handshake_timed_out(self) -> None:
        self._deadline = None
        self.awaiting_follows = False
        if self.tls_session.state.efun_value == -1:
            self.flush()  # into the session's held text, which the failure discards
            self.tls_session.fail_handshake()
            log.info("%r: TLS handshake timed out", self)
            self._count_handshake(tls.TLS_ERR_TIMEOUT)
            self.events.handshake_finished(self, tls.TLS_ERR_TIMEOUT)

    def _handshake_over(self, result: int) -> None:
        self._cancel_deadline()
        self._count_handshake(result)
        self.events.handshake_finished(self, result)

    def _count_handshake(self, result: int) -> None:
        started, self._handshake_started = self._handshake_started, None
        metrics.handshakes.finished(_RESULT_NAMES.get(result, "other"), result,
                                    None if started is None else self._loop.time() - started)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    # -- closing ---------------------------------------------------------------

    def close(self, flush: bool = True, reason: str | None = None, *,
              going_away: bool = False) -> None:
        """Close the connection; a secure one says close_notify first.

        ``reason`` is what the layer above hears (``connection_closed``)
        when the driver closes for its own reasons, not the mudlib's.  A
        WebSocket is closed with a close frame before that: 1000 (normal
        closure), or 1001 when the driver is ``going_away`` (shutting down),
        which tells the web client to come back.
        """
        if self.closing:
            return
        if flush:
            self.flush()
        self._outbox, self._outbox_size = None, 0
        self.closing = True
        self._closed_by_driver = True
        self._close_reason = reason
        self._cancel_deadline()
        transport = self._transport
        if transport is None:
            return
        if flush and self.web is not None:
            frame = self.web.close(CLOSE_GOING_AWAY if going_away else CLOSE_NORMAL,
                                   "the game is restarting" if going_away else "")
            if frame:
                self._send_through_tls(frame)
        if flush and self.tls_session.state is tls.ACTIVE:
            try:
                self._write_wire(self.tls_session.shut_down())
            except (ssl.SSLError, tls.TLSStateError):
                pass
        if flush:
            transport.close()  # sends what is buffered, then closes
            if transport.get_write_buffer_size():
                self._watch_sending()  # ... unless the client never reads it
        else:
            transport.abort()

    def _close_after_alert(self) -> None:
        """A broken TLS stream: the alert already written goes out, then FIN.
        Nothing else is sent: the outbox is dropped, no close_notify."""
        self._outbox = self._wire_prefix = None
        self._outbox_size = 0
        self.closing = True
        self._closed_by_driver = True
        self._cancel_deadline()
        if self._transport is not None:
            self._transport.close()
            if self._transport.get_write_buffer_size():
                self._watch_sending()

    # -- the web port --------------------------------------------------------------

    def _begin_web(self) -> None:
        """Connected to the web port: TLS at once (unless behind a proxy),
        HTTP next, and a deadline for reaching an open WebSocket."""
        site = self._web_site
        self.web = WebSession(site, self.peer[0])
        self._deadline = self._loop.call_later(site.limits.upgrade_timeout, self._web_timed_out)
        if site.tls_context is None:
            return
        context = site.tls_context()
        if context is None:
            log.warning("%r: web connection refused: no TLS certificate is loaded", self)
            self.close(flush=False)
            return
        first_flight = self.tls_session.start(context, server_side=True)
        if first_flight:
            self._write_wire(first_flight)

    def _web_received(self, data: bytes) -> None:
        web = self.web
        if web.site.secure:
            received = self.tls_session.receive(data)
            if received.to_send:
                self._write_wire(received.to_send)
            if received.outcome is not None and received.outcome != tls.TLS_OK:
                log.info("%r: web connection's TLS handshake failed: %s", self,
                         tls.describe(received.outcome))
                self.close(flush=False)
                return
            if received.fatal:
                log.warning("%r: %s; closing", self, received.fatal)
                self.close(flush=False)
                return
            plaintext = received.plaintext
        else:
            plaintext = data
        if not plaintext or self.closing:
            return
        got = web.receive(plaintext)
        if got.to_send:
            self._send_through_tls(got.to_send)
        if got.opened:
            self._web_opened()
        if got.telnet and not self.closing and self.telnet is not None:
            self._feed_telnet(got.telnet)
        if got.close and not self.closing:
            if got.problem:
                log.info("%r: web request refused: %s", self, got.problem)
            self.close()

    def _send_through_tls(self, plaintext: bytes) -> None:
        """Bytes of the web layer's own (HTTP, control frames): ahead of
        nothing, since the outbox is flushed first; through TLS if secure."""
        if self._outbox is not None:
            self.flush()
        if self._transport is not None and not self._transport.is_closing():
            self._write_wire(self.tls_session.send(plaintext))

    def _web_opened(self) -> None:
        """The WebSocket is open: the connection becomes a player's."""
        self._cancel_deadline()
        web = self.web
        if web.client_address != self.peer[0] or self._admission_ticket is FORWARDED:
            if not self._admit_forwarded(web.client_address):
                return
            if web.client_address != self.peer[0]:
                log.info("%r: forwarded for %s", self, web.client_address)
                self.peer = (web.client_address, self.peer[1])
        info: dict = {"secure": web.site.secure}
        ssl_object = self.tls_session.ssl_object
        if ssl_object is not None and self.tls_session.state is tls.ACTIVE:
            name, _version, bits = ssl_object.cipher()
            info.update(protocol=ssl_object.version(), cipher=name, bits=bits)
        log.info("%r: WebSocket open (%s)", self,
                 f"{info['protocol']}, {info['cipher']}" if "protocol" in info else "plain HTTP")
        self._send_through_tls(web.hello(info))
        self._open_telnet()
        if not self.closing:
            self._deadline = self._loop.call_later(web.site.limits.ping_interval,
                                                   self._web_keepalive)

    def _admit_forwarded(self, address: str) -> bool:
        """A trusted reverse proxy named the player (or, naming no one, is
        the player): the bans and limits at accept, which saw the proxy and
        did not count it, are asked about the player's own address.  A refused player's WebSocket closes with the reason (the
        web client shows it), and the game never hears of the connection."""
        if self._admission is None:
            return True
        self._admission_ticket, refusal = self._admission.readmit(
            self._admission_ticket, address, self.local_port)
        if refusal is None:
            return True
        self._send_through_tls(self.web.close(CLOSE_POLICY_VIOLATION,
                                              REFUSAL_LINES[refusal].strip()))
        self.close(flush=False)
        return False

    def _web_timed_out(self) -> None:
        self._deadline = None
        log.info("%r: web connection closed: no WebSocket within %.0f s", self,
                 self._web_site.limits.upgrade_timeout)
        self.close(flush=False)

    def _web_keepalive(self) -> None:
        """A ping every interval; a peer that sent nothing since the last
        one (not even its pong) is gone."""
        self._deadline = None
        if self.closing or self.web is None:
            return
        if not self.web.heard:
            log.info("%r: WebSocket peer silent for %.0f s; closing", self,
                     self._web_site.limits.ping_interval)
            self.close(flush=False)
            return
        self._send_through_tls(self.web.ping())
        self._deadline = self._loop.call_later(self._web_site.limits.ping_interval,
                                               self._web_keepalive)
