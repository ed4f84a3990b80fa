"""Interactives: connections bound to mudlib objects, and the login sequence.

This module owns everything the driver does between a connection and the
object that owns it:

* the LDMud login sequence: a new connection is bound to the master, its
  ``connect()`` chooses the owner, then ``logon()`` runs at once, or, if
  ``connect()`` started TLS, when the handshake's outcome is known (and not
  at all if ``connect()`` gave the connection away with ``exec``);
* input: each line waits for the player's turn (``turns.Turns``: one line
  per player per turn, round-robin, within the player's command rate, and
  not while the player's last turn goes on in a coroutine), then goes to
  the newest input handler if there is one (a pending ``input_to``, or the
  ``ed`` session: ``edit_sessions``), else to the owner's ``process_input``
  apply;
* prompts: printed after each turn the player caused (logon, a command, a TLS
  callback, or a handshake whose callback was skipped), never while a
  handshake runs; a prompt that is a callable is called each time, as
  LDMud calls a closure prompt; a turn that goes on in a coroutine
  (awaiting a worker, say) ends when the coroutine does;
* TLS callbacks: run exactly once as ``fun(result, ob, *extra)`` with the
  connection's object as this_player; skipped if their object is gone, and
  dropped unrun when the driver itself closes the connection
  (``remove_interactive``, ``destruct``, shutdown), as in LDMud;
* applies and callbacks get only as many arguments as they declare
  (``objects.accepted_arguments``): ``def logon(self):`` works on every port;
* ``exec``: moving a connection (with its TLS state, pending callback and
  input handlers) from one object to another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from .. import metrics
from . import commands, inputs, objects
from .client_applies import ClientApplies
from ..config import ConnectionLimits
from ..net.connection import Connection
from .inputs import INPUT_CHARMODE, INPUT_NOECHO, InputHandler, binding_of
from .objects import EfunError, MudObject
from .turns import CommandBudget, Turns

log = logging.getLogger("driver.interactive")

DEFAULT_PROMPT = "> "


class TLSCallback:
    """What to run when a handshake ends: ``fun(result, ob, *extra)``."""

    __slots__ = ("fun", "owner", "extra", "deferred_logon")

    def __init__(self, fun: Callable | None, owner: MudObject | None, extra: tuple,
                 deferred_logon: bool = False) -> None:
        self.fun = fun
        self.owner = owner  # the object the callback runs as (this_object)
        self.extra = extra
        self.deferred_logon = deferred_logon


class Interactive:
    """The driver's state for one connection that belongs to an object."""

    __slots__ = ("connection", "owner", "input_handlers", "editor", "prompt", "tls_callback",
                 "connected_at", "last_input", "in_turn", "waiting_coroutines",
                 "max_commands", "budget", "turn_taken",
                 "__weakref__")

    def __init__(self, connection: Connection, owner: MudObject) -> None:
        self.connection = connection
        self.owner: MudObject | None = owner
        self.input_handlers: list[InputHandler] = []
        #: the ``ed`` session (``edit_sessions.EditSession``), if one is open
        self.editor = None
        self.prompt = DEFAULT_PROMPT
        self.tls_callback: TLSCallback | None = None
        self.connected_at = time.time()
        self.last_input = time.monotonic()
        #: True while the driver runs mudlib code on this player's behalf;
        #: prompts asked for meanwhile wait for the end of the turn.
        self.in_turn = False
        #: coroutines of this player's turns still running (awaiting a
        #: handshake, a worker); the prompt waits for the last one
        #: (coroutines.turn_finished prints it then), and so does the
        #: player's next line (``turns.Turns`` skips them meanwhile)
        self.waiting_coroutines = 0
        #: ``set_max_commands``: commands per second (negative: no limit);
        #: None: connections.commands_per_second
        self.max_commands: int | None = None
        #: the player's command-rate bucket, made when the rate first matters
        self.budget: CommandBudget | None = None
        #: the number of the last turn in which a line of theirs ran
        #: (``turns.Turns``: one a turn)
        self.turn_taken = 0

    @property
    def alive(self) -> bool:
        return not self.connection.closing


def _no_logon(*_args) -> None:
    pass


class Interactives(ClientApplies):
    """Implements ``ConnectionEvents``: the driver's side of every connection."""

    def __init__(self, table: objects.ObjectTable, master_path: str) -> None:
        self.table = table
        self.master_path = master_path
        #: every live binding, in connection order (a dict: O(1) removal)
        self.bindings: dict[Interactive, None] = {}
        #: called when the last connection has closed (shutdown waits on it)
        self.on_last_closed: Callable[[], None] | None = None
        #: whose input runs next
        self.turns = Turns(self.run_line)
        #: what each connection may hold (read by Connection)
        self.flow_policy = ConnectionLimits()

    def set_limits(self, limits: ConnectionLimits) -> None:
        """config.yaml's ``connections``: rates here, buffers and keepalive
        for each connection made from now on."""
        self.turns.commands_per_second = limits.commands_per_second
        self.turns.command_burst = limits.command_burst
        self.flow_policy = limits

    @property
    def master(self) -> MudObject:
        return self.table.load(self.master_path)

    # -- the login sequence ----------------------------------------------------

    def connection_opened(self, connection: Connection) -> None:
        if not connection.incoming:
            self._outgoing_opened(connection)
            return
        try:
            master = self.master
        except Exception:  # noqa: BLE001
            log.exception("cannot load the master; refusing %r", connection)
            connection.close()
            return
        binding = self._bind(connection, master)
        binding.in_turn = True
        owner = objects.run(master, master.connect, this_player=master, this_interactive=master,
                            what=f"{master._mud_name}->connect()")
        binding.in_turn = False
        if connection.closing:
            return
        if binding.owner is not master:
            # connect() handed the connection away with exec(): the object
            # that did it is responsible for it now.  LDMud's new_player()
            # returns here too, whatever connect() returned: no logon(), no
            # deferred logon after a handshake, no prompt.
            return
        if not isinstance(owner, MudObject) or owner._mud_destructed:
            if owner is not None:
                log.error("master connect() returned %r, not an object; closing %r", owner, connection)
            self._refuse(binding)
            return
        if owner._mud_interactive is not None:
            # Binding it would leave its own connection without an object
            # to read for; LDMud closes the new one.
            log.error("master connect() returned %s, which already has a connection; closing %r",
                      owner._mud_name, connection)
            self._refuse(binding)
            return
        self._move(binding, owner)
        if connection.is_handshaking:
            if binding.tls_callback is None:
                if not callable(getattr(owner, "logon", None)):
                    log.error("%s has no logon() to receive the TLS result; closing %r",
                              owner._mud_name, connection)
                    self._refuse(binding)
                    return
                binding.tls_callback = TLSCallback(None, owner, (), deferred_logon=True)
            return
        self._turn(binding, owner, getattr(owner, "logon", None), (), "logon")

    def _refuse(self, binding: Interactive) -> None:
        """Close a connection that no object took, without telling the master."""
        self._detach(binding)
        self.close(binding)

    # -- connections the mudlib opens (net_connect) ---------------------------

    def open_outgoing(self, ob: MudObject, host: str, port: int) -> None:
        """Connect to ``host:port`` for ``ob``; ``logon()`` or ``logon(-1)`` follows."""
        loop = asyncio.get_running_loop()

        async def connect() -> None:
            try:
                await loop.create_connection(
                    lambda: Connection(self, incoming=False, remote_host=host, owner=ob),
                    host, port)
            except (OSError, ValueError, UnicodeError) as exc:
                log.info("net_connect to %s port %s for %s failed: %s",
                         host, port, ob._mud_name, exc)
                if not ob._mud_destructed:
                    objects.run_apply(ob, getattr(ob, "logon", _no_logon), -1,
                                      this_player=ob, this_interactive=None,
                                      what=f"{ob._mud_name}->logon(-1)")

        loop.create_task(connect())

    def _outgoing_opened(self, connection: Connection) -> None:
        owner = connection.requested_owner
        connection.requested_owner = None
        if owner is None or owner._mud_destructed or binding_of(owner) is not None:
            connection.close()
            return
        binding = self._bind(connection, owner)
        self._turn(binding, owner, getattr(owner, "logon", None), (), "logon")

    # -- ConnectionEvents ------------------------------------------------------

    def input_ready(self, connection: Connection) -> None:
        binding: Interactive = connection.binding
        if binding is None or binding.owner is None:
            connection.pending_lines.clear()  # nobody to read it: the connection is going
            return
        self.turns.input_ready(binding)

    def input_arrived(self, connection: Connection) -> None:
        binding: Interactive = connection.binding
        if binding is None or binding.owner is None:
            connection.pending_lines.clear()
            return
        self.turns.input_arrived(binding)

    def run_line(self, binding: Interactive, line: str) -> None:
        """The player's turn: one line of their input, timed for the metrics."""
        started = time.perf_counter()
        try:
            owner = binding.owner
            if owner is None:
                return
            binding.last_input = time.monotonic()
            if binding.input_handlers or binding.editor is not None:
                handler = inputs.next_handler(binding) if binding.input_handlers else None
                editor = binding.editor
                if editor is not None and (handler is None or handler.order < editor.order):
                    if line[:1] != "!" or editor.inserting:
                        inputs.snoop_input(binding, line, hidden=False)
                        self._turn(binding, owner, editor.feed, (line,), "ed")
                        return
                    line = line[1:]  # "!cmd": a game command from within ed
                elif handler is not None:
                    self._run_input_to(binding, owner, handler, line)
                    return
            inputs.snoop_input(binding, line, hidden=False)
            commands.player_input(binding, line, self.print_prompt)
        finally:
            metrics.command_seconds.observe(time.perf_counter() - started)

    def _run_input_to(self, binding: Interactive, owner: MudObject, handler, line: str) -> None:
        """The line goes to the newest ``input_to`` instead of the commands."""
        connection = binding.connection
        binding.input_handlers.pop()
        inputs.snoop_input(binding, line, hidden=bool(handler.flags & INPUT_NOECHO))
        if handler.flags & INPUT_NOECHO and not handler.flags & INPUT_CHARMODE:
            connection.set_echo_hidden(False)
            connection.write_text("\n")
        inputs.echo_key(binding, handler, line)
        fun = objects.current_callable(handler.fun)  # the newest code after a reload
        self._turn(binding, getattr(fun, "__self__", owner), fun,
                   (line, *handler.extra), "input_to")
        inputs.sync_char_mode(binding)

    def handshake_finished(self, connection: Connection, result: int) -> None:
        binding: Interactive = connection.binding
        if binding is None:
            return
        callback, binding.tls_callback = binding.tls_callback, None
        if callback is None:
            return  # none was asked for, or the driver dropped it when it closed the connection
        ob = binding.owner
        if callback.deferred_logon:
            target = ob if ob is not None and not ob._mud_destructed else None
            if target is None:
                return
            self._turn(binding, target, getattr(target, "logon", None), (result, target), "logon")
            return
        fun = objects.current_callable(callback.fun)
        if callback.owner is not None and callback.owner._mud_destructed:
            fun = None  # the callback's object is gone: skipped silently (LDMud)
        elif isinstance(fun, str):
            name, fun = fun, getattr(callback.owner, fun, None)
            if not callable(fun):
                log.warning("TLS callback %s->%s() does not exist; nothing called",
                            callback.owner._mud_name, name)
                fun = None
        if fun is None:
            # LDMud prints the prompt after a handshake that had a callback,
            # whether or not the callback could run.
            self.print_prompt(binding)
            return
        self._turn(binding, callback.owner, fun, (result, ob, *callback.extra), "TLS callback")

    def connection_closed(self, connection: Connection, how: str) -> None:
        binding: Interactive | None = connection.binding
        if binding is None:
            return
        self.turns.forget(binding)
        if self.bindings.pop(binding, False) is None:
            if not self.bindings and self.on_last_closed is not None:
                self.on_last_closed()
        binding.tls_callback = None
        binding.input_handlers.clear()
        if binding.editor is not None:
            binding.editor.connection_lost()
        owner = binding.owner
        was_attached = owner is not None and owner._mud_interactive is binding
        self._detach(binding)
        if was_attached and not owner._mud_destructed:
            master = self.table.find(self.master_path)
            disconnect = getattr(master, "disconnect", None)
            if callable(disconnect) and owner is not master:
                objects.run_apply(master, disconnect, owner, how,
                                  this_player=owner, this_interactive=None)

    # -- turns and prompts -----------------------------------------------------

    def _turn(self, binding: Interactive, this_object, fun, args: tuple, what: str) -> None:
        """Run mudlib code on the player's behalf, then print the prompt."""
        owner = binding.owner
        if fun is None or not callable(fun):
            if what == "logon":
                log.error("%s has no logon(); closing %r", owner._mud_name if owner else "?",
                          binding.connection)
                self.close(binding)
            return
        binding.in_turn = True
        try:
            objects.run_apply(this_object, fun, *args, this_player=owner, this_interactive=owner,
                              what=f"{getattr(this_object, '_mud_name', '?')}: {what}")
        finally:
            binding.in_turn = False
        self.print_prompt(binding)

    def turn_finished(self, binding: Interactive) -> None:
        """The coroutine that carried a player's turn on has ended: its
        prompt comes, then the lines typed meanwhile get their turns (they
        waited in the connection, as any player's next line does)."""
        self.print_prompt(binding)
        if binding.alive and binding.connection.has_input:
            self.turns.input_ready(binding)

    def print_prompt(self, binding: Interactive) -> None:
        connection = binding.connection
        if connection.closing or connection.is_handshaking or not connection.incoming:
            return  # suppressed, not queued (and a remote server gets none)
        if binding.owner is None or binding.owner._mud_interactive is not binding:
            return
        if binding.waiting_coroutines:
            return  # the turn goes on in a coroutine; its end prints the prompt
        editor = binding.editor
        if editor is not None and (not binding.input_handlers
                                   or binding.input_handlers[-1].order < editor.order):
            connection.send_prompt(editor.prompt)
            return
        if binding.input_handlers:
            handler = binding.input_handlers[-1]
            if handler.prompt is not None and not handler.prompt_shown:
                handler.prompt_shown = True
                connection.send_prompt(handler.prompt)
            return
        prompt = binding.prompt
        if type(prompt) is not str:
            prompt = self._prompt_from(prompt, binding)
            if prompt is None:
                return
        connection.send_prompt(prompt)

    @staticmethod
    def _prompt_from(closure: Callable, binding: Interactive) -> str | None:
        """A prompt given as a callable (``set_prompt``), called now, as
        LDMud calls a closure prompt each time it prints it: its object
        runs it, with the player as this_player.  Anything but a string
        (None, an error, an object since destructed) prints no prompt."""
        this_object = getattr(closure, "__self__", binding.owner)
        if isinstance(this_object, MudObject) and this_object._mud_destructed:
            return None
        # A method of an object given new code since: the new code's, as
        # actions are (update_program).
        closure = objects.current_callable(closure)
        result = objects.run(this_object, closure, this_player=binding.owner,
                             this_interactive=binding.owner,
                             what=f"{binding.owner._mud_name}: prompt")
        return result if isinstance(result, str) else None

    # -- binding objects and connections ---------------------------------------

    def _bind(self, connection: Connection, owner: MudObject) -> Interactive:
        binding = Interactive(connection, owner)
        connection.binding = binding
        self.bindings[binding] = None
        self._attach(binding, owner)
        return binding

    def _attach(self, binding: Interactive, ob: MudObject) -> None:
        binding.owner = ob
        ob._mud_interactive = binding
        ob._mud_once_interactive = True

    def _detach(self, binding: Interactive) -> None:
        owner = binding.owner
        if owner is not None and owner._mud_interactive is binding:
            owner._mud_interactive = None

    def _move(self, binding: Interactive, new: MudObject) -> None:
        self._detach(binding)
        self._attach(binding, new)

    def exec(self, new: MudObject, old: MudObject) -> bool:
        binding = binding_of(old)
        if binding is None:
            raise EfunError(f"exec: {old._mud_name} is not interactive")
        other = new._mud_interactive
        self._detach(binding)
        if other is not None:
            # LDMud swaps: the connection of ``new`` goes to ``old``.
            self._detach(other)
            self._attach(other, old)
        self._attach(binding, new)
        return True

    def add_input_handler(self, binding: Interactive, handler: InputHandler) -> None:
        binding.input_handlers.append(handler)
        if handler.flags & INPUT_NOECHO:
            binding.connection.set_echo_hidden(True)
        if handler.flags & INPUT_CHARMODE or binding.connection.telnet is not None \
                and binding.connection.telnet.line_reader.char_mode:
            inputs.sync_char_mode(binding)
        if not binding.in_turn:
            self.print_prompt(binding)

    def start_editor(self, binding: Interactive, session) -> None:
        """``ed``: the session takes the player's lines from now on."""
        if binding.editor is not None:
            raise EfunError("ed: this player is editing already")
        binding.editor = session
        if not binding.in_turn:
            self.print_prompt(binding)

    def close(self, binding: Interactive, going_away: bool = False) -> None:
        """``remove_interactive``: flush, close_notify if secure, close.

        A pending TLS callback is dropped unrun, as LDMud's remove_interactive
        drops it: the handshake did not fail, the driver ended it, and the
        callback would only be told that the peer closed the connection.
        ``going_away``: the driver is stopping (a web client is told so).
        """
        binding.tls_callback = None
        binding.connection.close(going_away=going_away)

    def object_destructed(self, ob: MudObject) -> None:
        binding = ob._mud_interactive
        if binding is not None:
            if binding.editor is not None:
                binding.editor.connection_lost()  # before the player is gone
            self._detach(binding)
            binding.owner = None
            self.close(binding)

    def users(self) -> list[MudObject]:
        return [b.owner for b in self.bindings
                if b.alive and b.owner is not None and b.owner._mud_interactive is b]
