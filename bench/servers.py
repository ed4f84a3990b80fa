"""The servers under test, each a subprocess whose CPU time and RSS are read.

Three kinds, all serving the same certificate on 127.0.0.1:

* ``driver``: ``driver.py`` of a driver tree (``--driver-root``), with the
  benchmark mudlib (``bench/mudlib``) or the shipped one, on its default
  event loop (uvloop, where it is installed) or on asyncio's
  (``server.event_loop: asyncio`` in its configuration),
  and optionally with its web port (HTTPS and WebSocket, for browser players).
* ``s_server``: ``openssl s_server -rev``, the TLS library's own loop.  It
  serves one connection at a time and answers a line with the line reversed.
* ``asyncio`` / ``asyncio-uvloop``: ``bench/baseline_server.py``, a minimal
  asyncio TLS server that sends a greeting line after the handshake and
  echoes lines.

CPU time is ``utime + stime`` from ``/proc/<pid>/stat`` (every thread of the
process), RSS is ``VmRSS`` from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BENCH_MUDLIB = BENCH_DIR / "mudlib"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 30.0

#: What each kind of server greets a new connection with, and whether the
#: client must send a line first (s_server -rev says nothing until it gets one).
GREETING_BENCH = b"Welcome to the bench."
GREETING_SHIPPED = b"What is your name? "
GREETING_BASELINE = b"Welcome to the baseline."
PROBE_LINE = b"hello, bench\n"
GREETING_S_SERVER = b"hcneb ,olleh"


class ServerError(RuntimeError):
    """A server did not start; the message has the tail of its log."""


def raise_nofile_limit() -> int:
    """Raise RLIMIT_NOFILE to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _preexec() -> None:
    raise_nofile_limit()
    os.setsid()  # its own process group: stopped by its pid, never by name


@dataclass
class Server:
    name: str  # as reported: "driver", "s_server", ...
    process: subprocess.Popen
    log_file: Path
    tls_port: int | None = None
    plain_port: int | None = None
    web_port: int | None = None  # the driver's HTTPS + WebSocket port, when it has one
    greeting: bytes = GREETING_BENCH
    probe: bytes | None = None  # a line to send after the handshake to get the greeting
    extra: dict = field(default_factory=dict)
    #: processes that watch this one (a profiler); they end when it does
    watchers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """utime + stime of the server process so far."""
        with open(f"/proc/{self.pid}/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rindex(b")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise ServerError(f"{self.name}: no VmRSS")

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        for watcher in self.watchers:
            try:
                watcher.wait(30)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait()


def _wait_for_log(process: subprocess.Popen, log_file: Path, pattern: str,
                  what: str) -> re.Match:
    regex = re.compile(pattern)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            text = log_file.read_text(errors="replace")
        except OSError:
            text = ""
        match = regex.search(text)
        if match:
            return match
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
                process.wait()
            tail = "\n".join(text.splitlines()[-20:])
            raise ServerError(f"{what} did not start (exit status {process.returncode}); "
                              f"its log:\n{tail}")
        time.sleep(0.02)


# --- the driver ---------------------------------------------------------------------

def shipped_connections(driver_root: Path) -> dict | None:
    """The ``connections`` section (what one connection may hold and cost) of
    the driver tree's own ``config.yaml``, if it has one."""
    try:
        import yaml
        data = yaml.safe_load((driver_root / "config.yaml").read_text()) or {}
    except (OSError, ImportError, ValueError):
        return None
    section = data.get("connections") if isinstance(data, dict) else None
    return section if isinstance(section, dict) and section else None


def write_driver_config(directory: Path, certificate: Path, key: Path, mudlib: Path,
                        log_level: str = "info", session_tickets: bool = True,
                        connections: dict | None = None,
                        exempt_loopback: bool = True, metrics: bool = False,
                        web: bool = False, event_loop: str | None = None) -> Path:
    """A configuration like the shipped one, on ports chosen by the kernel.

    No trust file: like the baselines, the driver does not ask for client
    certificates.  ``connections``: that section, as the driver tree's
    ``config.yaml`` has it (the hostile scenario reads its output cap).
    ``exempt_loopback``: the load comes from loopback, far faster than any
    one real address, so the admission limits at accept spare it; without
    it, loopback is one address like any other, as in the shipped config.
    ``metrics``: the Prometheus endpoint on a port the kernel picks, whose
    ``mud_gc_pause_seconds`` times every collection of the cyclic garbage
    collector (the gc scenario reads it; off elsewhere, so the other
    scenarios measure the driver without its probes).
    ``web``: the web port (``server.web_port``: HTTPS and WebSocket, with the
    same certificate) on a port the kernel picks; off unless a scenario
    has browser players, so that the others measure the driver as before.
    ``event_loop``: ``server.event_loop`` ("auto", "asyncio" or "uvloop"); None
    leaves the driver's default (auto: uvloop where it is installed).
    """
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.yaml"
    config.write_text(
        "server:\n  host: 127.0.0.1\n  hostname: localhost\n  telnet_port: 0\n  tls_port: 0\n"
        + ("  web_port: 0\n" if web else "")
        + (f"  event_loop: {event_loop}\n" if event_loop else "") +
        f"mudlib:\n  directory: {mudlib}\n  master: /master\n  data_dir: {directory / 'data'}\n"
        f"tls:\n  certificate: {certificate}\n  key: {key}\n  trust_file: null\n"
        "  handshake_timeout: 10\n  minimum_version: TLSv1.2\n"
        f"  session_tickets: {'true' if session_tickets else 'false'}\n"
        f"logging:\n  level: {log_level}\n  file: null\n"
        # The load comes from loopback, far faster than any one real address;
        # and the scenarios hold more players than the default cap on all
        # connections (1,000: scenario 3's storm comes on top of 1,000 players).
        + ("limits:\n  exempt: [127.0.0.0/8, '::1']\n  total: 0\n" if exempt_loopback else "")
        + ("metrics:\n  port: 0\n" if metrics else "")
    )
    if connections:
        import yaml
        with open(config, "a") as f:
            f.write(yaml.safe_dump({"connections": connections}, default_flow_style=False))
    return config


def start_driver(driver_root: Path, workdir: Path, certificate: Path, key: Path, *,
                 shipped_mudlib: bool = False, event_loop: str | None = None,
                 log_level: str = "info", name: str | None = None,
                 exempt_loopback: bool = True, metrics: bool = False,
                 web: bool = False) -> Server:
    mudlib = driver_root / "mudlib" if shipped_mudlib else BENCH_MUDLIB
    # A fresh world: no characters saved by an earlier run in this directory.
    shutil.rmtree(workdir / "data", ignore_errors=True)
    config = write_driver_config(workdir, certificate, key, mudlib, log_level,
                                 connections=shipped_connections(driver_root),
                                 exempt_loopback=exempt_loopback, metrics=metrics,
                                 web=web, event_loop=event_loop)
    log_file = workdir / "driver.log"
    command = [sys.executable, str(driver_root / "driver.py"), "--config", str(config)]
    with open(log_file, "wb") as log:
        process = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, preexec_fn=_preexec,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    match = _wait_for_log(process, log_file,
                          r"listening: telnet on [^:]+:(\d+)(?:, TLS on [^:]+:(\d+))?"
                          # the whole line, so that no port is missed in a half-written one
                          r"(?:, web on [^:]+:(\d+))?(?=[^\n]*\n)",
                          f"the driver in {driver_root}")
    extra = {"config": str(config)}
    # The loop it runs on, as it says at start (logged before "listening").
    loop = re.search(r"event loop: ([^\n;]+)", log_file.read_text(errors="replace"))
    if loop:
        extra["event_loop"] = loop.group(1).strip()
    if metrics:
        # Logged before "listening", so it is in the log by now.
        found = re.search(r"metrics: http://[^:]+:(\d+)/metrics",
                          log_file.read_text(errors="replace"))
        if found:
            extra["metrics_port"] = int(found.group(1))
    return Server(name or "driver", process, log_file, tls_port=int(match.group(2)),
                  plain_port=int(match.group(1)),
                  web_port=int(match.group(3)) if match.group(3) else None,
                  greeting=GREETING_SHIPPED if shipped_mudlib else GREETING_BENCH,
                  extra=extra)


def attach_profiler(server: Server, stem: Path, native: bool = False) -> Path | None:
    """Sample ``server`` with py-spy until it exits: collapsed stacks in ``stem.txt``."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        return None
    stem.parent.mkdir(parents=True, exist_ok=True)
    output = stem.with_suffix(".txt")
    log = open(stem.with_suffix(".py-spy.log"), "wb")
    watcher = subprocess.Popen([py_spy, "record", "--pid", str(server.pid), "--format", "raw",
                                "--rate", "250", "--nonblocking", "--output", str(output)]
                               + (["--native"] if native else []),
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    server.watchers.append(watcher)
    time.sleep(0.3)  # attached before the load starts
    return output


# --- openssl s_server -----------------------------------------------------------------

def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (from /proc/net/tcp, no connection made)."""
    wanted = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            return any(line.split()[1] == wanted and line.split()[3] == "0A" for line in f)
    except OSError:
        return False


def start_s_server(workdir: Path, certificate: Path, key: Path, name: str = "s_server") -> Server:
    """``openssl s_server -rev``: handshake, then a line back for the line sent.

    Like the other servers it loads no trust store (``-no-CAfile -no-CApath
    -no-CAstore``): given only its leaf certificate and OpenSSL 3's default
    store, it would search the system's certificate directory for a chain on
    every full handshake, about a fifth of its CPU time (README, "Why
    resumption gains little here").  -rev reports every connection on stderr
    (protocol, cipher lists, ...): written to a file that costs it a good
    part of its CPU time, so its stdout and stderr go to /dev/null, and the
    harness finds the port open in /proc/net/tcp.  If it does not start, it
    is run once more with its stderr kept, for the error.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    log_file = workdir / "s_server.log"
    for _attempt in range(5):
        port = _free_port()
        command = ["openssl", "s_server", "-rev", "-accept", f"127.0.0.1:{port}",
                   "-cert", str(certificate), "-key", str(key),
                   "-no-CAfile", "-no-CApath", "-no-CAstore"]
        process = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   preexec_fn=_preexec)
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and not _listening(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None and _listening(port):
            return Server(name, process, log_file, tls_port=port,
                          greeting=GREETING_S_SERVER, probe=PROBE_LINE)
        if process.poll() is None:
            process.kill()
        process.wait()
    with open(log_file, "wb") as log:
        try:
            subprocess.run(command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=log, timeout=5)
        except subprocess.TimeoutExpired:
            pass
    raise ServerError(f"openssl s_server did not start; its log:\n{log_file.read_text(errors='replace')[-2000:]}")


def openssl_version() -> str:
    try:
        return subprocess.run(["openssl", "version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "openssl command not found"


# --- the minimal asyncio server ----------------------------------------------------------

def start_asyncio_baseline(workdir: Path, certificate: Path, key: Path, *,
                           uvloop: bool = False, backlog: int = 100,
                           name: str | None = None) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    log_file = workdir / ("asyncio-uvloop.log" if uvloop else "asyncio.log")
    command = [sys.executable, str(BENCH_DIR / "baseline_server.py"),
               "--certificate", str(certificate), "--key", str(key),
               "--backlog", str(backlog)] + (["--uvloop"] if uvloop else [])
    with open(log_file, "wb") as log:
        process = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, preexec_fn=_preexec,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    match = _wait_for_log(process, log_file, r"listening: tls (\d+) plain (\d+)",
                          "the asyncio baseline server")
    return Server(name or ("asyncio-uvloop" if uvloop else "asyncio"), process, log_file,
                  tls_port=int(match.group(1)), plain_port=int(match.group(2)),
                  greeting=GREETING_BASELINE)
