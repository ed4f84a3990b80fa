"""The cyclic garbage collector's schedule: how often its passes come, what its full passes rescan.

This module owns when Python's cyclic garbage collector runs its passes,
and which of the driver's objects it looks at in a full (generation 2)
one.

Theory of operation.  A full pass walks every container object the
collector tracks and holds the event loop the whole time: every player's
reply waits for it.  What a MUD keeps is mostly long-lived (the master,
rooms, every connected player's objects: connection, TLS session, telnet
state, the player's object and its inventory, some 40 to 50 tracked objects
a player), so with ten thousand players connected a pass walks several
hundred thousand objects to find next to nothing: measured with the bench's
``gc`` scenario (README), passes of 100 to 250 ms while players log in.
CPython starts one whenever the objects that became long-lived since the
last pass number a quarter of those that survived it, so a login storm
brings one pass after another, each longer than the last.

``gc.freeze()`` moves every object the collector tracks into its permanent
generation, which no pass walks.  The driver freezes once after start-up
(``game.py``), and then after every full pass that found little garbage:
what survived such a pass is what the game keeps, so the next pass walks
only what became long-lived since, and the quarter rule (counted from the
last pass's survivors, which are few) keeps the passes small.

What freezing costs: an object in the permanent generation that later dies
in a reference cycle is never freed.  Freed by reference counting, it goes
at once like any other, so the driver's own long-lived objects break their
cycles when they die (a closed connection does, ``net/connection.py``; a
destructed object leaves its environment and inventory).  A full pass that
collects much garbage shows that something long-lived does die in cycles:
then nothing is frozen after it, and the permanent generation is given
back to the collector (``gc.unfreeze()``) so the next full pass frees what
died in it, one long pause rather than a leak that grows with uptime.
The collector's findings are counted in ``mud_gc_collected_objects``.
"""

from __future__ import annotations

import asyncio
import gc
import logging

log = logging.getLogger("driver.collector")

#: A full pass that frees at most this many objects "found little": what it
#: kept is frozen.  More than this (a few players' worth of objects that died
#: in cycles), and the frozen objects are handed back to the collector.
LITTLE_GARBAGE = 2000


#: A middle-generation pass comes after this many young passes (CPython's
#: default is 10).  It walks what the young passes left: at most about
#: 700 x this many objects.  An object that lives is walked once by each
#: generation's pass whatever the thresholds (the full pass that freezes it
#: is its last), so a smaller number makes the same work into shorter
#: pauses.  While players log in, nearly all of what a middle pass walks
#: survives it, and at 10 its passes took up to 8 ms.  Measured with the
#: bench's ``gc`` scenario (README, "What was tried").
MIDDLE_PASS_EVERY = 3

#: A full pass may start after this many middle-generation passes (CPython's
#: default is 10).  What it walks is what became long-lived since the last
#: freeze: at most about 700 x ``MIDDLE_PASS_EVERY`` x this many objects.
#: Measured with the bench's ``gc`` scenario (1,000 players playing while
#: 10,000 log in, 400 a second; two runs each, alternating): 1 against 2
#: makes 32 full passes instead of 21, about as much time in all (145 and
#: 154 ms against 139 and 204 ms), and the longest under 10 ms instead of
#: under 25 ms.  Shorter pauses, more often, are what players notice less.
FULL_PASS_EVERY = 1


class FreezeAfterFullPasses:
    """``gc.callbacks``: after a full pass that found little, freeze what it kept.

    The freeze itself runs from the event loop (``call_soon_threadsafe``:
    a collection can start on any thread that allocates), never inside the
    collector's own callback.  A collection can also start inside the
    loop's own code, at any allocation, so the callback must be safe there
    too: on both loops ``call_soon_threadsafe`` only appends to the queue of
    ready callbacks (a deque) and wakes the loop, through asyncio's
    self-pipe or libuv's ``uv_async_send``, which is safe even from a
    signal handler.  Neither loop holds a lock that the callback could meet.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending = False
        #: full passes seen, and how many of them were followed by a freeze
        self.full_passes = 0
        self.freezes = 0
        self.thaws = 0

    def start(self) -> None:
        gc.freeze()  # what start-up made lives as long as the driver
        young, _middle, _old = gc.get_threshold()
        gc.set_threshold(young, MIDDLE_PASS_EVERY, FULL_PASS_EVERY)
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def stop(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)

    def __call__(self, phase: str, info: dict) -> None:
        if phase != "stop" or info.get("generation") != 2:
            return
        self.full_passes += 1
        if self._pending or self._loop.is_closed():
            return
        self._pending = True
        collected = info.get("collected", 0) + info.get("uncollectable", 0)
        try:
            self._loop.call_soon_threadsafe(self._after_full_pass, collected)
        except RuntimeError:  # the loop closed in between
            self._pending = False

    def _after_full_pass(self, collected: int) -> None:
        self._pending = False
        if collected <= LITTLE_GARBAGE:
            gc.freeze()
            self.freezes += 1
            return
        # Long-lived objects are dying in cycles: frozen ones would never be
        # freed.  Let the next full pass see them all.
        self.thaws += 1
        log.info("a full garbage collection freed %d objects that died in reference "
                 "cycles; the %d frozen objects are scanned again by the next one",
                 collected, gc.get_freeze_count())
        gc.unfreeze()
