"""The web port: HTTP/1.1 and WebSocket on one connection, sans I/O.

Theory of operation
===================

A browser cannot speak telnet, but it can open a WebSocket, and a WebSocket
can carry a telnet stream unchanged.  So the web port is one more layer in
a connection's stack, between TLS and telnet::

    socket -> TLS (tls.TLSSession) -> HTTP / WebSocket (WebSession) -> telnet -> lines

``WebSession`` is that layer for one connection.  Like ``TLSSession`` it
never touches a socket or a timer: ``receive`` is fed the plaintext that came
out of TLS and answers with a ``WebReceived`` (bytes to send back, telnet
bytes for the layer above, whether the WebSocket just opened, whether to
close); ``message`` wraps the telnet layer's output in a WebSocket message.
``connection.py`` owns the I/O and the deadlines.

The connection lives in one of three phases, as h11's and wsproto's state
machines say:

    HTTP     h11 parses requests.  ``GET /`` and the client's assets are
             answered from memory (``WebSite``); ``GET /ws`` with a valid
             WebSocket upgrade is answered ``101 Switching Protocols``;
             anything else gets a short error response and the connection
             closes.  Nothing reaches the game in this phase.
    OPEN     wsproto frames.  Each binary message is a piece of the
             client's telnet stream; a text message is the same bytes in
             UTF-8 (for hand-typed testing tools).  Pings are answered,
             pongs note that the peer is alive.  Output goes out as one
             binary message per turn of the event loop.
    CLOSED   a close frame went out or came in; nothing more is read.

Limits keep one peer from costing others anything: a request's head may
be at most ``max_request_bytes`` with at most ``max_headers`` headers, no
request may carry a body, a message may be at most ``max_message_bytes``
(close code 1009 past that), and the connection must reach OPEN within
``upgrade_timeout`` seconds (the connection's deadline).  Before OPEN the
driver is an HTTP server of four fixed files, and that is all.

Behind a reverse proxy (which does TLS, and forwards plain HTTP on
loopback), the player's address is taken from ``X-Forwarded-For``, only when
the peer is one of the configured proxies: the rightmost address not itself
a trusted proxy, as each proxy appends the address it saw.

Every message the driver writes first, before the telnet stream, is one
text message of JSON (``hello``): whether the connection is secure, and
its TLS protocol and cipher, for the page to show.  The telnet stream
itself only ever travels in binary messages.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import ipaddress
import json
import logging
import ssl
from importlib import resources
from typing import Callable, NamedTuple

import h11
from wsproto.connection import Connection as FrameConnection
from wsproto.connection import ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.utilities import generate_accept_token

log = logging.getLogger("driver.web")

#: The path of the WebSocket endpoint; everything else is a file or a 404.
WEBSOCKET_PATH = "/ws"

# Close codes (RFC 6455, section 7.4.1).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
#: the game's bans or limits refuse the player (the reason says which)
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009

#: The files of the client page, served from memory.  Content types are
#: fixed here rather than guessed, and every response forbids sniffing.
_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/client.js": ("client.js", "text/javascript; charset=utf-8"),
    "/client.css": ("client.css", "text/css; charset=utf-8"),
}

# Every response: no caching (a new driver version must reach the page at
# once), no sniffing, no referrer, and a policy that lets the page load only
# its own files and open a WebSocket only to its own origin: no CDN, no
# inline script.
_COMMON_HEADERS = [
    ("Cache-Control", "no-cache"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
     "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    ("Server", "mud-driver"),
]


@dataclasses.dataclass(frozen=True)
class WebLimits:
    """What one web connection may cost (config.yaml's ``web`` section)."""

    #: bytes in a request line and its headers
    max_request_bytes: int = 8192
    #: headers in one request
    max_headers: int = 50
    #: bytes in one WebSocket message from the client
    max_message_bytes: int = 65536
    #: seconds from connect to an open WebSocket (TLS handshake included)
    upgrade_timeout: float = 10.0
    #: seconds between pings; a peer silent for two of them is gone
    ping_interval: float = 30.0


class WebSite:
    """What every connection of one web port shares: the page, the limits,
    and the proxies whose ``X-Forwarded-For`` is believed."""

    def __init__(self, limits: WebLimits = WebLimits(), *,
                 trusted_proxies: tuple[str, ...] = (),
                 tls_context: Callable[[], ssl.SSLContext | None] | None = None) -> None:
        self.limits = limits
        #: the server context in force, asked for at each connect (so a
        #: certificate reload applies to the next connection); None: plain
        #: HTTP on loopback, behind a reverse proxy that does TLS
        self.tls_context = tls_context
        self.trusted_proxies = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)
        folder = resources.files(__package__).joinpath("web_client")
        self.files: dict[str, tuple[bytes, str]] = {
            path: (folder.joinpath(name).read_bytes(), content_type)
            for path, (name, content_type) in _ASSETS.items()
        }

    def is_trusted_proxy(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.trusted_proxies)

    @property
    def secure(self) -> bool:
        """Whether connections on this port are TLS from their first byte."""
        return self.tls_context is not None


class WebReceived(NamedTuple):
    """What ``WebSession.receive`` made of some bytes."""

    #: bytes to send back (HTTP responses, pongs, a close frame)
    to_send: bytes = b""
    #: the client's telnet stream, for the telnet layer
    telnet: bytes = b""
    #: the WebSocket has just opened: the connection becomes a player's
    opened: bool = False
    #: close the connection once ``to_send`` is out
    close: bool = False
    #: why it closes, for the log (None: a normal close)
    problem: str | None = None


class Phase(enum.Enum):
    HTTP = "http"
    OPEN = "open"
    CLOSED = "closed"


class WebSession:
    """One connection's HTTP and WebSocket state, sans I/O."""

    __slots__ = ("site", "peer_host", "phase", "client_address", "heard", "_http", "_frames",
                 "_message_size", "_requests")

    def __init__(self, site: WebSite, peer_host: str) -> None:
        self.site = site
        self.peer_host = peer_host
        self.phase = Phase.HTTP
        #: the player's address: the peer's, or a trusted proxy's X-Forwarded-For
        self.client_address = peer_host
        #: something arrived since the last ping (the keepalive's question)
        self.heard = True
        self._http: h11.Connection | None = h11.Connection(
            h11.SERVER, max_incomplete_event_size=site.limits.max_request_bytes)
        self._frames: FrameConnection | None = None
        self._message_size = 0
        self._requests = 0

    # -- receiving ---------------------------------------------------------------

    def receive(self, data: bytes) -> WebReceived:
        self.heard = True
        if self.phase is Phase.HTTP:
            return self._receive_http(data)
        if self.phase is Phase.OPEN:
            return self._receive_frames(data)
        return WebReceived()

    def _receive_http(self, data: bytes) -> WebReceived:
        http = self._http
        out: list[bytes] = []
        try:
            http.receive_data(data)
            while True:
                event = http.next_event()
                if event is h11.NEED_DATA:
                    return WebReceived(to_send=b"".join(out))
                if event is h11.PAUSED:
                    if http.their_state is h11.MIGHT_SWITCH_PROTOCOL:
                        return WebReceived(to_send=b"".join(out))  # answered below
                    http.start_next_cycle()
                    continue
                if isinstance(event, h11.ConnectionClosed):
                    return WebReceived(to_send=b"".join(out), close=True)
                if isinstance(event, h11.Request):
                    answer = self._answer(event)
                    if isinstance(answer, WebReceived):
                        return answer._replace(to_send=b"".join(out) + answer.to_send)
                    out.append(answer)
                    if http.our_state is h11.MUST_CLOSE:
                        return WebReceived(to_send=b"".join(out), close=True)
                elif isinstance(event, h11.Data):
                    return self._refuse(out, 413, "a request body where none belongs")
        except h11.RemoteProtocolError as exc:
            # h11's hint: 431 for a head over max_request_bytes, else 400
            return self._refuse(out, exc.error_status_hint, f"malformed request ({exc})")

    def _refuse(self, out: list[bytes], status: int, why: str) -> WebReceived:
        """An error response, then close (the client broke HTTP or a limit)."""
        self.phase = Phase.CLOSED
        body = f"{status} {_REASONS.get(status, 'Error')}\n".encode()
        response = (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        return WebReceived(to_send=b"".join(out) + response, close=True, problem=why)

    def _answer(self, request: h11.Request) -> bytes | WebReceived:
        """A complete request head: a file, the upgrade, or an error."""
        self._requests += 1
        out: list[bytes] = []
        limits = self.site.limits
        if len(request.headers) > limits.max_headers:
            return self._refuse(out, 431, f"{len(request.headers)} headers "
                                f"(at most {limits.max_headers})")
        # h11 enforces max_request_bytes only on a head still arriving; one
        # that came whole in a single read is measured here.
        size = len(request.method) + len(request.target) + 12 + sum(
            len(name) + len(value) + 4 for name, value in request.headers)
        if size > limits.max_request_bytes:
            return self._refuse(out, 431, f"a request head of {size} bytes "
                                f"(at most {limits.max_request_bytes})")
        headers = _header_map(request.headers)
        length = headers.get(b"content-length", b"0")
        if length.strip() not in (b"", b"0") or b"transfer-encoding" in headers:
            return self._refuse(out, 413, "a request body where none belongs")
        target = request.target.split(b"?", 1)[0].decode("ascii", errors="replace")
        if target == WEBSOCKET_PATH:
            return self._upgrade(request, headers)
        if request.method not in (b"GET", b"HEAD"):
            return self._response(405, b"405 Method Not Allowed\n", "text/plain; charset=utf-8",
                                  head=False, extra=[("Allow", "GET, HEAD")])
        found = self.site.files.get(target)
        if found is None:
            return self._response(404, b"404 Not Found\n", "text/plain; charset=utf-8",
                                  head=request.method == b"HEAD")
        body, content_type = found
        return self._response(200, body, content_type, head=request.method == b"HEAD")

    def _response(self, status: int, body: bytes, content_type: str, *, head: bool,
                  extra: list[tuple[str, str]] = ()) -> bytes:
        http = self._http
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
                   *_COMMON_HEADERS, *extra]
        data = http.send(h11.Response(status_code=status, headers=headers))
        if not head:
            data += http.send(h11.Data(data=body))
        data += http.send(h11.EndOfMessage())
        return data

    def _upgrade(self, request: h11.Request, headers: dict[bytes, bytes]) -> WebReceived:
        """``GET /ws``: check the WebSocket handshake (RFC 6455, 4.2.1), then 101."""
        problem = _handshake_problem(request, headers)
        if problem is not None:
            return self._refuse([], 400, f"bad WebSocket upgrade: {problem}")
        origin = headers.get(b"origin")
        if origin is not None and not _same_origin(origin, headers.get(b"host", b"")):
            # Another site's page may not play on a visitor's behalf.  (The
            # Host is logged too: a reverse proxy that rewrites it, dropping
            # the port, makes every page look like another site's.)
            host = headers.get(b"host", b"").decode("ascii", "replace")[:80]
            return self._refuse([], 403, f"WebSocket from another origin "
                                f"({origin.decode('ascii', 'replace')[:80]}, for Host {host!r})")
        if self.site.trusted_proxies and self.site.is_trusted_proxy(self.peer_host):
            self.client_address = self._forwarded_for(headers) or self.peer_host
        key = headers[b"sec-websocket-key"].strip()
        http = self._http
        if http.their_state is not h11.MIGHT_SWITCH_PROTOCOL:
            # h11 reads the EndOfMessage of a bodiless GET with its head;
            # drain it so the switch is on offer.
            while http.their_state is h11.SEND_BODY:
                if http.next_event() is h11.NEED_DATA:
                    break
        if http.their_state is not h11.MIGHT_SWITCH_PROTOCOL:
            return self._refuse([], 400, "bad WebSocket upgrade: incomplete request")
        accept = http.send(h11.InformationalResponse(status_code=101, headers=[
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", generate_accept_token(key).decode("ascii")),
        ]))
        trailing, _closed = http.trailing_data
        self._http = None
        self._frames = FrameConnection(ConnectionType.SERVER)
        self.phase = Phase.OPEN
        first = self._receive_frames(bytes(trailing)) if trailing else WebReceived()
        return first._replace(to_send=accept + first.to_send, opened=True)

    def _forwarded_for(self, headers: dict[bytes, bytes]) -> str | None:
        chain = headers.get(b"x-forwarded-for")
        if not chain:
            return None
        hops = [hop.strip() for hop in chain.decode("ascii", "replace").split(",") if hop.strip()]
        for hop in reversed(hops):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return None  # a malformed chain: believe none of it
            if not self.site.is_trusted_proxy(hop):
                return hop
        return hops[0] if hops else None

    def _receive_frames(self, data: bytes) -> WebReceived:
        frames = self._frames
        frames.receive_data(data)
        out: list[bytes] = []
        telnet: list[bytes] = []
        limit = self.site.limits.max_message_bytes
        for event in frames.events():
            if isinstance(event, (BytesMessage, TextMessage)):
                chunk = event.data if isinstance(event, BytesMessage) else event.data.encode("utf-8")
                self._message_size += len(chunk)
                if self._message_size > limit:
                    out.append(self._close_frame(CLOSE_MESSAGE_TOO_BIG, "message too big"))
                    return WebReceived(to_send=b"".join(out), telnet=b"".join(telnet), close=True,
                                       problem=f"a WebSocket message over {limit} bytes")
                telnet.append(bytes(chunk))
                if event.message_finished:
                    self._message_size = 0
            elif isinstance(event, Ping):
                out.append(frames.send(event.response()))
            elif isinstance(event, Pong):
                pass  # ``heard`` is already set: the peer is alive
            elif isinstance(event, CloseConnection):
                problem = None
                if frames.state is ConnectionState.REMOTE_CLOSING:
                    out.append(frames.send(event.response()))
                elif frames.state is ConnectionState.OPEN:
                    # wsproto reports a frame it cannot parse as a close of
                    # its own making, with the code to send.
                    problem = f"WebSocket protocol error ({event.reason})"
                    out.append(self._close_frame(event.code, "protocol error"))
                self.phase = Phase.CLOSED
                return WebReceived(to_send=b"".join(out), telnet=b"".join(telnet), close=True,
                                   problem=problem)
        return WebReceived(to_send=b"".join(out), telnet=b"".join(telnet))

    # -- sending -------------------------------------------------------------------

    def message(self, telnet: bytes) -> bytes:
        """The telnet layer's output as one binary message (nothing once closed)."""
        if self.phase is not Phase.OPEN:
            return b""
        return self._frames.send(BytesMessage(data=telnet))

    def hello(self, info: dict) -> bytes:
        """The first message: a text message of JSON about the connection."""
        if self.phase is not Phase.OPEN:
            return b""
        return self._frames.send(TextMessage(data=json.dumps({"type": "connection", **info})))

    def ping(self) -> bytes:
        if self.phase is not Phase.OPEN:
            return b""
        self.heard = False
        return self._frames.send(Ping(payload=b"keepalive"))

    def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> bytes:
        """A close frame, if the WebSocket is open; afterwards nothing more is sent."""
        if self.phase is not Phase.OPEN:
            self.phase = Phase.CLOSED
            return b""
        return self._close_frame(code, reason)

    def _close_frame(self, code: int, reason: str) -> bytes:
        self.phase = Phase.CLOSED
        frames = self._frames
        if frames.state not in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            return b""
        return frames.send(CloseConnection(code=code, reason=reason))


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 413: "Content Too Large",
            431: "Request Header Fields Too Large"}


def _header_map(headers) -> dict[bytes, bytes]:
    """Lower-case names to values; a repeated header's values joined by commas."""
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        found[name] = found[name] + b", " + value if name in found else value
    return found


def _handshake_problem(request: h11.Request, headers: dict[bytes, bytes]) -> str | None:
    if request.method != b"GET":
        return "the method must be GET"
    tokens = {t.strip().lower() for t in headers.get(b"connection", b"").split(b",")}
    if b"upgrade" not in tokens:
        return "no 'Connection: Upgrade'"
    if headers.get(b"upgrade", b"").strip().lower() != b"websocket":
        return "no 'Upgrade: websocket'"
    if headers.get(b"sec-websocket-version", b"").strip() != b"13":
        return "Sec-WebSocket-Version must be 13"
    key = headers.get(b"sec-websocket-key", b"").strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return "Sec-WebSocket-Key is not 16 bytes in base64"
    except (binascii.Error, ValueError):
        return "Sec-WebSocket-Key is not base64"
    return None


def _same_origin(origin: bytes, host: bytes) -> bool:
    """Whether a browser's Origin names the host the request was sent to."""
    text = origin.decode("ascii", "replace").strip().lower()
    scheme, _, rest = text.partition("://")
    if scheme not in ("http", "https") or not rest:
        return False
    return rest.rstrip("/") == host.decode("ascii", "replace").strip().lower()
