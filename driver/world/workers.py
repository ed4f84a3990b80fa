"""Slow work off the game loop: a few worker threads and a bounded queue.

This module owns the driver's worker threads.  The game loop must never
stop for long: every player's reply waits behind whatever it is doing.  Work
that takes tens of milliseconds of CPU or blocks (a password hash, a
digest of a large file, a lookup on another server) goes to
``WorkerPool.submit(fun, *args)``, which returns at once with a
``DriverAwaitable``; mudlib ``async def`` code awaits it, and the coroutine
resumes on the game loop, in its own frame, when the result is in.

Theory of operation:

* ``workers.threads`` daemon threads take jobs from one ``queue.Queue``
  that holds at most ``workers.queue`` jobs.  When it is full, ``submit``
  raises ``WorkersBusy`` at once: work is refused, never piled up without
  limit, so a flood of logins cannot make the driver's memory or the wait
  of an honest login grow without bound.  The caller tells its player to
  try again.
* A job runs on a worker thread, so it must be self-contained: plain values
  in, a plain value out, and no efuns or mudlib objects, which belong to the
  game loop alone.  Its result (or the exception it raised) crosses back
  with ``loop.call_soon_threadsafe`` and resolves the awaitable there; the
  exception is raised inside the awaiting coroutine.
* The threads are daemons: a job that never ends cannot hold up the
  driver's exit.  At shutdown, jobs still queued are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any, Callable

from .coroutines import DriverAwaitable
from .objects import EfunError

log = logging.getLogger("driver.workers")


class WorkersBusy(EfunError):
    """Every worker is busy and the queue is full: try again shortly."""


_STOP = object()


class WorkerPool:
    def __init__(self, loop: asyncio.AbstractEventLoop, threads: int, queue_limit: int) -> None:
        self.loop = loop
        self.threads = threads
        self.queue_limit = queue_limit
        self._jobs: queue.Queue = queue.Queue(maxsize=queue_limit)
        self._workers: list[threading.Thread] = []
        self._stopped = False
        #: jobs finished, and refused because the queue was full, since start
        self.completed = 0
        self.refused = 0

    def start(self) -> None:
        for number in range(self.threads):
            worker = threading.Thread(target=self._work, name=f"driver-worker-{number + 1}",
                                      daemon=True)
            worker.start()
            self._workers.append(worker)

    @property
    def queued(self) -> int:
        """Jobs waiting for a thread (not those running)."""
        return self._jobs.qsize()

    def submit(self, fun: Callable, *args: Any) -> DriverAwaitable:
        """Run ``fun(*args)`` on a worker thread; await the result."""
        if self._stopped:
            raise EfunError("the driver is shutting down: no more work is taken")
        waiter = DriverAwaitable()
        try:
            self._jobs.put_nowait((waiter, fun, args))
        except queue.Full:
            self.refused += 1
            raise WorkersBusy(f"all {self.threads} worker threads are busy and "
                              f"{self.queue_limit} jobs are waiting; try again shortly") from None
        return waiter

    def stop(self) -> None:
        """Take no more work and drop what is queued; running jobs finish
        on their own (their results are discarded)."""
        self._stopped = True
        try:
            while True:
                self._jobs.get_nowait()
        except queue.Empty:
            pass
        for _ in self._workers:
            try:
                self._jobs.put_nowait(_STOP)
            except queue.Full:
                break  # daemons: whoever does not see _STOP dies with the process

    # -- on the worker threads -------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            waiter, fun, args = job
            try:
                outcome = (fun(*args), None)
            except BaseException as exc:  # noqa: BLE001 - delivered to the awaiting coroutine
                outcome = (None, exc)
            try:
                self.loop.call_soon_threadsafe(self._deliver, waiter, *outcome)
            except RuntimeError:
                return  # the loop is closed: the driver has stopped

    # -- back on the game loop ---------------------------------------------------

    def _deliver(self, waiter: DriverAwaitable, result: Any, error: BaseException | None) -> None:
        self.completed += 1
        if error is not None:
            waiter.fail(error)
        else:
            waiter.resolve(result)
