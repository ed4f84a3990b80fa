"""The TLS session: one connection's TLS state machine, sans I/O.

Theory of operation
===================

A MUD connection starts as plain telnet and the mudlib may secure it at any
moment (``tls_init_connection``), and later drop back to plaintext
(``tls_deinit_connection``) on the same TCP stream.  asyncio's own TLS
transport cannot do that: it wraps a socket for its whole life.  So each
connection owns one ``TLSSession`` that sits *between* the socket and the
telnet layer and never touches either.  It is fed the bytes that arrived from
the network and the plaintext the telnet layer wants to send, and it answers
with the bytes to put on the wire and the plaintext to hand up.  Everything
else (sockets, timers, who gets told what) belongs to ``connection.py``.

Underneath is an ``ssl.SSLObject`` over two ``ssl.MemoryBIO``s: network bytes
go into ``_incoming``, OpenSSL pulls them out, and whatever OpenSSL wants sent
appears in ``_outgoing``, which every public method drains into its result.
OpenSSL signals "I need more bytes from the peer" by raising
``SSLWantReadError``; that is not an error but the normal way a handshake or a
read pauses, and ``_attempt`` is the one place that turns it into "not yet".

States, and what each does with the two streams::

    INACTIVE       bytes pass through untouched in both directions
    HANDSHAKING    network bytes feed the handshake; outgoing plaintext is
                   *held* (never sent in the clear) until the outcome is known:
                   sent encrypted on success, discarded on failure
    ACTIVE         records are decrypted up and plaintext encrypted down
    SHUTTING_DOWN  our close_notify has gone out; we still decrypt what the
                   peer sent before it saw ours, until its close_notify
                   arrives.  Outgoing plaintext already goes in the clear.
    RESTARTING     as SHUTTING_DOWN, but the mudlib has already asked for a
                   new handshake: outgoing plaintext is held as in
                   HANDSHAKING, and the new handshake begins at the byte
                   after the peer's close_notify.
    CLOSED         the peer sent close_notify while ACTIVE, unasked: the
                   session answered it and the stream is over.  Nothing
                   passes in either direction, so no plaintext can follow
                   TLS that the mudlib did not ask for (the connection
                   closes; ``Received.closed`` tells it to).

Every transition is in ``_TRANSITIONS``; ``_move`` refuses anything else, so an
illegal move is a bug that raises rather than a connection in a strange state.

Knowing exactly where TLS ends matters when a connection drops back to
plaintext: the peer's close_notify may share a TCP segment with its first
plaintext bytes.  While SHUTTING_DOWN the session therefore frames records
itself (five-byte header, then the body) and feeds OpenSSL one whole record at
a time, so the byte after the peer's close_notify is the first plaintext byte.
The same framing notices a peer that dropped TLS without a close_notify: the
next bytes do not look like a TLS record, and they are handed up as plaintext.

Result codes are the driver's own small table (see ``describe``).  OpenSSL's
reasons that fit no category get a code of their own the first time they are
seen, so ``tls_error(code)`` can still give the library's words.
"""

from __future__ import annotations

import enum
import ssl
from typing import NamedTuple

from .openssl_native import request_key_update

# --- result codes ---------------------------------------------------------------

TLS_OK = 0
TLS_ERR_HANDSHAKE = -1
TLS_ERR_PEER_CLOSED = -2
TLS_ERR_TIMEOUT = -3
TLS_ERR_NO_CERTIFICATE = -4
TLS_ERR_PROTOCOL_VERSION = -5
TLS_ERR_NOT_TLS = -6
TLS_ERR_NO_SHARED_CIPHER = -7
TLS_ERR_CERTIFICATE = -8
TLS_ERR_NOT_CONNECTED = -9

_DESCRIPTIONS = {
    TLS_OK: "no error: the TLS handshake succeeded",
    TLS_ERR_HANDSHAKE: "the TLS handshake failed",
    TLS_ERR_PEER_CLOSED: "the peer closed the connection during the TLS handshake",
    TLS_ERR_TIMEOUT: "the TLS handshake timed out: the peer did not complete it in time",
    TLS_ERR_NO_CERTIFICATE: "TLS is not available: no certificate and key are configured",
    TLS_ERR_PROTOCOL_VERSION: "the peer offered only TLS versions this driver refuses "
                              "(TLS 1.2 or newer is required)",
    TLS_ERR_NOT_TLS: "the peer did not speak TLS: it sent plaintext or garbage "
                     "where a TLS handshake was expected",
    TLS_ERR_NO_SHARED_CIPHER: "the peer offered no cipher suite this driver accepts",
    TLS_ERR_CERTIFICATE: "a certificate could not be verified",
    TLS_ERR_NOT_CONNECTED: "the connection is closed or closing",
}

# OpenSSL reason codes (``SSLError.reason``) that belong to a category above.
_REASON_CATEGORIES = {
    "WRONG_VERSION_NUMBER": TLS_ERR_NOT_TLS,
    "HTTP_REQUEST": TLS_ERR_NOT_TLS,
    "HTTPS_PROXY_REQUEST": TLS_ERR_NOT_TLS,
    "PACKET_LENGTH_TOO_LONG": TLS_ERR_NOT_TLS,
    "RECORD_LENGTH_MISMATCH": TLS_ERR_NOT_TLS,
    "WRONG_SSL_VERSION": TLS_ERR_NOT_TLS,
    "UNKNOWN_PROTOCOL": TLS_ERR_NOT_TLS,
    "UNSUPPORTED_PROTOCOL": TLS_ERR_PROTOCOL_VERSION,
    "VERSION_TOO_LOW": TLS_ERR_PROTOCOL_VERSION,
    "TLSV1_ALERT_PROTOCOL_VERSION": TLS_ERR_PROTOCOL_VERSION,
    "NO_SHARED_CIPHER": TLS_ERR_NO_SHARED_CIPHER,
    "NO_CIPHERS_AVAILABLE": TLS_ERR_NO_SHARED_CIPHER,
    "SSLV3_ALERT_HANDSHAKE_FAILURE": TLS_ERR_NO_SHARED_CIPHER,
}

# Reasons outside the categories get their own code, below this one.
_FIRST_LIBRARY_CODE = -100
_MAX_LIBRARY_CODES = 500
_library_codes: dict[str, int] = {}


def _library_code(text: str) -> int:
    """A stable code for an OpenSSL reason; ``describe`` returns its words."""
    code = _library_codes.get(text)
    if code is None:
        if len(_library_codes) >= _MAX_LIBRARY_CODES:
            return TLS_ERR_HANDSHAKE
        code = _FIRST_LIBRARY_CODE - len(_library_codes)
        _library_codes[text] = code
        _DESCRIPTIONS[code] = text
    return code


def error_code(exc: ssl.SSLError) -> int:
    """Map an exception from the handshake to a result code."""
    reason = getattr(exc, "reason", None) or ""
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or reason or "verification failed"
        return _library_code(f"the peer's certificate could not be verified: {detail}")
    if reason in _REASON_CATEGORIES:
        return _REASON_CATEGORIES[reason]
    if isinstance(exc, ssl.SSLEOFError):
        return TLS_ERR_PEER_CLOSED
    if reason.startswith(("SSLV3_ALERT_", "TLSV1_ALERT_", "TLSV13_ALERT_")):
        alert = reason.split("_ALERT_", 1)[1].replace("_", " ").lower()
        return _library_code(f"the peer aborted the TLS handshake with the alert '{alert}'")
    if reason:
        return _library_code("the TLS handshake failed: " + reason.replace("_", " ").lower())
    return TLS_ERR_HANDSHAKE


def describe(code: object) -> str:
    """Readable English for any result code (``tls_error``)."""
    if isinstance(code, bool) or not isinstance(code, int):
        return f"not a TLS result code: {code!r}"
    text = _DESCRIPTIONS.get(code)
    if text is None:
        return f"unknown TLS result code {code}"
    return text


# --- the state machine ------------------------------------------------------------


class TLSState(enum.Enum):
    # Each member is a singleton and equal only to itself, so identity is
    # its hash: Enum's own __hash__ is a Python function (the hash of the
    # name), called for every move through ``_TRANSITIONS``.
    __hash__ = object.__hash__

    INACTIVE = "inactive"
    HANDSHAKING = "handshaking"
    ACTIVE = "active"
    SHUTTING_DOWN = "shutting down"
    RESTARTING = "restarting"
    CLOSED = "closed"

    @property
    def efun_value(self) -> int:
        """What ``tls_query_connection_state`` reports: 0, -1 or 1."""
        return _EFUN_VALUES[self]


#: The states by name, for the paths every record takes: looking a member up
#: on the class (``TLSState.ACTIVE``) goes through ``EnumType.__getattr__``
#: in Python 3.11, about a thousand machine instructions each time.
INACTIVE = TLSState.INACTIVE
HANDSHAKING = TLSState.HANDSHAKING
ACTIVE = TLSState.ACTIVE
SHUTTING_DOWN = TLSState.SHUTTING_DOWN
RESTARTING = TLSState.RESTARTING
CLOSED = TLSState.CLOSED

_EFUN_VALUES = {
    TLSState.INACTIVE: 0,
    TLSState.HANDSHAKING: -1,
    TLSState.ACTIVE: 1,
    # Once our close_notify is out the connection no longer counts as secure.
    TLSState.SHUTTING_DOWN: 0,
    TLSState.RESTARTING: -1,
    TLSState.CLOSED: 0,
}

_TRANSITIONS: dict[tuple[TLSState, str], TLSState] = {
    (TLSState.INACTIVE, "start"): TLSState.HANDSHAKING,
    (TLSState.HANDSHAKING, "handshake succeeded"): TLSState.ACTIVE,
    (TLSState.HANDSHAKING, "handshake failed"): TLSState.INACTIVE,
    (TLSState.HANDSHAKING, "abandon"): TLSState.INACTIVE,
    (TLSState.ACTIVE, "shut down"): TLSState.SHUTTING_DOWN,
    (TLSState.ACTIVE, "peer closed"): TLSState.CLOSED,
    (TLSState.ACTIVE, "fatal error"): TLSState.INACTIVE,
    (TLSState.SHUTTING_DOWN, "peer closed"): TLSState.INACTIVE,
    (TLSState.SHUTTING_DOWN, "peer left TLS"): TLSState.INACTIVE,
    (TLSState.SHUTTING_DOWN, "fatal error"): TLSState.INACTIVE,
    (TLSState.SHUTTING_DOWN, "start"): TLSState.RESTARTING,
    (TLSState.RESTARTING, "peer closed"): TLSState.HANDSHAKING,
    (TLSState.RESTARTING, "peer left TLS"): TLSState.HANDSHAKING,
    (TLSState.RESTARTING, "fatal error"): TLSState.INACTIVE,
    (TLSState.RESTARTING, "handshake failed"): TLSState.INACTIVE,
    (TLSState.RESTARTING, "abandon"): TLSState.SHUTTING_DOWN,
}


class TLSStateError(RuntimeError):
    """An operation that the session's current state does not allow."""


class Received(NamedTuple):
    """What ``TLSSession.receive`` made of bytes from the network."""

    plaintext: bytes  # for the telnet layer
    to_send: bytes  # for the network (handshake messages, alerts, close_notify)
    outcome: int | None = None  # the handshake just ended with this result code
    fatal: str | None = None  # the TLS stream is broken; the connection must close
    closed: bool = False  # the peer ended TLS unasked (close_notify); the connection must close


_RECORD_HEADER = 5
_TLS_CONTENT_TYPES = frozenset(range(20, 25))  # change_cipher_spec .. heartbeat
_READ_SIZE = 64 * 1024


def _record_layer(sslobject: ssl.SSLObject):
    """The object that reads and writes ``sslobject``'s records.

    ``ssl.SSLObject``'s ``read``, ``write``, ``pending`` and
    ``do_handshake`` are one-line Python methods that pass the call on to
    the OpenSSL connection object it wraps (``_sslobj``, the ``_ssl``
    module's, in CPython since 3.5), and a command's record in and reply
    out go through three of them.  The session calls that object directly:
    the same C functions, with the same arguments and exceptions, less a
    Python frame for each.  Anything else (the state, the peer's
    certificate, ``unwrap``) still goes through the ``SSLObject``.  An
    ``SSLObject`` without ``_sslobj`` (another Python) is used as it is.
    """
    return getattr(sslobject, "_sslobj", sslobject)


class TLSSession:
    """One connection's TLS layer.  Holds no socket and no timer."""

    __slots__ = ("state", "server_side", "_ssl", "_records", "_incoming", "_outgoing", "_held",
                 "_framing", "_next_handshake", "requested_server_name")

    def __init__(self) -> None:
        self.state = INACTIVE
        self.server_side = True
        self._ssl: ssl.SSLObject | None = None
        #: what reads and writes records: the OpenSSL connection under
        #: ``_ssl`` (see ``_record_layer``)
        self._records = None
        self._incoming: ssl.MemoryBIO | None = None
        self._outgoing: ssl.MemoryBIO | None = None
        self._held: list[bytes] = []
        self._framing = bytearray()
        #: (context, server_side, server_hostname) of the handshake that
        #: follows the peer's close_notify while RESTARTING
        self._next_handshake: tuple | None = None
        #: the SNI name a client asked for (server side), set by the context
        self.requested_server_name: str | None = None

    # -- transitions ----------------------------------------------------------

    def _move(self, event: str) -> None:
        try:
            self.state = _TRANSITIONS[(self.state, event)]
        except KeyError:
            raise TLSStateError(f"TLS session cannot '{event}' while {self.state.value}") from None

    def _drain(self) -> bytes:
        return self._outgoing.read() if self._outgoing is not None else b""

    def _attempt(self, step) -> bool:
        """Run an OpenSSL step; False means it is waiting for the peer's bytes.

        The one place that knows ``SSLWantReadError`` is "not yet" rather than
        failure.  (With memory BIOs OpenSSL never wants to *write*: the
        outgoing BIO grows as needed.)
        """
        try:
            step()
        except ssl.SSLWantReadError:
            return False
        return True

    def _drop_ssl(self) -> None:
        self._ssl = self._records = self._incoming = self._outgoing = None
        self._framing.clear()
        self._next_handshake = None

    # -- public interface ------------------------------------------------------

    @property
    def held_size(self) -> int:
        """Bytes of plaintext held until a handshake's outcome is known."""
        held = self._held
        return sum(map(len, held)) if held else 0

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        """The OpenSSL session while handshaking or secure, for reporting."""
        return self._ssl

    def start(self, context: ssl.SSLContext, *, server_side: bool,
              server_hostname: str | None = None) -> bytes:
        """Begin a handshake; returns bytes to send (a client's ClientHello).

        While SHUTTING_DOWN the handshake begins once the peer's close_notify
        has arrived; until then this returns nothing.
        """
        self._move("start")
        if self.state is RESTARTING:
            self._next_handshake = (context, server_side, server_hostname)
            return b""
        return self._begin(context, server_side, server_hostname)

    def _begin(self, context: ssl.SSLContext, server_side: bool,
               server_hostname: str | None) -> bytes:
        self.server_side = server_side
        self.requested_server_name = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._ssl = context.wrap_bio(self._incoming, self._outgoing, server_side=server_side,
                                     server_hostname=None if server_side else server_hostname)
        self._ssl._driver_session = self  # lets the SNI callback find us
        self._records = _record_layer(self._ssl)
        if server_side:
            # A server's first step needs the ClientHello; until it comes,
            # a step would only build and raise an SSLWantReadError.
            return b""
        self._attempt(self._records.do_handshake)  # the ClientHello
        return self._drain()

    def receive(self, data: bytes) -> Received:
        """Bytes from the network; returns what to hand up and send back."""
        state = self.state
        if state is INACTIVE:
            return Received(data, b"")
        if state is ACTIVE:
            return self._receive_records(data)
        if state is HANDSHAKING:
            return self._receive_handshake(data)
        if state is CLOSED:
            return Received(b"", b"", closed=True)  # never plaintext after TLS
        return self._receive_while_shutting_down(data)  # or RESTARTING

    def send(self, plaintext: bytes) -> bytes:
        """Plaintext from the telnet layer; returns the bytes for the network."""
        state = self.state
        if state is ACTIVE:
            self._records.write(plaintext)
            return self._outgoing.read()
        if state is HANDSHAKING or state is RESTARTING:
            self._held.append(bytes(plaintext))
            return b""
        if state is CLOSED:
            return b""  # the peer ended TLS: nothing leaves in the clear
        return plaintext

    def fail_handshake(self) -> None:
        """End a running handshake as failed (its deadline passed, say)."""
        self._held.clear()  # never sent in the clear
        self._move("handshake failed")
        self._drop_ssl()

    def abandon(self) -> None:
        """Stop a running handshake without an outcome (``tls_deinit_connection``)."""
        self._held.clear()
        self._move("abandon")
        if self.state is SHUTTING_DOWN:
            self._next_handshake = None  # the old session still drains
        else:
            self._drop_ssl()

    def shut_down(self) -> bytes:
        """Send close_notify; returns it.  Output after this is plaintext."""
        self._move("shut down")
        self._attempt(self._ssl.unwrap)
        return self._drain()

    def update_keys(self) -> bytes:
        """TLS 1.3 KeyUpdate (both directions); returns the record to send.

        Raises ``KeyUpdateUnavailable`` (with the reason) on TLS 1.2, where
        the only equivalent would be renegotiation, which stays disabled.
        """
        if self.state is not ACTIVE:
            raise TLSStateError(f"TLS session cannot update keys while {self.state.value}")
        request_key_update(self._ssl)
        self._attempt(self._ssl.do_handshake)
        return self._drain()

    def release(self) -> None:
        """The connection is gone: drop the OpenSSL session's reference back
        to this one (for the SNI callback), the cycle that would otherwise
        keep both for the cyclic garbage collector.  The state, protocol and
        cipher stay readable."""
        if self._ssl is not None:
            self._ssl._driver_session = None

    def peer_gone(self) -> int | None:
        """The TCP connection ended; returns a result code if a handshake was cut short."""
        if self.state is HANDSHAKING or self.state is RESTARTING:
            self.fail_handshake()
            return TLS_ERR_PEER_CLOSED
        return None

    # -- the three receiving states --------------------------------------------

    def _receive_handshake(self, data: bytes) -> Received:
        self._incoming.write(data)
        try:
            done = self._attempt(self._records.do_handshake)
        except ssl.SSLError as exc:
            to_send = self._drain()  # the alert that tells the peer why
            self.fail_handshake()
            return Received(b"", to_send, outcome=error_code(exc))
        if not done:
            return Received(b"", self._drain())
        self._move("handshake succeeded")
        if self._held:
            self._records.write(b"".join(self._held))  # one record, not one per write
            self._held.clear()
        if not self._incoming.pending and not self._records.pending():
            # Nothing came behind the peer's Finished (the usual case: a
            # read now would only build and raise an SSLWantReadError).
            return Received(b"", self._drain(), outcome=TLS_OK)
        # The peer sent application data right behind its Finished.
        after = self._receive_records(b"")
        return Received(after.plaintext, after.to_send, outcome=TLS_OK, fatal=after.fatal,
                        closed=after.closed)

    def _receive_records(self, data: bytes) -> Received:
        if data:
            self._incoming.write(data)
        chunks: list[bytes] = []
        records, incoming = self._records, self._incoming
        read = records.read
        while True:
            try:
                chunk = read(_READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                chunk = b""
            except ssl.SSLError as exc:
                to_send = self._drain()
                self._move("fatal error")
                self._drop_ssl()
                return Received(b"".join(chunks), to_send,
                                fatal=f"TLS stream broken: {exc.reason or exc}")
            if not chunk:
                # The peer sent close_notify (``read`` says so with b"" or
                # SSLZeroReturnError) without the mudlib having ended TLS:
                # answer it, and the stream is over.  What the peer sent
                # after it is dropped unread: plaintext never follows TLS
                # unless the mudlib asked (tls_deinit_connection).
                self._attempt(self._ssl.unwrap)
                to_send = self._drain()
                self._move("peer closed")
                self._drop_ssl()
                return Received(b"".join(chunks), to_send, closed=True)
            chunks.append(chunk)
            if not incoming.pending and (len(chunk) < _READ_SIZE or not records.pending()):
                # Every byte that came has been read as plaintext.  (Reading
                # on until OpenSSL says "want read" would build and raise an
                # SSLWantReadError for every record: with no read-ahead,
                # OpenSSL keeps no raw bytes of its own between reads.  A
                # read returns one record's plaintext, at most 16 KiB: one
                # shorter than asked for left none of it pending, and
                # ``pending()`` need not be asked.)
                break
        # (tuple.__new__: the NamedTuple's own __new__ is a Python function)
        return tuple.__new__(Received, (b"".join(chunks) if len(chunks) != 1 else chunks[0],
                                        self._outgoing.read(), None, None, False))

    def _receive_while_shutting_down(self, data: bytes) -> Received:
        self._framing += data
        plaintext: list[bytes] = []
        to_send: list[bytes] = []
        while self._framing:
            header = self._framing
            if header[0] not in _TLS_CONTENT_TYPES or (len(header) > 1 and header[1] != 3):
                # The peer dropped TLS without a close_notify.
                return self._shutdown_over("peer left TLS", plaintext, to_send)
            if len(header) < _RECORD_HEADER:
                break  # could still be a record; wait for the rest of its header
            size = _RECORD_HEADER + int.from_bytes(header[3:5], "big")
            if len(self._framing) < size:
                break
            self._incoming.write(bytes(self._framing[:size]))
            del self._framing[:size]
            try:
                while True:
                    chunk = self._ssl.read(_READ_SIZE)
                    if not chunk:
                        raise ssl.SSLZeroReturnError
                    plaintext.append(chunk)
            except ssl.SSLWantReadError:
                to_send.append(self._drain())
            except ssl.SSLZeroReturnError:
                self._attempt(self._ssl.unwrap)
                to_send.append(self._drain())
                return self._shutdown_over("peer closed", plaintext, to_send)
            except ssl.SSLError as exc:
                restarting = self.state is RESTARTING
                self._held.clear()
                self._move("fatal error")
                self._drop_ssl()
                return Received(b"".join(plaintext), b"".join(to_send),
                                outcome=TLS_ERR_HANDSHAKE if restarting else None,
                                fatal=f"TLS stream broken during shutdown: {exc.reason or exc}")
        return Received(b"".join(plaintext), b"".join(to_send))

    def _shutdown_over(self, event: str, plaintext: list[bytes], to_send: list[bytes]) -> Received:
        """The old session is finished; what follows is plaintext, or a new handshake."""
        rest = bytes(self._framing)
        next_handshake = self._next_handshake
        self._move(event)
        self._drop_ssl()
        if self.state is INACTIVE:
            plaintext.append(rest)
            return Received(b"".join(plaintext), b"".join(to_send))
        to_send.append(self._begin(*next_handshake))
        result = self._receive_handshake(rest) if rest else Received(b"", self._drain())
        return Received(b"".join(plaintext) + result.plaintext, b"".join(to_send) + result.to_send,
                        result.outcome, result.fatal)
