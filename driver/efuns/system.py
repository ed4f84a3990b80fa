"""Efuns on the running driver: time, call_outs, heart beats, the load, the
driver's own facts, the log the mudlib writes to (``debug_message``),
``shutdown``, site bans and connection limits, the mudlib's counters among the
driver's metrics, and slow work on the worker threads (``run_in_worker``, and
``hash_password``/``check_password`` built on it).
"""

from __future__ import annotations

import logging
import time as _time
from typing import Any, Callable, NamedTuple

from .. import metrics as _metrics
from ..net.admission import BanFileError as _BanFileError
from ..net.admission import parse_network as _parse_network
from ..world import audit as _audit
from ..world import commands as _commands
from ..world import passwords as _passwords
from ..world import permissions as _permissions
from ..world.coroutines import DriverAwaitable
from ..world.evaluation import EvaluationTimeout
from ..world.objects import EfunError, MudObject, check_alive
from ..world.runtime import current as _runtime
from ..world.workers import WorkersBusy
from .objects import callable_argument, this_interactive, this_object, this_player

__all__ = [
    "debug_message",
    "audit",
    "time",
    "call_out",
    "remove_call_out",
    "find_call_out",
    "shutdown",
    "set_heart_beat",
    "query_heart_beat",
    "heart_beat_info",
    "set_next_reset",
    "call_out_info",
    "query_load_average",
    "driver_info",
    "ban_site",
    "unban_site",
    "query_bans",
    "query_connection_limits",
    "metric_inc",
    "EvaluationTimeout",
    "run_in_worker",
    "hash_password",
    "check_password",
    "WorkersBusy",
]


_mudlib_log = logging.getLogger("mudlib")


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


def debug_message(text: Any, level: str = "info") -> None:
    _mudlib_log.log(_LEVELS.get(level, logging.INFO), "%s", str(text).rstrip("\n"))


def audit(action: str, target: Any = None, outcome: str = "ok", **details: Any) -> None:
    """One line in the audit log for a privileged action the mudlib performed."""
    if not isinstance(action, str) or not action.strip() or any(c.isspace() for c in action):
        raise EfunError(f"bad argument 1 to audit: expected a one-word action, got {action!r}")
    if outcome not in _audit.OUTCOMES:
        raise EfunError(f"bad argument 3 to audit: outcome must be one of "
                        f"{', '.join(_audit.OUTCOMES)}, got {outcome!r}")
    for key in details:
        if key in ("action", "actor", "outcome", "target"):
            raise EfunError(f"audit: {key!r} is set by the driver, not a detail")
    _audit.record(action, outcome, target, **details)


def time() -> int:
    return int(_time.time())


def call_out(fun: str | Callable, delay: float, *args: Any) -> None:
    owner = check_alive(this_object(), "this_object()")
    method = callable_argument(fun, owner, "argument 1 to call_out")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise EfunError(f"bad argument 2 to call_out: expected seconds, got {delay!r}")
    _runtime().call_outs.add(owner, method, float(delay), args, this_player())


def remove_call_out(fun: str | Callable) -> float:
    """Cancel this object's first pending call_out of ``fun``; returns its time left or -1."""
    return _runtime().call_outs.remove(this_object(), fun)


def find_call_out(fun: str | Callable) -> float:
    return _runtime().call_outs.find(this_object(), fun)


def shutdown(reason: str = "shutdown() called") -> None:
    _permissions.check_privilege("shutdown", str(reason))
    _runtime().request_shutdown(str(reason))


def set_heart_beat(ob: MudObject, on: bool | int) -> int:
    """Turn ``ob``'s heart beat on or off: ``heart_beat()`` every ``mudlib.heart_beat_interval`` s."""
    check_alive(ob)
    if on and not callable(getattr(ob, "heart_beat", None)):
        raise EfunError(f"set_heart_beat: {ob._mud_name} has no heart_beat()")
    _runtime().heart_beats.set(ob, bool(on))
    return 1


def query_heart_beat(ob: MudObject | None = None) -> bool:
    return _runtime().heart_beats.is_on(check_alive(this_object() if ob is None else ob))


def heart_beat_info() -> list[MudObject]:
    """The objects with a heart beat."""
    return _runtime().heart_beats.beating()


def set_next_reset(delay: float) -> float | None:
    """this_object()'s next ``reset()`` in ``delay`` seconds (negative: never;
    0: unchanged); returns the seconds there were until it (negative if it
    was overdue), or None if none was due."""
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise EfunError(f"bad argument 1 to set_next_reset: expected a number, got {delay!r}")
    ob = check_alive(this_object())
    resets = _runtime().resets
    if delay == 0:
        return resets.until_next(ob)
    return resets.set_next(ob, float(delay))


def call_out_info() -> list[tuple]:
    """Pending call_outs, soonest first: (object, function name, seconds left, *args)."""
    return _runtime().call_outs.info()


def query_load_average() -> str:
    """LDMud's line: commands per second over the last minute, and the lag."""
    beats = _runtime().heart_beats
    return f"{beats.commands_per_second():.2f} cmds/s, {beats.lag().average * 1000:.0f} ms lag"


class CertificateInfo(NamedTuple):
    """``driver_info("certificates")``: one served certificate, as an operator sees it."""

    file: str
    names: tuple[str, ...]
    issuer: str
    not_after: int  # seconds since the epoch
    days_left: int  # negative once expired


def driver_info(what: str) -> Any:
    """Facts about the running driver; ``what`` names one (see docs/efuns/driver_info.md)."""
    from ..world import evaluation
    rt = _runtime()
    facts: dict[str, Callable[[], Any]] = {
        "lag": rt.heart_beats.lag,
        "load_average": rt.heart_beats.commands_per_second,
        "heart_beats": lambda: len(rt.heart_beats.beating()),
        "heart_beat_interval": lambda: rt.heart_beats.interval,
        "heart_beat_ticks": lambda: rt.heart_beats.ticks,
        "reset_interval": lambda: rt.resets.interval,
        "resets": lambda: rt.resets.done,
        "reset_schedule": lambda: rt.resets.scheduled,
        "call_outs": lambda: len(rt.call_outs.pending),
        "objects": lambda: len(rt.table.objects),
        "programs": lambda: len(rt.table.programs),
        "users": lambda: len(rt.interactives.users()),
        "uptime": lambda: _time.time() - rt.started_at,
        "memory": _metrics.resident_memory,
        "eval_time_limit": evaluation.limit,
        "eval_timeouts": evaluation.timeouts,
        "commands": lambda: _commands.executed,
        "admins": lambda: tuple(rt.config.admins),
        "certificates": lambda: tuple(
            CertificateInfo(str(r.file), r.names, r.issuer, int(r.not_after.timestamp()),
                            int(r.days_left() // 1))
            for r in (rt.credentials.reports() if rt.credentials.available else ())),
        "loopback_only": lambda: rt.config.loopback_only,
        "login": lambda: rt.config.login,
        "workers": lambda: {"threads": rt.workers.threads, "queue": rt.workers.queue_limit,
                            "queued": rt.workers.queued, "completed": rt.workers.completed,
                            "refused": rt.workers.refused},
    }
    fact = facts.get(what) if isinstance(what, str) else None
    if fact is None:
        raise EfunError(f"driver_info: unknown {what!r} (known: {', '.join(facts)})")
    return fact()


# --- site bans and connection limits ---------------------------------------------------------

def _admission(efun: str):
    admission = _runtime().admission
    if admission is None:
        raise EfunError(f"{efun}: the driver is not accepting connections")
    return admission


def ban_site(network: str, reason: str, expiry_seconds: float | None = None,
             by: str | None = None) -> dict:
    """Refuse connections from ``network`` at accept, from now on; saved at once."""
    if not isinstance(reason, str) or not reason.strip():
        raise EfunError("bad argument 2 to ban_site: expected a reason, a non-empty string")
    if expiry_seconds is not None and (isinstance(expiry_seconds, bool)
                                       or not isinstance(expiry_seconds, (int, float))
                                       or expiry_seconds <= 0):
        raise EfunError(f"bad argument 3 to ban_site: expected seconds (more than 0) or None, "
                        f"got {expiry_seconds!r}")
    if by is not None and not isinstance(by, str):
        raise EfunError(f"bad argument 4 to ban_site: expected a name, got {by!r}")
    try:
        _parse_network(network)
    except ValueError as exc:
        raise EfunError(f"bad argument 1 to ban_site: {exc}") from None
    _permissions.check_privilege("ban_site", network, reason, expiry_seconds)
    if by is None:
        who = this_interactive() or this_object()
        by = getattr(who, "_mud_name", "?")
    try:
        ban = _admission("ban_site").bans.add(network, reason.strip(), by,
                                              None if expiry_seconds is None
                                              else float(expiry_seconds))
    except _BanFileError as exc:
        raise EfunError(f"ban_site: {exc}; the ban is not in force") from None
    _mudlib_log.info("site ban: %s by %s (%s)%s", ban.network, ban.by, ban.reason,
                     "" if ban.expires is None else f", for {expiry_seconds:g} s")
    return ban.as_dict()


def unban_site(network: str) -> int:
    """Lift the ban of exactly ``network``: 1 if there was one, 0 if not."""
    try:
        _parse_network(network)
    except ValueError as exc:
        raise EfunError(f"bad argument 1 to unban_site: {exc}") from None
    _permissions.check_privilege("unban_site", network)
    try:
        ban = _admission("unban_site").bans.remove(network)
    except _BanFileError as exc:
        raise EfunError(f"unban_site: {exc}; the ban stays in force") from None
    if ban is None:
        return 0
    _mudlib_log.info("site ban lifted: %s", ban.network)
    return 1


def query_bans() -> list[dict]:
    """The bans in force, oldest first: network, reason, by, at, expires."""
    _permissions.check_privilege("query_bans")
    return [ban.as_dict() for ban in _admission("query_bans").bans.active()]


def query_connection_limits() -> dict:
    """The limits checked at accept (``limits:`` in config.yaml), and the counts now."""
    admission = _admission("query_connection_limits")
    limits = admission.limits
    return {
        "per_address": limits.per_address,
        "new_per_second": limits.new_per_second,
        "burst": limits.burst,
        "total": limits.total,
        "exempt": list(limits.exempt),
        "ipv6_prefix": limits.ipv6_prefix,
        "open": admission.open,
        "addresses": admission.addresses(),
    }


def metric_inc(name: str, amount: int = 1) -> None:
    """Add to one of the mudlib's counters among the driver's metrics."""
    counter = _metrics.MUDLIB_COUNTERS.get(name) if isinstance(name, str) else None
    if counter is None:
        raise EfunError(f"bad argument 1 to metric_inc: unknown {name!r} "
                        f"(known: {', '.join(_metrics.MUDLIB_COUNTERS)})")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise EfunError(f"bad argument 2 to metric_inc: expected a whole number of at least 1, "
                        f"got {amount!r}")
    counter.inc(amount)


def run_in_worker(fun: Callable, *args: Any) -> DriverAwaitable:
    """``result = await run_in_worker(fun, *args)``: ``fun(*args)`` on a worker thread.

    For slow, self-contained work (no efuns, no objects: plain values in and
    out), so the game goes on meanwhile.  Raises ``WorkersBusy`` at once
    when every worker is busy and the queue is full.
    """
    if not callable(fun):
        raise EfunError(f"bad argument 1 to run_in_worker: expected a function, got {fun!r}")
    if isinstance(getattr(fun, "__self__", None), MudObject):
        raise EfunError("run_in_worker: a method of a mudlib object would run beside the "
                        "game on another thread; pass a plain function and plain values")
    return _runtime().workers.submit(fun, *args)


def hash_password(password: str) -> DriverAwaitable:
    """``stored = await hash_password(password)``: a salted scrypt hash, made on a worker."""
    if not isinstance(password, str):
        raise EfunError(f"bad argument 1 to hash_password: expected a string, got "
                        f"{type(password).__name__}")
    return _runtime().workers.submit(_passwords.hash_password, password)


def check_password(password: str, stored: str | None) -> DriverAwaitable:
    """``ok = await check_password(password, stored)``: True if it matches, on a worker.

    A missing or damaged ``stored`` hash matches nothing (False).
    """
    if not isinstance(password, str):
        raise EfunError(f"bad argument 1 to check_password: expected a string, got "
                        f"{type(password).__name__}")
    if not isinstance(stored, str):
        waiter = DriverAwaitable()
        waiter.resolve(False)
        return waiter
    return _runtime().workers.submit(_passwords.check_password, password, stored)
