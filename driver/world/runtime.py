"""The running driver as the efuns see it.

One ``Runtime`` exists while the driver runs, as the globals of a C driver
would: the configuration, the object table, the interactives, the TLS
credentials, the timers and the worker threads.  ``game.py`` makes it;
efuns reach it through ``current()``.  Keeping it here, below ``game.py``,
lets efuns depend on the driver's state without depending on how the driver
starts and stops.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Callable

from .objects import EfunError

if TYPE_CHECKING:
    from ..config import Config
    from ..net.admission import Admission
    from ..net.tls_context import ServerCredentials
    from .interactive import Interactives
    from .objects import ObjectTable
    from .resets import Resets
    from .timers import CallOuts, HeartBeats
    from .workers import WorkerPool


class Runtime:
    def __init__(self, config: Config, table: ObjectTable, interactives: Interactives,
                 credentials: ServerCredentials, loop: asyncio.AbstractEventLoop,
                 call_outs: CallOuts, heart_beats: HeartBeats,
                 workers: WorkerPool | None = None, resets: Resets | None = None) -> None:
        self.config = config
        self.table = table
        self.interactives = interactives
        self.credentials = credentials
        self.loop = loop
        self.started_at = time.time()
        self.call_outs = call_outs
        self.heart_beats = heart_beats
        #: when objects' reset() is called (resets.py)
        self.resets = resets
        #: threads for slow work off the game loop (run_in_worker, passwords)
        self.workers = workers
        #: the ports actually bound (a configured 0 becomes a real number)
        self.telnet_port: int | None = config.telnet_port
        self.tls_port: int | None = config.tls_port
        #: the web client's HTTPS port, and its plain HTTP port for a reverse proxy
        self.web_port: int | None = config.web_port
        self.web_proxy_port: int | None = config.web.proxy_port
        #: set by game.py: the gate at accept (limits, site bans)
        self.admission: Admission | None = None
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
