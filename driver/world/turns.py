"""Turns: whose input runs next, so that no player can starve the others.

Theory of operation
===================

LDMud's rule: each turn of the driver runs at most one command of each
player who has input waiting, round-robin, and the rest of a player's input
waits for later turns.  A client that sends forty thousand lines in one
write gets one of them run per turn, like everyone else, and a player who
types a single command waits for at most one command of each other player.

Who waits, and where their input is:

* each connection parses its input one line at a time and keeps the line
  in ``Connection.pending_lines`` until its turn (the net layer's flow
  control, which also stops reading a socket whose unparsed input is full);
* this module keeps only *who* has a line waiting: ``_ready``, an
  insertion-ordered dict of bindings (O(1) to add, remove and rotate).

A turn takes the players ready at its start, in order, and runs one line of
each (``run_line``: input_to, char mode, snoop and commands all go that
way).  A player with more input goes to the back.  If anyone is still
waiting, the next turn is scheduled with ``call_soon``: the event loop reads
the sockets in between, so new input joins the queue before the next round.
One callback per turn for the whole driver; no task or timer per line.
The output the lines wrote leaves when the turn's lines have run
(``hold_output`` / ``release_output``): one send per player, in the same
pass of the event loop.

A line that has just come off the network, from a player with nothing
waiting, does not wait for that callback (``input_arrived``): it runs at
once, at the end of the read that brought it, as the player's share of the
turn already scheduled (or as a turn of its own when none is, since then
nobody waits), so a command and its reply cost one pass of the event loop
rather than two.  Turns are numbered, and a turn passes over a player whose
line already ran under its number (``Interactive.turn_taken``), so
running early never gives anyone a second line in a turn.

A player is skipped (and comes back by ``input_ready``) when:

* their connection's output is backed up (``output_backed_up``): their own
  commands make most of their output, so those wait until the client reads
  (the connection calls ``input_ready`` when its buffer drains);
* they are over their command rate: a token bucket per player,
  ``commands_per_second`` (``set_max_commands`` changes it for one player;
  negative or None: no limit) refilling up to ``command_burst``.  The first
  time in a burst they are told why their commands wait, and a timer wakes
  them when the next token is due.  Nothing they typed is dropped.

A turn may only parse: input that yields no line for a while (a stream of
telnet commands) is parsed a bounded piece per turn (``PARSE_PER_TURN`` in
the connection), and such a turn counts against the rate as the part of a
command its piece is of a longest line (``PARSE_TURN_COST``).  A line of
text typed into the editor (``ed``'s insert mode) costs nothing: it runs no
command, only joins the buffer, and a wizard pasting a file is not held to
typing speed (LDMud lets ed take several lines a cycle for the same
reason).  It is still one line a turn, and the input buffer still caps what
waits.

Connections the mudlib opened itself (``net_connect``) take turns too but
have no rate: the remote end is a server, not a typist.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Callable

from ..net.connection import PARSE_TURN_COST, hold_output, release_output

if TYPE_CHECKING:
    from .interactive import Interactive

log = logging.getLogger("driver.turns")

#: What a player over their command rate reads, once per burst.
TOO_FAST = "You are typing faster than the game can follow; your commands wait their turn.\n"


class CommandBudget:
    """One player's token bucket, made the first time their rate matters."""

    __slots__ = ("tokens", "refilled_at", "told", "wake")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.refilled_at = now
        #: the player was told their commands wait (once per burst)
        self.told = False
        #: the timer that makes them ready when their next token is due
        self.wake: asyncio.TimerHandle | None = None


class Turns:
    """The one scheduler of players' input."""

    def __init__(self, run_line: Callable[[Interactive, str], None]) -> None:
        #: runs one line of a player's input (``Interactives.run_line``)
        self._run_line = run_line
        #: players with a line waiting, in turn order
        self._ready: dict[Interactive, None] = {}
        self._next_turn: asyncio.Handle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: the number of the turn running or last run; a line run early
        #: (``input_arrived``) counts as the scheduled turn's, or, with none
        #: scheduled, as a turn of its own
        self._turn_number = 0
        #: a turn's lines, or a line run early, are running now
        self._running = False
        #: config.yaml's connections.commands_per_second (None: no limit)
        #: and connections.command_burst
        self.commands_per_second: int | None = None
        self.command_burst = 40

    # -- who is ready ----------------------------------------------------------

    def input_ready(self, binding: Interactive) -> None:
        """``binding`` has a line waiting (or may run again): it takes turns."""
        if binding not in self._ready:
            self._ready[binding] = None
            self._schedule()

    def input_arrived(self, binding: Interactive) -> None:
        """``binding``'s first waiting line has just been read: it runs now,
        unless lines are running already (it waits its turn, then) or it
        has had its line of the coming turn."""
        if binding in self._ready:
            return
        if self._running:
            self.input_ready(binding)
            return
        if self._next_turn is None:
            # Nobody waits (whoever does has a turn scheduled): this line
            # is a turn of its own.
            self._turn_number += 1
            number = self._turn_number
        else:
            number = self._turn_number + 1  # a share of the turn scheduled
            if binding.turn_taken == number:
                self.input_ready(binding)  # had it already: the one after
                return
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self._running = True
        hold_output()
        try:
            self._take_turn(binding, number, self._loop.time())
        finally:
            self._running = False
            release_output()
        if self._ready:
            self._schedule()

    def forget(self, binding: Interactive) -> None:
        """The connection closed: no more turns, no pending wake-up."""
        self._ready.pop(binding, None)
        budget = binding.budget
        if budget is not None and budget.wake is not None:
            budget.wake.cancel()
            budget.wake = None

    def _schedule(self) -> None:
        if self._next_turn is None:
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            self._next_turn = self._loop.call_soon(self._turn)

    # -- a turn ----------------------------------------------------------------

    def _turn(self) -> None:
        """One line of each player who was ready when the turn began; what
        the lines wrote leaves at the end, one send per player."""
        self._next_turn = None
        self._turn_number += 1
        self._running = True
        hold_output()
        try:
            self._run_lines()
        finally:
            self._running = False
            release_output()
        if self._ready:
            self._schedule()

    def _run_lines(self) -> None:
        ready = self._ready
        now = self._loop.time()
        number = self._turn_number
        for binding in list(ready):
            del ready[binding]
            if binding.turn_taken == number:
                ready[binding] = None  # its line of this turn ran early
                continue
            self._take_turn(binding, number, now)

    def _take_turn(self, binding: Interactive, number: int, now: float) -> None:
        """One line of ``binding``'s, as its share of turn ``number``; it
        goes to the back of the queue if more input waits."""
        connection = binding.connection
        if not connection.has_input or connection.output_backed_up \
                or binding.waiting_coroutines:
            # Closed; or comes back when its output drains, or when its
            # last turn's coroutine ends (``Interactives.turn_finished``).
            return
        # A line costs a command; a turn that only parses, a fraction of
        # one; a line of text for the editor, nothing.
        editor = binding.editor
        if editor is not None and editor.inserting and connection.pending_lines \
                and not binding.input_handlers:
            pass
        elif not self._may_run(binding, now, 1.0 if connection.pending_lines else PARSE_TURN_COST):
            return  # comes back when a token is due
        binding.turn_taken = number
        line = connection.next_line()
        try:
            if line is not None:  # None: this turn parses more of the input
                self._run_line(binding, line)
        except Exception:  # noqa: BLE001 - one player's turn never stops the others'
            log.exception("%r: error running a line of input", connection)
        finally:
            connection.input_done()
        if connection.has_input:
            self._ready[binding] = None
        elif binding.budget is not None:
            binding.budget.told = False  # the burst is over

    # -- rates -----------------------------------------------------------------

    def rate_of(self, binding: Interactive) -> int | None:
        """Commands per second ``binding`` may run; None: no limit."""
        rate = binding.max_commands
        if rate is None:
            rate = self.commands_per_second
        return None if rate is None or rate < 0 else rate

    def _may_run(self, binding: Interactive, now: float, cost: float) -> bool:
        """Take ``cost`` tokens (a line: one) from the player's bucket, if it
        has them."""
        if not binding.connection.incoming:
            return True
        rate = binding.max_commands  # rate_of(), inlined: this runs for every line
        if rate is None:
            rate = self.commands_per_second
        if rate is None or rate < 0:
            return True
        # (Comparisons rather than max() and min(): in CPython 3.11 those
        # parse their arguments as keywords would be, some 800 machine
        # instructions a call, and this runs for every line.)
        burst = self.command_burst if self.command_burst > 1 else 1
        budget = binding.budget
        if budget is None:
            budget = binding.budget = CommandBudget(burst, now)
        else:
            tokens = budget.tokens + (now - budget.refilled_at) * rate
            budget.tokens = tokens if tokens < burst else burst
            budget.refilled_at = now
        if budget.tokens >= cost and rate > 0:
            budget.tokens -= cost
            return True
        if not budget.told:
            budget.told = True
            binding.connection.write_text(TOO_FAST)
        if rate > 0 and budget.wake is None:
            budget.wake = self._loop.call_later((cost - budget.tokens) / rate, self._wake,
                                                binding)
        return False

    def _wake(self, binding: Interactive) -> None:
        binding.budget.wake = None
        if binding.connection.has_input:
            self.input_ready(binding)

    def limits_changed(self, binding: Interactive) -> None:
        """``set_max_commands``: a waiting player is looked at again."""
        budget = binding.budget
        if budget is not None and budget.wake is not None:
            budget.wake.cancel()
            budget.wake = None
        if binding.connection.has_input:
            self.input_ready(binding)
