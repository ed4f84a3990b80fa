"""A WebSocket client for tests (wsproto), as the web client speaks to the web port.

``WebSocketPlayer`` opens the WebSocket (over TLS on the web port, in plain
HTTP on the port for a reverse proxy, with whatever headers a proxy would
add), collects the telnet stream the driver sends in binary messages, and
answers the driver's pings unless told to stay silent.  Every wait has a
deadline and waits on bytes, never on time alone.
"""

from __future__ import annotations

import json
import socket
import ssl
import time

from conftest import TIMEOUT, strip_telnet
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)


class WebSocketPlayer:
    """One WebSocket to the driver.

    ``context``: the TLS client context (None: plain HTTP, the proxy port).
    ``headers``: extra request headers (``X-Forwarded-For``, say).
    ``answer_pings``: False for a peer that never answers the keepalive.
    ``wait_hello``: False when the driver may close at once (a refusal).
    ``source``: the loopback address to connect from (127.0.0.2, say: a
    player other than the one at 127.0.0.1).
    """

    def __init__(self, port: int, context: ssl.SSLContext | None, *,
                 headers: list[tuple[bytes, bytes]] = (), answer_pings: bool = True,
                 wait_hello: bool = True, source: str | None = None) -> None:
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT,
                                       source_address=None if source is None else (source, 0))
        self.sock = raw if context is None else context.wrap_socket(raw, server_hostname="localhost")
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.answer_pings = answer_pings
        self.telnet = bytearray()
        self.hello: dict | None = None
        self.accepted = False
        self.close_code: int | None = None
        self.close_reason = ""
        #: the driver's pings seen, and the payloads of the pongs it sent back
        self.pings = 0
        self.pongs: list[bytes] = []
        #: the driver closed the TCP connection
        self.eof = False
        scheme = "http" if context is None else "https"
        origin = f"{scheme}://localhost:{port}".encode()
        self.sock.sendall(self.ws.send(Request(host=f"localhost:{port}", target="/ws",
                                               extra_headers=[(b"origin", origin), *headers])))
        if wait_hello:
            # 101 Switching Protocols, then the driver's first message: the JSON hello.
            self._pump_until(lambda: self.accepted and self.hello is not None, "the upgrade")

    @property
    def text(self) -> str:
        return strip_telnet(bytes(self.telnet)).decode("utf-8", errors="replace")

    def _pump_until(self, done, what: str, timeout: float = TIMEOUT,
                    eof_expected: bool = False) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out waiting for {what}; telnet text:\n{self.text}"
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            except (ssl.SSLError, ConnectionResetError):
                data = b""
            assert data or eof_expected or self.close_code is not None, \
                f"closed before {what}:\n{self.text}"
            self.ws.receive_data(data or None)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    self.accepted = True
                elif isinstance(event, RejectConnection):
                    raise AssertionError(f"upgrade refused: {event.status_code}")
                elif isinstance(event, TextMessage):
                    self.hello = json.loads(event.data)
                elif isinstance(event, BytesMessage):
                    self.telnet += event.data
                elif isinstance(event, Ping):
                    self.pings += 1
                    if self.answer_pings:
                        self.sock.sendall(self.ws.send(event.response()))
                elif isinstance(event, Pong):
                    self.pongs.append(bytes(event.payload))
                elif isinstance(event, CloseConnection) and self.close_code is None:
                    # (The first: wsproto reports the end of the stream after
                    # a close frame as a second close, 1006.)
                    self.close_code, self.close_reason = event.code, event.reason
            if not data:
                self.eof = True
                return

    def read_until(self, needle: str) -> str:
        self._pump_until(lambda: needle in self.text, repr(needle))
        return self.text

    def command(self, line: str, until: str) -> str:
        self.telnet.clear()
        self.sock.sendall(self.ws.send(BytesMessage(data=line.encode() + b"\r\n")))
        return self.read_until(until)

    def ping(self, payload: bytes) -> None:
        """A ping of our own; returns once the driver's pong came back."""
        self.sock.sendall(self.ws.send(Ping(payload=payload)))
        self._pump_until(lambda: payload in self.pongs, f"the pong to {payload!r}")

    def wait_pings(self, count: int, timeout: float = TIMEOUT) -> None:
        self._pump_until(lambda: self.pings >= count, f"{count} pings", timeout)

    def wait_close_frame(self, timeout: float = TIMEOUT) -> int | None:
        self._pump_until(lambda: self.close_code is not None, "a close frame", timeout)
        return self.close_code

    def wait_eof(self, timeout: float = TIMEOUT) -> None:
        """Until the driver closes the TCP connection (a close frame or not)."""
        self._pump_until(lambda: self.eof, "the driver to close", timeout, eof_expected=True)

    def close(self) -> None:
        """Our close frame, the driver's answer, then the driver's close."""
        self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        self.wait_close_frame()
        self.sock.close()
