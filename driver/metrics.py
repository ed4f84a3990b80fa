"""Metrics: what the driver counts for Prometheus, and the endpoint that serves them.

This module owns every series the driver exports (their names and meanings
are listed for operators in docs/operations.md) and the small HTTP
endpoint on the driver's own event loop that serves them in Prometheus'
text format (``metrics.port``; loopback only unless allowed).  It sits
below the network layer, so a connection, the world and the game can all
count into it, and it imports nothing of theirs: what only they know
(who is connected, which certificate is served) is asked for through
callables the game registers, at scrape time.

Keeping the hot path cheap: bytes in and out are plain integer sums
(``traffic.received += n``, once per read and per write, never per byte)
turned into counters only when Prometheus asks; players by port and TLS
state are counted from the live connections at scrape time, not kept up
to date on every change; the time of each command goes into plain lists
(``Timings``), and handshakes into plain counts (``Handshakes``).
The prometheus_client objects are used where an event is rare enough (a
refusal, a GC pass) that a lock and a bucket search cost nothing that
matters.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import time
from bisect import bisect_left
from typing import Callable, Iterable

from prometheus_client import (CollectorRegistry, Counter, Histogram, ProcessCollector,
                               disable_created_metrics, generate_latest)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

log = logging.getLogger("driver.metrics")


def resident_memory() -> int:
    """The driver's resident memory now, in bytes (Linux's /proc/self/statm;
    elsewhere the largest it has been, which is what getrusage knows)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # (macOS counts bytes)

#: The driver's own registry: only the series below (and process_*), never
#: anything a library registers globally.
disable_created_metrics()  # no *_created series: start times Prometheus does not need
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # process_cpu_seconds_total, resident memory, open fds

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Timings:
    """Durations counted into a histogram's buckets: the hot path's histogram.

    Recording costs what every command can afford: one comparison with the
    first bound (where nearly every command falls) or a bucket search in C
    (``bisect``), and two additions on plain lists, with no lock
    (everything runs on the event loop's thread).  prometheus_client's
    Histogram takes a lock and searches its buckets in Python, a few
    microseconds per observation.  The counts become a histogram only when
    Prometheus asks (``buckets``).
    """

    __slots__ = ("bounds", "counts", "first", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        #: most durations are under the first bound: one comparison, no search
        self.first = bounds[0]
        #: durations per bucket: counts[i] were at most bounds[i] (the last: more)
        self.counts = [0] * (len(bounds) + 1)
        #: [seconds in all]: a list, so ``observe`` needs no attribute store
        self.total = [0.0]

    def observe(self, seconds: float) -> None:
        self.counts[0 if seconds <= self.first else bisect_left(self.bounds, seconds)] += 1
        self.total[0] += seconds

    def buckets(self) -> list[tuple[str, int]]:
        """(upper bound, durations at most that long), as Prometheus counts them."""
        buckets, cumulative = [], 0
        for bound, count in zip((*map(str, self.bounds), "+Inf"), self.counts):
            cumulative += count
            buckets.append((bound, cumulative))
        return buckets


class CommandTimes(Timings):
    """``mud_command_duration_seconds``: every line a player sends is timed."""

    __slots__ = ("documentation", "name")

    def __init__(self, name: str, documentation: str, bounds: tuple[float, ...]) -> None:
        super().__init__(bounds)
        self.name = name
        self.documentation = documentation

    def collect(self):
        family = HistogramMetricFamily(self.name, self.documentation)
        family.add_metric([], self.buckets(), self.total[0])
        yield family


command_seconds = CommandTimes("mud_command_duration_seconds",
                               "Time the driver spends on one line of player input (a "
                               "command or an input_to answer), mudlib code included", _FAST)
REGISTRY.register(command_seconds)
loop_lag_seconds = Histogram("mud_event_loop_lag_seconds",
                             "How late a timer on the event loop fires: the delay every "
                             "player's input and output suffers at that moment",
                             registry=REGISTRY, buckets=_FAST)
gc_pause_seconds = Histogram("mud_gc_pause_seconds",
                             "Pauses of Python's cyclic garbage collector, by generation",
                             ["generation"], registry=REGISTRY, buckets=_FAST)
gc_collected_objects = Counter("mud_gc_collected_objects",
                               "Objects the cyclic garbage collector freed (garbage in "
                               "reference cycles), by the generation of the pass",
                               ["generation"], registry=REGISTRY)
output_discarded = Counter("mud_output_discarded_bytes",
                           "Output for players the driver threw away (a client that does "
                           "not read fast enough)", registry=REGISTRY)
logins_failed = Counter("mud_logins_failed", "Failed logins, as the mudlib reports them "
                        "(metric_inc('logins_failed'))", registry=REGISTRY)
logins_throttled = Counter("mud_logins_throttled", "Login attempts the mudlib slowed down or "
                           "refused (metric_inc('logins_throttled'))", registry=REGISTRY)
refused = Counter("mud_connections_refused", "Connections refused when accepted, before any "
                  "TLS or telnet work, by reason (ban, total, per_address, rate)",
                  ["reason"], registry=REGISTRY)
for _reason in ("ban", "total", "per_address", "rate"):
    refused.labels(_reason)  # present at 0 from the start: rate() needs the series

#: The counters the mudlib may increment (``metric_inc``), by the name it uses.
MUDLIB_COUNTERS: dict[str, Counter] = {
    "logins_failed": logins_failed,
    "logins_throttled": logins_throttled,
}


class Traffic:
    """Bytes on the players' sockets, summed per read and per write call."""

    __slots__ = ("received", "sent")

    def __init__(self) -> None:
        self.received = 0
        self.sent = 0


traffic = Traffic()


def connections_refused(reason: str) -> None:
    refused.labels(reason).inc()


#: ``mud_tls_handshake_duration_seconds``' buckets: a handshake is a round trip or two
_HANDSHAKE_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                     10.0, 30.0)


class Handshakes(Collector):
    """``mud_tls_handshakes`` and ``mud_tls_handshake_duration_seconds``.

    Every connection to the TLS port ends a handshake, so this is counted
    the way commands are (``Timings``): plain integers and lists on
    the event loop's thread, no lock, turned into Prometheus series only at
    scrape time.  prometheus_client's Counter and Histogram took three
    locked updates a handshake.
    """

    def __init__(self) -> None:
        #: (result name, tls_error code) -> handshakes that ended so
        self.results: dict[tuple[str, int], int] = {}
        #: outcome ("ok", "failed") -> their durations
        self.seconds = {outcome: Timings(_HANDSHAKE_BOUNDS) for outcome in ("ok", "failed")}

    def declare(self, results: Iterable[tuple[str, int]]) -> None:
        """Every result a handshake can have, at 0 from the start (so that
        rate() and alerts see a series before the first failure)."""
        for key in results:
            self.results.setdefault(key, 0)

    def finished(self, result: str, code: int, seconds: float | None) -> None:
        key = (result, code)
        results = self.results
        results[key] = results.get(key, 0) + 1
        if seconds is not None:
            self.seconds["ok" if code == 0 else "failed"].observe(seconds)

    def collect(self):
        ended = CounterMetricFamily("mud_tls_handshakes", "TLS handshakes that ended, by result "
                                    "(ok, or the tls_error code's name) and code (tls_error's "
                                    "number)", labels=["result", "code"])
        for (result, code), count in self.results.items():
            ended.add_metric([result, str(code)], count)
        yield ended
        durations = HistogramMetricFamily("mud_tls_handshake_duration_seconds",
                                          "From the start of a TLS handshake to its outcome",
                                          labels=["outcome"])
        for outcome, times in self.seconds.items():
            durations.add_metric([outcome], times.buckets(), times.total[0])
        yield durations


handshakes = Handshakes()
REGISTRY.register(handshakes)


# --- what is read from the running driver at scrape time ----------------------------------

class _DriverCollector(Collector):
    """The series read from the driver's state when Prometheus asks."""

    def __init__(self) -> None:
        #: () -> interactive connections by (port label, TLS state label)
        self.connections: Callable[[], dict[tuple[str, str], int]] | None = None
        #: () -> iterable of (certificate name, notAfter in seconds since the epoch)
        self.certificates: Callable[[], Iterable[tuple[str, float]]] | None = None
        #: () -> (connections admitted and open, site bans in force)
        self.admission: Callable[[], tuple[int, int]] | None = None

    def collect(self):
        received = CounterMetricFamily("mud_bytes_received", "Bytes read from players' sockets "
                                       "(TLS records and telnet commands included)")
        received.add_metric([], traffic.received)
        sent = CounterMetricFamily("mud_bytes_sent", "Bytes written to players' sockets")
        sent.add_metric([], traffic.sent)
        yield received
        yield sent
        players = GaugeMetricFamily("mud_players", "Connections bound to an object (logged in, "
                                    "or at the login), by port and TLS state",
                                    labels=["port", "tls"])
        counts: dict[tuple[str, str], int] = {}
        for port in ("telnet", "tls"):
            for state in ("plain", "handshaking", "secure"):
                counts[(port, state)] = 0
        if self.connections is not None:
            for labels, count in self.connections().items():
                counts[labels] = counts.get(labels, 0) + count
        for labels, count in sorted(counts.items()):
            players.add_metric(list(labels), count)
        yield players
        if self.admission is not None:
            open_connections, bans = self.admission()
            admitted = GaugeMetricFamily("mud_connections_open", "Connections admitted at accept "
                                         "and not yet closed (what limits.total counts)")
            admitted.add_metric([], open_connections)
            yield admitted
            ban_gauge = GaugeMetricFamily("mud_site_bans", "Site bans in the ban list")
            ban_gauge.add_metric([], bans)
            yield ban_gauge
        expiry = GaugeMetricFamily("mud_tls_certificate_expiry_timestamp_seconds",
                                   "notAfter of each certificate the driver serves, in seconds "
                                   "since the epoch (default, or the first SNI name)",
                                   labels=["certificate"])
        if self.certificates is not None:
            for name, not_after in self.certificates():
                expiry.add_metric([name], not_after)
        yield expiry


driver_state = _DriverCollector()
REGISTRY.register(driver_state)


# --- probes that run only while the endpoint is on ------------------------------------------

class LoopLagProbe:
    """A timer every ``interval`` seconds; how late it fires is the loop's lag.

    (In ``loop.time()``: whole milliseconds on uvloop, finer on asyncio.)"""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = 0.25) -> None:
        self._loop = loop
        self._interval = interval
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0

    def start(self) -> None:
        self._due = self._loop.time() + self._interval
        self._handle = self._loop.call_at(self._due, self._fired)

    def _fired(self) -> None:
        now = self._loop.time()
        loop_lag_seconds.observe(max(0.0, now - self._due))
        self._due = now + self._interval
        self._handle = self._loop.call_at(self._due, self._fired)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class GCPauseProbe:
    """``gc.callbacks``: the time between a collection's start and stop."""

    def __init__(self) -> None:
        self._started = 0.0
        self._by_generation = [gc_pause_seconds.labels(str(g)) for g in range(3)]
        self._collected = [gc_collected_objects.labels(str(g)) for g in range(3)]

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            generation = min(int(info.get("generation", 2)), 2)
            self._by_generation[generation].observe(time.perf_counter() - self._started)
            self._collected[generation].inc(info.get("collected", 0))
            self._started = 0.0

    def start(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def stop(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


# --- the endpoint ------------------------------------------------------------------------------

#: a request head larger than this, or slower than REQUEST_TIMEOUT, is dropped
MAX_REQUEST = 8192
REQUEST_TIMEOUT = 5.0


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One HTTP/1.x request, one answer, then close: all Prometheus needs."""
    try:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        request = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(request) != 3 or not request[2].startswith("HTTP/1."):
            status, body, kind = "400 Bad Request", b"bad request\n", "text/plain"
        elif request[0] not in ("GET", "HEAD"):
            status, body, kind = "405 Method Not Allowed", b"GET /metrics\n", "text/plain"
        elif request[1].split("?", 1)[0] not in ("/metrics", "/"):
            status, body, kind = "404 Not Found", b"the metrics are at /metrics\n", "text/plain"
        else:
            status, body, kind = "200 OK", generate_latest(REGISTRY), CONTENT_TYPE_LATEST
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        if request and request[0] != "HEAD":
            writer.write(body)
        await asyncio.wait_for(writer.drain(), REQUEST_TIMEOUT)
    except (ConnectionError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()


class MetricsServer:
    """The endpoint and the probes behind it, started and stopped together."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: asyncio.AbstractServer | None = None
        self._lag: LoopLagProbe | None = None
        self._gc = GCPauseProbe()

    async def start(self) -> int:
        """Listen; returns the port (a configured 0 becomes a real one).  OSError if it cannot."""
        self._server = await asyncio.start_server(_answer, self.host, self.port,
                                                  limit=MAX_REQUEST, reuse_address=True)
        self._lag = LoopLagProbe(asyncio.get_running_loop())
        self._lag.start()
        self._gc.start()
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._gc.stop()
        if self._lag is not None:
            self._lag.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
