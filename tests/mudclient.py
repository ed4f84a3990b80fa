"""A scriptable MUD client for tests: raw socket, telnet parser, MCCP2, TLS.

``TelnetPeer`` reads the server's stream in layers, as a MUD client would:
TLS records (once ``start_tls`` was called; ``ssl.SSLObject`` over memory
BIOs, so the client decides byte by byte when TLS begins), then MCCP2
decompression (after the server's IAC SB MCCP2 IAC SE, until the zlib
stream ends), then telnet: text goes to ``text``, commands to ``commands``
as tuples: ("WILL", 70), ("SB", 70, payload), ("GA",), ("EOR",).

Every wait has a deadline and waits on bytes, never on time alone.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
import zlib
from pathlib import Path
from typing import Callable

TIMEOUT = 10.0

IAC, DONT, DO, WONT, WILL, SB, GA, EL, EC, AYT, AO, IP, BRK, DM, NOP, SE, EOR = (
    255, 254, 253, 252, 251, 250, 249, 248, 247, 246, 245, 244, 243, 242, 241, 240, 239)
ECHO, SGA, TTYPE, NAWS, CHARSET, START_TLS, MSSP, MCCP2, MCCP3, MXP, GMCP = (
    1, 3, 24, 31, 42, 46, 70, 86, 87, 91, 201)
EOR_OPT = 25
NAMES = {DO: "DO", DONT: "DONT", WILL: "WILL", WONT: "WONT"}

FOLLOWS = bytes([IAC, SB, START_TLS, 1, IAC, SE])


def iac(*values: int) -> bytes:
    return bytes([IAC, *values])


def sb(option: int, payload: bytes) -> bytes:
    return bytes([IAC, SB, option]) + payload.replace(b"\xff", b"\xff\xff") + bytes([IAC, SE])


class TelnetPeer:
    def __init__(self, port: int, host: str = "127.0.0.1", *,
                 on_command: Callable[[TelnetPeer, tuple], None] | None = None) -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.on_command = on_command
        self.stream = bytearray()   # the telnet stream (decrypted, decompressed)
        self.text_bytes = bytearray()
        self.commands: list[tuple] = []
        self.wire = bytearray()     # bytes as they came off the socket
        self.closed = False
        self._ssl: ssl.SSLObject | None = None
        self._in: ssl.MemoryBIO | None = None
        self._out: ssl.MemoryBIO | None = None
        self._inflate = None
        self.inflated_total = 0     # telnet bytes that arrived compressed
        self.compression_ended = False
        self._state = "data"
        self._cmd = 0
        self._sb = bytearray()

    # -- sending ---------------------------------------------------------------

    def send(self, data: bytes) -> None:
        if self._ssl is not None and self._ssl_done:
            self._ssl.write(data)
            data = self._out.read()
        self.sock.sendall(data)

    def send_line(self, line: str, encoding: str = "utf-8") -> None:
        self.send(line.encode(encoding) + b"\r\n")

    # -- TLS -------------------------------------------------------------------

    _ssl_done = False

    def start_tls(self, context: ssl.SSLContext, prefix: bytes = b"",
                  server_hostname: str = "localhost") -> None:
        """Begin a client handshake: ``prefix`` and the ClientHello in one write."""
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._ssl = context.wrap_bio(self._in, self._out, server_hostname=server_hostname)
        try:
            self._ssl.do_handshake()
        except ssl.SSLWantReadError:
            pass
        self.sock.sendall(prefix + self._out.read())

    def finish_tls(self, timeout: float = TIMEOUT) -> None:
        self.wait(lambda: self._ssl_done, "the TLS handshake", timeout)

    @property
    def secure(self) -> bool:
        return self._ssl_done

    # -- receiving -------------------------------------------------------------

    def pump(self, timeout: float) -> None:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return
        self.wire += data
        self._from_network(data)

    def _from_network(self, data: bytes) -> None:
        if self._ssl is None:
            self._from_transport(data)
            return
        self._in.write(data)
        if not self._ssl_done:
            try:
                self._ssl.do_handshake()
                self._ssl_done = True
            except ssl.SSLWantReadError:
                pass
            out = self._out.read()
            if out:
                self.sock.sendall(out)
            if not self._ssl_done:
                return
        chunks = []
        while True:
            try:
                chunk = self._ssl.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.closed = True
                break
            if not chunk:
                break
            chunks.append(chunk)
        out = self._out.read()
        if out:
            self.sock.sendall(out)
        if chunks:
            self._from_transport(b"".join(chunks))

    def _from_transport(self, data: bytes) -> None:
        while data:
            if self._inflate is None:
                data = self._parse(data)
                continue
            plain = self._inflate.decompress(data)
            self.inflated_total += len(plain)
            rest = b""
            if self._inflate.eof:
                rest = self._inflate.unused_data
                self._inflate = None
                self.compression_ended = True
            self._parse_all(plain)
            data = rest

    def _parse_all(self, data: bytes) -> None:
        while data:
            data = self._parse(data)

    def _parse(self, data: bytes) -> bytes:
        """Parse telnet bytes; returns what follows an MCCP2 start (compressed)."""
        for index, byte in enumerate(data):
            self.stream.append(byte)
            state = self._state
            if state == "data":
                if byte == IAC:
                    self._state = "iac"
                else:
                    self.text_bytes.append(byte)
            elif state == "iac":
                if byte == IAC:
                    self.text_bytes.append(IAC)
                    self._state = "data"
                elif byte in (DO, DONT, WILL, WONT):
                    self._cmd, self._state = byte, "option"
                elif byte == SB:
                    self._sb.clear()
                    self._state = "sb"
                else:
                    self._state = "data"
                    self._command(("GA",) if byte == GA else ("EOR",) if byte == EOR else (byte,))
            elif state == "option":
                self._state = "data"
                self._command((NAMES[self._cmd], byte))
            elif state == "sb":
                if byte == IAC:
                    self._state = "sb_iac"
                else:
                    self._sb.append(byte)
            elif state == "sb_iac":
                if byte == SE:
                    self._state = "data"
                    option, payload = self._sb[0], bytes(self._sb[1:])
                    self._command(("SB", option, payload))
                    if option == MCCP2:
                        self._inflate = zlib.decompressobj()
                        return data[index + 1:]
                else:
                    self._sb.append(byte)
                    self._state = "sb"
        return b""

    def _command(self, command: tuple) -> None:
        self.commands.append(command)
        if self.on_command is not None:
            self.on_command(self, command)

    # -- waiting ---------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.text_bytes.decode("utf-8", errors="replace")

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; text:\n{self.text}\n"
                                     f"commands: {self.commands}")
            if self.closed:
                raise AssertionError(f"connection closed waiting for {what}; text:\n{self.text}")
            self.pump(remaining)

    def wait_text(self, needle: str, timeout: float = TIMEOUT, start: int = 0) -> str:
        self.wait(lambda: needle in self.text_bytes[start:].decode("utf-8", errors="replace"),
                  repr(needle), timeout)
        return self.text

    def wait_command(self, command: tuple, timeout: float = TIMEOUT) -> None:
        self.wait(lambda: command in self.commands, repr(command), timeout)

    def wait_sb(self, option: int, timeout: float = TIMEOUT) -> bytes:
        def found():
            return any(c[0] == "SB" and c[1] == option for c in self.commands)
        self.wait(found, f"SB {option}", timeout)
        return next(c[2] for c in self.commands if c[0] == "SB" and c[1] == option)

    @staticmethod
    def lines(text: str) -> list[str]:
        """Complete lines, without the prompts ("> ") the answers follow on screen."""
        result = []
        for line in text.replace("\r", "").split("\n")[:-1]:
            while line.startswith("> "):
                line = line[2:]
            result.append(line)
        return result

    def line(self, prefix: str, start: int = 0) -> str | None:
        text = self.text_bytes[start:].decode("utf-8", errors="replace")
        return next((line for line in self.lines(text) if line.startswith(prefix)), None)

    def run(self, command: str, prefix: str, timeout: float = TIMEOUT) -> str:
        """Send a command and return the first new line starting with ``prefix``."""
        mark = len(self.text_bytes)
        self.send_line(command)
        self.wait(lambda: self.line(prefix, mark) is not None, f"{prefix!r} after {command!r}",
                  timeout)
        return self.line(prefix, mark)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# --- shared by the tests that play the client-protocols test world ------------------

CLIENT_MUDLIB = Path(__file__).resolve().parent / "mudlib_clients"


def connect(world, **kwargs) -> TelnetPeer:
    """A peer on ``world``'s telnet port, past the test world's greeting."""
    peer = TelnetPeer(world.telnet_port, **kwargs)
    peer.wait_text("WELCOME ")
    return peer


def client_info(peer: TelnetPeer) -> dict:
    """What the driver recorded about the client (the test world's ``client`` command)."""
    return json.loads(peer.run("client", "CLIENT ").split(" ", 1)[1])

