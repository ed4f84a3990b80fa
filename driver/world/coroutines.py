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
coroutine, where the mudlib can see it.  An awaitable may also fail (work
on a worker thread that raised): the error is raised at the ``await``.

A coroutine started during a player's turn (a command, an ``input_to``
handler, ``logon``) carries that turn on: the player's prompt, and any line
they type meanwhile, wait until the coroutine has finished, so the prompt
comes after the coroutine's last words instead of in the middle of them,
and the next line is the next turn (a password being checked on a worker
thread must not look like the game is waiting for a command).
"""

from __future__ import annotations

from typing import Any, Callable, Coroutine

from . import evaluation, objects
from .objects import EfunError


class DriverAwaitable:
    """A result the driver will deliver later; ``await`` it in mudlib code."""

    __slots__ = ("_done", "_result", "_error", "_waiters")

    def __init__(self) -> None:
        self._done = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._waiters: list[Callable[[Any], None]] = []

    def __await__(self):
        if not self._done:
            yield self
        if self._error is not None:
            raise self._error
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

    def fail(self, error: BaseException) -> None:
        """Deliver an error instead of a result: ``await`` raises it."""
        if self._done:
            return
        self._error = error
        self.resolve(None)

    def when_done(self, waiter: Callable[[Any], None]) -> None:
        if self._done:
            waiter(self._result)
        else:
            self._waiters.append(waiter)


#: Set by the driver: called with the connection binding once the last
#: coroutine of a player's turn has finished (``Interactives.turn_finished``:
#: the lines typed meanwhile, then the prompt).
turn_finished: Callable[[Any], None] | None = None


class MudlibTask:
    """Steps one mudlib coroutine, each step in the frame it started in."""

    __slots__ = ("coro", "this_object", "this_player", "this_interactive", "what", "turn")

    def __init__(self, coro: Coroutine, this_object, this_player, this_interactive,
                 what: str) -> None:
        self.coro = coro
        self.this_object = this_object
        self.this_player = this_player
        self.this_interactive = this_interactive
        self.what = what
        #: the connection binding whose turn this coroutine carries on, if any
        self.turn = None

    def step(self, value: Any = None, error: BaseException | None = None) -> None:
        if not self._advance(value, error):
            self._end_turn()

    def _begin_turn(self) -> None:
        """Before the first step: if the coroutine starts in a player's
        turn, that turn lasts until the coroutine ends."""
        binding = getattr(self.this_interactive, "_mud_interactive", None)
        if binding is not None and getattr(binding, "in_turn", False):
            self.turn = binding
            binding.waiting_coroutines += 1

    def _end_turn(self) -> None:
        binding, self.turn = self.turn, None
        if binding is None:
            return
        binding.waiting_coroutines -= 1
        # Still inside the turn (the coroutine ended without waiting): the
        # turn prints the prompt itself when it ends.
        if binding.waiting_coroutines == 0 and not binding.in_turn \
                and turn_finished is not None:
            turn_finished(binding)

    def _advance(self, value: Any, error: BaseException | None) -> bool:
        """One step; True while the coroutine waits for an awaitable."""
        if getattr(self.this_object, "_mud_destructed", False):
            self.coro.close()  # its object is gone: like a call_out, it is dropped
            return False
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
            return False
        except evaluation.EvaluationTimeout as exc:
            if nested:
                self._end_turn()
                raise
            objects.report_error(exc, self.what, self.this_interactive or self.this_player)
            return False
        except Exception as exc:  # noqa: BLE001 - the one error path, as for any mudlib call
            objects.report_error(exc, self.what, self.this_interactive or self.this_player)
            return False
        if isinstance(awaited, DriverAwaitable):
            awaited.when_done(self.step)
            return True
        return self._advance(None, EfunError(
            f"mudlib coroutines can await only the driver's awaitables "
            f"(such as tls_handshake()), not {awaited!r}"))


def start(coro: Coroutine, this_object, this_player, this_interactive, what: str) -> None:
    task = MudlibTask(coro, this_object, this_player, this_interactive, what)
    task._begin_turn()
    task.step()
