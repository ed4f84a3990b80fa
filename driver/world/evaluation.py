"""The evaluation limit: no call into the mudlib may run for ever.

This module owns the deadline of each top-level call the driver makes into
the mudlib (an apply, a command, an ``input_to`` handler, a callback, a
``call_out``, a heart beat).  LDMud counts evaluation cost; CPython cannot
count cheaply, so the driver measures wall-clock time instead:

* ``objects.run`` calls ``enter()`` before the mudlib code and ``leave()``
  after it.  The outermost ``enter()`` notes when the call began (the
  monotonic clock, no system call) and, if no alarm is pending, arms
  ``signal.setitimer(ITIMER_REAL, limit)``.  ``leave()`` only counts down:
  the alarm is not disarmed.  Arming and disarming on every call cost two
  system calls per command, a tenth of a command's whole cost; this way the
  timer is set at most once per ``limit`` seconds however many calls run.
  Nested calls (an efun such as ``command()`` that runs mudlib code again)
  share the outer deadline.
* When the alarm fires, SIGALRM runs ``_on_alarm`` in the main thread,
  between two bytecodes.  Outside any call (``depth == 0``) it does nothing
  and leaves the timer unarmed until the next call.  If the call running now
  began after the alarm was armed (an earlier call ended in time), the alarm
  is armed again for what is left of *this* call's limit.  Only a call that
  has run its whole limit is stopped: ``EvaluationTimeout`` is raised when
  the innermost frame is mudlib code (a module the object table compiled,
  ``__name__`` starting with ``mudlib:``).  Anywhere else (driver code, the
  standard library, a C call that just returned) it re-arms the timer for a
  few milliseconds and tries again, so the exception never tears through the
  driver's own bookkeeping.
* ``EvaluationTimeout`` derives from ``BaseException``, so ``except
  Exception`` in world code does not swallow it; a mudlib that catches it
  anyway is interrupted again every ``REPEAT`` seconds until the call ends.
* The event loop never runs while mudlib code runs (mudlib code runs inside
  the loop's callbacks), and SIGALRM is installed with ``signal.signal``,
  not ``loop.add_signal_handler``: the byte the signal leaves on the loop's
  wake-up descriptor is read and ignored by the loop, which stays healthy.
  (uvloop, reading it, has Python run the pending handlers at once, which
  ``_on_alarm`` outside any call shrugs off; in a callback, Python runs the
  handler between two bytecodes on either loop.)

A single C call that never returns to the interpreter (``sum(range(10**12))``)
cannot be interrupted by any signal handler; the timeout is raised as soon
as it returns.  ``time.sleep`` is interrupted at once.
"""

from __future__ import annotations

import signal
import threading
from time import monotonic
from types import FrameType

#: Seconds between retries when the alarm lands outside mudlib code.
RETRY = 0.005
#: Seconds between further alarms once the limit has been hit.
REPEAT = 0.1


class EvaluationTimeout(BaseException):
    """Mudlib code ran longer than ``mudlib.eval_time_limit`` seconds."""


_limit: float | None = None
_depth = 0
_timeouts = 0
#: when the outermost call running now began (``monotonic``)
_started = 0.0
#: an alarm is pending (armed and not yet fired)
_armed = False


def install(limit: float | None) -> None:
    """Arm the mechanism (main thread only); ``None`` turns the limit off."""
    global _limit
    if limit is not None and threading.current_thread() is not threading.main_thread():
        raise RuntimeError("the evaluation limit needs the main thread")
    _limit = limit if limit and limit > 0 else None
    if _limit is not None:
        signal.signal(signal.SIGALRM, _on_alarm)


def limit() -> float | None:
    return _limit


def depth() -> int:
    return _depth


def timeouts() -> int:
    """How many calls have been stopped since the driver started."""
    return _timeouts


def enter() -> bool:
    """A call into the mudlib begins; True if it is nested in another."""
    global _depth, _started, _armed
    _depth += 1
    if _depth == 1 and _limit is not None:
        _started = monotonic()
        if not _armed:
            _armed = True
            signal.setitimer(signal.ITIMER_REAL, _limit)
    return _depth > 1


def leave() -> None:
    global _depth
    _depth -= 1


def _in_mudlib(frame: FrameType | None) -> bool:
    if frame is None:
        return False
    name = frame.f_globals.get("__name__")
    return isinstance(name, str) and name.startswith("mudlib:")


def _arm(seconds: float) -> None:
    global _armed
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _on_alarm(_signum: int, frame: FrameType | None) -> None:
    global _timeouts, _armed
    _armed = False
    if _depth == 0 or _limit is None:
        return  # between calls: the next call arms it again
    left = _started + _limit - monotonic()
    if left > 0:
        _arm(left)  # armed for an earlier call; this one still has time
        return
    if not _in_mudlib(frame):
        _arm(RETRY)
        return
    _timeouts += 1
    _arm(REPEAT)
    raise EvaluationTimeout(f"evaluation took longer than {_limit:g} s "
                            "(mudlib.eval_time_limit)")
