"""Resets: LDMud's ``reset()`` apply, called now and then in every object.

This module owns when objects reset.  Every object is due for its first
reset between half ``mudlib.reset_interval`` and the whole of it after its
``create()`` (an hour by default, as LDMud's TIME_TO_RESET; 0 turns resets
off), and again as long after each reset, so that the objects made in one
second do not all reset in another.  When one is due the driver calls its
``reset()``, if its program has one: rooms restock there, as they do in LP
mudlibs (an apple back on the tree, a shopkeeper back behind the counter).

As with LDMud's H_CREATE and H_RESET hooks, a number returned by
``create()`` or ``reset()`` sets the next reset: positive, that many
seconds from now; negative, never again; anything else, the usual random
interval.  ``set_next_reset(delay)`` (the efun) changes it from anywhere.

``reset()`` runs through the one error path (``objects.run``) with no
this_player(), under the evaluation limit; one that fails is reported and
the object resets again after the usual interval.  A pass of the event
loop resets at most ``PER_PASS`` objects and leaves the rest to the next,
so a thousand rooms due in the same second hold up nobody's command.

The schedule is a heap of (due time, order, weak reference), and each
object keeps its own due time (``_mud_next_reset``): an entry whose time
is no longer the object's is stale and skipped when its time comes, and a
weak reference keeps no destructed object alive until then.  Stale entries
are counted as they arise (a destruct, a moved reset), and once they are
half the heap it is rebuilt without them: every connection makes a player
object, so a game whose players come and go (or a client that reconnects
as fast as it may) would otherwise hold an entry per object it ever made,
for up to a reset interval, about 200 bytes each.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import weakref

from . import objects
from .objects import MudObject

log = logging.getLogger("driver.resets")

#: resets run in one pass of the event loop, at most
PER_PASS = 50

#: stale entries the heap may hold before it is rebuilt without them (once
#: they are also half of it): rebuilding is linear in the heap, so it waits
#: until it frees at least as much as it walks
COMPACT_AFTER = 1024


def requested_delay(result: object) -> float | None:
    """What a ``create()`` or ``reset()`` result asks for: seconds until the
    next reset (negative: never), or None for the usual interval."""
    if isinstance(result, (int, float)) and not isinstance(result, bool) and result:
        return float(result)
    return None


class Resets:
    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop = loop
        #: mudlib.reset_interval (0: no resets)
        self.interval = interval
        self._heap: list[tuple[float, int, weakref.ref]] = []
        self._order = itertools.count()
        self._handle: asyncio.Handle | None = None
        self._handle_due = float("inf")
        #: resets run since the driver started
        self.done = 0
        #: the object whose reset() is running, and whether it moved its
        #: next reset itself meanwhile (set_next_reset in reset())
        self._resetting: MudObject | None = None
        self._moved = False
        #: entries in the heap whose object is gone or due at another time
        self._stale = 0

    @property
    def scheduled(self) -> int:
        """Entries in the schedule, stale ones included (``driver_info``)."""
        return len(self._heap)

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def _usual_delay(self) -> float:
        half = self.interval / 2
        return half + random.random() * half

    # -- the schedule ------------------------------------------------------------

    def object_created(self, ob: MudObject, create_result: object = None) -> None:
        """``ob``'s ``create()`` has run (and returned ``create_result``)."""
        self._schedule_after(ob, create_result)

    def _schedule_after(self, ob: MudObject, result: object) -> None:
        """The next reset, after a ``create()`` or ``reset()`` that returned ``result``."""
        delay = requested_delay(result)
        if delay is None:
            if self.enabled:  # (with resets off, only those asked for)
                self.set_next(ob, self._usual_delay())
        elif delay > 0:
            self.set_next(ob, delay)

    def set_next(self, ob: MudObject, delay: float) -> float | None:
        """Reset ``ob`` in ``delay`` seconds (negative: never); returns the
        seconds there were until its reset before (None: none was due)."""
        now = self.loop.time()
        before = ob._mud_next_reset
        if ob is self._resetting:
            self._moved = True
        if before is not None:
            self._went_stale()  # its entry's time is no longer the object's
        if delay < 0:
            ob._mud_next_reset = None
        else:
            due = ob._mud_next_reset = now + delay
            heapq.heappush(self._heap, (due, next(self._order), weakref.ref(ob)))
            if due < self._handle_due:
                self._wake_at(due)
        return None if before is None else before - now

    def object_destructed(self, ob: MudObject) -> None:
        """``ob`` is being destructed: its entry, if it has one, is stale."""
        if ob._mud_next_reset is not None:
            ob._mud_next_reset = None
            self._went_stale()

    def _went_stale(self) -> None:
        self._stale += 1
        if self._stale > COMPACT_AFTER and 2 * self._stale > len(self._heap):
            self._compact()

    def _compact(self) -> None:
        """The heap without its stale entries.  In place: a reset() that
        destructs objects compacts it in the middle of ``_run_due``, which
        must go on with the same list."""
        heap = self._heap
        before = len(heap)
        heap[:] = [entry for entry in heap
                   if (ob := entry[2]()) is not None and not ob._mud_destructed
                   and ob._mud_next_reset == entry[0]]
        heapq.heapify(heap)
        log.debug("reset schedule rebuilt: %d entries kept of %d", len(heap), before)
        self._stale = 0

    def until_next(self, ob: MudObject) -> float | None:
        """Seconds until ``ob``'s next reset (negative: overdue); None: none is due."""
        due = ob._mud_next_reset
        return None if due is None else due - self.loop.time()

    def _wake_at(self, due: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle_due = due
        self._handle = self.loop.call_at(due, self._run_due)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._handle_due = float("inf")

    # -- a pass ------------------------------------------------------------------

    def _run_due(self) -> None:
        self._handle = None
        self._handle_due = float("inf")
        heap = self._heap
        now = self.loop.time()
        ran = 0
        while heap and heap[0][0] <= now and ran < PER_PASS:
            due, _, ref = heapq.heappop(heap)
            ob = ref()
            if ob is None or ob._mud_destructed or ob._mud_next_reset != due:
                if self._stale:
                    self._stale -= 1
                continue  # gone, or its reset was moved (set_next_reset)
            ob._mud_next_reset = None
            ran += 1
            try:
                self._reset(ob)
            except Exception:  # noqa: BLE001 - one object's reset never stops the others'
                log.exception("resetting %s failed", ob._mud_name)
        if heap:
            # More due now: the next pass of the loop goes on with them.
            self._wake_at(heap[0][0] if ran < PER_PASS else now)

    def _reset(self, ob: MudObject) -> None:
        reset = getattr(ob, "reset", None)
        result = None
        self._moved = False
        if callable(reset):
            self.done += 1
            self._resetting = ob
            try:
                result = objects.run(ob, reset, this_player=None, this_interactive=None,
                                     what=f"{ob._mud_name}->reset()")
            finally:
                self._resetting = None
        if not ob._mud_destructed and not self._moved:
            # (not destructed by its reset, nor moved by set_next_reset in it)
            self._schedule_after(ob, result)
