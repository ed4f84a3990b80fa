"""The report: ``RESULTS.md`` (tables of ratios against same-run baselines) and a plot."""

from __future__ import annotations

import datetime
import math
import os
import platform
import resource
import ssl
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

from . import servers

PLOT_NAME = "latency.png"
RATIO_PLOT_NAME = "ratios.png"

#: The targets, from a 2-core machine of this kind (EC P-256, full handshakes).
REFERENCE = {"s_server": 2060, "asyncio": 2150, "asyncio-uvloop": 2690}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(root: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "not a git tree"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_info(driver_root: Path, loop_name: str, command: str, quick: bool,
                 started: float) -> dict:
    return {
        "date": datetime.datetime.fromtimestamp(started, datetime.timezone.utc)
                .strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "openssl_python": ssl.OPENSSL_VERSION,
        "openssl_cli": servers.openssl_version(),
        "cpu": _cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "generator_loop": loop_name,
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "driver_root": str(driver_root),
        "driver_version": _git(driver_root),
        "command": command,
        "quick": quick,
    }


def _driver_loops(results: dict) -> str:
    """The loop each kind of driver said it ran on (results of older runs: unknown)."""
    loops = results.get("driver_loops") or {}
    if not loops:
        return "?"
    if len(set(loops.values())) == 1 and "driver-asyncio" not in loops:
        return next(iter(loops.values())) + " (the default)"
    return "; ".join(f"{kind}: {loop}" for kind, loop in sorted(loops.items()))


# --- formatting ---------------------------------------------------------------------------

def _num(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(a, b, digits: int = 2) -> str:
    if a is None or b is None or not b or (isinstance(a, float) and math.isnan(a)):
        return "–"
    return f"{a / b:.{digits}f}×"


def _lat(result: dict | None, key: str, digits: int = 1) -> str:
    if not result:
        return "–"
    return _num(result.get("latency", {}).get(key), digits)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _runs(results: dict, scenario: str) -> list[dict]:
    return [r for r in results["runs"] if r.get("scenario") == scenario]


def _find(runs: list[dict], **match) -> dict | None:
    for run in runs:
        if all(run.get(k) == v for k, v in match.items()):
            return run
    return None


def _errors(run: dict | None) -> int:
    if not run:
        return 0
    return sum((run.get("errors") or {}).values())


# --- sections -------------------------------------------------------------------------------

def _windows(runs: list[dict]) -> str:
    """How long each variant was measured: "6 s", or "6 s (tls13-ec) or 4 s (the others)"."""
    by_variant = {r["variant"]: round(r["window_s"]) for r in runs}
    lengths = sorted(set(by_variant.values()), reverse=True)
    if len(lengths) == 1:
        return f"{lengths[0]:.0f} s"
    longest = [v for v, w in by_variant.items() if w == lengths[0]]
    return f"{lengths[0]:.0f} s ({', '.join(longest)}) or {lengths[-1]:.0f} s (the others)"


def _handshake_section(results: dict, targets: list) -> list[str]:
    runs = _runs(results, "handshake")
    if not runs:
        return []
    variants = list(dict.fromkeys(r["variant"] for r in runs))
    lines = ["## 1. Handshake rate", "",
             f"{runs[0]['concurrency']} concurrent clients, each connecting, completing a full "
             "handshake (no resumption, unless the variant says *resumed*), reading the first "
             "line the server sends and closing, again and again for "
             f"{_windows(runs)} after a warm-up.  Handshakes per **server CPU-second** "
             "(user + system time of the server process) are the figure that counts: the load "
             "generator shares the cores.", ""]
    header = ["variant", "driver", "s_server", "asyncio", "asyncio + uvloop",
              "driver ÷ s_server", "driver ÷ asyncio", "driver ÷ asyncio + uvloop",
              "driver handshakes/s (wall)", "driver p50 / p99 ms", "driver CPU use"]
    rows = []
    for variant in variants:
        d = _find(runs, server="driver", variant=variant)
        s = _find(runs, server="s_server", variant=variant)
        a = _find(runs, server="asyncio", variant=variant)
        u = _find(runs, server="asyncio-uvloop", variant=variant)
        rate = lambda r: r.get("per_cpu_s") if r else None  # noqa: E731
        rows.append([variant, _num(rate(d)), _num(rate(s)), _num(rate(a)), _num(rate(u)),
                     _ratio(rate(d), rate(s)), _ratio(rate(d), rate(a)), _ratio(rate(d), rate(u)),
                     _num(d.get("per_wall_s")) if d else "–",
                     f"{_lat(d, 'p50_ms')} / {_lat(d, 'p99_ms')}",
                     f"{d['server_utilization']:.0%}" if d else "–"])
    lines += ["Handshakes per server CPU-second:", ""] + _table(header, rows) + [""]
    if any(variant.endswith("resumed") for variant in variants):
        lines += ["Why a resumed TLS 1.3 EC handshake saves the Python servers next to nothing, "
                  "and `openssl s_server` much more: `bench/README.md`, \"Why resumption gains "
                  "little here\".", ""]
    extra = [r for r in runs if r["server"] not in ("driver", *servers_baselines())]
    if extra:
        rows = []
        for run in extra:
            s = _find(runs, server="s_server", variant=run["variant"])
            d = _find(runs, server="driver", variant=run["variant"])
            rows.append([run["server"], run["variant"], _num(run.get("per_cpu_s")),
                         _ratio(run.get("per_cpu_s"), s.get("per_cpu_s") if s else None),
                         _ratio(run.get("per_cpu_s"), d.get("per_cpu_s") if d else None),
                         _num(run.get("per_wall_s")), _lat(run, "p99_ms")])
        lines += ["Other driver configurations (same run): *driver-shipped* greets with the "
                  "shipped mudlib's login (banner and \"What is your name?\"); *driver-asyncio* "
                  "is the same driver on asyncio's event loop (`server.event_loop: asyncio`), "
                  "where *driver* runs on its default.", ""]
        lines += _table(["server", "variant", "handshakes/CPU-s", "÷ s_server", "÷ driver",
                         "handshakes/s (wall)", "p99 ms"], rows) + [""]
    repeated = [r for r in runs if r.get("rounds", 1) > 1]
    if repeated:
        lines += ["Measured in several rounds (the median round is reported): " + "; ".join(
            f"{r['server']} {r['variant']} "
            + ", ".join(_num(x) for x in r.get("per_cpu_s_rounds", [])) for r in repeated) + ".", ""]
    anomalies = [r for r in runs if _errors(r) or (r["variant"].endswith("resumed")
                                                   and r.get("resumed_fraction", 0) < 0.95)]
    for run in anomalies:
        lines.append(f"- {run['server']} {run['variant']}: errors {run.get('errors')}, "
                     f"resumed {run.get('resumed_fraction', 0):.0%}")
    if anomalies:
        lines.append("")
    d = _find(runs, server="driver", variant="tls13-ec")
    s = _find(runs, server="s_server", variant="tls13-ec")
    if d and s and s.get("per_cpu_s"):
        ratio = d["per_cpu_s"] / s["per_cpu_s"]
        rounds = min(d.get("rounds", 1), s.get("rounds", 1))
        targets.append(("TLS 1.3 EC handshakes per server CPU-second ≥ 1.0× s_server (aim 1.3×)",
                        f"{ratio:.2f}× ({d['per_cpu_s']:,.0f} vs {s['per_cpu_s']:,.0f}"
                        + (f", median of {rounds} rounds" if rounds > 1 else "") + ")",
                        "met" if ratio >= 1.0 else f"missed by {(1.0 - ratio) * 100:.0f} %"
                        f" (needs {1 / ratio:.2f}× less CPU per handshake)"))
    u = _find(runs, server="asyncio-uvloop", variant="tls13-ec")
    best = max((r for r in (d, _find(runs, server="driver-asyncio", variant="tls13-ec")) if r),
               key=lambda r: r.get("per_cpu_s") or 0, default=None)
    if best and u and u.get("per_cpu_s"):
        ratio = best["per_cpu_s"] / u["per_cpu_s"]
        rounds = min(best.get("rounds", 1), u.get("rounds", 1))
        targets.append(("TLS 1.3 EC handshakes per server CPU-second, the driver on its best loop "
                        "≥ 1.0× asyncio + uvloop",
                        f"{ratio:.2f}× ({best['server']} {best['per_cpu_s']:,.0f} vs "
                        f"{u['per_cpu_s']:,.0f}"
                        + (f", median of {rounds} rounds" if rounds > 1 else "") + ")",
                        "met" if ratio >= 1.0 else f"missed by {(1.0 - ratio) * 100:.0f} %"
                        f" (needs {1 / ratio:.2f}× less CPU per handshake)"))
    ref = [f"{k} {_num(_find(runs, server=k, variant='tls13-ec').get('per_cpu_s'))} "
           f"(reference {v:,})" for k, v in REFERENCE.items()
           if _find(runs, server=k, variant="tls13-ec")]
    if ref:
        lines += ["Baselines against the reference machine (TLS 1.3, EC, handshakes per server "
                  "CPU-second): " + "; ".join(ref) + ".", ""]
    return lines


def servers_baselines() -> tuple[str, ...]:
    return ("s_server", "asyncio", "asyncio-uvloop")


def _storm_section(results: dict, targets: list) -> list[str]:
    runs = _runs(results, "storm")
    if not runs:
        return []
    players = runs[0]["players"]
    lines = ["## 2. Reconnect storm", "",
             f"{players:,} players reconnect at the same instant (TLS 1.3, EC).  *With tickets*: "
             "each first connected once and offers the session ticket it got; *full*: no "
             "ticket, full handshakes.  Times from the instant the connects are issued.", ""]
    header = ["server", "handshake", "all greeted (s)", "p50 s", "p99 s", "server CPU s",
              "generator CPU s", "resumed", "failed", "time ÷ s_server", "time ÷ asyncio",
              "server CPU ÷ s_server"]
    rows = []
    for tickets in (True, False):
        base_s = _find(runs, server="s_server", tickets=tickets)
        base_a = _find(runs, server="asyncio", tickets=tickets)
        for run in [r for r in runs if r["tickets"] == tickets]:
            last = run.get("all_greeted_s")
            rows.append([run["server"], "tickets" if tickets else "full",
                         _num(last, 2) if last is not None
                         else f"not all ({run['greeted']:,}/{run['players']:,})",
                         _num(run["latency"].get("p50_ms", math.nan) / 1000, 2),
                         _num(run["latency"].get("p99_ms", math.nan) / 1000, 2),
                         _num(run["server_cpu_s"], 2), _num(run.get("generator_cpu_s"), 2),
                         f"{run.get('resumed_fraction', 0):.0%}",
                         f"{run['players'] - run['greeted']:,}",
                         _ratio(last, base_s.get("all_greeted_s") if base_s else None),
                         _ratio(last, base_a.get("all_greeted_s") if base_a else None),
                         _ratio(run["server_cpu_s"], base_s.get("server_cpu_s") if base_s else None)])
    lines += _table(header, rows) + [""]
    lines += ["The generator's TLS work shares the two cores with the server, so the wall-clock "
              "time of a storm here is bounded by both; the server's CPU-seconds are what a "
              "server with clients elsewhere would need at least.  *asyncio-backlog* is the "
              "asyncio baseline with a listen backlog of 4096 instead of asyncio's default 100 "
              "(the driver's is `server.backlog`, 1024 by default): SYNs that find the accept queue full are dropped and sent "
              "again after 1 s, 3 s, ....", ""]
    d = _find(runs, server="driver", tickets=True)
    if d:
        last = d.get("all_greeted_s")
        if last is None:
            verdict = f"missed: {d['players'] - d['greeted']} never greeted"
        else:
            verdict = "met" if last < 3.0 else f"missed by {last - 3.0:.1f} s ({last / 3.0:.1f}× the target)"
        targets.append((f"reconnect storm of {players:,} with tickets: all greeted < 3 s",
                        f"{_num(last, 2)} s" if last is not None else "not all greeted", verdict))
    return lines


def _cpu_per_command(run: dict | None) -> float | None:
    """Server CPU µs per reply in a playing window."""
    if not run or not run.get("replies"):
        return None
    return run["server_cpu_s"] / run["replies"] * 1e6


def _playing_section(results: dict, targets: list) -> list[str]:
    runs = _runs(results, "playing")
    if not runs:
        return []
    players = runs[0]["players"]
    rate = runs[0].get("arrival_rate") or max(r.get("arrival_rate", 0) for r in runs)
    lines = ["## 3. Playing under a storm", "",
             f"{players:,} logged-in TLS players each send a command a second and time the "
             f"reply (an echo line); *storm*: new TLS handshakes arrive at {rate:,.0f}/s "
             "meanwhile (from a second generator process).  s_server serves one connection "
             "at a time and cannot take part.", ""]
    header = ["server", "storm", "replies", "p50 ms", "p99 ms", "max ms", "server CPU",
              "CPU µs per command", "CPU ÷ asyncio", "p99 ÷ asyncio", "p99 ÷ asyncio + uvloop",
              "storm handshakes done"]
    rows = []
    for storm in (False, True):
        a = _find(runs, server="asyncio", storm=storm)
        u = _find(runs, server="asyncio-uvloop", storm=storm)
        for run in [r for r in runs if r["storm"] == storm]:
            p99 = run["latency"].get("p99_ms")
            arrivals = run.get("arrivals") or {}
            done = (f"{arrivals.get('completed', 0):,}/{arrivals.get('launched', 0):,}"
                    if storm else "–")
            rows.append([run["server"], "storm" if storm else "quiet", f"{run['replies']:,}",
                         _lat(run, "p50_ms", 2), _lat(run, "p99_ms", 2), _lat(run, "max_ms", 1),
                         f"{run['server_utilization']:.0%}",
                         "–" if storm else _num(_cpu_per_command(run)),
                         "–" if storm else _ratio(_cpu_per_command(run), _cpu_per_command(a)),
                         _ratio(p99, a["latency"].get("p99_ms") if a else None),
                         _ratio(p99, u["latency"].get("p99_ms") if u else None), done])
    lines += _table(header, rows) + [""]
    lines += ["*CPU µs per command*: the server's CPU time in the quiet windows over the "
              "replies in them, so the driver's figure includes its whole path (TLS record, "
              "telnet, line, turn, the mudlib's process_input, reply) and its timers.  The quiet "
              "figures come from short windows taken in rounds, every server in turn while all "
              "of them hold their players, so that each is measured over the same minutes.  "
              "*driver-asyncio* is the driver with `server.event_loop: asyncio`; *driver* runs "
              "on its default.", ""]
    quiet = [r for r in runs if not r["storm"] and r.get("rounds_cpu_us")]
    a = _find(runs, server="asyncio", storm=False)
    if quiet:
        by_round = "; ".join(f"{r['server']} " + ", ".join(_num(x) for x in r["rounds_cpu_us"])
                             for r in quiet)
        lines += [f"CPU µs per command, round by round: {by_round}."]
        if a and a.get("rounds_cpu_us"):
            for r in quiet:
                if r["server"] in ("driver", "driver-asyncio"):
                    pairs = [_ratio(x, y) for x, y in zip(r["rounds_cpu_us"], a["rounds_cpu_us"])]
                    lines[-1] += f"  {r['server']} ÷ asyncio, round by round: {', '.join(pairs)}."
        lines += [""]
    a = _find(runs, server="asyncio", storm=False)
    for server in ("driver", "driver-asyncio"):
        d = _find(runs, server=server, storm=False)
        if d and a and _cpu_per_command(a):
            ratio = _cpu_per_command(d) / _cpu_per_command(a)
            targets.append((f"CPU per command, {players:,} players, {server} ≤ 1.2× asyncio",
                            f"{ratio:.2f}× ({_cpu_per_command(d):.0f} vs "
                            f"{_cpu_per_command(a):.0f} µs)",
                            "met" if ratio <= 1.2 else f"missed ({ratio / 1.2:.2f}× the target)"))
    d, s = _find(runs, server="driver", storm=True), _find(runs, server="asyncio", storm=True)
    if d and s and s["latency"].get("p99_ms"):
        ratio = d["latency"]["p99_ms"] / s["latency"]["p99_ms"]
        targets.append(("p99 reply under a storm ≤ 1.5× asyncio and < 10 ms",
                        f"{ratio:.2f}× ({d['latency']['p99_ms']:.2f} vs "
                        f"{s['latency']['p99_ms']:.2f} ms)",
                        "met" if ratio <= 1.5 and d["latency"]["p99_ms"] < 10 else "missed"))
    for storm, limit in ((False, 2.0), (True, 10.0)):
        d = _find(runs, server="driver", storm=storm)
        if d:
            p99 = d["latency"].get("p99_ms", math.nan)
            verdict = "met" if p99 < limit else f"missed by {p99 - limit:.1f} ms ({p99 / limit:.1f}× the target)"
            targets.append((f"p99 reply, {players:,} players, {'storm' if storm else 'no storm'}: "
                            f"< {limit:g} ms", f"{p99:.2f} ms", verdict))
    return lines


#: The memory scenario's kinds of connection, as the report names them.
MEMORY_CONNECTION_NAMES = {"tls": "TLS", "plain": "plain", "web": "web (TLS + WebSocket)"}


def _connection(run: dict) -> str:
    """A memory run's kind of connection: "tls", "plain" or "web" (results
    from before the web rows have only ``secure``)."""
    return run.get("connection") or ("tls" if run["secure"] else "plain")


def _memory_section(results: dict, targets: list) -> list[str]:
    runs = _runs(results, "memory")
    if not runs:
        return []
    lines = ["## 4. Memory", "",
             "RSS of the server process holding idle logged-in players (greeted, then silent), "
             "less its RSS before the first connection, per player.", ""]
    if any(_connection(r) == "web" for r in runs):
        lines += ["*web*: browser players on the driver's web port: TLS, an HTTP/1.1 upgrade "
                  "to a WebSocket on `/ws`, then the telnet stream in binary messages (the "
                  "greeting arrives in one), answering the driver's pings; that driver also "
                  "listens on a web port, the others do not.  The baselines have no web port: "
                  "the web rows are compared with the driver's own TLS telnet players of the "
                  "same count.", ""]
    header = ["server", "connection", "players", "RSS MiB", "KiB per player",
              "per player ÷ asyncio", "÷ driver TLS"]
    rows = []
    for run in runs:
        connection = _connection(run)
        base = next((r for r in runs if r["server"] == "asyncio"
                     and _connection(r) == connection and r["wanted"] == run["wanted"]), None)
        tls = next((r for r in runs if r["server"] == run["server"]
                    and _connection(r) == "tls" and r["wanted"] == run["wanted"]), None)
        per = run.get("per_player_bytes")
        rows.append([run["server"], MEMORY_CONNECTION_NAMES.get(connection, connection),
                     f"{run['players']:,}",
                     _num(run["rss_bytes"] / 2**20, 1), _num(per / 1024 if per else None, 1),
                     _ratio(per, base.get("per_player_bytes") if base else None),
                     _ratio(per, tls.get("per_player_bytes") if tls else None)
                     if run["server"].startswith("driver") else "–"])
    lines += _table(header, rows) + [""]
    web = [r for r in runs if r["server"] == "driver" and _connection(r) == "web"]
    if web:
        top = max(web, key=lambda r: r["players"])
        tls = next((r for r in runs if r["server"] == "driver" and _connection(r) == "tls"
                    and r["wanted"] == top["wanted"]), None)
        per, tls_per = top.get("per_player_bytes"), tls and tls.get("per_player_bytes")
        if per and tls_per:
            lines += [f"An idle web player costs the driver {per / 1024:.1f} KiB at "
                      f"{top['players']:,} players, {per / tls_per:.2f}× a TLS telnet "
                      f"player's ({tls_per / 1024:.1f} KiB, a difference of "
                      f"{(per - tls_per) / 1024:+.1f} KiB).", ""]
    notes = {r.get("note") for r in runs if r.get("note")}
    lines += [f"- {note}" for note in notes] + ([""] if notes else [])
    for connection, limit in (("tls", 38), ("plain", 20)):
        mine = [r for r in runs if r["server"] == "driver" and _connection(r) == connection]
        if mine:
            top = max(mine, key=lambda r: r["players"])
            per = (top.get("per_player_bytes") or 0) / 1024
            verdict = "met" if per <= limit else f"missed by {per - limit:.1f} KiB ({per / limit:.2f}× the target)"
            targets.append((f"RSS per idle {'TLS' if connection == 'tls' else 'plain'} player "
                            f"≤ {limit} KiB",
                            f"{per:.1f} KiB at {top['players']:,} players", verdict))
    tls = [r for r in runs if r["server"] == "driver" and _connection(r) == "tls"]
    if tls:
        most = max(r["players"] for r in tls)
        targets.append(("10,000 idle TLS players in one process", f"{most:,} held",
                        "met" if most >= 10000 else "not measured at 10,000 (see above)"))
    return lines


def _gc_section(results: dict, targets: list) -> list[str]:
    runs = _runs(results, "gc")
    if not runs:
        return []
    first = runs[0]
    lines = ["## 6. Collector pauses among thousands of players", "",
             f"{first['players']:,} TLS players each send a command a second and time the reply; "
             f"*arriving*: meanwhile {first['idle']:,} more TLS players log in, "
             f"{first.get('login_rate', 0):,.0f} a second; *connected*: then all of them stay "
             "(the new ones idle).  Full collections: the driver's generation-2 passes of the "
             "cyclic garbage collector in the window (from `mud_gc_pause_seconds`), their "
             "total time and the bucket bound the longest stayed under; middle collections: "
             "its generation-1 passes, the same way.  *Generator stall*: "
             "the load generator's own worst moment in the window (how late a 1 ms sleep of "
             "its event loop woke): a reply it was too busy to read counts as slow whatever "
             "the server did.", ""]
    header = ["server", "window", "replies", "p50 ms", "p99 ms", "max ms", "max ÷ asyncio",
              "server CPU", "middle collections", "their time ms", "longest <",
              "full collections", "their time ms", "longest <", "generator stall ms"]
    rows = []
    for run in runs:
        base = _find(runs, server="asyncio", phase=run["phase"])
        collections = []
        for generation in ("1", "2"):
            passes = (run.get("gc") or {}).get(generation)
            collections += [str(passes["count"]) if passes else "–",
                            _num(passes["total_ms"], 0) if passes else "–",
                            (f"{passes['worst_under_ms']:g} ms" if passes and
                             passes["worst_under_ms"] is not None else "–")]
        rows.append([run["server"], run["phase"], f"{run['replies']:,}", _lat(run, "p50_ms", 2),
                     _lat(run, "p99_ms", 2), _lat(run, "max_ms", 1),
                     _ratio(run["latency"].get("max_ms"),
                            base["latency"].get("max_ms") if base else None),
                     f"{run['server_utilization']:.0%}",
                     *collections,
                     _num(run.get("generator_worst_stall_ms"), 1)
                     if run.get("generator_worst_stall_ms") is not None else "–"])
    lines += _table(header, rows) + [""]
    for run in runs:
        if run["server"] == "driver":
            worst = run["latency"].get("max_ms", math.nan)
            targets.append((f"worst reply, {run['players']:,} playing + {run['idle']:,} "
                            f"{run['phase']}: < 20 ms", f"{worst:.1f} ms",
                            "met" if worst < 20 else f"missed ({worst / 20:.1f}× the target)"))
    return lines


HOSTILE_PHASES = {
    "quiet": "quiet",
    "burst": "command burst",
    "never_reader": "never-reading client",
    "iac_flood": "IAC flood",
    "idle": "idle connections",
    "password": "password guessing",
}


def _times(a, b) -> str:
    """a ÷ b as "1.4×" or, from 10 up, "589×"."""
    if a is None or not b:
        return "–"
    ratio = a / b
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:,.0f}×"


def _hostile_attack(run: dict) -> str:
    """What the attacker did, in a few words."""
    a = run.get("attack") or {}
    phase = run["phase"]
    if not a:
        return "–"
    if a.get("error"):
        return a["error"]
    if phase == "burst":
        return (f"{a.get('bursts', 0)} writes of {a.get('lines_per_burst', 0):,} lines"
                + (f" ({a['skipped']} held back: the last had not left)" if a.get("skipped") else ""))
    if phase == "never_reader":
        return (f"{_num(a.get('bytes_sent', 0) / 2**20, 1)} MiB of lines sent, "
                "their echo never read")
    if phase == "iac_flood":
        return (f"{_num(a.get('bytes_sent', 0) / 2**20, 1)} MiB of telnet commands sent "
                f"(at most {_num(a.get('rate', 0) / 2**20, 0)} MiB/s, as fast as the driver read)")
    if phase == "idle":
        return f"{a.get('opened', 0):,} connections opened, {a.get('still_open', 0):,} still open at the end"
    if phase == "password":
        return (f"{a.get('guesses', 0):,} guesses over {a.get('sessions', 0):,} connections; "
                f"{run.get('password_replies', 0):,} answered in the window")
    return "–"


def _hostile_section(results: dict, targets: list) -> list[str]:
    runs = _runs(results, "hostile")
    if not runs:
        return []
    first = next((r for r in runs if r.get("window_s")), runs[0])
    lines = ["## 5. One honest player under attack", "",
             f"One logged-in TLS player sends a command {first.get('rate', 20):g} times a second "
             "(whether or not the last was answered) and times each reply; meanwhile an attacker "
             f"(a process of its own) hurts the driver, for {first.get('window_s', 0):.0f} s per "
             "phase, each phase on a fresh driver.  The *password guessing* phase runs on the "
             "shipped mudlib (whose login checks passwords), with its own quiet phase on the same "
             "driver just before; the others on the benchmark mudlib.  *Replies* are answered of "
             "sent; a command unanswered "
             f"{first.get('grace_s', 0):g} s after the phase counts as lost, with the time it "
             "waited as its latency (≥: a lower bound).  RSS is the driver's VmRSS, sampled "
             "every 50 ms: at the start of the phase, its peak, and the growth between them.  "
             "What each attack is: `bench/README.md`.", ""]
    quiet = {r["server"]: r for r in runs if r["phase"] == "quiet"}
    header = ["phase", "server", "replies", "p50 ms", "p99 ms", "max ms", "p99 ÷ quiet p99",
              "RSS start MiB", "RSS peak MiB", "RSS growth MiB", "server CPU", "attack"]
    rows = []

    def mark(run: dict, key: str, digits: int = 1) -> str:
        text = _lat(run, key, digits)
        return ("≥ " + text) if run.get("lost") and text != "–" else text

    for run in runs:
        base = quiet.get(run["server"])
        p99 = run.get("latency", {}).get("p99_ms")
        quiet_p99 = base.get("latency", {}).get("p99_ms") if base else None
        mib = lambda key: _num(run[key] / 2**20, 1) if run.get(key) is not None else "–"  # noqa: E731
        replies = f"{run.get('received', 0):,}/{run.get('sent', 0):,}"
        if run.get("stalled"):
            replies += " (stalled)"
        if run.get("attack_error"):
            replies += " (no attack)"
        rows.append([HOSTILE_PHASES.get(run["phase"], run["phase"]), run["server"], replies,
                     mark(run, "p50_ms"), mark(run, "p99_ms"), mark(run, "max_ms"),
                     ("≥ " if run.get("lost") else "") + _times(p99, quiet_p99)
                     if run["phase"] != "quiet" else "1×",
                     mib("rss_start_bytes"), mib("rss_peak_bytes"), mib("rss_growth_bytes"),
                     f"{run['server_utilization']:.0%}" if run.get("server_utilization") is not None else "–",
                     "–" if run["phase"] == "quiet" else _hostile_attack(run)])
    lines += _table(header, rows) + [""]
    for run in runs:
        if run.get("error") or run.get("attack_error") or run.get("player_errors"):
            lines.append(f"- {HOSTILE_PHASES.get(run['phase'], run['phase'])} ({run['server']}): "
                         + "; ".join(str(x) for x in (run.get("error"), run.get("attack_error"),
                                                      run.get("player_errors")) if x))
    for run in runs:
        if run["phase"] == "password" and run.get("password_per_second_last") is not None:
            lines.append(f"- Password guessing: the guessers' passwords were answered "
                         f"{run['password_per_s_last']:.1f} times a second over the last "
                         f"{run['password_last_s']:.1f} s of the phase (per second: "
                         + ", ".join(str(n) for n in run["password_per_second_last"])
                         + "), all from 127.0.0.1; of those answers, real password checks "
                         + f"(\"Wrong password.\") came {run.get('password_checks_per_s_last', 0):.1f} "
                         + "times a second (per second: "
                         + ", ".join(str(n) for n in run.get("password_checks_per_second_last", []))
                         + "), the rest were refusals of throttled attempts.")
    for run in runs:
        if run["phase"] == "never_reader":
            lines.append(f"- Write-buffer cap (`connections.output_buffer` in the driver's "
                         f"configuration): {run.get('write_buffer_cap_note', '?')}.")
    lines.append("")
    for run in runs:
        phase = run["phase"]
        name = HOSTILE_PHASES.get(phase, phase)
        if phase == "quiet":
            continue
        base = quiet.get(run["server"])
        p99 = run.get("latency", {}).get("p99_ms")
        quiet_p99 = base.get("latency", {}).get("p99_ms") if base else None
        if run.get("attack_error"):
            measured, verdict = "not measured", run["attack_error"]
        elif p99 is None:
            measured, verdict = "not measured", "missed: " + (run.get("error") or "no replies")
        else:
            ratio = p99 / quiet_p99 if quiet_p99 else math.nan
            measured = (f"{'≥ ' if run.get('lost') else ''}{p99:.1f} ms, {_times(p99, quiet_p99)} quiet "
                        f"({quiet_p99:.1f} ms)" if quiet_p99 else f"{p99:.1f} ms")
            problems = []
            if run.get("lost"):
                problems.append(f"{run['lost']} of {run['sent']} replies lost")
            if not ratio <= 3.0:
                problems.append(f"{_times(p99, quiet_p99)} quiet")
            if not p99 < 50.0:
                problems.append(f"{p99 / 50.0:.1f}× 50 ms")
            verdict = "met" if not problems else "missed: " + ", ".join(problems)
        targets.append((f"{name}: honest p99 ≤ 3× quiet and < 50 ms", measured, verdict))
        if run.get("attack_error"):
            continue
        if phase == "never_reader" and run.get("rss_growth_bytes") is not None:
            growth = run["rss_growth_bytes"]
            cap = run.get("write_buffer_cap")
            if cap is None:
                verdict = run.get("write_buffer_cap_note") or "no cap configured"
            else:
                limit = cap + 2**20
                verdict = ("met" if growth <= limit else
                           f"missed by {(growth - limit) / 2**20:.1f} MiB")
            targets.append((f"{name}: RSS growth ≤ write-buffer cap + 1 MiB"
                            + (f" ({(cap + 2**20) / 2**20:.2f} MiB)" if cap is not None else ""),
                            f"+{growth / 2**20:.1f} MiB in {run.get('window_s', 0):.2g} s",
                            verdict))
        if phase == "password" and run.get("password_per_s_last") is not None:
            rate = run.get("password_checks_per_s_last", run["password_per_s_last"])
            targets.append(("password guessing: ≤ 1 password check per second per address once "
                            "throttled", f"{rate:.1f}/s from one address over the last "
                            f"{run['password_last_s']:.2g} s",
                            "met" if rate <= 1.0 else f"missed ({rate:.0f}× the target)"))
    return lines


# --- the plot -----------------------------------------------------------------------------------

def _cdf(ax, run: dict, label: str, scale: float = 1.0, **style) -> None:
    points = run.get("latency", {}).get("cdf_ms")
    if not points:
        return
    ax.plot([v * scale for _p, v in points], [p for p, _v in points], label=label, **style)


def plot(results: dict, path: Path) -> Path | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    colors = {"driver": "tab:red", "s_server": "tab:blue", "asyncio": "tab:green",
              "asyncio-uvloop": "tab:olive", "asyncio-backlog": "tab:cyan",
              "driver-shipped": "tab:purple", "driver-asyncio": "tab:orange"}
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    meta = results.get("meta", {})
    fig.suptitle(f"Game driver vs baselines, same run ({meta.get('date', '')}, "
                 f"{meta.get('cores', '?')} cores, {meta.get('cpu', '')})", fontsize=11)

    ax = axes[0][0]
    for run in _runs(results, "handshake"):
        if run["variant"] == "tls13-ec":
            _cdf(ax, run, f"{run['server']} ({run.get('per_cpu_s') or 0:,.0f}/CPU-s)",
                 color=colors.get(run["server"]))
    ax.set(xscale="log", xlabel="connect → first line (ms)", ylabel="percentile",
           title="1. Handshake latency, TLS 1.3 EC, 128 concurrent")

    ax = axes[0][1]
    for run in _runs(results, "playing"):
        _cdf(ax, run, f"{run['server']} {'storm' if run['storm'] else 'quiet'}",
             color=colors.get(run["server"]), linestyle="-" if run["storm"] else "--")
    ax.axvline(2, color="grey", linewidth=0.6, linestyle=":")
    ax.axvline(10, color="grey", linewidth=0.6, linestyle=":")
    ax.set(xscale="log", xlabel="command → reply (ms)", ylabel="percentile",
           title="3. Reply latency of logged-in players (targets: p99 2 ms / 10 ms)")

    ax = axes[1][0]
    for run in _runs(results, "storm"):
        _cdf(ax, run, f"{run['server']} {'tickets' if run['tickets'] else 'full'}",
             scale=1 / 1000, color=colors.get(run["server"]),
             linestyle="-" if run["tickets"] else "--")
    ax.axvline(3, color="grey", linewidth=0.6, linestyle=":")
    ax.set(xlabel="storm start → greeted (s)", ylabel="percentile",
           title="2. Reconnect storm: when each player is greeted (target 3 s)")

    ax = axes[1][1]
    runs = _runs(results, "memory")
    labels, values, bar_colors, hatches = [], [], [], []
    for run in runs:
        if run.get("per_player_bytes"):
            count = (f"{run['players'] // 1000}k" if run["players"] >= 1000
                     else str(run["players"]))
            labels.append(f"{run['server']}\n{MEMORY_CONNECTION_NAMES[_connection(run)].split()[0]}"
                          f"\n{count}")
            values.append(run["per_player_bytes"] / 1024)
            bar_colors.append(colors.get(run["server"], "grey"))
            hatches.append("//" if _connection(run) == "web" else "")
    ax.bar(range(len(values)), values, color=bar_colors, hatch=hatches)
    ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.axhline(38, color="grey", linewidth=0.6, linestyle=":")
    ax.axhline(20, color="grey", linewidth=0.6, linestyle=":")
    ax.set(ylabel="KiB per idle player", yscale="log",
           title="4. RSS per idle player (targets: TLS 38 KiB, plain 20 KiB; web hatched)")
    for ax in (axes[0][0], axes[0][1], axes[1][0]):
        ax.grid(True, which="both", alpha=0.3)
        ax.set_ylim(0, 100)
        if any(not line.get_label().startswith("_") for line in ax.lines):
            ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --- the picture at the top: every ratio against its target -------------------------------------

class Ratio(NamedTuple):
    """One figure of the driver as a ratio to a baseline of the same run."""

    label: str
    value: float
    #: the target's bound, if there is one, and which side of it is good
    target: float | None
    higher_is_better: bool


def ratios(results: dict) -> list[Ratio]:
    """The headline ratios of every scenario that ran, in the report's order."""
    found: list[Ratio] = []

    def add(label, a, b, target, higher):
        if a is not None and b:
            found.append(Ratio(label, a / b, target, higher))

    handshakes = _runs(results, "handshake")
    d = _find(handshakes, server="driver", variant="tls13-ec")
    for base, name, target in (("s_server", "s_server", 1.0),
                               ("asyncio-uvloop", "asyncio + uvloop", 1.0)):
        b = _find(handshakes, server=base, variant="tls13-ec")
        if d and b:
            add(f"handshakes per CPU-s ÷ {name}", d.get("per_cpu_s"), b.get("per_cpu_s"),
                target, True)
    da = _find(handshakes, server="driver-asyncio", variant="tls13-ec")
    b = _find(handshakes, server="asyncio-uvloop", variant="tls13-ec")
    if da and b:
        add("handshakes per CPU-s, driver on asyncio's loop ÷ asyncio + uvloop",
            da.get("per_cpu_s"), b.get("per_cpu_s"), 1.0, True)
    storms = _runs(results, "storm")
    d, b = _find(storms, server="driver", tickets=True), _find(storms, server="s_server", tickets=True)
    if d and b:
        add("reconnect storm time ÷ s_server", d.get("all_greeted_s"), b.get("all_greeted_s"),
            None, False)
    playing = _runs(results, "playing")
    for storm in (False, True):
        d, b = _find(playing, server="driver", storm=storm), _find(playing, server="asyncio", storm=storm)
        if d and b:
            if not storm:
                add("CPU per command ÷ asyncio", _cpu_per_command(d), _cpu_per_command(b),
                    1.2, False)
                da = _find(playing, server="driver-asyncio", storm=False)
                if da:
                    add("CPU per command, driver on asyncio's loop ÷ asyncio",
                        _cpu_per_command(da), _cpu_per_command(b), 1.2, False)
            else:
                add("p99 reply under a storm ÷ asyncio", d["latency"].get("p99_ms"),
                    b["latency"].get("p99_ms"), 1.5, False)
    memory = [r for r in _runs(results, "memory") if _connection(r) == "tls"]
    d = max((r for r in memory if r["server"] == "driver"), key=lambda r: r["players"], default=None)
    if d:
        b = _find(memory, server="asyncio", wanted=d["wanted"])
        if b:
            add("RSS per idle TLS player ÷ asyncio", d.get("per_player_bytes"),
                b.get("per_player_bytes"), None, False)
    collections = _runs(results, "gc")
    d = _find(collections, server="driver", phase="arriving")
    b = _find(collections, server="asyncio", phase="arriving")
    if d and b:
        add("worst reply while 10,000 log in ÷ asyncio", d["latency"].get("max_ms"),
            b["latency"].get("max_ms"), None, False)
    hostile = _runs(results, "hostile")
    quiet = {r["server"]: r for r in hostile if r["phase"] == "quiet"}
    for run in hostile:
        base = quiet.get(run["server"])
        if run["phase"] != "quiet" and base:
            add(f"p99 under {HOSTILE_PHASES.get(run['phase'], run['phase'])} ÷ quiet",
                run["latency"].get("p99_ms"), base["latency"].get("p99_ms"), 3.0, False)
    return found


def ratio_chart(results: dict, path: Path) -> Path | None:
    """One bar a ratio (log scale, 1× marked), its target as a black tick:
    green where the target is met, red where it is not, grey without one."""
    rows = ratios(results)
    if not rows:
        return None
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.4))
    for y, row in enumerate(rows):
        if row.target is None:
            color = "tab:gray"
        else:
            met = row.value >= row.target if row.higher_is_better else row.value <= row.target
            color = "tab:green" if met else "tab:red"
            ax.plot([row.target, row.target], [y - 0.4, y + 0.4], color="black", linewidth=2)
        ax.barh(y, row.value, color=color, left=0)
        ax.text(max(row.value, row.target or 0) * 1.06, y, f"{row.value:.2f}×", va="center",
                fontsize=8)  # right of the bar and of its target's tick
    ax.axvline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_yticks(range(len(rows)), [f"{r.label}  ({'higher' if r.higher_is_better else 'lower'}"
                                     " is better)" for r in rows], fontsize=8)
    ax.invert_yaxis()
    low = min(min(r.value for r in rows), 0.5)
    high = max(max(r.value for r in rows), max((r.target or 1) for r in rows)) * 1.6
    ax.set(xscale="log", xlim=(low / 1.5, high), xlabel="driver ÷ baseline, same run (log scale)")
    # The title over the whole figure: over the axes alone it is cut off
    # on the right, the labels taking the left half.
    fig.suptitle("Where the driver leads and trails (black tick: the target; "
                 "green: met, red: missed, grey: no ratio target)", fontsize=10)
    ax.set_xticks([t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500)
                   if low / 1.5 <= t <= high])
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --- the whole report ------------------------------------------------------------------------------

def write(results: dict, directory: Path) -> tuple[Path, Path | None]:
    directory.mkdir(parents=True, exist_ok=True)
    meta = results.get("meta", {})
    targets: list[tuple[str, str, str]] = []
    body = (_handshake_section(results, targets) + _storm_section(results, targets)
            + _playing_section(results, targets) + _memory_section(results, targets)
            + _hostile_section(results, targets) + _gc_section(results, targets))
    png = plot(results, directory / PLOT_NAME)
    chart = ratio_chart(results, directory / RATIO_PLOT_NAME)
    lines = ["# Benchmark results" + (" (quick run: small counts, short windows)"
                                       if meta.get("quick") else ""), "",
             f"Measured {meta.get('date', '?')} with `{meta.get('command', 'python -m bench run')}` "
             f"(driver `{meta.get('driver_version', '?')}`), in {results.get('elapsed_s', 0):.0f} s.", "",
             "| | |", "|---|---|",
             f"| CPU | {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores |",
             f"| kernel | Linux {meta.get('kernel', '?')} |",
             f"| Python | {meta.get('python', '?')} |",
             f"| OpenSSL | {meta.get('openssl_python', '?')} (Python); "
             f"{meta.get('openssl_cli', '?')} (s_server) |",
             f"| driver's event loop | {_driver_loops(results)} |",
             f"| load generator | one process on {meta.get('generator_loop', '?')}, "
             f"on the same cores |", "",
             "Every figure is measured in the same run as its baselines and given as a ratio to "
             "them, because absolute times drift on shared machines.  Baselines: "
             "`openssl s_server -rev` (OpenSSL's own loop; the client sends a line and gets it "
             "back reversed) and a minimal asyncio TLS server that greets and echoes "
             "(`bench/baseline_server.py`, on asyncio's loop and on uvloop's), all serving the "
             "same certificate.  How the harness works: `bench/README.md`.", ""]
    if chart is not None:
        lines += [f"![the driver's ratios to its baselines, with the targets]({chart.name})", ""]
    if targets:
        lines += ["## Targets", ""] + _table(["target", "measured", "verdict"],
                                             [list(t) for t in targets]) + [""]
    if png is not None:
        lines += [f"![latency distributions]({png.name})", ""]
    lines += body
    loads = [r["other_load"] for r in results["runs"] if r.get("other_load") is not None]
    if loads:
        lines += ["## The machine meanwhile", "",
                  "Cores kept busy by other work on the machine during the measured windows "
                  f"(from `/proc/stat`, less the server and the generator): mean "
                  f"{sum(loads) / len(loads):.2f}, max {max(loads):.2f} of "
                  f"{meta.get('cores', '?')}.  During scenario 3's storm this includes the "
                  "process that opens the storm's connections.  Ratios and per-CPU-second "
                  "figures are little affected; wall-clock times and latencies are.", ""]
    markdown = directory / "RESULTS.md"
    markdown.write_text("\n".join(lines).rstrip() + "\n")
    return markdown, png
