"""Test harness: a real driver process on loopback, and real clients.

``start_driver`` runs ``driver.py`` as a subprocess on ports chosen by the
kernel (port 0), with certificates from trustme made for the test session.
It reads the driver's log as it is written, so tests wait on log lines
(``driver.wait_for_log``) and bytes from sockets, never on sleeps.  Every
wait has a deadline.

The event loop: drivers run on the driver's default (``auto``: uvloop,
which the requirements install) unless a test asks for another
(``start_driver(..., event_loop="asyncio")``) or the environment does:
``MUD_TEST_EVENT_LOOP=asyncio`` starts every driver of
``start_driver``/``make_driver`` on asyncio's loop (``server.event_loop``),
so the suite runs on either loop::

    MUD_TEST_EVENT_LOOP=asyncio .venv/bin/python -m pytest tests/test_fair.py
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

ROOT = Path(__file__).resolve().parent.parent
TEST_MUDLIB = Path(__file__).resolve().parent / "mudlib"
SHIPPED_MUDLIB = ROOT / "mudlib"
TIMEOUT = 10.0

IAC = 255

#: ``server.event_loop`` for every driver the harness starts, unless a test
#: names one: the environment's ``MUD_TEST_EVENT_LOOP``, else the driver's default.
TEST_EVENT_LOOP = os.environ.get("MUD_TEST_EVENT_LOOP") or None

#: Both loops, for the tests whose subject the loop itself touches (sockets,
#: timers, accept): ``@pytest.mark.parametrize("event_loop", EVENT_LOOPS)``.
EVENT_LOOPS = ("asyncio", "uvloop")


# --- certificates ------------------------------------------------------------------

@dataclass
class TestCerts:
    ca: trustme.CA
    directory: Path
    ca_file: Path
    fullchain: Path
    key: Path

    def client_context(self, **kwargs) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        for name, value in kwargs.items():
            setattr(context, name, value)
        return context

    def issue_client_certificate(self, name: str) -> tuple[Path, Path]:
        """A client certificate from the test CA, as (cert file, key file)."""
        leaf = self.ca.issue_cert(f"{name}@example.org", common_name=name)
        return write_leaf(leaf, self.directory / f"client-{name}.pem",
                          self.directory / f"client-{name}-key.pem")


def fullchain_pem(leaf: trustme.LeafCert) -> bytes:
    """A certificate and its chain, as a fullchain file holds them."""
    return b"".join(blob.bytes() for blob in leaf.cert_chain_pems)


def write_leaf(leaf: trustme.LeafCert, cert_file: Path, key_file: Path) -> tuple[Path, Path]:
    """A fullchain file and its key file, as certbot writes them."""
    cert_file.write_bytes(fullchain_pem(leaf))
    key_file.write_bytes(leaf.private_key_pem.bytes())
    return cert_file, key_file


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> TestCerts:
    directory = tmp_path_factory.mktemp("certs")
    ca = trustme.CA(organization_name="Test CA")
    server = ca.issue_cert("localhost", "127.0.0.1", "::1")
    ca_file = directory / "ca.pem"
    fullchain = directory / "fullchain.pem"
    key = directory / "privkey.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    fullchain.write_bytes(fullchain_pem(server))
    server.private_key_pem.write_to_path(str(key))
    return TestCerts(ca, directory, ca_file, fullchain, key)


# --- the driver process ------------------------------------------------------------

@dataclass
class DriverProcess:
    process: subprocess.Popen
    directory: Path
    config_file: Path
    telnet_port: int = 0
    tls_port: int | None = None
    lines: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None

    def _read_log(self) -> None:
        for raw in self.process.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<process exited>")
            self._changed.notify_all()

    @property
    def log(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for_log(self, pattern: str, timeout: float = TIMEOUT, start: int = 0) -> re.Match:
        """Wait until a log line (from index ``start`` on) matches ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[start:]:
                    match = regex.search(line)
                    if match:
                        return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.lines and self.lines[-1] == "<process exited>"):
                    raise AssertionError(f"no log line matching {pattern!r}; log:\n" + "\n".join(self.lines))
                self._changed.wait(remaining)

    def log_mark(self) -> int:
        with self._changed:
            return len(self.lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = TIMEOUT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        return self.process.returncode


#: Tests open many connections from loopback in a moment; the limits at
#: accept are tested on their own (test_admission.py passes its own ``limits``).
LOOPBACK_EXEMPT = "limits:\n  exempt: [127.0.0.0/8, '::1']\n"


def write_config(directory: Path, certs: TestCerts | None, mudlib: Path = TEST_MUDLIB,
                 tls_port: int | None = 0, trust_file: bool = True,
                 handshake_timeout: float = 5, extra: str = "", tls_extra: str = "",
                 mudlib_extra: str = "", limits: str = LOOPBACK_EXEMPT,
                 event_loop: str | None = TEST_EVENT_LOOP) -> Path:
    tls_section = ""
    if certs is not None:
        tls_section = (f"  certificate: {certs.fullchain}\n  key: {certs.key}\n"
                       + (f"  trust_file: {certs.ca_file}\n" if trust_file else ""))
    config = directory / "config.yaml"
    config.write_text(
        "server:\n  host: 127.0.0.1\n  hostname: localhost\n  telnet_port: 0\n"
        f"  tls_port: {'null' if tls_port is None else tls_port}\n"
        + (f"  event_loop: {event_loop}\n" if event_loop else "")
        + f"mudlib:\n  directory: {mudlib}\n  data_dir: {directory / 'data'}\n{mudlib_extra}"
        f"tls:\n{tls_section}  handshake_timeout: {handshake_timeout}\n{tls_extra}"
        + limits + "logging:\n  level: debug\n" + extra
    )
    return config


def start_driver(directory: Path, certs: TestCerts | None, *, env: dict | None = None,
                 args: tuple[str, ...] = (), **config) -> DriverProcess:
    config_file = write_config(directory, certs, **config)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "driver.py"), "--config", str(config_file), *args],
        cwd=directory, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )
    driver = DriverProcess(process, directory, config_file)
    driver._reader = threading.Thread(target=driver._read_log, daemon=True)
    driver._reader.start()
    try:
        match = driver.wait_for_log(r"listening: telnet on \S*:(\d+)(?:, TLS on \S*:(\d+))?")
    except AssertionError:
        driver.stop()
        raise
    driver.telnet_port = int(match.group(1))
    driver.tls_port = int(match.group(2)) if match.group(2) else None
    event_loop = config.get("event_loop", TEST_EVENT_LOOP)
    if event_loop and event_loop != "auto":
        # Logged before "listening": it runs on the loop asked for, or fails here.
        try:
            driver.wait_for_log(rf"event loop: {event_loop}\b", timeout=0)
        except AssertionError:
            driver.stop()
            raise
    return driver


@pytest.fixture
def make_driver(tmp_path_factory, certs):
    """Start drivers for one test; all are stopped at its end."""
    started: list[DriverProcess] = []

    def make(*, certs_: TestCerts | None = certs, **kwargs) -> DriverProcess:
        driver = start_driver(tmp_path_factory.mktemp("driver"), certs_, **kwargs)
        started.append(driver)
        return driver

    yield make
    for driver in started:
        driver.stop()


# --- clients -------------------------------------------------------------------------

def strip_telnet(data: bytes) -> bytes:
    """The text of a telnet stream, without IAC commands and negotiations."""
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte != IAC:
            out.append(byte)
            i += 1
            continue
        if i + 1 >= len(data):
            break
        command = data[i + 1]
        if command == IAC:
            out.append(IAC)
            i += 2
        elif command == 250:  # SB ... IAC SE
            end = data.find(bytes([IAC, 240]), i + 2)
            i = len(data) if end < 0 else end + 2
        elif command in (251, 252, 253, 254):
            i += 3
        else:
            i += 2
    return bytes(out)


class Client:
    """A line-oriented client over a plain or TLS socket, with deadlines."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.raw = bytearray()  # everything received, telnet commands included
        self.sock.settimeout(TIMEOUT)

    @classmethod
    def plain(cls, port: int) -> Client:
        return cls(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT))

    @classmethod
    def tls(cls, port: int, context: ssl.SSLContext, server_hostname: str = "localhost") -> Client:
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        return cls(context.wrap_socket(sock, server_hostname=server_hostname))

    @property
    def text(self) -> str:
        return strip_telnet(bytes(self.raw)).decode("utf-8", errors="replace")

    def recv_some(self, timeout: float = TIMEOUT) -> bytes:
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        self.raw += data
        return data

    def read_until(self, needle: str | bytes, timeout: float = TIMEOUT) -> str:
        """Read until the text (telnet stripped) contains ``needle``; returns all text."""
        deadline = time.monotonic() + timeout
        while True:
            if isinstance(needle, bytes):
                if needle in self.raw:
                    return self.text
            elif needle in self.text:
                return self.text
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {needle!r}; received:\n{self.text}")
            try:
                data = self.recv_some(remaining)
            except (socket.timeout, TimeoutError):
                continue
            if not data:
                raise AssertionError(f"connection closed while waiting for {needle!r}; received:\n{self.text}")

    def take_text(self) -> str:
        text = self.text
        self.raw.clear()
        return text

    def send_line(self, line: str) -> None:
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def command(self, line: str, until: str) -> str:
        self.raw.clear()
        self.send_line(line)
        return self.read_until(until)

    def wait_closed(self, timeout: float = TIMEOUT) -> bytes:
        """Read until the server closes; returns what arrived meanwhile."""
        deadline = time.monotonic() + timeout
        got = bytearray()
        while time.monotonic() < deadline:
            try:
                data = self.recv_some(deadline - time.monotonic())
            except (socket.timeout, TimeoutError):
                continue
            except (ssl.SSLError, ConnectionResetError):
                return bytes(got)
            if not data:
                return bytes(got)
            got += data
        raise AssertionError("the server did not close the connection")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def raw_first_bytes(port: int, size: int = 1, send: bytes = b"", timeout: float = TIMEOUT) -> bytes:
    """Open a socket, optionally send bytes, return the first ``size`` bytes received."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        if send:
            sock.sendall(send)
        ready, _, _ = select.select([sock], [], [], timeout)
        return sock.recv(size) if ready else b""
