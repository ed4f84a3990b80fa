"""Where a handshake's or a command's CPU goes, library by library, sampled by perf.

    python -m bench libraries [--what handshake|command] [--servers driver,asyncio-uvloop]
                              [--window SECONDS] [--concurrency N] [--players N]
                              [--driver-root PATH] [--json]

Scenarios 1 and 3 say how much CPU a server spends per handshake and per
command; this says which code spent it.  Each server runs the scenario's
load (*handshake*: clients connecting, completing a full TLS 1.3 EC
handshake, reading the greeting and closing, again and again; *command*:
logged-in TLS players each sending a command a second and reading the
reply), and ``perf record`` samples the server process's CPU clock (a
software event: it works in virtual machines too) for a window.  ``perf report --sort dso`` splits the samples among the shared
objects they fell in: OpenSSL (``libcrypto``, ``libssl``), the Python
interpreter (``libpython``: every line of Python, and the C behind
builtins, dicts and objects), the kernel, libc, uvloop's ``loop`` module.
Each share is turned into microseconds per handshake (or per reply), so two
servers can be compared library by library: the same OpenSSL work should
cost the same, and what differs is what each server adds around it.

Samples are taken about 1,000 times a second, so a window of 6 s at some
1,500 handshakes a second gives each library's share to a percent or two;
CPU time itself drifts with the machine, so compare servers measured in the
same run.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from . import servers
from .client import client_context
from .scenarios import HandshakeLoop, Launcher, Players, Settings, login, make_certificates

#: samples per second of the server's CPU clock
FREQUENCY = 999
KINDS = ("driver", "driver-asyncio", "asyncio", "asyncio-uvloop")
_REPORT_LINE = re.compile(r"^\s*([\d.]+)%\s+(\d+)\s+(\S.*?)\s*$")


def available() -> bool:
    return shutil.which("perf") is not None


async def _record(server: servers.Server, perf_data: Path, window: float) -> None:
    """``perf record`` of ``server``'s CPU clock for ``window`` seconds."""
    perf = await asyncio.create_subprocess_exec(
        "perf", "record", "-q", "-e", "cpu-clock", "-F", str(FREQUENCY),
        "-o", str(perf_data), "-p", str(server.pid), "--", "sleep", str(window),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _out, err = await perf.communicate()
    if perf.returncode != 0:
        raise RuntimeError(f"perf record failed: {err.decode(errors='replace').strip()}")


async def _handshakes(server: servers.Server, perf_data: Path, concurrency: int,
                      warmup: float, window: float) -> int:
    """Handshakes completed while perf sampled ``server`` for ``window`` s."""
    async with HandshakeLoop(server, concurrency) as load:
        await asyncio.sleep(warmup)
        load.counting = True
        await _record(server, perf_data, window)
        load.counting = False
        return load.counted


async def _commands(server: servers.Server, perf_data: Path, players: int,
                    warmup: float, window: float) -> int:
    """Replies to ``players`` TLS players (a command a second each) while
    perf sampled ``server`` for ``window`` s."""
    clients: list = []
    await login(server, client_context(), players, 32, clients)
    playing = Players(clients, 1.0)
    playing.start()
    try:
        await asyncio.sleep(warmup)
        replies: list[float] = []
        playing.bucket = replies
        await _record(server, perf_data, window)
        playing.bucket = None
        return len(replies)
    finally:
        await playing.stop()
        for client in clients:
            client.abort()


def samples_by_library(perf_data: Path) -> dict[str, int]:
    """Samples per shared object (``perf report --sort dso``)."""
    report = subprocess.run(
        ["perf", "report", "-i", str(perf_data), "--sort", "dso", "-n", "--stdio", "-q",
         "-g", "none"], capture_output=True, text=True, timeout=300, check=True).stdout
    samples: dict[str, int] = {}
    for line in report.splitlines():
        match = _REPORT_LINE.match(line)
        if match:
            name = _library_name(match.group(3))
            samples[name] = samples.get(name, 0) + int(match.group(2))
    return samples


def _library_name(dso: str) -> str:
    """``libcrypto.so.3`` -> ``libcrypto``; ``loop.cpython-311-x86_64-linux-gnu.so`` -> ``loop``."""
    if dso.startswith("["):
        return dso  # [kernel.kallsyms], [vdso], [unknown]
    return re.sub(r"\.cpython-[^.]*$", "", dso.split(".so", 1)[0]) or dso


async def measure(what: str, kinds: list[str], driver_root: Path, out_dir: Path,
                  concurrency: int, players: int, warmup: float, window: float) -> list[dict]:
    settings = Settings.make(False, out_dir, driver_root)
    launcher = Launcher(settings, make_certificates(out_dir / "certs"))
    results = []
    for kind in kinds:
        perf_data = out_dir / f"{what}-{kind}.perf.data"
        server = launcher.start(kind, "ec")
        try:
            if what == "handshake":
                count = await _handshakes(server, perf_data, concurrency, warmup, window)
            else:
                count = await _commands(server, perf_data, players, warmup, window)
        finally:
            server.stop()
        samples = samples_by_library(perf_data)
        per_item = {name: taken / FREQUENCY * 1e6 / count
                    for name, taken in samples.items()} if count else {}
        results.append({"what": what, "server": kind, "count": count, "window_s": window,
                        "samples": samples, "us_per_item": per_item})
        total = sum(per_item.values())
        print(f"bench: libraries {what} {kind:15} {count} in the window, {total:.0f} µs of CPU "
              "each", file=sys.stderr, flush=True)
    return results


def table(results: list[dict], rows: int = 8) -> str:
    """µs of server CPU per handshake (or reply), by library, one column per
    server (and the first two servers' difference)."""
    totals: dict[str, float] = {}
    for result in results:
        for name, us in result["us_per_item"].items():
            totals[name] = totals.get(name, 0.0) + us
    names = sorted(totals, key=totals.get, reverse=True)
    shown, rest = names[:rows], names[rows:]
    pair = len(results) >= 2
    what = results[0]["what"] if results else "handshake"
    head = f"{'µs of CPU per ' + what:28}" + "".join(f"{r['server']:>16}" for r in results)
    lines = [head + (f"{'difference':>12}" if pair else "")]

    def row(label: str, values: list[float]) -> str:
        text = f"{label:28}" + "".join(f"{v:16.1f}" for v in values)
        return text + (f"{values[0] - values[1]:+12.1f}" if pair else "")

    for name in shown:
        lines.append(row(name, [r["us_per_item"].get(name, 0.0) for r in results]))
    if rest:
        lines.append(row("(others)", [sum(r["us_per_item"].get(n, 0.0) for n in rest)
                                      for r in results]))
    lines.append(row("total", [sum(r["us_per_item"].values()) for r in results]))
    return "\n".join(lines)


def main(args) -> int:
    if not available():
        print("bench: libraries needs perf: install the Debian package linux-perf",
              file=sys.stderr)
        return 2
    kinds = args.servers.split(",")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        print(f"bench: libraries: unknown server {unknown[0]!r} (one of {', '.join(KINDS)})",
              file=sys.stderr)
        return 2
    if args.what not in ("handshake", "command"):
        print("bench: libraries: --what takes handshake or command", file=sys.stderr)
        return 2
    out_dir = Path(args.out).resolve() if args.out else servers.BENCH_DIR / "out" / "libraries"
    out_dir.mkdir(parents=True, exist_ok=True)
    servers.raise_nofile_limit()
    try:
        results = asyncio.run(measure(args.what, kinds, Path(args.driver_root).resolve(),
                                      out_dir, args.concurrency, args.players, args.warmup,
                                      args.window))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"bench: libraries: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0 if all(r["count"] for r in results) else 1
