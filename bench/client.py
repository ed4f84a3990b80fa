"""The load generator's clients: TLS over memory BIOs on plain asyncio sockets.

Each client is an ``asyncio.Protocol`` that runs its own ``ssl.SSLObject``
(as the driver does on its side) rather than asyncio's TLS transport, so a
client can offer a saved session (resumption), which asyncio's transport
cannot, and so that the generator spends as little of the shared CPU as
possible.  The event loop is uvloop's when it is installed.

``WebClient`` is the same connection as a browser playing on the driver's
web port makes it: TLS, then an HTTP/1.1 upgrade to a WebSocket on ``/ws``
(with wsproto, as the driver's side does), then the telnet stream in binary
WebSocket messages; the driver's first message, a text message of JSON about
the TLS session, is kept as ``hello``.  It answers pings, as a browser does,
so that the driver's keepalive does not close an idle one.

Clients never answer telnet negotiation (like ``openssl s_client``); they
skip certificate verification (the server's work is the same either way,
and the generator shares the cores with the server).  Times are
``time.perf_counter()`` (uvloop's ``loop.time()`` has only millisecond
resolution).
"""

from __future__ import annotations

import asyncio
import ssl
from time import perf_counter

from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Ping,
                            RejectConnection, RejectData, Request, TextMessage)

READ_SIZE = 65536


def client_context(maximum_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if maximum_version is not None:
        context.maximum_version = maximum_version
    return context


class Client(asyncio.Protocol):
    """One connection; ``expect(needle)`` resolves when ``needle`` has arrived."""

    __slots__ = ("context", "session", "probe", "transport", "ssl", "incoming", "outgoing",
                 "secure", "buffer", "needle", "waiter", "closed", "resumed", "connected_at",
                 "secured_at")

    def __init__(self, context: ssl.SSLContext | None, session: ssl.SSLSession | None = None,
                 probe: bytes | None = None) -> None:
        self.context = context  # None: a plain connection
        self.session = session
        self.probe = probe  # sent as soon as the handshake is over
        self.transport: asyncio.Transport | None = None
        self.ssl: ssl.SSLObject | None = None
        self.secure = False
        self.buffer = bytearray()
        self.needle: bytes | None = None
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.resumed = False
        self.connected_at = 0.0
        self.secured_at = 0.0

    # -- asyncio ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.connected_at = perf_counter()
        if self.context is None:
            self.secure = True  # nothing to wait for
            if self.probe:
                transport.write(self.probe)
            return
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.ssl = self.context.wrap_bio(self.incoming, self.outgoing, server_side=False,
                                         server_hostname="localhost", session=self.session)
        self._handshake()

    def data_received(self, data: bytes) -> None:
        if self.ssl is None:
            if self._plaintext(data):
                self._check()
            return
        self.incoming.write(data)
        if self.secure:
            self._read()
        else:
            self._handshake()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"connection closed ({exc or 'EOF'})"))

    # -- TLS -------------------------------------------------------------------------

    def _flush(self) -> None:
        pending = self.outgoing.pending
        if pending and not self.closed:
            self.transport.write(self.outgoing.read())

    def _handshake(self) -> None:
        try:
            self.ssl.do_handshake()
        except ssl.SSLWantReadError:
            self._flush()
            return
        except ssl.SSLError as exc:
            self._flush()
            self._fail(exc)
            return
        self.secure = True
        self.secured_at = perf_counter()
        self.resumed = self.ssl.session_reused
        if self.probe:
            self.ssl.write(self.probe)  # in TLS 1.3 this leaves with our Finished
        self._flush()
        self._read()

    def _read(self) -> None:
        read = self.ssl.read
        got = False
        try:
            while True:
                chunk = read(READ_SIZE)
                if not chunk:
                    break
                got = self._plaintext(chunk) or got
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            pass
        except ssl.SSLError as exc:
            self._fail(exc)
            return
        self._flush()  # key updates, alerts
        if got:
            self._check()

    def _plaintext(self, data: bytes) -> bool:
        """What came out of TLS (or the socket); True if the stream the
        generator reads (``buffer``) grew."""
        self.buffer += data
        return True

    def _fail(self, exc: Exception) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.abort()

    # -- what the generator uses -----------------------------------------------------------

    def _check(self) -> None:
        needle = self.needle
        if needle is None:
            return
        at = self.buffer.find(needle)
        if at >= 0:
            del self.buffer[:at + len(needle)]
            self.needle = None
            waiter, self.waiter = self.waiter, None
            if not waiter.done():
                waiter.set_result(perf_counter())

    def expect(self, needle: bytes) -> asyncio.Future:
        """A future that gets the ``perf_counter()`` time ``needle`` arrived."""
        waiter = asyncio.get_running_loop().create_future()
        if self.closed:
            waiter.set_exception(ConnectionError("connection closed"))
            return waiter
        self.needle = needle
        self.waiter = waiter
        self._check()
        return waiter

    def send(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionError("connection closed")
        if self.ssl is None:
            self.transport.write(data)
            return
        self.ssl.write(data)
        self._flush()

    @property
    def new_session(self) -> ssl.SSLSession | None:
        return self.ssl.session if self.ssl is not None else None

    def close(self) -> None:
        """close_notify (if secure), then FIN."""
        if self.closed:
            return
        if self.ssl is not None and self.secure:
            try:
                self.ssl.unwrap()
            except (ssl.SSLError, ValueError):
                pass
            self._flush()
        self.closed = True
        self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.closed = True
            self.transport.abort()


class WebClient(Client):
    """A browser's connection to the web port: TLS, the WebSocket upgrade
    on ``/ws``, then telnet in binary messages.

    The upgrade request leaves as soon as the TLS handshake is over (in
    TLS 1.3 in the same flight as the client's Finished), with ``Host`` and
    a same-origin ``Origin`` as a browser sends them.  Only the binary
    messages' payload reaches ``buffer``, so ``expect`` sees the telnet
    stream as a telnet client would; ``send`` wraps its bytes in one binary
    message.
    """

    __slots__ = ("websocket", "hello")

    def __init__(self, context: ssl.SSLContext | None, port: int,
                 session: ssl.SSLSession | None = None) -> None:
        self.websocket = WSConnection(ConnectionType.CLIENT)
        host = f"localhost:{port}"
        scheme = "https" if context is not None else "http"
        upgrade = self.websocket.send(Request(
            host=host, target="/ws", extra_headers=[(b"origin", f"{scheme}://{host}".encode())]))
        super().__init__(context, session, probe=upgrade)
        #: the driver's first message (JSON: whether secure, TLS protocol and cipher)
        self.hello: str | None = None

    def _plaintext(self, data: bytes) -> bool:
        websocket = self.websocket
        websocket.receive_data(data)
        grew = False
        for event in websocket.events():
            if isinstance(event, BytesMessage):
                self.buffer += event.data
                grew = True
            elif isinstance(event, TextMessage):
                self.hello = event.data if self.hello is None else self.hello + event.data
            elif isinstance(event, Ping):
                Client.send(self, websocket.send(event.response()))
            elif isinstance(event, AcceptConnection):
                pass
            elif isinstance(event, (RejectConnection, RejectData)):
                status = getattr(event, "status_code", "")
                self._fail(ConnectionError(f"WebSocket upgrade refused {status}".rstrip()))
                break
            elif isinstance(event, CloseConnection):
                if websocket.state is ConnectionState.REMOTE_CLOSING:
                    Client.send(self, websocket.send(event.response()))
                self._fail(ConnectionError(f"WebSocket closed by the server ({event.code} "
                                           f"{event.reason or ''})".rstrip()))
                break
        return grew

    def send(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionError("connection closed")
        Client.send(self, self.websocket.send(BytesMessage(data=data)))

    def close(self) -> None:
        """A WebSocket close frame, then close_notify and FIN."""
        if not self.closed and self.websocket.state is ConnectionState.OPEN:
            Client.send(self, self.websocket.send(CloseConnection(code=1000)))
        super().close()


async def open_client(port: int, context: ssl.SSLContext | None, *, greeting: bytes,
                      probe: bytes | None = None, session: ssl.SSLSession | None = None,
                      timeout: float = 10.0, web: bool = False) -> tuple[Client, float, float]:
    """Connect, handshake, wait for the greeting: (client, started, greeted).

    ``web``: ``port`` is the driver's web port, and the client a ``WebClient``
    (the greeting is then looked for in the telnet stream inside the
    WebSocket's binary messages)."""
    loop = asyncio.get_running_loop()
    started = perf_counter()
    if web:
        def factory() -> Client:
            return WebClient(context, port, session)
    else:
        def factory() -> Client:
            return Client(context, session, probe)
    async with asyncio.timeout(timeout):
        _transport, client = await loop.create_connection(factory, "127.0.0.1", port)
        try:
            greeted = await client.expect(greeting)
        except BaseException:
            client.abort()
            raise
    return client, started, greeted
