"""Mudlib coroutines: ``async def`` world code that awaits driver events.

This module owns how the driver runs a coroutine that mudlib code returns
(from a command, an apply, a callback).  The mudlib never sees asyncio:
instead of an event-loop task, a ``MudlibTask`` steps the coroutine itself,
with ``coro.send()``, and each step runs inside an execution-context frame
(this_object, this_player, this_interactive as they were when the coroutine
started), so efuns behave after an ``await`` exactly as before it.

A mudlib coroutine can await only the driver's own awaitables
(``DriverAwaitable``), such as the one ``tls_handshake(ob)`` returns.  They
are resolved by the same machinery as the callback forms (a handshake's
awaitable is resolved by its TLS callback), so there is one code path for
both styles.  Awaiting anything else raises ``EfunError`` inside the
coroutine, where the mudlib can see it.
"""

from __future__ import annotations

from typing import Any, Callable, Coroutine

from . import evaluation, objects
from .objects import EfunError


class DriverAwaitable:
    """A result the driver will deliver later; ``await`` it in mudlib code."""

    __slots__ = ("_done", "_result", "_waiters")

    def __init__(self) -> None:
        self._done = False
        self._result: Any = None
        self._waiters: list[Callable[[Any], None]] = []

    def __await__(self):
        if not self._done:
            yield self
        return self._result

    @property
    def done(self) -> bool:
        return self._done

    def resolve(self, result: Any) -> None:
        if self._done:
            return
        self._done, self._result = True, result
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter(result)

    def when_done(self, waiter: Callable[[Any], None]) -> None:
        if self._done:
            waiter(self._result)
        else:
            self._waiters.append(waiter)


class MudlibTask:
    """Steps one mudlib coroutine, each step in the frame it started in."""

    __slots__ = ("coro", "this_object", "this_player", "this_interactive", "what")

    def __init__(self, coro: Coroutine, this_object, this_player, this_interactive,
                 what: str) -> None:
        self.coro = coro
        self.this_object = this_object
        self.this_player = this_player
        self.this_interactive = this_interactive
        self.what = what

    def step(self, value: Any = None, error: BaseException | None = None) -> None:
        if getattr(self.this_object, "_mud_destructed", False):
            self.coro.close()  # its object is gone: like a call_out, it is dropped
            return
        advance = self.coro.send if error is None else self.coro.throw
        nested = evaluation.depth() > 0
        try:
            evaluation.enter()  # each step has the evaluation limit of a call
            try:
                awaited = objects.call_in_frame(
                    self.this_object, advance, value if error is None else error,
                    this_player=self.this_player, this_interactive=self.this_interactive)
            finally:
                evaluation.leave()
        except StopIteration:
            return
        except evaluation.EvaluationTimeout as exc:
            if nested:
                raise
            objects.report_error(exc, self.what, self.this_interactive or self.this_player)
            return
        except Exception as exc:  # noqa: BLE001 - the one error path, as for any mudlib call
            objects.report_error(exc, self.what, self.this_interactive or self.this_player)
            return
        if isinstance(awaited, DriverAwaitable):
            awaited.when_done(self.step)
        else:
            self.step(error=EfunError(
                f"mudlib coroutines can await only the driver's awaitables "
                f"(such as tls_handshake()), not {awaited!r}"))


def start(coro: Coroutine, this_object, this_player, this_interactive, what: str) -> None:
    MudlibTask(coro, this_object, this_player, this_interactive, what).step()
