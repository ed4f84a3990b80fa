"""Who hears about a mudlib error: the master's ``runtime_error`` apply.

``objects.report_error`` is the one error path; it logs the traceback and
then asks this module to tell people.  If the master defines
``runtime_error(message, where, traceback, player)`` it decides (the shipped
master gives the player a short message, a wizard the traceback, and every
other connected wizard a one-line notice); otherwise the driver tells the
player responsible "Something went wrong".  An error inside
``runtime_error`` itself is logged and never reported through it again.
"""

from __future__ import annotations

from . import objects, runtime
from .objects import MudObject

_reporting = False


def report_to_mudlib(player: MudObject | None, exc: BaseException, where: str,
                     trace: str) -> bool:
    """True if the master's ``runtime_error`` took the report."""
    global _reporting
    if _reporting:
        return False
    rt = runtime._current
    if rt is None:
        return False
    master = rt.table.find(rt.config.master)
    apply = getattr(master, "runtime_error", None)
    if not callable(apply):
        return False
    _reporting = True
    try:
        objects.run_apply(master, apply, f"{type(exc).__name__}: {exc}", where, trace, player,
                          this_player=player, this_interactive=None,
                          what=f"{master._mud_name}->runtime_error()")
    finally:
        _reporting = False
    return True
