"""The running driver as the efuns see it.

One ``Runtime`` exists while the driver runs, as the globals of a C driver
would: the configuration, the object table, the interactives, the TLS
credentials and the timers.  ``game.py`` makes it; efuns reach it through
``current()``.  Keeping it here, below ``game.py``, lets efuns depend on the
driver's state without depending on how the driver starts and stops.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from .config import Config
from .heartbeat import HeartBeats
from .interactive import Interactives
from .objects import EfunError, ObjectTable
from .tls_context import ServerCredentials


class Runtime:
    def __init__(self, config: Config, table: ObjectTable, interactives: Interactives,
                 credentials: ServerCredentials, loop: asyncio.AbstractEventLoop) -> None:
        self.config = config
        self.table = table
        self.interactives = interactives
        self.credentials = credentials
        self.loop = loop
        self.started_at = time.time()
        self.call_outs = CallOuts(loop)
        self.heart_beats = HeartBeats(loop, config.heart_beat_interval,
                                      find_master=lambda: table.find(config.master))
        #: the ports actually bound (a configured 0 becomes a real number)
        self.telnet_port: int | None = config.telnet_port
        self.tls_port: int | None = config.tls_port
        #: set by game.py: asks the driver to shut down
        self.request_shutdown: Callable[[str], None] = lambda reason: None


_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise EfunError("the driver is not running")
    return _current


class CallOuts:
    """``call_out``: delayed calls into the mudlib, dropped with their object."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[object, Callable, asyncio.TimerHandle]] = []

    def add(self, owner, fun: Callable, delay: float, args: tuple, player) -> None:
        from . import objects

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
            from .reload import current_callable
            objects.run(owner, current_callable(fun), *args, this_player=player_now,
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
