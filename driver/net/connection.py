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
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from typing import Protocol

from . import starttls, tls
from .telnet import MudTelnetProtocol, TelnetPolicy
from .websocket import CLOSE_GOING_AWAY, CLOSE_NORMAL, WebSession, WebSite

log = logging.getLogger("driver.connection")


#: How a connection ended (``ConnectionEvents.connection_closed``).
CLOSED_BY_DRIVER = "closed by the driver"
CLOSED_BY_PEER = "closed by the peer"
CONNECTION_LOST = "lost"


class ConnectionEvents(Protocol):
    """What the layer above hears from a connection."""

    def connection_opened(self, connection: Connection) -> None: ...

    def line_received(self, connection: Connection, line: str) -> None: ...

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
            return session.ssl_object if session.state is tls.TLSState.ACTIVE else default
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


class Connection(asyncio.Protocol):
    """One TCP connection from a player (or to a remote host)."""

    # Thousands of these live at once: no per-instance __dict__.
    __slots__ = ("events", "incoming", "remote_host", "requested_owner", "tls_session", "telnet",
                 "closing", "_closed_by_driver", "peer", "local_port", "binding", "_transport",
                 "_deadline", "_loop", "awaiting_follows", "_follows", "_line", "_line_settled",
                 "_outbox", "_wire_prefix", "_web_site", "web")

    def __init__(self, events: ConnectionEvents, *, incoming: bool = True,
                 remote_host: str | None = None, owner=None,
                 web_site: WebSite | None = None) -> None:
        self.events = events
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
        #: the web port's shared state, and this connection's HTTP/WebSocket
        #: layer (made at connect): None on the telnet and TLS ports
        self._web_site = web_site
        self.web: WebSession | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.peer[0]}:{self.peer[1]} port {self.local_port}>"

    # -- socket side -----------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            except OSError:
                pass
        peer = transport.get_extra_info("peername") or ("-", 0)
        self.peer = (str(peer[0]), int(peer[1]))
        sockname = transport.get_extra_info("sockname") or ("-", 0)
        self.local_port = int(sockname[1])
        if self._web_site is not None:
            self._begin_web()
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

    def data_received(self, data: bytes) -> None:
        if self._outbox is not None:
            self.flush()  # the peer's bytes may change the TLS state
        if self.web is not None:
            self._web_received(data)
            return
        if self.awaiting_follows:  # STARTTLS: still telnet until the client's FOLLOWS
            if not self.closing:
                self._feed_telnet(data)
            return
        received = self.tls_session.receive(data)
        if received.to_send:
            if received.outcome == tls.TLS_OK:
                # The handshake just ended.  What the session sends now
                # (session tickets, text held during the handshake) waits
                # for the greeting logon() is about to write: one send.
                self._wire_prefix = received.to_send
                if self._outbox is None:
                    self._outbox = []
                    self._loop.call_soon(self._end_turn)
            else:
                self._transport.write(received.to_send)
        if received.outcome is not None:
            self._handshake_over(received.outcome)
        if received.plaintext and not self.closing:
            self._feed_telnet(received.plaintext)
        if received.fatal:
            log.warning("%r: %s; closing", self, received.fatal)
            self.close(flush=False)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        # How it ended, for the master's disconnect(): the driver closed it;
        # the peer closed it cleanly (FIN, after close_notify if it was
        # secure); or the peer vanished (reset, error, or a secure stream cut
        # off without close_notify).
        if self._closed_by_driver:
            how = CLOSED_BY_DRIVER
        elif exc is not None or self.tls_session.state is tls.TLSState.ACTIVE:
            how = CONNECTION_LOST
        else:
            how = CLOSED_BY_PEER
        self.closing = True
        self._cancel_deadline()
        if self.web is not None and self.telnet is None:
            # A web connection that never opened its WebSocket: it was never
            # a player's, and the layer above never heard of it.
            log.debug("%r: web connection %s%s", self, how, f" ({exc})" if exc else "")
            self.binding = None
            return
        result = self.tls_session.peer_gone()
        if result is not None:
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
        if self.telnet is not None and self.telnet.writer is not None:
            self.telnet.writer.close()
        self.telnet = None
        self.binding = None

    def pause_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def socket_info(self, name: str, default=None):
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)

    # -- input -----------------------------------------------------------------

    def _feed_telnet(self, plaintext: bytes) -> None:
        """Plaintext to the telnet layer, one line at a time.

        A command may start TLS (a "go ahead, switch now" upgrade), and the
        client may send its ClientHello right behind that command, in the
        same read.  Those bytes belong to the handshake, not to telnet, so
        the telnet layer is never given more than the line that might start
        it; what follows goes back through the TLS layer.  STARTTLS is the
        same with the client's IAC SB START_TLS FOLLOWS IAC SE in place of a
        line: the handshake starts at the byte after it.
        """
        session = self.tls_session
        start, size = 0, len(plaintext)
        while start < size:
            end = plaintext.find(b"\n", start)
            end = size if end < 0 else end + 1
            awaiting = self.awaiting_follows
            if awaiting:
                follows = self._follows.end_within(plaintext, start, end)
                end = end if follows < 0 else follows
            was_plain = session.state is tls.TLSState.INACTIVE
            self.telnet.feed(plaintext[start:end] if start or end < size else plaintext)
            if awaiting:
                self._follows.fed(plaintext[start:end])
            start = end
            if self.closing:
                return
            if self.awaiting_follows:
                if self.telnet.starttls_follows:
                    # Every byte after the client's FOLLOWS belongs to the handshake.
                    self.awaiting_follows = False
                    if start < size:
                        self.data_received(plaintext[start:])
                    return
                continue
            if was_plain and session.state is not tls.TLSState.INACTIVE:
                rest = self.telnet.line_reader.take_unread() + plaintext[start:]
                if rest:
                    self.data_received(rest)
                return

    def _line_from_telnet(self, line: str) -> bool:
        """A complete line arrived; returns False to stop reading lines."""
        if self.closing:
            return False
        self._line = "start"  # the player pressed enter: their screen is on a new line
        self.events.line_received(self, line)
        return not self.closing

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
        if self._outbox is None:
            self._outbox = [bytes(data)]
            self._loop.call_soon(self._end_turn)
        else:
            self._outbox.append(bytes(data))

    def _end_turn(self) -> None:
        """Scheduled by the first write of a turn: the turn's output leaves,
        and a partial line written in it is now an earlier turn's."""
        self._line_settled = True
        self.flush()

    def flush(self) -> None:
        """Send the plaintext written so far through the TLS layer now."""
        pending, self._outbox = self._outbox, None
        prefix, self._wire_prefix = self._wire_prefix, None
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
            self._transport.write(wire)

    def write_text(self, text: str) -> None:
        """Text for the player: newlines become CRLF, IAC is escaped.

        Text never continues a prompt, nor a partial line left from an
        earlier turn: it starts on a new line.  (The prompt is not shown
        again: prompts end the player's own turns, as in LDMud, and MUD
        clients keep the last one, which GA or EOR marked, on screen.)
        """
        if self.closing or self.telnet is None or not text:
            return
        new_line = self._line == "prompt" or (self._line == "text" and self._line_settled)
        if new_line and not text.startswith(("\n", "\r")):
            text = "\n" + text
        data = self.telnet.encode_text(text.replace("\r\n", "\n").replace("\n", "\r\n"))
        self.telnet.writer.write(data)
        if text.endswith("\n"):
            self._line = "start"
        elif self._line != "text" or new_line or "\n" in text:
            # A partial line begins: later text in this turn continues it.
            self._line, self._line_settled = "text", False  # settled by _end_turn

    def send_prompt(self, prompt: str) -> None:
        """A prompt, marked for MUD clients with GA or EOR."""
        if self.closing or self.telnet is None:
            return
        if prompt:
            self.write_text(prompt)
        self.telnet.send_prompt_end()
        if prompt and not prompt.endswith("\n"):
            self._line = "prompt"

    def set_echo_hidden(self, hidden: bool) -> None:
        if not self.closing and self.telnet is not None:
            self.telnet.set_echo_hidden(hidden)

    @property
    def is_handshaking(self) -> bool:
        return self.tls_session.state.efun_value == -1

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
        return self.awaiting_follows or self.tls_session.state is not tls.TLSState.INACTIVE

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
                    and self.tls_session.state is tls.TLSState.INACTIVE:
                telnet.send_starttls_follows()
                self.flush()
                self.awaiting_follows = True
                self._follows = starttls.FollowsScanner()
        first_flight = self.tls_session.start(
            context, server_side=self.incoming,
            server_hostname=server_hostname or self.remote_host)
        if first_flight:
            self._transport.write(first_flight)
        self._deadline = self._loop.call_later(timeout, self._handshake_timed_out)

    def stop_tls(self) -> None:
        """``tls_deinit_connection``: close_notify, then plaintext.  No outcome."""
        session = self.tls_session
        self.awaiting_follows = False
        self.flush()  # written while secure: sent encrypted, before close_notify
        if session.state.efun_value == -1:  # handshaking, or restarting
            self._cancel_deadline()
            session.abandon()
        elif session.state is tls.TLSState.ACTIVE:
            self._transport.write(session.shut_down())

    def update_keys(self) -> None:
        """``tls_rekey``: send a TLS 1.3 KeyUpdate now."""
        self.flush()
        self._transport.write(self.tls_session.update_keys())

    def _handshake_timed_out(self) -> None:
        self._deadline = None
        self.awaiting_follows = False
        if self.tls_session.state.efun_value == -1:
            self.flush()  # into the session's held text, which the failure discards
            self.tls_session.fail_handshake()
            log.info("%r: TLS handshake timed out", self)
            self.events.handshake_finished(self, tls.TLS_ERR_TIMEOUT)

    def _handshake_over(self, result: int) -> None:
        self._cancel_deadline()
        self.events.handshake_finished(self, result)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    # -- closing ---------------------------------------------------------------

    def close(self, flush: bool = True, *, going_away: bool = False) -> None:
        """Close the connection; a secure one says close_notify first.

        A WebSocket is closed with a close frame before that: 1000 (normal
        closure), or 1001 when the driver is ``going_away`` (shutting down),
        which tells the web client to come back.
        """
        if self.closing:
            return
        if flush:
            self.flush()
        self.closing = True
        self._closed_by_driver = True
        self._cancel_deadline()
        transport = self._transport
        if transport is None:
            return
        if flush and self.web is not None:
            frame = self.web.close(CLOSE_GOING_AWAY if going_away else CLOSE_NORMAL,
                                   "the game is restarting" if going_away else "")
            if frame:
                self._send_through_tls(frame)
        if flush and self.tls_session.state is tls.TLSState.ACTIVE:
            try:
                transport.write(self.tls_session.shut_down())
            except (ssl.SSLError, tls.TLSStateError):
                pass
        if flush:
            transport.close()  # sends what is buffered, then closes
        else:
            transport.abort()

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
            self._transport.write(first_flight)

    def _web_received(self, data: bytes) -> None:
        web = self.web
        if web.site.secure:
            received = self.tls_session.receive(data)
            if received.to_send:
                self._transport.write(received.to_send)
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
            self._transport.write(self.tls_session.send(plaintext))

    def _web_opened(self) -> None:
        """The WebSocket is open: the connection becomes a player's."""
        self._cancel_deadline()
        web = self.web
        if web.client_address != self.peer[0]:
            log.info("%r: forwarded for %s", self, web.client_address)
            self.peer = (web.client_address, self.peer[1])
        info: dict = {"secure": web.site.secure}
        ssl_object = self.tls_session.ssl_object
        if ssl_object is not None and self.tls_session.state is tls.TLSState.ACTIVE:
            name, _version, bits = ssl_object.cipher()
            info.update(protocol=ssl_object.version(), cipher=name, bits=bits)
        log.info("%r: WebSocket open (%s)", self,
                 f"{info['protocol']}, {info['cipher']}" if "protocol" in info else "plain HTTP")
        self._send_through_tls(web.hello(info))
        self._open_telnet()
        if not self.closing:
            self._deadline = self._loop.call_later(web.site.limits.ping_interval,
                                                   self._web_keepalive)

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
