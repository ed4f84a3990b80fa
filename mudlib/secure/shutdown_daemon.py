"""/secure/shutdown_daemon: a shutdown announced in advance.

A wizard's 'shutdown 10m <reason>' starts a countdown here.  The daemon
tells every player when it starts, again at each mark of ANNOUNCE_AT that
the countdown passes (10, 5, 2 and 1 minutes, 30 and 10 seconds before),
and at the end shuts the game down with the shutdown efun, whose master
apply (notify_shutdown) saves and tells everyone.  'shutdown cancel' stops
it, and everyone is told that too.  There is one countdown at a time.

Theory of operation: the countdown is a single pending call_out, from one
mark to the next.  `next_mark` is the number of seconds that will be left
when it fires, so the time left now is find_call_out() + next_mark; the
daemon never polls the clock.  When the call_out for mark 0 fires, the
game stops.

The daemon lives under /secure/ because the master trusts that directory
with shutdown() when the countdown ends, and no wizard is at the keyboard
then.  Anything may call_other it, so it asks the master about
this_interactive() before it starts or stops a countdown.  It records
what it decides with the audit efun (shutdown-scheduled,
shutdown-cancelled); the shutdown itself is recorded by the driver, which
audits every shutdown() it is asked for.
"""

import math

from driver.efuns import (
    MudObject,
    EfunError,
    audit,
    call_other,
    call_out,
    debug_message,
    find_call_out,
    load_object,
    remove_call_out,
    shutdown,
    this_interactive,
    users,
)

MASTER = "/master"

# Seconds before the end at which everyone is told again.
ANNOUNCE_AT = (600, 300, 120, 60, 30, 10)
# A countdown longer than a day is more likely a typo than a plan.
MAX_DELAY = 24 * 3600
UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_delay(word):
    """Seconds in a delay as a wizard types it: '5' and '5m' are minutes,
    '30s' seconds, '1h' an hour; fractions are allowed ('1.5m').  None if
    `word` is not a delay, or a negative or absurd one."""
    word = word.strip().lower()
    unit = UNITS.get(word[-1:]) if word else None
    number = word[:-1] if unit else word
    try:
        value = float(number)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    seconds = round(value * (unit or 60))
    return seconds if seconds <= MAX_DELAY else None


def describe(seconds):
    """'5 minutes', '1 minute 30 seconds', '10 seconds'."""
    seconds = max(0, round(seconds))
    parts = []
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or "no time at all"


class ShutdownDaemon(MudObject):
    def create(self):
        self.reason = ""
        self.by = None
        self.next_mark = None   # seconds left when the pending call_out fires

    # -- questions -------------------------------------------------------------

    def parse_delay(self, word):
        return parse_delay(word)

    def query_seconds_left(self):
        """Seconds until the game stops, or None if no countdown runs."""
        if self.next_mark is None:
            return None
        left = find_call_out("reach_mark")
        if left < 0:     # no call_out pending after all: nothing counts down
            self.next_mark = None
            return None
        return left + self.next_mark

    def query_countdown(self):
        """(seconds left, reason, who started it), or None."""
        left = self.query_seconds_left()
        return None if left is None else (left, self.reason, self.by)

    # -- starting and stopping -------------------------------------------------

    def _wizard(self):
        who = this_interactive()
        return who if load_object(MASTER).query_wizard(who) else None

    def start(self, seconds, reason=""):
        """Start a countdown of `seconds`.  Returns None on success, else
        why not, in a sentence for the wizard."""
        wizard = self._wizard()
        if wizard is None:
            audit("shutdown-scheduled", None, "denied", seconds=seconds)
            return "Only a wizard may schedule a shutdown."
        if not isinstance(seconds, (int, float)) or not 0 < seconds <= MAX_DELAY:
            audit("shutdown-scheduled", None, "failed", seconds=seconds, why="bad delay")
            return f"A countdown is from 1 second to {describe(MAX_DELAY)}."
        running = self.query_countdown()
        if running is not None:
            left, _, by = running
            audit("shutdown-scheduled", None, "failed", seconds=seconds,
                  why="a countdown is running")
            return (f"A shutdown is already counting down ({describe(left)} left, "
                    f"started by {by}).  'shutdown cancel' stops it.")
        self.reason = reason
        self.by = call_other(wizard, "query_name") or "a wizard"
        self._announce(f"{self.by} will shut {self._mud()} down in {describe(seconds)}"
                       f"{self._because()}.")
        self._count_down(seconds)
        audit("shutdown-scheduled", None, "ok", seconds=seconds, **self._reason_field())
        debug_message(f"{self.by} scheduled a shutdown in {describe(seconds)}"
                      f"{self._because()}")
        return None

    def cancel(self):
        """Stop the countdown.  Returns None on success, else why not."""
        wizard = self._wizard()
        if wizard is None:
            audit("shutdown-cancelled", None, "denied")
            return "Only a wizard may cancel a shutdown."
        if self.query_countdown() is None:
            audit("shutdown-cancelled", None, "failed", why="no countdown")
            return "No shutdown is counting down."
        remove_call_out("reach_mark")
        self.next_mark = None
        name = call_other(wizard, "query_name") or "a wizard"
        self._announce(f"{name} has cancelled the shutdown.  {self._mud()} "
                       "carries on.")
        audit("shutdown-cancelled", None, "ok", **self._reason_field())
        debug_message(f"{name} cancelled the shutdown")
        return None

    # -- the countdown -------------------------------------------------------------

    def _count_down(self, seconds):
        """Wait for the next mark below `seconds` (0 at the end)."""
        mark = max((m for m in ANNOUNCE_AT if m < seconds), default=0)
        self.next_mark = mark
        call_out("reach_mark", seconds - mark)

    def reach_mark(self):
        mark = self.next_mark
        if mark is None:
            return
        if mark > 0:
            self._announce(f"{self._mud()} shuts down in {describe(mark)}"
                           f"{self._because()}.")
            self._count_down(mark)
            return
        self.next_mark = None
        reason = self.reason or f"countdown started by {self.by}"
        try:
            shutdown(reason)
        except EfunError as exc:    # the master would not let us: say so, play on
            debug_message(f"the countdown's shutdown was refused: {exc}", "error")
            self._announce("The shutdown could not happen; the game carries on.")

    # -- telling everyone ------------------------------------------------------------

    def _mud(self):
        return load_object(MASTER).query_mud_name()

    def _reason_field(self):
        return {"reason": self.reason} if self.reason else {}

    def _because(self):
        return f": {self.reason}" if self.reason else ""

    def _announce(self, text):
        for ob in users():
            if call_other(ob, "query_is_player"):
                call_other(ob, "tell", f"%^WARNING%^[shutdown] {text}%^RESET%^\n")
