"""Heart beats, and how far behind the driver is running (lag).

This module owns the driver's clock tick.  Every ``mudlib.heart_beat_interval``
seconds (default 2) the driver calls ``heart_beat()`` in every object that
asked for it with ``set_heart_beat(ob, 1)``, in the order they asked, each
through the one error path (``objects.run``) and under the evaluation limit:

* an object whose ``heart_beat()`` raises, or runs past the evaluation
  limit, is reported as any error is, and loses its heart beat (LDMud's
  rule: a broken heart beat would otherwise fail, and fill the log, every
  tick) unless the master's ``heart_beat_error(culprit, error)`` returns
  true; the others still beat in this tick;
* an object that is destructed, or that has no ``heart_beat()``, loses its
  heart beat;
* if a tick starts late (the loop was busy), the driver does not try to catch
  up with a burst of beats: it skips the missed ones and keeps the cadence.

Each tick records how late it started: that is the driver's *lag*, the
delay any timer or input currently suffers.  ``driver_info("lag")`` reports
the last value and the average and maximum over the last minute.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from typing import Callable, NamedTuple

from . import commands, objects
from .objects import MudObject

log = logging.getLogger("driver.heartbeat")

#: seconds of history kept for lag and load figures
WINDOW = 60.0


class LagInfo(NamedTuple):
    """Seconds by which heart beats started late."""

    last: float
    average: float
    max: float


class HeartBeats:
    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float, *,
                 find_master: Callable[[], MudObject | None] = lambda: None) -> None:
        self.loop = loop
        self.interval = interval
        #: the master, for its ``heart_beat_error`` apply
        self.find_master = find_master
        self._beating: dict[int, MudObject] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self.ticks = 0
        self.skipped = 0
        self.last_lag = 0.0
        self.last_duration = 0.0
        #: (monotonic time, lag, commands executed so far)
        self._samples: collections.deque[tuple[float, float, int]] = collections.deque()

    # -- which objects beat ------------------------------------------------------

    def set(self, ob: MudObject, on: bool) -> bool:
        """Turn ``ob``'s heart beat on or off; returns whether it was on."""
        was = id(ob) in self._beating
        if on:
            self._beating.setdefault(id(ob), ob)
        else:
            self._beating.pop(id(ob), None)
        return was

    def is_on(self, ob: MudObject) -> bool:
        return self._beating.get(id(ob)) is ob

    def beating(self) -> list[MudObject]:
        return [ob for ob in self._beating.values() if not ob._mud_destructed]

    def object_destructed(self, ob: MudObject) -> None:
        if self._beating.get(id(ob)) is ob:
            del self._beating[id(ob)]

    # -- the tick -------------------------------------------------------------------

    def start(self) -> None:
        self._due = self.loop.time() + self.interval
        self._handle = self.loop.call_at(self._due, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        started = self.loop.time()
        self.last_lag = max(0.0, started - self._due)
        self.ticks += 1
        try:
            for key, ob in list(self._beating.items()):
                if ob._mud_destructed:
                    self._beating.pop(key, None)
                    continue
                if self._beating.get(key) is not ob:
                    continue  # turned off by an earlier heart beat in this tick
                beat = getattr(ob, "heart_beat", None)
                if not callable(beat):
                    self._beating.pop(key, None)
                    log.warning("%s has no heart_beat(); its heart beat is off", ob._mud_name)
                    continue
                player = ob if commands.is_giver(ob) else None
                objects.run(ob, beat, this_player=player, this_interactive=None,
                            what=f"{ob._mud_name}->heart_beat()",
                            on_error=functools.partial(self._heart_beat_failed, ob))
        except Exception:  # noqa: BLE001 - the tick itself must never die
            log.exception("heart beat tick failed")
        finally:
            self.last_duration = self.loop.time() - started
            self._record()
            self._schedule_next()

    def _heart_beat_failed(self, ob: MudObject, exc: BaseException) -> None:
        """Turn the heart beat off, unless the master's ``heart_beat_error`` says otherwise."""
        if self._beating.get(id(ob)) is not ob:
            return  # off already: the heart beat turned itself off before failing
        del self._beating[id(ob)]
        master = self.find_master()
        apply = getattr(master, "heart_beat_error", None)
        if callable(apply) and objects.run_apply(master, apply, ob, objects.describe_error(exc),
                                                 this_player=None, this_interactive=None,
                                                 what=f"{master._mud_name}->heart_beat_error()") \
                and not ob._mud_destructed:
            self._beating[id(ob)] = ob
            log.info("%s: heart beat kept after an error (heart_beat_error)", ob._mud_name)
            return
        log.warning("%s: heart beat turned off after an error in heart_beat()", ob._mud_name)

    def _schedule_next(self) -> None:
        if self._handle is None:
            return  # stopped
        now = self.loop.time()
        self._due += self.interval
        if self._due <= now:
            missed = int((now - self._due) // self.interval) + 1
            self.skipped += missed
            self._due += missed * self.interval
        self._handle = self.loop.call_at(self._due, self._tick)

    # -- figures ----------------------------------------------------------------------

    def _record(self) -> None:
        now = time.monotonic()
        self._samples.append((now, self.last_lag, commands.executed))
        while self._samples and self._samples[0][0] < now - WINDOW:
            self._samples.popleft()

    def lag(self) -> LagInfo:
        lags = [lag for _, lag, _ in self._samples]
        if not lags:
            return LagInfo(0.0, 0.0, 0.0)
        return LagInfo(self.last_lag, sum(lags) / len(lags), max(lags))

    def commands_per_second(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        first, last = self._samples[0], self._samples[-1]
        elapsed = last[0] - first[0]
        return (last[2] - first[2]) / elapsed if elapsed > 0 else 0.0


class CallOuts:
    """``call_out``: delayed calls into the mudlib, dropped with their object."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[object, Callable, asyncio.TimerHandle]] = []

    def add(self, owner, fun: Callable, delay: float, args: tuple, player) -> None:
        entry: list = []

        def fire() -> None:
            if entry[0] in self.pending:
                self.pending.remove(entry[0])
            if owner is not None and getattr(owner, "_mud_destructed", False):
                return
            if player is not None and getattr(player, "_mud_destructed", False):
                player_now = None
            else:
                player_now = player
            objects.run_apply(owner, objects.current_callable(fun), *args, this_player=player_now,
                        this_interactive=None)

        handle = self.loop.call_later(max(0.0, delay), fire)
        entry.append((owner, fun, handle, args))
        self.pending.append(entry[0])

    def _match(self, owner, fun):
        for entry in self.pending:
            ob, method, _handle, _args = entry
            name = getattr(method, "__name__", None)
            if ob is owner and (method == fun or name == fun):
                return entry
        return None

    def remove(self, owner, fun) -> float:
        entry = self._match(owner, fun)
        if entry is None:
            return -1
        self.pending.remove(entry)
        entry[2].cancel()
        return max(0.0, entry[2].when() - self.loop.time())

    def find(self, owner, fun) -> float:
        entry = self._match(owner, fun)
        return -1 if entry is None else max(0.0, entry[2].when() - self.loop.time())

    def cancel_all(self) -> None:
        for _ob, _fun, handle, _args in self.pending:
            handle.cancel()
        self.pending.clear()

    def object_destructed(self, ob) -> None:
        """A destructed object's call_outs are dropped."""
        for entry in [e for e in self.pending if e[0] is ob]:
            entry[2].cancel()
            self.pending.remove(entry)

    def info(self) -> list[tuple]:
        """``call_out_info()``: (object, function name, seconds left, *args), soonest first."""
        now = self.loop.time()
        entries = sorted(self.pending, key=lambda e: e[2].when())
        return [(ob, getattr(fun, "__name__", fun), max(0.0, handle.when() - now), *args)
                for ob, fun, handle, args in entries]
