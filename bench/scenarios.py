"""The five scenarios, each run against the driver and its baselines in turn.

Every scenario starts a fresh server process per measurement, drives it from
this process (or, for the arrivals that make a storm, from a second one) and
records the server's CPU time over the measured window.  Results are plain
dicts; ``report.py`` turns them into ratios, tables and a plot.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import ssl
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import trustme

from . import servers
from .client import Client, client_context, open_client
from .hostile import scenario_hostile
from .stats import median, summarize

REPO_ROOT = servers.BENCH_DIR.parent

# --- settings -------------------------------------------------------------------------

#: Handshake variants: name -> (certificate kind, highest TLS version, resume).
VARIANTS = {
    "tls13-ec": ("ec", ssl.TLSVersion.TLSv1_3, False),
    "tls12-ec": ("ec", ssl.TLSVersion.TLSv1_2, False),
    "tls13-rsa": ("rsa", ssl.TLSVersion.TLSv1_3, False),
    "tls12-rsa": ("rsa", ssl.TLSVersion.TLSv1_2, False),
    "tls13-ec-resumed": ("ec", ssl.TLSVersion.TLSv1_3, True),
    # Only with --variant: where resumption saves an expensive signature
    # (README, "Why resumption gains little here").
    "tls13-rsa-resumed": ("rsa", ssl.TLSVersion.TLSv1_3, True),
}

#: The variants of a full run (``make bench``); the others are asked for by name.
DEFAULT_VARIANTS = ("tls13-ec", "tls12-ec", "tls13-rsa", "tls12-rsa", "tls13-ec-resumed")

#: Servers: "driver" (benchmark mudlib), "driver-shipped" (the shipped mudlib's
#: login), "driver-asyncio" (server.event_loop: asyncio; "driver" runs the
#: driver's default, uvloop where it is installed), "s_server", "asyncio",
#: "asyncio-uvloop".
BASELINES = ("s_server", "asyncio", "asyncio-uvloop")


@dataclass
class Settings:
    quick: bool
    out_dir: Path
    driver_root: Path
    repeat: int = 1
    only_servers: tuple[str, ...] | None = None
    profile: bool = False  # sample each driver with py-spy
    profile_native: bool = False  # ... C frames too
    # scenario 1
    concurrency: int = 128
    hs_warmup: float = 0.75
    hs_duration: float = 6.0
    #: the window of the variants no target is about (every one but the
    #: headline pairs' variant): one round each, a few thousand handshakes
    hs_other_duration: float = 4.0
    hs_variants: tuple[str, ...] = DEFAULT_VARIANTS
    hs_extra: tuple[tuple[str, str], ...] = (("driver-shipped", "tls13-ec"),
                                             ("driver-asyncio", "tls13-ec"))
    #: the targets' pairs, measured in several rounds, taken in turn; the median
    #: round of each is reported
    hs_headline: tuple[tuple[str, str], ...] = (("driver", "tls13-ec"), ("s_server", "tls13-ec"),
                                                ("driver-asyncio", "tls13-ec"),
                                                ("asyncio-uvloop", "tls13-ec"))
    hs_headline_rounds: int = 3
    # scenario 2
    storm_players: int = 2000
    storm_timeout: float = 60.0
    #: between collecting the tickets and the storm: the server finishes
    #: closing the connections the tickets came from
    storm_settle: float = 0.5
    #: asyncio-backlog: the asyncio baseline with a listen backlog of 4096
    #: instead of asyncio's default 100 (the driver's is server.backlog, 1024).
    storm_servers: tuple[str, ...] = ("driver", "s_server", "asyncio", "asyncio-backlog")
    # scenario 3
    play_players: int = 1000
    play_rate: float = 1.0  # commands per player per second
    play_arrivals: float = 300.0  # new handshakes per second during the storm
    play_warmup: float = 2.0  # before the storm window
    play_window: float = 10.0  # the storm window
    #: the quiet windows: rounds, each server in turn, each this long after its warm-up
    play_rounds: int = 3
    play_round_warmup: float = 1.0
    play_round_window: float = 3.0
    play_servers: tuple[str, ...] = ("driver", "driver-asyncio", "asyncio", "asyncio-uvloop")
    # scenario 4
    memory_steps: tuple[int, ...] = (1000, 5000, 10000)
    memory_settle: float = 1.0  # seconds idle before RSS is read (telnet's timers: 0.5 s)
    # scenario 6 (gc)
    gc_players: int = 1000
    gc_idle: int = 10000
    gc_login_rate: float = 400.0  # idle players logging in per second, window "arriving"
    gc_warmup: float = 2.0
    gc_window: float = 12.0
    gc_servers: tuple[str, ...] = ("driver", "asyncio")
    # scenario 5
    hostile_rate: float = 20.0  # the honest player's commands per second
    hostile_warmup: float = 0.5
    hostile_window: float = 6.0  # each phase
    hostile_grace: float = 2.0  # after a phase, for replies still on their way
    hostile_burst_lines: int = 40000
    hostile_burst_interval: float = 1.0
    hostile_flood_rate: float = 8 * 2**20  # bytes/s the never-reader sends (echoed back)
    hostile_iac_rate: float = 4 * 2**20  # bytes/s of telnet commands, at most
    hostile_idle_connections: int = 1000
    hostile_guessers: int = 4

    @classmethod
    def make(cls, quick: bool, out_dir: Path, driver_root: Path, repeat: int = 1,
             only_servers: tuple[str, ...] | None = None) -> Settings:
        settings = cls(quick, out_dir, driver_root, repeat, only_servers)
        if quick:
            # Every scenario and every kind of server once, each window just
            # long enough to show the run works: under a minute.
            settings.hs_warmup = 0.2
            settings.hs_duration = settings.hs_other_duration = 0.8
            settings.hs_variants = ("tls13-ec",)
            settings.hs_extra = ()
            settings.hs_headline_rounds = 1
            settings.storm_players = 200
            settings.storm_timeout = 20.0
            settings.storm_settle = 0.2
            settings.storm_servers = ("driver", "s_server", "asyncio")
            settings.play_players = 100
            settings.play_warmup = 0.3
            settings.play_window = 1.5
            settings.play_rounds = 1
            settings.play_round_warmup = 0.3
            settings.play_round_window = 0.8
            settings.play_servers = ("driver", "asyncio")
            settings.memory_steps = (300,)
            settings.memory_settle = 0.4
            settings.gc_players = 100
            settings.gc_idle = 300
            settings.gc_login_rate = 400.0
            settings.gc_warmup = 0.3
            settings.gc_window = 1.0
            settings.hostile_warmup = 0.2
            settings.hostile_window = 0.8
            settings.hostile_grace = 0.2
        return settings

    def wants(self, server: str) -> bool:
        return self.only_servers is None or server in self.only_servers

    def servers_for(self, default: tuple[str, ...], exclude: tuple[str, ...] = ()) -> list[str]:
        """The scenario's servers, or those named with --servers (less ``exclude``)."""
        chosen = self.only_servers if self.only_servers is not None else default
        return [k for k in chosen if k not in exclude]


# --- certificates ------------------------------------------------------------------------

@dataclass
class CertFiles:
    kind: str
    fullchain: Path
    key: Path
    ca: Path


def make_certificates(directory: Path) -> dict[str, CertFiles]:
    """An EC P-256 and an RSA-2048 server certificate for localhost, from trustme."""
    made = {}
    for kind, key_type in (("ec", trustme.KeyType.ECDSA), ("rsa", trustme.KeyType.RSA)):
        where = directory / kind
        where.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(key_type=key_type, organization_name="Bench CA")
        leaf = ca.issue_cert("localhost", "127.0.0.1", key_type=key_type)
        files = CertFiles(kind, where / "fullchain.pem", where / "privkey.pem", where / "ca.pem")
        files.fullchain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(files.key))
        ca.cert_pem.write_to_path(str(files.ca))
        made[kind] = files
    return made


# --- starting servers --------------------------------------------------------------------------

class Launcher:
    def __init__(self, settings: Settings, certs: dict[str, CertFiles]) -> None:
        self.settings = settings
        self.certs = certs
        self.count = 0
        #: kind of driver -> the event loop it said it runs on
        self.driver_loops: dict[str, str] = {}

    def start(self, kind: str, cert_kind: str = "ec", *,
              exempt_loopback: bool = True, metrics: bool = False,
              web: bool = False) -> servers.Server:
        self.count += 1
        workdir = self.settings.out_dir / "run" / f"{self.count:03d}-{kind}-{cert_kind}"
        cert = self.certs[cert_kind]
        if kind in ("driver", "driver-shipped", "driver-asyncio"):
            server = servers.start_driver(self.settings.driver_root, workdir, cert.fullchain,
                                          cert.key, shipped_mudlib=kind == "driver-shipped",
                                          event_loop=("asyncio" if kind == "driver-asyncio"
                                                      else None),
                                          name=kind,
                                          exempt_loopback=exempt_loopback, metrics=metrics,
                                          web=web)
            if "event_loop" in server.extra:
                self.driver_loops[kind] = server.extra["event_loop"]
            if self.settings.profile:
                profile_dir = self.settings.out_dir / "profile"
                servers.attach_profiler(server, profile_dir / f"{self.count:03d}-{kind}-{cert_kind}",
                                        native=self.settings.profile_native)
            return server
        if kind == "s_server":
            return servers.start_s_server(workdir, cert.fullchain, cert.key)
        if kind in ("asyncio", "asyncio-uvloop", "asyncio-backlog"):
            return servers.start_asyncio_baseline(workdir, cert.fullchain, cert.key,
                                                  uvloop=kind == "asyncio-uvloop",
                                                  backlog=4096 if kind == "asyncio-backlog" else 100,
                                                  name=kind)
        raise ValueError(f"unknown server {kind!r}")


def _gen_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_busy() -> float:
    """CPU-seconds the whole machine has been busy (all cores, every process)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / servers.CLOCK_TICKS


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"SSLError {exc.reason or exc}"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    return type(exc).__name__


CLIENT_ERRORS = (OSError, ssl.SSLError, TimeoutError, asyncio.TimeoutError, ConnectionError)


class HandshakeLoop:
    """``concurrency`` clients connecting to ``server``'s TLS port, each
    completing a full handshake, reading the greeting and closing, again and
    again, inside ``async with``; ``counted`` counts the greetings read
    while ``counting`` is set (for the tools that measure a window of it)."""

    def __init__(self, server: servers.Server, concurrency: int, timeout: float = 30.0) -> None:
        self.server = server
        self.concurrency = concurrency
        self.timeout = timeout
        self.counting = False
        self.counted = 0
        self._stop = False
        self._workers: list[asyncio.Task] = []

    async def __aenter__(self) -> HandshakeLoop:
        loop = asyncio.get_running_loop()
        self._workers = [loop.create_task(self._client()) for _ in range(self.concurrency)]
        return self

    async def __aexit__(self, *_exc) -> None:
        self._stop = True
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _client(self) -> None:
        context = client_context()
        while not self._stop:
            try:
                client, _started, _greeted = await open_client(
                    self.server.tls_port, context, greeting=self.server.greeting,
                    timeout=self.timeout)
            except CLIENT_ERRORS:
                await asyncio.sleep(0.05)
                continue
            if self.counting:
                self.counted += 1
            client.close()


def _window_start(server: servers.Server) -> tuple[float, float, float, float]:
    """What a measured window starts from: server and generator CPU, the
    machine's busy time, the clock."""
    return server.cpu_seconds(), _gen_cpu(), machine_busy(), perf_counter()


def _window_figures(server: servers.Server, started: tuple[float, float, float, float],
                    bucket: list[float]) -> dict:
    """Replies, CPU and the machine's other load over a window, and the
    latency of the replies timed in ``bucket``."""
    cpu0, gen0, busy0, start = started
    elapsed = perf_counter() - start
    cpu1, gen1, busy1 = server.cpu_seconds(), _gen_cpu(), machine_busy()
    return {
        "replies": len(bucket),
        "window_s": elapsed,
        "server_cpu_s": cpu1 - cpu0,
        "server_utilization": (cpu1 - cpu0) / elapsed,
        "generator_cpu_s": gen1 - gen0,
        "other_load": _other_load([busy0, busy1], cpu1 - cpu0, gen1 - gen0, elapsed),
        "latency": summarize(bucket),
    }


def _other_load(busy: list[float], server_cpu: float, generator_cpu: float,
                elapsed: float) -> float | None:
    """Cores kept busy by anything but the server and this generator (shared machines)."""
    if elapsed <= 0:
        return None
    return max(0.0, (busy[1] - busy[0] - server_cpu - generator_cpu) / elapsed)


async def _sleep_until(moment: float) -> None:
    delay = moment - perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- scenario 1: handshake rate ----------------------------------------------------------------

async def closed_loop(server: servers.Server, context: ssl.SSLContext, *, concurrency: int,
                      warmup: float, duration: float, resume: bool) -> dict:
    """``concurrency`` clients, each connecting, greeted, closing, again and again."""
    start = perf_counter()
    end = start + warmup + duration
    window: list[float] = [0.0, 0.0]
    cpu: list[float] = [0.0, 0.0]
    gen: list[float] = [0.0, 0.0]
    busy: list[float] = [0.0, 0.0]
    done: list[tuple[float, float]] = []  # (started, greeted)
    errors: Counter = Counter()
    resumed = [0, 0]  # resumed, total (in the window)

    async def worker() -> None:
        session = None
        while perf_counter() < end:
            try:
                client, started, greeted = await open_client(
                    server.tls_port, context, greeting=server.greeting, probe=server.probe,
                    session=session)
            except CLIENT_ERRORS as exc:
                errors[_error_name(exc)] += 1
                await asyncio.sleep(0.01)
                continue
            if resume:
                fresh = client.new_session
                if fresh is not None and fresh.has_ticket:
                    session = fresh
            if window[0] <= greeted <= (window[1] or end):
                done.append((started, greeted))
                resumed[0] += client.resumed
                resumed[1] += 1
            client.close()

    async def sampler() -> None:
        await _sleep_until(start + warmup)
        window[0], cpu[0], gen[0] = perf_counter(), server.cpu_seconds(), _gen_cpu()
        busy[0] = machine_busy()
        await _sleep_until(end)
        window[1], cpu[1], gen[1] = perf_counter(), server.cpu_seconds(), _gen_cpu()
        busy[1] = machine_busy()

    window[0] = end + 1  # nothing counts before the sampler opens the window
    await asyncio.gather(sampler(), *(worker() for _ in range(concurrency)))
    in_window = [(s, g) for s, g in done if window[0] <= g <= window[1]]
    elapsed = window[1] - window[0]
    server_cpu = cpu[1] - cpu[0]
    count = len(in_window)
    return {
        "handshakes": count,
        "window_s": elapsed,
        "server_cpu_s": server_cpu,
        "generator_cpu_s": gen[1] - gen[0],
        "per_cpu_s": count / server_cpu if server_cpu > 0 else None,
        "per_wall_s": count / elapsed if elapsed > 0 else None,
        "server_utilization": server_cpu / elapsed if elapsed > 0 else None,
        "other_load": _other_load(busy, server_cpu, gen[1] - gen[0], elapsed),
        "resumed_fraction": resumed[0] / resumed[1] if resumed[1] else 0.0,
        "errors": dict(errors),
        "latency": summarize([g - s for s, g in in_window]),
    }


async def scenario_handshake(settings: Settings, launcher: Launcher) -> list[dict]:
    plan: list[tuple[str, str]] = []
    for variant in settings.hs_variants:
        for server in ("driver", *BASELINES, "driver-shipped", "driver-asyncio"):
            named = settings.only_servers is not None and server in settings.only_servers
            if named or (settings.wants(server) and (
                    server in ("driver", *BASELINES) or (server, variant) in settings.hs_extra)):
                plan.append((server, variant))
    if not servers.openssl_available():
        _log("openssl not found: s_server baselines skipped")
        plan = [(s, v) for s, v in plan if s != "s_server"]
    # Every (server, variant) runs `repeat` times; the headline pairs run at
    # least `hs_headline_rounds` times, their extra rounds right after their
    # first, so that they see the same machine.
    runs: list[tuple[int, str, str]] = []
    for round_ in range(settings.repeat):
        for server_kind, variant in plan:
            runs.append((round_, server_kind, variant))
            headline = (server_kind, variant) in settings.hs_headline
            if round_ == 0 and headline and server_kind == plan_last_headline(plan, settings, variant):
                for extra in range(max(settings.repeat, settings.hs_headline_rounds) - settings.repeat):
                    for kind in [k for k, v in plan if v == variant and (k, v) in settings.hs_headline]:
                        runs.append((settings.repeat + extra, kind, variant))
    headline_variants = {v for _k, v in settings.hs_headline}
    results = []
    for round_, server_kind, variant in runs:
        cert_kind, version, resume = VARIANTS[variant]
        duration = (settings.hs_duration if variant in headline_variants
                    else settings.hs_other_duration)
        server = launcher.start(server_kind, cert_kind)
        try:
            result = await closed_loop(server, client_context(version),
                                       concurrency=settings.concurrency,
                                       warmup=settings.hs_warmup,
                                       duration=duration, resume=resume)
        finally:
            server.stop()
        result.update(scenario="handshake", server=server_kind, variant=variant,
                      round=round_, concurrency=settings.concurrency)
        _log(f"handshake {variant:17} {server_kind:15} "
             f"{result['per_cpu_s'] or 0:7.0f}/server-CPU-s {result['per_wall_s'] or 0:7.0f}/s "
             f"p99 {result['latency'].get('p99_ms', float('nan')):6.1f} ms "
             f"resumed {result['resumed_fraction']:.0%} errors {sum(result['errors'].values())}")
        results.append(result)
    if len(runs) > len({(k, v) for _r, k, v in runs}):
        results = _median_of_rounds(results)
    return results


def plan_last_headline(plan: list[tuple[str, str]], settings: Settings, variant: str) -> str | None:
    """The last headline server of ``variant`` in the plan (its extra rounds follow it)."""
    last = None
    for kind, v in plan:
        if v == variant and (kind, v) in settings.hs_headline:
            last = kind
    return last


def _median_of_rounds(results: list[dict]) -> list[dict]:
    """One result per (server, variant): the round with the median rate."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for result in results:
        groups.setdefault((result["server"], result["variant"]), []).append(result)
    chosen = []
    for group in groups.values():
        rate = median([r["per_cpu_s"] for r in group])
        pick = min(group, key=lambda r: abs((r["per_cpu_s"] or 0) - rate))
        pick = dict(pick, rounds=len(group), per_cpu_s_rounds=[r["per_cpu_s"] for r in group])
        chosen.append(pick)
    return chosen


# --- scenario 2: reconnect storm -----------------------------------------------------------------

async def _collect_sessions(server: servers.Server, context: ssl.SSLContext, count: int,
                            concurrency: int) -> list[ssl.SSLSession | None]:
    """One session per player, each from a connection of its own."""
    sessions: list[ssl.SSLSession | None] = [None] * count
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            try:
                client, _s, _g = await open_client(server.tls_port, context,
                                                   greeting=server.greeting, probe=server.probe)
            except CLIENT_ERRORS:
                continue
            sessions[index] = client.new_session
            client.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sessions


async def reconnect_storm(server: servers.Server, context: ssl.SSLContext, players: int,
                          tickets: bool, timeout: float, concurrency: int,
                          settle: float) -> dict:
    sessions: list = [None] * players
    if tickets:
        sessions = await _collect_sessions(server, context, players, concurrency)
    await asyncio.sleep(settle)  # the server finishes closing the first connections
    async def reconnect(session: ssl.SSLSession | None) -> tuple[bool, float]:
        client, _started, greeted = await open_client(
            server.tls_port, context, greeting=server.greeting, probe=server.probe,
            session=session, timeout=timeout)
        # Greeted players leave at once: s_server serves one connection at a
        # time and would never get to the next while this one stays.
        client.close()
        return client.resumed, greeted

    cpu0, gen0, busy0 = server.cpu_seconds(), _gen_cpu(), machine_busy()
    start = perf_counter()
    outcomes = await asyncio.gather(*(reconnect(session) for session in sessions),
                                    return_exceptions=True)
    finished = perf_counter()
    cpu1, gen1, busy1 = server.cpu_seconds(), _gen_cpu(), machine_busy()
    greeted, errors, resumed = [], Counter(), 0
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            errors[_error_name(outcome)] += 1
            continue
        was_resumed, at = outcome
        greeted.append(at - start)
        resumed += was_resumed
    return {
        "players": players,
        "tickets": tickets,
        "greeted": len(greeted),
        "all_greeted_s": max(greeted) if len(greeted) == players else None,
        "last_greeted_s": max(greeted) if greeted else None,
        "elapsed_s": finished - start,
        "server_cpu_s": cpu1 - cpu0,
        "generator_cpu_s": gen1 - gen0,
        "other_load": _other_load([busy0, busy1], cpu1 - cpu0, gen1 - gen0, finished - start),
        "resumed_fraction": resumed / len(greeted) if greeted else 0.0,
        "errors": dict(errors),
        "latency": summarize(greeted),
    }


async def scenario_storm(settings: Settings, launcher: Launcher) -> list[dict]:
    kinds = settings.servers_for(settings.storm_servers)
    if not servers.openssl_available():
        kinds = [k for k in kinds if k != "s_server"]
    results = []
    context = client_context()
    for tickets in (True, False):
        for kind in kinds:
            server = launcher.start(kind, "ec")
            try:
                result = await reconnect_storm(server, context, settings.storm_players,
                                               tickets, settings.storm_timeout,
                                               settings.concurrency, settings.storm_settle)
            finally:
                server.stop()
            result.update(scenario="storm", server=kind, variant="tls13-ec")
            _log(f"storm {'tickets' if tickets else 'full':8} {kind:15} "
                 f"{result['greeted']}/{result['players']} greeted, last at "
                 f"{result['last_greeted_s'] or float('nan'):.2f} s, p50 "
                 f"{result['latency'].get('p50_ms', float('nan')):.0f} ms, server CPU "
                 f"{result['server_cpu_s']:.2f} s, resumed {result['resumed_fraction']:.0%}")
            results.append(result)
    return results


# --- scenario 3: playing under a storm -----------------------------------------------------------

async def login(server: servers.Server, context: ssl.SSLContext | None, count: int,
                concurrency: int, clients: list[Client], timeout: float = 30.0,
                web: bool = False) -> Counter:
    """Open connections until ``clients`` holds ``count``; returns the errors.

    ``web``: browser players on the driver's web port (TLS, WebSocket upgrade,
    telnet in binary messages) instead of telnet ones."""
    if web:
        port = server.web_port
    else:
        port = server.tls_port if context is not None else server.plain_port
    errors: Counter = Counter()
    wanted = count - len(clients)
    tickets = iter(range(wanted))

    async def worker() -> None:
        for _ in tickets:
            for _attempt in range(3):
                try:
                    client, _s, _g = await open_client(port, context, greeting=server.greeting,
                                                       probe=server.probe, timeout=timeout,
                                                       web=web)
                except CLIENT_ERRORS as exc:
                    errors[_error_name(exc)] += 1
                    continue
                clients.append(client)
                break

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


async def login_paced(server: servers.Server, context: ssl.SSLContext | None, count: int,
                      rate: float, clients: list[Client], timeout: float = 60.0) -> Counter:
    """Open ``count`` connections, ``rate`` a second whatever the server's
    speed; greeted ones are added to ``clients``.  Returns the errors."""
    port = server.tls_port if context is not None else server.plain_port
    errors: Counter = Counter()
    tasks: set[asyncio.Task] = set()

    async def one() -> None:
        try:
            client, _s, _g = await open_client(port, context, greeting=server.greeting,
                                               probe=server.probe, timeout=timeout)
        except CLIENT_ERRORS as exc:
            errors[_error_name(exc)] += 1
            return
        clients.append(client)

    loop = asyncio.get_running_loop()
    start = perf_counter()
    launched = 0
    while launched < count:
        due = min(count, int((perf_counter() - start) * rate) + 1) - launched
        for _ in range(due):
            task = loop.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        launched += due
        await asyncio.sleep(0.005)
    if tasks:
        await asyncio.wait(tasks, timeout=timeout + 5)
    return errors


class Players:
    """Logged-in players, each sending a command a second and timing the reply."""

    def __init__(self, clients: list[Client], rate: float) -> None:
        self.clients = clients
        self.period = 1.0 / rate
        self.bucket: list[float] | None = None
        self.errors: Counter = Counter()
        self.stopping = False
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self.tasks = [asyncio.get_running_loop().create_task(self._play(i, c))
                      for i, c in enumerate(self.clients)]

    async def stop(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _play(self, index: int, client: Client) -> None:
        due = perf_counter() + random.random() * self.period
        seq = 0
        while not self.stopping:
            await _sleep_until(due)
            seq += 1
            token = b"c%d.%d" % (index, seq)
            bucket = self.bucket
            waiter = client.expect(b"echo " + token + b"\r\n")
            sent = perf_counter()
            try:
                client.send(token + b"\r\n")
                async with asyncio.timeout(10.0):
                    replied = await waiter
            except CLIENT_ERRORS as exc:
                self.errors[_error_name(exc)] += 1
                return
            if bucket is not None:
                bucket.append(replied - sent)
            due += self.period
            now = perf_counter()
            if due < now:
                due = now

    async def measure(self, server: servers.Server, warmup: float, window: float) -> dict:
        await asyncio.sleep(warmup)
        bucket: list[float] = []
        started = _window_start(server)
        self.bucket = bucket
        await asyncio.sleep(window)
        self.bucket = None
        # during a storm other_load includes the arrivals process
        return _window_figures(server, started, bucket)


def _start_arrivals(server: servers.Server, rate: float, duration: float,
                    hold: bool = False) -> subprocess.Popen:
    """The arrivals process: ``rate`` new TLS players a second for
    ``duration`` seconds; with ``hold`` they stay connected until its stdin
    is closed (it prints its result first)."""
    command = [sys.executable, "-m", "bench", "arrivals", "--port", str(server.tls_port),
               "--rate", str(rate), "--duration", str(duration),
               "--greeting", server.greeting.decode("latin-1")]
    if server.probe:
        command += ["--probe", server.probe.decode("latin-1")]
    if hold:
        command.append("--hold")
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE if hold else subprocess.DEVNULL,
                            preexec_fn=servers.raise_nofile_limit)


async def _quiet_rounds(kinds: dict, settings: Settings) -> dict[str, dict]:
    """Every server's quiet figures from ``play_rounds`` short windows each,
    taken in turn (driver, baseline, driver, baseline, ...), so that every
    server is measured over the same minutes of a shared machine: a window
    is only as good as what else ran then, and what else runs drifts."""
    windows: dict[str, list[tuple[dict, list[float]]]] = {kind: [] for kind in kinds}
    errors: dict[str, Counter] = {kind: Counter() for kind in kinds}
    for _round in range(settings.play_rounds):
        for kind, (server, clients, _login_errors) in kinds.items():
            players = Players(clients, settings.play_rate)
            players.start()
            await asyncio.sleep(settings.play_round_warmup)
            bucket: list[float] = []
            started = _window_start(server)
            players.bucket = bucket
            await asyncio.sleep(settings.play_round_window)
            players.bucket = None
            windows[kind].append((_window_figures(server, started, bucket), bucket))
            await players.stop()
            errors[kind].update(players.errors)
    quiet = {}
    for kind, measured in windows.items():
        figures = [f for f, _ in measured]
        pooled = [x for _, bucket in measured for x in bucket]
        elapsed = sum(f["window_s"] for f in figures)
        cpu = sum(f["server_cpu_s"] for f in figures)
        loads = [f["other_load"] for f in figures if f["other_load"] is not None]
        quiet[kind] = {
            "replies": len(pooled), "window_s": elapsed, "server_cpu_s": cpu,
            "server_utilization": cpu / elapsed if elapsed else 0.0,
            "generator_cpu_s": sum(f["generator_cpu_s"] for f in figures),
            "other_load": sum(loads) / len(loads) if loads else None,
            "latency": summarize(pooled),
            #: server CPU µs per reply, window by window
            "rounds_cpu_us": [f["server_cpu_s"] / f["replies"] * 1e6 if f["replies"] else None
                              for f in figures],
            "storm": False, "player_errors": dict(errors[kind]),
        }
    return quiet


async def scenario_playing(settings: Settings, launcher: Launcher) -> list[dict]:
    # s_server serves one connection at a time: it cannot hold players.
    kinds = settings.servers_for(settings.play_servers, exclude=("s_server",))
    results = []
    context = client_context()
    running: dict[str, tuple[servers.Server, list[Client], Counter]] = {}
    try:
        # All servers at once, each with its players logged in; they take
        # turns at being played on.
        for kind in kinds:
            server = launcher.start(kind, "ec")
            clients: list[Client] = []
            running[kind] = (server, clients, Counter())
            errors = await login(server, context, settings.play_players, settings.concurrency,
                                 clients)
            running[kind] = (server, clients, errors)
            if len(clients) < settings.play_players:
                _log(f"playing {kind}: only {len(clients)} of {settings.play_players} "
                     f"players logged in: {dict(errors)}")
        quiet = await _quiet_rounds(running, settings)
        for kind, (server, clients, errors) in running.items():
            players = Players(clients, settings.play_rate)
            players.start()
            storm_time = settings.play_warmup + settings.play_window
            arrivals = _start_arrivals(server, settings.play_arrivals, storm_time)
            storm = await players.measure(server, settings.play_warmup, settings.play_window)
            storm.update(storm=True, player_errors=dict(players.errors))
            loop = asyncio.get_running_loop()
            out, _ = await loop.run_in_executor(None, lambda: arrivals.communicate(timeout=120))
            try:
                storm["arrivals"] = json.loads(out.decode() or "{}")
            except ValueError:
                storm["arrivals"] = {"error": out.decode(errors="replace")[-500:]}
            await players.stop()
            for result in (quiet[kind], storm):
                result.update(scenario="playing", server=kind, variant="tls13-ec",
                              players=len(clients), rate=settings.play_rate,
                              arrival_rate=settings.play_arrivals if result["storm"] else 0,
                              login_errors=dict(errors))
                lat = result["latency"]
                per_command = "".join(f" {x:.0f}" for x in result.get("rounds_cpu_us", ())
                                      if x is not None)
                _log(f"playing {kind:15} {'storm' if result['storm'] else 'quiet':5} "
                     f"{len(clients)} players: p50 {lat.get('p50_ms', float('nan')):.2f} ms "
                     f"p99 {lat.get('p99_ms', float('nan')):.2f} ms max "
                     f"{lat.get('max_ms', float('nan')):.1f} ms, server CPU "
                     f"{result['server_utilization']:.0%}"
                     + (f"; CPU µs per command by round:{per_command}" if per_command else ""))
                results.append(result)
    finally:
        for server, clients, _errors in running.values():
            for client in clients:
                client.abort()
            server.stop()
    return results


async def arrivals_main(port: int, rate: float, duration: float, greeting: bytes,
                        probe: bytes | None, hold: bool = False) -> dict:
    """Open-loop handshakes: ``rate`` new connections a second, each greeted
    and closed; or, with ``hold``, kept open (idle players) until the
    caller closes this process's stdin, after the result is printed."""
    context = client_context()
    latencies: list[float] = []
    errors: Counter = Counter()
    tasks: set[asyncio.Task] = set()
    held: list[Client] = []

    async def one() -> None:
        try:
            client, started, greeted = await open_client(port, context, greeting=greeting,
                                                         probe=probe, timeout=60.0)
        except CLIENT_ERRORS as exc:
            errors[_error_name(exc)] += 1
            return
        latencies.append(greeted - started)
        if hold:
            held.append(client)
        else:
            client.close()

    loop = asyncio.get_running_loop()
    gen0 = _gen_cpu()
    start = perf_counter()
    launched = 0
    while True:
        elapsed = perf_counter() - start
        if elapsed >= duration:
            break
        due = int(elapsed * rate) - launched
        for _ in range(due):
            task = loop.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        launched += due
        await asyncio.sleep(0.002)
    for _ in range(round(duration * rate) - launched):  # the last one the clock cut off
        task = loop.create_task(one())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        launched += 1
    if tasks:
        await asyncio.wait(tasks, timeout=60 if hold else 15)
    result = {"launched": launched, "completed": len(latencies), "errors": dict(errors),
              "generator_cpu_s": _gen_cpu() - gen0, "latency": summarize(latencies),
              "login_s": perf_counter() - start}
    if hold:
        print(json.dumps(result), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # until the caller is done
        for client in held:
            client.abort()
    return result


# --- scenario 4: memory ------------------------------------------------------------------------

#: The memory scenario's kinds of connection: name -> (TLS, over the web port).
#: "web" is a browser's: TLS, an HTTP upgrade, then telnet in WebSocket
#: messages, on the driver's web port (the baselines have none).
MEMORY_CONNECTIONS = {"tls": (True, False), "plain": (False, False), "web": (True, True)}


async def memory_run(server: servers.Server, connection: str, steps: tuple[int, ...],
                     concurrency: int, settle: float) -> list[dict]:
    secure, web = MEMORY_CONNECTIONS[connection]
    context = client_context() if secure else None
    clients: list[Client] = []
    await asyncio.sleep(settle)
    rss0 = server.rss_bytes()
    rows = []
    try:
        for target in steps:
            started = time.monotonic()
            errors = await login(server, context, target, concurrency, clients, timeout=60,
                                 web=web)
            took = time.monotonic() - started
            await asyncio.sleep(settle)  # telnet negotiation timers run out (0.5 s)
            rss = server.rss_bytes()
            held = sum(1 for c in clients if not c.closed)
            rows.append({"players": held, "wanted": target, "rss_bytes": rss,
                         "rss0_bytes": rss0,
                         "per_player_bytes": (rss - rss0) / held if held else None,
                         "login_s": took, "errors": dict(errors)})
            _log(f"memory {server.name:15} {connection:5} {held:6} players: "
                 f"RSS {rss / 2**20:7.1f} MiB, "
                 f"{(rss - rss0) / max(held, 1) / 1024:6.1f} KiB per player, "
                 f"logged in in {took:.1f} s")
            if held < target:
                break
    finally:
        for client in clients:
            client.abort()
    return rows


async def scenario_memory(settings: Settings, launcher: Launcher) -> list[dict]:
    kinds = settings.servers_for(("driver", "asyncio"), exclude=("s_server",))
    limit = servers.raise_nofile_limit()
    steps = settings.memory_steps
    # Each player is a descriptor here and one in the server, plus a few spare.
    possible = limit - 64
    note = None
    if steps[-1] > possible:
        note = (f"RLIMIT_NOFILE hard limit is {limit}: at most {possible} players per "
                "process; larger steps were dropped")
        steps = tuple(s for s in steps if s <= possible) or (possible,)
        _log(note)
    results = []
    for kind in kinds:
        for connection, (secure, web) in MEMORY_CONNECTIONS.items():
            if web and not kind.startswith("driver"):
                continue  # only the driver has a web port
            # Only the web rows' driver listens on a web port: the others
            # are measured as they always were.
            server = launcher.start(kind, "ec", web=web)
            try:
                rows = await memory_run(server, connection, steps, settings.concurrency,
                                        settings.memory_settle)
            finally:
                server.stop()
            for row in rows:
                row.update(scenario="memory", server=kind, secure=secure,
                           connection=connection, note=note)
                results.append(row)
    return results


# --- scenario 6: collector pauses among thousands of players ---------------------------------

async def scrape_gc_pauses(server: servers.Server) -> dict[str, dict] | None:
    """The driver's ``mud_gc_pause_seconds`` histogram, by generation (None
    for a server without the metrics endpoint): count, sum and the
    cumulative count per bucket bound."""
    port = server.extra.get("metrics_port")
    if port is None:
        return None
    async with asyncio.timeout(10.0):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        body = await reader.read()
        writer.close()
    pauses: dict[str, dict] = {}
    for line in body.decode("latin-1").splitlines():
        if line.startswith("mud_gc_collected_objects_total{"):
            generation = line[line.index('"') + 1:line.rindex('"')]
            entry = pauses.setdefault(generation, {"count": 0, "sum": 0.0, "buckets": {}})
            entry["collected"] = int(float(line.rsplit(" ", 1)[1]))
            continue
        if not line.startswith("mud_gc_pause_seconds"):
            continue
        name_labels, value = line.rsplit(" ", 1)
        labels = dict(part.split("=", 1) for part in
                      name_labels[name_labels.index("{") + 1:-1].split(","))
        generation = labels["generation"].strip('"')
        entry = pauses.setdefault(generation, {"count": 0, "sum": 0.0, "buckets": {}})
        if name_labels.startswith("mud_gc_pause_seconds_bucket"):
            entry["buckets"][labels["le"].strip('"')] = float(value)
        elif name_labels.startswith("mud_gc_pause_seconds_count"):
            entry["count"] = int(float(value))
        elif name_labels.startswith("mud_gc_pause_seconds_sum"):
            entry["sum"] = float(value)
    return pauses


def gc_pauses_between(before: dict | None, after: dict | None) -> dict | None:
    """Collections per generation in a window: how many, their total time,
    and the bucket bound the longest of them stayed under."""
    if before is None or after is None:
        return None
    window = {}
    for generation, late in sorted(after.items()):
        early = before.get(generation, {"count": 0, "sum": 0.0, "buckets": {}})
        count = late["count"] - early["count"]
        worst = None
        for bound, cumulative in late["buckets"].items():
            if cumulative - early["buckets"].get(bound, 0.0) >= count:
                worst = bound  # the buckets come in ascending order
                break
        window[generation] = {"count": count, "total_ms": (late["sum"] - early["sum"]) * 1000,
                              "collected": late.get("collected", 0) - early.get("collected", 0),
                              "worst_under_ms": (float(worst) * 1000 if worst not in (None, "+Inf")
                                                 else None) if count else 0.0}
    return window


async def _players_window(players: Players, server: servers.Server, during) -> dict:
    """Time every reply while ``during`` (an awaitable) runs, with the
    driver's collections over the same window."""
    bucket: list[float] = []
    gc0 = await scrape_gc_pauses(server)
    started = _window_start(server)
    players.bucket = bucket
    lag = _LoopLag()
    probe = asyncio.get_running_loop().create_task(lag.watch())
    try:
        extra = await during
    finally:
        probe.cancel()
    players.bucket = None
    figures = _window_figures(server, started, bucket)
    gc1 = await scrape_gc_pauses(server)
    return {
        **figures,
        "gc": gc_pauses_between(gc0, gc1),
        "generator_worst_stall_ms": lag.worst * 1000.0,
        **(extra or {}),
    }


class _LoopLag:
    """The load generator's own worst stall: how late a 1 ms sleep of its
    event loop woke.  A reply the generator was too busy to read in time
    counts as a slow reply, whatever the server did."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def watch(self) -> None:
        while True:
            before = perf_counter()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, perf_counter() - before - 0.001)


async def scenario_gc(settings: Settings, launcher: Launcher) -> list[dict]:
    """Playing TLS players while many more log in and then sit idle: the
    worst replies, and the driver's garbage collections meanwhile.

    Window *arriving*: ``gc_players`` players play (a command a second
    each) while ``gc_idle`` more TLS players log in, ``gc_login_rate`` a
    second (open loop, as people arriving: the server's own speed does not
    pace them), so that the heap grows as a busy evening's would.  They come
    from a second process (``arrivals --hold``), which keeps them connected:
    this one only plays and times replies, so that its own handshakes never
    delay a reply it is timing.
    Window *connected*: the same players go on playing among all of them."""
    kinds = settings.servers_for(settings.gc_servers, exclude=("s_server",))
    limit = servers.raise_nofile_limit()
    if settings.gc_players + settings.gc_idle + 64 > limit:
        _log(f"gc: RLIMIT_NOFILE is {limit}: too few for {settings.gc_players} + "
             f"{settings.gc_idle} players; scenario skipped")
        return []
    results = []
    context = client_context()
    for kind in kinds:
        server = launcher.start(kind, "ec", metrics=True)
        playing: list[Client] = []
        players = None
        try:
            errors = await login(server, context, settings.gc_players, settings.concurrency,
                                 playing)
            players = Players(playing, settings.play_rate)
            players.start()
            await asyncio.sleep(settings.gc_warmup)
            rss0 = server.rss_bytes()

            # The arriving players come from a process of their own and stay
            # connected there, so this one only plays and times the replies.
            holder = _start_arrivals(server, settings.gc_login_rate,
                                     settings.gc_idle / settings.gc_login_rate, hold=True)

            async def arriving() -> dict:
                line = await asyncio.get_running_loop().run_in_executor(
                    None, holder.stdout.readline)
                try:
                    arrived = json.loads(line.decode() or "{}")
                except ValueError:
                    arrived = {"error": line.decode(errors="replace")[-500:]}
                idle_count[0] = arrived.get("completed", 0)
                return {"logins": idle_count[0], "login_s": arrived.get("login_s"),
                        "login_rate": settings.gc_login_rate,
                        "login_errors": arrived.get("errors", arrived.get("error"))}

            idle_count = [0]
            try:
                windows = [("arriving", await _players_window(players, server, arriving()))]
                windows.append(("connected", await _players_window(
                    players, server, asyncio.sleep(settings.gc_window))))
                rss1 = server.rss_bytes()
            finally:
                holder.stdin.close()
                try:
                    holder.wait(30)
                except subprocess.TimeoutExpired:
                    holder.kill()
                    holder.wait()
            await players.stop()
            for phase, result in windows:
                result.update(scenario="gc", server=kind, phase=phase, players=len(playing),
                              idle=idle_count[0], rate=settings.play_rate,
                              rss_before_bytes=rss0, rss_after_bytes=rss1,
                              player_errors=dict(players.errors),
                              player_login_errors=dict(errors))
                lat = result["latency"]
                middle, full = (result["gc"] or {}).get("1"), (result["gc"] or {}).get("2")
                _log(f"gc {kind:15} {phase:9} {len(playing)} playing + {idle_count[0]} idle: "
                     f"p50 {lat.get('p50_ms', float('nan')):.2f} ms "
                     f"p99 {lat.get('p99_ms', float('nan')):.2f} ms max "
                     f"{lat.get('max_ms', float('nan')):.1f} ms, server CPU "
                     f"{result['server_utilization']:.0%}, generator stall "
                     f"{result.get('generator_worst_stall_ms', float('nan')):.1f} ms"
                     + (f"; middle collections {middle['count']}, {middle['total_ms']:.0f} ms "
                        f"in all, worst < {middle['worst_under_ms']} ms" if middle else "")
                     + (f"; full collections {full['count']}, {full['total_ms']:.0f} ms "
                        f"in all, worst < {full['worst_under_ms']} ms, freed "
                        f"{full['collected']}" if full else ""))
                results.append(result)
        finally:
            if players is not None and not players.stopping:
                await players.stop()
            for client in playing:
                client.abort()
            server.stop()
    return results


SCENARIOS = {
    "handshake": scenario_handshake,
    "storm": scenario_storm,
    "playing": scenario_playing,
    "memory": scenario_memory,
    "hostile": scenario_hostile,
    "gc": scenario_gc,
}


async def run_scenarios(settings: Settings, names: list[str]) -> dict:
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    certs = make_certificates(settings.out_dir / "certs")
    launcher = Launcher(settings, certs)
    results: dict = {"runs": []}
    started = time.monotonic()
    for name in names:
        scenario_started = time.monotonic()
        _log(f"scenario {name} ...")
        results["runs"] += await SCENARIOS[name](settings, launcher)
        _log(f"scenario {name} took {time.monotonic() - scenario_started:.0f} s")
    results["elapsed_s"] = time.monotonic() - started
    results["driver_loops"] = launcher.driver_loops
    return results
