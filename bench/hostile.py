"""Scenario 5: one honest TLS player while an attacker hurts the driver.

The honest player sends a numbered command at a steady rate (open loop: the
next command leaves on time whether or not the last was answered) and times
each reply.  Each phase is measured on a fresh driver, and the attack runs in
a process of its own (``python -m bench attack``), so that its work does not
delay the honest player's clock:

* ``quiet``: no attack (the figures every other phase is divided by);
* ``burst``: one TLS connection writes 40,000 ``look`` lines in one write,
  and again every second (reading what comes back);
* ``never_reader``: one TLS connection sends long lines the driver echoes,
  and never reads its socket;
* ``iac_flood``: one plain telnet connection streams telnet commands (IAC
  NOP, IAC IAC, negotiations, subnegotiations) as fast as the driver takes
  them;
* ``idle``: 1,000 plain connections from 127.0.0.1, opened and held silent;
* ``password`` (shipped mudlib): 4 TLS connections guess wrong passwords for
  an existing character as fast as the login answers; the honest player is
  a character in the game, and its quiet figures are measured on the same
  driver just before.

Every wait has a deadline; an attack is stopped (SIGTERM, then SIGKILL) at the
end of its phase, and commands still unanswered after a grace period count
as lost, with the time they waited as a lower bound of their latency.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import ssl
import sys
from collections import Counter
from pathlib import Path
from time import perf_counter

from . import servers
from .client import Client, client_context
from .stats import summarize

CLIENT_ERRORS = (OSError, ssl.SSLError, TimeoutError, asyncio.TimeoutError, ConnectionError)

#: Phases in the order they run: (phase, server).
PHASES = (
    ("quiet", "driver"),
    ("burst", "driver"),
    ("never_reader", "driver"),
    ("iac_flood", "driver"),
    ("idle", "driver"),
    ("quiet", "driver-shipped"),
    ("password", "driver-shipped"),
)

#: The honest player's command and the reply that answers it, per mudlib.
HONEST_BENCH = (b"q%dz\r\n", re.compile(rb"echo q(\d+)z"))
HONEST_SHIPPED = (b"say q%dz\r\n", re.compile(rb"You say: q(\d+)z"))

#: Characters of the shipped mudlib: the one the guessers attack, the honest one.
VICTIM = (b"Victim", b"correct horse battery")
HONEST = (b"Honest", b"honest and true")


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


async def _sleep_until(moment: float) -> None:
    delay = moment - perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"SSLError {exc.reason or exc}"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    return type(exc).__name__


# --- connections ---------------------------------------------------------------------

class Sink(Client):
    """An attacker's connection: once ``discard`` is set (after the greeting),
    what arrives is counted and dropped; until then it is kept."""

    def __init__(self, context: ssl.SSLContext | None) -> None:
        super().__init__(context)
        self.discard = False
        self.received = 0
        self.arrived = asyncio.Event()
        #: what the last successful ``wait_for`` consumed, the needle included
        self.consumed = b""

    def _check(self) -> None:
        if self.needle is not None:  # waiting for the greeting
            super()._check()
            return
        if self.discard:
            self.received += len(self.buffer)
            self.buffer.clear()
        self.arrived.set()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.arrived.set()

    async def wait_for(self, needle: bytes, timeout: float) -> bool:
        """Until ``needle`` is in the buffer (consumed with all before it): True;
        False if the connection closes or ``timeout`` passes first."""
        deadline = perf_counter() + timeout
        while True:
            at = self.buffer.find(needle)
            if at >= 0:
                self.consumed = bytes(self.buffer[:at + len(needle)])
                del self.buffer[:at + len(needle)]
                return True
            left = deadline - perf_counter()
            if self.closed or left <= 0:
                return False
            self.arrived.clear()
            try:
                async with asyncio.timeout(left):
                    await self.arrived.wait()
            except TimeoutError:
                return False


class Honest(Client):
    """The honest player: replies are found by the number in them."""

    def __init__(self, context: ssl.SSLContext | None, pattern: re.Pattern) -> None:
        super().__init__(context)
        self.pattern = pattern
        self.scanning = False
        self.replies: dict[int, float] = {}

    def _check(self) -> None:
        if not self.scanning:
            super()._check()
            return
        buffer = self.buffer
        end = buffer.rfind(b"\n")
        if end < 0:
            if len(buffer) > 1 << 20:
                buffer.clear()
            return
        now = perf_counter()
        replies = self.replies
        for match in self.pattern.finditer(buffer, 0, end + 1):
            replies.setdefault(int(match.group(1)), now)
        del buffer[:end + 1]


async def connect(factory, port: int, greeting: bytes, timeout: float = 10.0):
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        _transport, client = await loop.create_connection(factory, "127.0.0.1", port)
        try:
            await client.expect(greeting)
        except BaseException:
            client.abort()
            raise
    return client


async def _expect(client: Client, needle: bytes, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        await client.expect(needle)


async def shipped_character(client: Client, name: bytes, password: bytes) -> None:
    """At the shipped login's "What is your name?": make the character and enter."""
    client.send(name + b"\r\n")
    await _expect(client, b"[y/n] ")
    client.send(b"y\r\n")
    await _expect(client, b"characters): ")
    client.send(password + b"\r\n")
    await _expect(client, b"Type it again: ")
    client.send(password + b"\r\n")
    await _expect(client, b"Welcome to")


# --- the honest player -----------------------------------------------------------------

class HonestPlayer:
    """Sends a numbered command every 1/rate s; replies are matched by number."""

    def __init__(self, client: Honest, command: bytes, rate: float) -> None:
        self.client = client
        self.command = command
        self.period = 1.0 / rate
        self.sent: dict[int, float] = {}
        self.errors: Counter = Counter()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.client.scanning = True
        self.client.buffer.clear()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        due = perf_counter()
        seq = 0
        while True:
            await _sleep_until(due)
            seq += 1
            self.sent[seq] = perf_counter()
            try:
                self.client.send(self.command % seq)
            except CLIENT_ERRORS as exc:
                self.errors[_error_name(exc)] += 1
                return
            due += self.period
            now = perf_counter()
            if due < now:  # late (the generator was busy): no catching up in a burst
                due = now

    def in_window(self, start: float, end: float) -> list[int]:
        return [seq for seq, at in self.sent.items() if start <= at < end]

    async def settle(self, seqs: list[int], deadline: float) -> None:
        """Until every command of ``seqs`` is answered, or ``deadline``."""
        replies = self.client.replies
        while perf_counter() < deadline and not self.client.closed:
            if all(seq in replies for seq in seqs):
                return
            await asyncio.sleep(0.02)

    def figures(self, seqs: list[int], cutoff: float) -> dict:
        """Latencies of ``seqs``; unanswered ones count as waited until ``cutoff``."""
        replies = self.client.replies
        answered = [replies[s] - self.sent[s] for s in seqs if s in replies]
        lost = [cutoff - self.sent[s] for s in seqs if s not in replies]
        return {"sent": len(seqs), "received": len(answered), "lost": len(lost),
                "latency": summarize(answered + lost),
                "latency_answered": {k: v for k, v in summarize(answered).items()
                                     if k != "cdf_ms"}}


class RssSampler:
    """VmRSS of the server every ``interval`` s while running."""

    def __init__(self, server: servers.Server, interval: float = 0.05) -> None:
        self.server = server
        self.interval = interval
        self.samples: list[int] = []
        self.task: asyncio.Task | None = None

    def _sample(self) -> None:
        try:
            self.samples.append(self.server.rss_bytes())
        except (OSError, servers.ServerError):
            pass

    def start(self) -> None:
        self._sample()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._sample()

    async def stop(self) -> dict:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self._sample()
        if not self.samples:
            return {}
        start, peak = self.samples[0], max(self.samples)
        return {"rss_start_bytes": start, "rss_peak_bytes": peak, "rss_end_bytes": self.samples[-1],
                "rss_growth_bytes": peak - start, "rss_samples": len(self.samples)}


# --- the write-buffer cap, from the server's configuration -------------------------------------

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000 ** 2, "mb": 1000 ** 2,
          "mib": 1024 ** 2, "g": 1000 ** 3, "gb": 1000 ** 3, "gib": 1024 ** 3}


def _bytes(value) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    match = re.fullmatch(r"\s*([\d.]+)\s*([a-zA-Z]*)\s*", str(value))
    if match and match.group(2).lower() in _UNITS:
        return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    return None


def write_buffer_cap(config: Path | None) -> tuple[int | None, str]:
    """``connections.output_buffer`` of a driver configuration: (bytes, as written)."""
    if config is None:
        return None, "no configuration"
    try:
        import yaml
        data = yaml.safe_load(config.read_text()) or {}
    except (OSError, ImportError, ValueError) as exc:
        return None, f"configuration not read ({type(exc).__name__})"
    section = data.get("connections") if isinstance(data, dict) else None
    value = section.get("output_buffer") if isinstance(section, dict) else None
    if value is None:
        return None, "no cap configured"
    cap = _bytes(value)
    return cap, (f"connections.output_buffer: {value}" if cap is not None
                 else f"connections.output_buffer: {value!r} not understood")


# --- one phase ---------------------------------------------------------------------------------

async def _start_attack(kind: str, server: servers.Server, settings, duration: float):
    port = server.plain_port if kind in ("iac_flood", "idle") else server.tls_port
    command = [sys.executable, "-m", "bench", "attack", "--kind", kind, "--port", str(port),
               "--duration", str(duration),
               "--greeting", server.greeting.decode("latin-1")]
    options = {
        "burst": ["--lines", str(settings.hostile_burst_lines),
                  "--interval", str(settings.hostile_burst_interval)],
        "never_reader": ["--rate", str(settings.hostile_flood_rate)],
        "iac_flood": ["--rate", str(settings.hostile_iac_rate)],
        "idle": ["--connections", str(settings.hostile_idle_connections)],
        "password": ["--connections", str(settings.hostile_guessers),
                     "--victim", VICTIM[0].decode()],
    }
    command += options[kind]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=servers.BENCH_DIR.parent, stdout=asyncio.subprocess.PIPE,
        start_new_session=True)
    try:
        async with asyncio.timeout(15):
            line = await process.stdout.readline()
    except TimeoutError:
        line = b""
    if not line.startswith(b"ready"):
        await _end_attack(process, 1.0)
        said = line.decode(errors="replace").strip() or "nothing within 15 s"
        raise RuntimeError(f"the attack did not start ({said})")
    return process


async def _end_attack(process, timeout: float = 5.0) -> dict:
    """SIGTERM; its report (JSON on stdout), or what is known if it does not give one."""
    if process.returncode is None:
        try:
            process.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        async with asyncio.timeout(timeout):
            out, _ = await process.communicate()
    except TimeoutError:
        try:
            process.kill()
        except ProcessLookupError:
            pass
        await process.wait()
        return {"error": "the attack did not stop within its deadline; killed"}
    try:
        return json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": out.decode(errors="replace")[-300:] or f"exit {process.returncode}"}


async def measure(server: servers.Server, player: HonestPlayer, settings, attack: str | None,
                  cap: tuple[int | None, str]) -> dict:
    """One measured window of the honest player, under ``attack`` (None: quiet)."""
    window, grace = settings.hostile_window, settings.hostile_grace
    process = None
    result: dict = {}
    if attack is not None:
        try:
            process = await _start_attack(attack, server, settings, window + 10)
        except (RuntimeError, OSError) as exc:
            result["attack_error"] = str(exc)
    sampler = RssSampler(server)
    cpu0 = server.cpu_seconds() if server.alive() else 0.0
    start = perf_counter()
    sampler.start()
    await asyncio.sleep(window)
    end = perf_counter()
    attack_stats: dict = {}
    if process is not None:
        attack_stats = await _end_attack(process)
    seqs = player.in_window(start, end)
    await player.settle(seqs, end + grace)
    cutoff = perf_counter()
    rss = await sampler.stop()
    cpu1 = server.cpu_seconds() if server.alive() else cpu0
    result.update(player.figures(seqs, cutoff))
    result.update(rss)
    result.update(
        window_s=end - start, grace_s=grace, rate=settings.hostile_rate,
        server_cpu_s=cpu1 - cpu0, server_utilization=(cpu1 - cpu0) / (cutoff - start),
        server_alive=server.alive(), attack=attack_stats,
        player_errors=dict(player.errors), honest_closed=player.client.closed,
        write_buffer_cap=cap[0], write_buffer_cap_note=cap[1])
    if attack == "password":
        times = sorted(attack_stats.get("reply_times", []))
        last_from = start + window / 2
        last = [t for t in times if last_from <= t < end]
        result["password_replies"] = len([t for t in times if start <= t < end])
        result["password_last_s"] = end - last_from
        result["password_per_s_last"] = len(last) / (end - last_from)
        seconds = max(1, round(end - last_from))
        per_second = Counter(min(int(t - last_from), seconds - 1) for t in last)
        result["password_per_second_last"] = [per_second.get(i, 0) for i in range(seconds)]
        checks = [t for t in sorted(attack_stats.get("check_times", [])) if last_from <= t < end]
        result["password_checks_per_s_last"] = len(checks) / (end - last_from)
        per_second = Counter(min(int(t - last_from), seconds - 1) for t in checks)
        result["password_checks_per_second_last"] = [per_second.get(i, 0) for i in range(seconds)]
        attack_stats.pop("reply_times", None)
        attack_stats.pop("check_times", None)
    result["stalled"] = bool(result["lost"] or result["honest_closed"]
                             or not result["server_alive"])
    return result


def _config_of(server: servers.Server) -> Path | None:
    config = server.extra.get("config")
    return Path(config) if config else None


async def run_phase_group(settings, launcher, server_kind: str, phases: list[str],
                          context: ssl.SSLContext) -> list[dict]:
    """A fresh server, the honest player logged in, then ``phases`` in turn."""
    server = launcher.start(server_kind, "ec")
    cap = write_buffer_cap(_config_of(server))
    shipped = server_kind == "driver-shipped"
    command, pattern = HONEST_SHIPPED if shipped else HONEST_BENCH
    player = None
    results = []
    try:
        if shipped:
            victim = await connect(lambda: Client(context), server.tls_port, server.greeting)
            await shipped_character(victim, *VICTIM)
            victim.send(b"quit\r\n")
            await asyncio.sleep(0.2)
            victim.close()
        honest = await connect(lambda: Honest(context, pattern), server.tls_port,
                               server.greeting)
        if shipped:
            await shipped_character(honest, *HONEST)
        await asyncio.sleep(0.2)
        player = HonestPlayer(honest, command, settings.hostile_rate)
        player.start()
        await asyncio.sleep(settings.hostile_warmup)
        for phase in phases:
            try:
                async with asyncio.timeout(settings.hostile_window + settings.hostile_grace + 25):
                    result = await measure(server, player, settings,
                                           None if phase == "quiet" else phase, cap)
            except TimeoutError:
                result = {"stalled": True, "error": "the phase passed its deadline",
                          "sent": 0, "received": 0, "lost": 0, "latency": {"n": 0}}
            result.update(scenario="hostile", phase=phase, server=server_kind,
                          variant="tls13-ec")
            results.append(result)
            _log_phase(result)
    except CLIENT_ERRORS as exc:
        _log(f"hostile {server_kind}: the honest player could not log in: {_error_name(exc)}")
        results.append({"scenario": "hostile", "phase": phases[0], "server": server_kind,
                        "stalled": True, "error": f"login failed: {_error_name(exc)}",
                        "sent": 0, "received": 0, "lost": 0, "latency": {"n": 0}})
    finally:
        if player is not None:
            await player.stop()
            player.client.abort()
        server.stop(timeout=3.0)
    return results


def _log_phase(result: dict) -> None:
    lat = result.get("latency", {})
    nan = float("nan")
    extra = ""
    if result.get("password_per_s_last") is not None:
        extra = (f", password replies {result['password_per_s_last']:.1f}/s, of them checks "
                 f"{result.get('password_checks_per_s_last', 0):.1f}/s in the last half")
    _log(f"hostile {result['phase']:12} {result['server']:14} "
         f"{result.get('received', 0)}/{result.get('sent', 0)} replies: "
         f"p50 {lat.get('p50_ms', nan):.1f} ms p99 {lat.get('p99_ms', nan):.1f} ms "
         f"max {lat.get('max_ms', nan):.0f} ms, RSS +"
         f"{result.get('rss_growth_bytes', 0) / 2**20:.1f} MiB, server CPU "
         f"{result.get('server_utilization', 0):.0%}{extra}"
         + (" STALLED" if result.get("stalled") else "")
         + (f" NO ATTACK: {result['attack_error']}" if result.get("attack_error") else ""))


async def scenario_hostile(settings, launcher) -> list[dict]:
    context = client_context()
    groups: list[tuple[str, list[str]]] = []
    for phase, kind in PHASES:
        if not settings.wants(kind):
            continue
        if kind == "driver-shipped" and groups and groups[-1][0] == kind:
            groups[-1][1].append(phase)  # the shipped quiet and password share a server
        else:
            groups.append((kind, [phase]))
    results = []
    for kind, phases in groups:
        results += await run_phase_group(settings, launcher, kind, phases, context)
    return results


# --- the attacks (python -m bench attack) ----------------------------------------------------------

IAC, SB, SE, NOP, WILL, WONT, DO, DONT = 255, 250, 240, 241, 251, 252, 253, 254
NAWS, TTYPE, GMCP, EOR, CHARSET = 31, 24, 201, 25, 42


def iac_block(size: int = 65536) -> bytes:
    """Bytes full of telnet commands: IAC NOP, IAC IAC (a data 0xFF), option
    negotiation, subnegotiations (NAWS, TTYPE IS, GMCP with a payload); one
    end of line at the end, so the block is a single (overlong) line and the
    driver's work is the telnet layer's, not commands'."""
    unit = b"".join([
        bytes([IAC, NOP]) * 8,
        bytes([IAC, IAC]) * 8,
        bytes([IAC, WILL, TTYPE, IAC, DO, EOR, IAC, WONT, NAWS, IAC, DONT, CHARSET]),
        bytes([IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]),
        bytes([IAC, SB, TTYPE, 0]) + b"xterm-256color" + bytes([IAC, SE]),
        bytes([IAC, SB, GMCP]) + b'Core.Hello {"client": "flood", "version": "1"}'
        + bytes([IAC, SE]),
        bytes([IAC, SB, NAWS, 0, 255, 255, 0, 24, IAC, SE]),  # an escaped 255 inside
    ])
    return (unit * (size // len(unit)))  + b"\r\n"


async def attack_main(kind: str, port: int, duration: float, greeting: bytes, *,
                      lines: int = 40000, interval: float = 1.0, rate: float = 4 << 20,
                      connections: int = 1000, victim: str = "Victim") -> dict:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.call_later(duration, stopping.set)
    context = client_context()
    stats: dict = {"kind": kind}
    errors: Counter = Counter()
    clients: list[Client] = []

    readied = []

    def ready(line: str = "ready") -> None:
        if not readied:
            readied.append(line)
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    async def paced(client: Sink, block: bytes, bytes_per_s: float) -> None:
        """``block`` after ``block`` at ``bytes_per_s``, never more than 256 KiB
        waiting in this process (a driver that stops reading stops the attack)."""
        sent, start = 0, perf_counter()
        transport = client.transport
        while not stopping.is_set() and not client.closed:
            if transport.get_write_buffer_size() < 256 * 1024 and \
                    sent <= (perf_counter() - start) * bytes_per_s:
                client.send(block)
                sent += len(block)
            await asyncio.sleep(0.005)
        stats["bytes_sent"] = sent
        stats["bytes_waiting_at_end"] = transport.get_write_buffer_size()

    try:
        if kind == "burst":
            client = await connect(lambda: Sink(context), port, greeting)
            client.discard = True
            clients.append(client)
            block = b"look\r\n" * lines
            ready()
            bursts = skipped = 0
            due = perf_counter()
            while not stopping.is_set() and not client.closed:
                if client.transport.get_write_buffer_size() < len(block):
                    client.send(block)
                    bursts += 1
                else:
                    skipped += 1  # the last burst has not left this process yet
                due += interval
                try:
                    async with asyncio.timeout(max(0.0, due - perf_counter())):
                        await stopping.wait()
                except TimeoutError:
                    pass
            stats.update(bursts=bursts, lines_per_burst=lines, skipped=skipped,
                         bytes_received=client.received, closed_by_server=client.closed)
        elif kind == "never_reader":
            client = await connect(lambda: Sink(context), port, greeting)
            clients.append(client)
            client.transport.pause_reading()
            line = b"x" * 4000 + b"\r\n"
            ready()
            await paced(client, line * 16, rate)
            stats.update(line_bytes=len(line), rate=rate, closed_by_server=client.closed)
        elif kind == "iac_flood":
            client = await connect(lambda: Sink(None), port, greeting)
            client.discard = True
            clients.append(client)
            ready()
            await paced(client, iac_block(), rate)
            stats.update(rate=rate, bytes_received=client.received,
                         closed_by_server=client.closed)
        elif kind == "idle":
            ready()
            opened: list = []
            started = perf_counter()
            pending = iter(range(connections))

            async def opener() -> None:
                for _ in pending:
                    if stopping.is_set():
                        return
                    try:
                        async with asyncio.timeout(10):
                            transport, _p = await loop.create_connection(
                                asyncio.Protocol, "127.0.0.1", port)
                        opened.append(transport)
                    except CLIENT_ERRORS as exc:
                        errors[_error_name(exc)] += 1

            await asyncio.gather(*(opener() for _ in range(50)))
            stats["open_s"] = perf_counter() - started
            await stopping.wait()
            stats.update(opened=len(opened),
                         still_open=sum(1 for t in opened if not t.is_closing()))
            for transport in opened:
                transport.abort()
        elif kind == "password":
            reply_times: list[float] = []
            #: answers that come from a real password check ("Wrong password."),
            #: not a refusal of a throttled attempt
            check_times: list[float] = []
            guesses = [0]
            sessions = [0]
            ready()

            async def guesser(index: int) -> None:
                while not stopping.is_set():
                    try:
                        client = await connect(lambda: Sink(context), port, greeting)
                    except CLIENT_ERRORS as exc:
                        errors[_error_name(exc)] += 1
                        await asyncio.sleep(0.05)
                        continue
                    sessions[0] += 1
                    clients.append(client)
                    try:
                        client.send(victim.encode() + b"\r\n")
                        if not await client.wait_for(b"Password: ", 10):
                            errors["no password prompt"] += 1
                            continue
                        while not stopping.is_set():
                            guesses[0] += 1
                            client.send(b"wrong%d-%d\r\n" % (index, guesses[0]))
                            if await client.wait_for(b"Password: ", 15):
                                now = perf_counter()
                                reply_times.append(now)
                                if b"Wrong password" in client.consumed:
                                    check_times.append(now)
                                continue
                            if b"assword" in client.buffer:  # "Too many wrong passwords"
                                reply_times.append(perf_counter())
                            break
                    except CLIENT_ERRORS as exc:
                        errors[_error_name(exc)] += 1
                    finally:
                        client.abort()
                        clients.remove(client)

            tasks = [loop.create_task(guesser(i)) for i in range(connections)]
            await stopping.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            stats.update(guesses=guesses[0], replies=len(reply_times), sessions=sessions[0],
                         reply_times=reply_times, check_times=check_times)
        else:
            raise ValueError(f"unknown attack {kind!r}")
    except CLIENT_ERRORS as exc:
        errors[_error_name(exc)] += 1
        ready(f"failed: {_error_name(exc)}")  # unless it was attacking already
    finally:
        for client in clients:
            client.abort()
    stats["errors"] = dict(errors)
    return stats


def attack_command(args) -> int:
    servers.raise_nofile_limit()
    result = asyncio.run(attack_main(
        args.kind, args.port, args.duration, args.greeting.encode("latin-1"),
        lines=args.lines, interval=args.interval, rate=args.rate,
        connections=args.connections, victim=args.victim))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # held sockets need no orderly goodbye
