"""Machine instructions per command and per handshake, counted by callgrind.

    python -m bench instructions [--what command,handshake] [--servers driver,asyncio,...]
                                 [--driver-root PATH] [--window SECONDS] [--json]

CPU time on a shared machine moves by tens of percent from one minute to
the next; the instructions a server executes for one command do not.  Each
server runs under valgrind's callgrind with counting off
(``--instr-atstart=no``); the load starts, counting is switched on for a
window (``callgrind_control -i on``) and off again, and the instructions
counted are divided by the replies (or greetings) the load generator saw in
that window.  The figure is user-space instructions only: the kernel's
share (about a third of a command's CPU time here, for every server alike)
is not in it, and an instruction is not a fixed time.  What it is good for
is before and after: a change to the driver's command path that saves 10%
of its instructions shows as 10% here, in every run, where the CPU-time
scenarios would need many rounds to see it.

*command*: 40 logged-in TLS players, each sending a command twice a second
(the benchmark mudlib's echo, the baselines' echo); *handshake*: 4 clients
connecting, completing a full TLS 1.3 EC handshake, reading the greeting and
closing, again and again.  Under callgrind a server runs some fifty times
slower, which is why the load is light; it is the same for every server.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

from . import servers
from .client import client_context
from .scenarios import HandshakeLoop, Players, login, make_certificates

#: Servers that can run under callgrind: the driver on its default loop
#: (uvloop, where it is installed) and on asyncio's, and the asyncio baseline
#: on either loop.
KINDS = ("driver", "driver-asyncio", "asyncio", "asyncio-uvloop")
STARTUP = 300.0  # seconds: start-up under callgrind is slow


def available() -> bool:
    return shutil.which("valgrind") is not None and shutil.which("callgrind_control") is not None


def _start(kind: str, driver_root: Path, workdir: Path, certificate: Path, key: Path,
           out_file: Path) -> servers.Server:
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                f"--callgrind-out-file={out_file}"]
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    log_file = workdir / "server.log"
    old_timeout, servers.START_TIMEOUT = servers.START_TIMEOUT, STARTUP
    try:
        if kind.startswith("driver"):
            config = servers.write_driver_config(workdir, certificate, key, servers.BENCH_MUDLIB,
                                                 event_loop="asyncio" if kind == "driver-asyncio"
                                                 else None)
            command = valgrind + [sys.executable, str(driver_root / "driver.py"),
                                  "--config", str(config)]
            with open(log_file, "wb") as log:
                process = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL,
                                           stdout=log, stderr=log, preexec_fn=servers._preexec)
            match = servers._wait_for_log(
                process, log_file,
                r"listening: telnet on [^:]+:(\d+)(?:, TLS on [^:]+:(\d+))?(?=[^\n]*\n)",
                f"{kind} under callgrind")
            return servers.Server(kind, process, log_file, tls_port=int(match.group(2)),
                                  plain_port=int(match.group(1)))
        command = valgrind + [sys.executable, str(servers.BENCH_DIR / "baseline_server.py"),
                              "--certificate", str(certificate), "--key", str(key)]
        if kind == "asyncio-uvloop":
            command.append("--uvloop")
        with open(log_file, "wb") as log:
            process = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log, preexec_fn=servers._preexec)
        match = servers._wait_for_log(process, log_file, r"listening: tls (\d+) plain (\d+)",
                                      f"{kind} under callgrind")
        return servers.Server(kind, process, log_file, tls_port=int(match.group(1)),
                              plain_port=int(match.group(2)),
                              greeting=servers.GREETING_BASELINE)
    finally:
        servers.START_TIMEOUT = old_timeout


def _counting(server: servers.Server, on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(server.pid)],
                   capture_output=True, timeout=60)


def _instructions(out_file: Path, server: servers.Server) -> int:
    """Instructions counted so far (callgrind writes them when asked to dump)."""
    subprocess.run(["callgrind_control", "-d", str(server.pid)], capture_output=True,
                   timeout=60)
    total = 0
    for dump in out_file.parent.glob(out_file.name + "*"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
    return total


async def _commands(server: servers.Server, out_file: Path, window: float) -> tuple[int, int]:
    clients = []
    await login(server, client_context(), 40, 8, clients, timeout=STARTUP)
    players = Players(clients, 2.0)
    players.start()
    try:
        await asyncio.sleep(3.0)  # the first commands take the slow paths once
        bucket: list[float] = []
        _counting(server, True)
        players.bucket = bucket
        await asyncio.sleep(window)
        players.bucket = None
        _counting(server, False)
        return _instructions(out_file, server), len(bucket)
    finally:
        await players.stop()
        for client in clients:
            client.abort()


async def _handshakes(server: servers.Server, out_file: Path, window: float) -> tuple[int, int]:
    async with HandshakeLoop(server, 4, timeout=60.0) as load:
        await asyncio.sleep(4.0)
        _counting(server, True)
        load.counting = True
        await asyncio.sleep(window)
        load.counting = False
        _counting(server, False)
        return _instructions(out_file, server), load.counted


async def measure(kinds: list[str], what: list[str], driver_root: Path, out_dir: Path,
                  window: float) -> list[dict]:
    certs = make_certificates(out_dir / "certs")
    results = []
    for item in what:
        for kind in kinds:
            workdir = out_dir / f"{item}-{kind}"
            out_file = workdir / "callgrind.out"
            server = _start(kind, driver_root, workdir, certs["ec"].fullchain, certs["ec"].key,
                            out_file)
            try:
                run = _commands if item == "command" else _handshakes
                instructions, count = await run(server, out_file, window)
            finally:
                server.stop(timeout=120)
            results.append({"what": item, "server": kind, "instructions": instructions,
                            "count": count,
                            "per_item": instructions / count if count else None})
            print(f"bench: instructions {item:9} {kind:15} "
                  f"{instructions / count if count else float('nan'):>12,.0f} per {item} "
                  f"({count} in the window)", file=sys.stderr, flush=True)
    return results


def table(results: list[dict]) -> str:
    lines = []
    for item in dict.fromkeys(r["what"] for r in results):
        rows = [r for r in results if r["what"] == item]
        base = {r["server"]: r["per_item"] for r in rows}
        lines.append(f"instructions per {item} (user space, callgrind):")
        for r in rows:
            ratios = [f"÷ {b} {r['per_item'] / base[b]:.2f}×" for b in ("asyncio", "asyncio-uvloop")
                      if base.get(b) and r["per_item"] and b != r["server"]]
            lines.append(f"  {r['server']:15} {r['per_item'] or float('nan'):>12,.0f}   "
                         + "   ".join(ratios))
    return "\n".join(lines)


def main(args) -> int:
    if not available():
        print("bench: instructions needs valgrind (callgrind and callgrind_control): "
              "install the Debian package valgrind", file=sys.stderr)
        return 2
    kinds = args.servers.split(",") if args.servers else list(KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        print(f"bench: instructions: unknown server {unknown[0]!r} (one of {', '.join(KINDS)})",
              file=sys.stderr)
        return 2
    what = args.what.split(",")
    if any(w not in ("command", "handshake") for w in what):
        print("bench: instructions: --what takes command, handshake or both", file=sys.stderr)
        return 2
    out_dir = Path(args.out).resolve() if args.out else servers.BENCH_DIR / "out" / "instructions"
    servers.raise_nofile_limit()
    results = asyncio.run(measure(kinds, what, Path(args.driver_root).resolve(), out_dir,
                                  args.window))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results))
    return 0 if all(r["count"] for r in results) else 1



