"""Commands: living objects, actions, init() when objects meet, and parsing.

This module owns LDMud's command model as the driver sees it:

* A *living* object (one that called ``enable_commands()``) can give
  commands.  An interactive object counts as one for ``init()`` and for
  actions even without ``enable_commands()``.
* ``move_object`` notifies objects that meet, in LDMud's order: when ``item``
  moves into ``dest``, ``dest.init()`` runs with this_player = ``item`` (if
  ``item`` is living); then for every other object ``ob`` in ``dest``:
  ``item.init()`` with this_player = ``ob`` (if ``ob`` is living) and
  ``ob.init()`` with this_player = ``item`` (if ``item`` is living); last,
  ``item.init()`` with this_player = ``dest`` (if ``dest`` is living).
* ``add_action(fun, verb, flags)``, called (typically from ``init()``),
  gives this_player() an *action*: when it types ``verb``, ``fun(args)``
  runs in this_object().  An action lasts while its object stays near the
  living (the living itself, its inventory, its environment and what else
  is there); it is removed when they part or its object is destructed.
* A command line is split into verb and arguments and offered to the
  living's actions, newest first, until one returns a true value.  If none
  does, the master's ``fallback_command(command, player)`` may take it;
  otherwise the player reads the ``notify_fail`` message, or "What?".
* The interactive's ``process_input(line)`` apply sees each line first
  (MudOS): a string it returns replaces the line, another true value means
  the line was handled.  An object that is not living and defines
  ``process_input`` keeps its lines to itself.
"""

from __future__ import annotations

import inspect
import types
from typing import Any, Callable

from . import coroutines, objects, runtime
from .messages import deliver
from .objects import EfunError, MudObject, check_alive

#: ``add_action`` flags (LDMud)
AA_VERB = 0
AA_SHORT = 1
AA_NOSPACE = 2
AA_IMM_ARGS = 3

DEFAULT_FAIL_MESSAGE = "What?\n"


class Sentence:
    """One action a living can use: ``verb`` runs ``fun`` in ``owner``."""

    __slots__ = ("verb", "fun", "owner", "flags")

    def __init__(self, verb: str, fun: str | Callable, owner: MudObject, flags: int) -> None:
        self.verb = verb
        self.fun = fun
        self.owner = owner
        self.flags = flags

    @property
    def fun_name(self) -> str:
        return self.fun if isinstance(self.fun, str) else getattr(self.fun, "__name__", repr(self.fun))


class _Command:
    """The command being executed: its giver, verb and notify_fail message."""

    __slots__ = ("giver", "verb", "fail")

    def __init__(self, giver: MudObject) -> None:
        self.giver = giver
        self.verb: str | None = None
        self.fail: Any = None


_commands: list[_Command] = []
_living_names: dict[str, list[MudObject]] = {}
#: commands executed since start (for query_load_average)
executed = 0


# --- living objects ----------------------------------------------------------------

def is_giver(ob: Any) -> bool:
    """Whether ``ob`` can give commands: living, or interactive."""
    if not isinstance(ob, MudObject) or ob._mud_destructed:
        return False
    if ob._mud_living:
        return True
    binding = ob._mud_interactive
    return binding is not None and not binding.connection.closing


def enable_commands() -> None:
    ob = check_alive(objects.current_frame().this_object, "this_object()")
    ob._mud_living = True
    objects.current_frame().this_player = ob  # as in LDMud


def disable_commands() -> None:
    ob = check_alive(objects.current_frame().this_object, "this_object()")
    ob._mud_living = False
    ob._mud_actions = None
    _forget_living_name(ob)


def living(ob: Any) -> bool:
    if ob is None:
        return False
    return bool(check_alive(ob)._mud_living)


def set_living_name(name: str) -> None:
    ob = check_alive(objects.current_frame().this_object, "this_object()")
    if not _named(name, "set_living_name"):
        raise EfunError(f"bad argument 1 to set_living_name: expected a name, got {name!r}")
    _forget_living_name(ob)
    ob._mud_living_name = name
    _living_names.setdefault(name, []).append(ob)


def _forget_living_name(ob: MudObject) -> None:
    name = getattr(ob, "_mud_living_name", None)
    if name is None:
        return
    holders = _living_names.get(name, [])
    if ob in holders:
        holders.remove(ob)
    if not holders:
        _living_names.pop(name, None)
    ob._mud_living_name = None


def _named(name: Any, efun: str) -> str:
    if not isinstance(name, str):
        raise EfunError(f"bad argument 1 to {efun}: expected a name, got {name!r}")
    return name


def find_living(name: str) -> MudObject | None:
    for ob in _living_names.get(_named(name, "find_living"), ()):
        if ob._mud_living and not ob._mud_destructed:
            return ob
    return None


def find_player(name: str) -> MudObject | None:
    for ob in _living_names.get(_named(name, "find_player"), ()):
        if ob._mud_living and not ob._mud_destructed and ob._mud_once_interactive:
            return ob
    return None


# --- actions -------------------------------------------------------------------------

def near(giver: MudObject, owner: MudObject) -> bool:
    """Whether ``owner``'s actions are within reach of ``giver``."""
    if owner is giver:
        return True
    env = giver._mud_environment
    owner_env = owner._mud_environment
    return owner_env is giver or owner is env or (env is not None and owner_env is env)


def add_action(fun: str | Callable, verb: str, flags: int = 0) -> None:
    frame = objects.current_frame()
    owner = check_alive(frame.this_object, "this_object()")
    giver = frame.this_player
    if not is_giver(giver):
        raise EfunError("add_action: this_player() is not a living object "
                        "(call it from init(), or after enable_commands())")
    if not isinstance(verb, str) or not verb or (" " in verb and flags == 0):
        raise EfunError(f"bad argument 2 to add_action: expected a verb, got {verb!r}")
    if isinstance(flags, bool) or not isinstance(flags, int) or flags > AA_IMM_ARGS:
        raise EfunError(f"bad argument 3 to add_action: expected 0-3 or a negative number, got {flags!r}")
    if isinstance(fun, str):
        if not callable(getattr(owner, fun, None)):
            raise EfunError(f"bad argument 1 to add_action: {owner._mud_name} has no method {fun!r}")
    elif not callable(fun):
        raise EfunError(f"bad argument 1 to add_action: expected a method name or a callable, got {fun!r}")
    if not near(giver, owner):
        raise EfunError(f"add_action: {owner._mud_name} is not near {giver._mud_name}")
    sentence = Sentence(verb, fun, owner, flags)
    actions = giver._mud_actions
    if actions is None:
        actions = giver._mud_actions = []
    actions[:] = [s for s in actions
                  if not (s.owner is owner and s.verb == verb and s.fun_name == sentence.fun_name)]
    actions.append(sentence)


def remove_action(verb: str, ob: MudObject | None = None) -> bool:
    """Remove this_object()'s action for ``verb`` from ``ob`` (default this_player())."""
    frame = objects.current_frame()
    owner = frame.this_object
    giver = check_alive(frame.this_player if ob is None else ob)
    actions = giver._mud_actions or []
    for index in range(len(actions) - 1, -1, -1):
        if actions[index].verb == verb and actions[index].owner is owner:
            del actions[index]
            return True
    return False


def query_actions(ob: MudObject) -> list[tuple[str, int, MudObject, str]]:
    """``ob``'s actions, newest first, as (verb, flags, object, function name)."""
    giver = check_alive(ob)
    _prune(giver)
    return [(s.verb, s.flags, s.owner, s.fun_name) for s in reversed(giver._mud_actions or [])]


def query_verb() -> str | None:
    return _commands[-1].verb if _commands else None


def notify_fail(message: str | Callable) -> int:
    """The message for this command if no action succeeds; returns 0 (LDMud)."""
    if not (isinstance(message, str) or callable(message)):
        raise EfunError(f"bad argument 1 to notify_fail: expected a string or a callable, got {message!r}")
    if _commands:
        _commands[-1].fail = message
    return 0


def query_notify_fail() -> str | Callable | None:
    return _commands[-1].fail if _commands else None


def _prune(giver: MudObject) -> None:
    actions = giver._mud_actions
    if actions:
        actions[:] = [s for s in actions if not s.owner._mud_destructed and near(giver, s.owner)]


def prune_after_move(ob: MudObject, old: MudObject | None) -> None:
    """``ob`` left ``old``: actions whose objects are no longer near go."""
    candidates = [ob, *ob._mud_inventory]
    if old is not None:
        candidates += [old, *old._mud_inventory]
    for giver in candidates:
        if giver._mud_actions:
            _prune(giver)


def object_destructed(ob: MudObject) -> None:
    ob._mud_actions = None
    _forget_living_name(ob)
    env = ob._mud_environment
    candidates = list(ob._mud_inventory)
    if env is not None:
        candidates += [env, *env._mud_inventory]
    for giver in candidates:
        if giver._mud_actions:
            giver._mud_actions[:] = [s for s in giver._mud_actions if s.owner is not ob]


# --- objects meeting ------------------------------------------------------------------

def _init(target: MudObject, player: MudObject) -> None:
    if target._mud_destructed or player._mud_destructed:
        return
    init = getattr(target, "init", None)
    if callable(init):
        result = objects.call_in_frame(target, init, this_player=player)
        if inspect.iscoroutine(result):
            top = objects.current_frame()
            coroutines.start(result, target, player, top.this_interactive, f"{target._mud_name}->init()")


def move(ob: MudObject, dest: MudObject, table: objects.ObjectTable) -> None:
    """``move_object``: move, drop actions out of reach, run init()s."""
    old = ob._mud_environment
    table.move(ob, dest)
    if old is not None:
        prune_after_move(ob, old)
    if is_giver(ob):
        _init(dest, ob)
    for other in list(dest._mud_inventory):
        if ob._mud_destructed or ob._mud_environment is not dest:
            return  # an init() moved it on
        if other is ob or other._mud_destructed:
            continue
        if is_giver(other):
            _init(ob, other)
        if is_giver(ob):
            _init(other, ob)
    if is_giver(dest) and ob._mud_environment is dest:
        _init(ob, dest)


def reinit(container: MudObject) -> None:
    """Run ``container.init()`` again for every living in it (after a reload)."""
    for ob in list(container._mud_inventory):
        if is_giver(ob):
            _init(container, ob)


# --- executing a command ----------------------------------------------------------------

def _match(sentence: Sentence, verb: str, line: str, rest: str | None) -> tuple[bool, str | None, str]:
    """(matches, argument, verb as query_verb() reports it)."""
    flags, target = sentence.flags, sentence.verb
    if flags == AA_VERB:
        return verb == target, rest, verb
    if flags == AA_SHORT:
        return verb.startswith(target), rest, verb
    if flags in (AA_NOSPACE, AA_IMM_ARGS):
        if not line.startswith(target):
            return False, None, verb
        argument = line[len(target):] or None
        return True, argument, (verb if flags == AA_NOSPACE else target)
    # negative: an abbreviation of at least -flags characters
    return (len(verb) >= -flags and target.startswith(verb)), rest, verb


def execute(giver: MudObject, line: str) -> bool:
    """Parse ``line`` as a command of ``giver`` and run it; True if something took it."""
    global executed
    line = line.strip()
    if not line:
        return True
    executed += 1
    command = _Command(giver)
    _commands.append(command)
    try:
        verb, _, rest = line.partition(" ")
        rest = rest.strip() or None
        _prune(giver)
        for sentence in list(reversed(giver._mud_actions or [])):
            if sentence.owner._mud_destructed or giver._mud_destructed:
                continue
            matches, argument, shown_verb = _match(sentence, verb, line, rest)
            if not matches:
                continue
            fun = sentence.fun
            if isinstance(fun, str):
                fun = getattr(sentence.owner, fun, None)
                if not callable(fun):
                    continue
            else:
                fun = objects.current_callable(fun)
            command.verb = shown_verb
            # An action that declares no parameter is called without the
            # argument, as an LPC function ignores what it does not declare.
            result = objects.call_in_frame(sentence.owner, fun,
                                           *objects.accepted_arguments(fun, (argument,)),
                                           this_player=giver)
            if inspect.iscoroutine(result):
                coroutines.start(result, sentence.owner, giver, objects.current_frame().this_interactive,
                      f"{sentence.owner._mud_name}->{sentence.fun_name}()")
                return True
            if result:
                return True
        command.verb = verb
        if _fallback(giver, line):
            return True
        message = command.fail
        if callable(message):
            message = objects.call_in_frame(objects.current_frame().this_object, message)
        deliver(giver, str(message) if message else DEFAULT_FAIL_MESSAGE)
        return False
    finally:
        _commands.pop()


def _fallback(giver: MudObject, line: str) -> bool:
    rt = runtime.current()
    master = rt.table.find(rt.config.master)
    hook = getattr(master, "fallback_command", None)
    if not callable(hook):
        return False
    args = objects.accepted_arguments(hook, (line, giver))
    return bool(objects.call_in_frame(master, hook, *args, this_player=giver))


def command(text: str, ob: MudObject | None = None) -> int:
    """``ob`` (default this_object()) performs ``text`` as if typed; 1 if it succeeded."""
    ob = check_alive(objects.current_frame().this_object if ob is None else ob)
    if not isinstance(text, str):
        raise EfunError(f"bad argument 1 to command: expected a string, got {text!r}")
    if not is_giver(ob):
        raise EfunError(f"command: {ob._mud_name} is not living")
    return int(bool(objects.call_in_frame(ob, execute, ob, text, this_player=ob)))


def _input_turn(owner: MudObject, line: str, process: Callable | None, what: str) -> None:
    if process is not None:
        result = process(line)
        if type(result) is types.CoroutineType:  # inspect.iscoroutine, without the call
            coroutines.start(result, owner, owner, owner, what)
            return
        if result is not None and isinstance(result, str):  # (isinstance(None) is slow)
            line = result
        elif result or not owner._mud_living:
            return
    execute(owner, line)


def player_input(binding, line: str, print_prompt: Callable) -> None:
    """A line from a player with no ``input_to`` pending: one turn."""
    owner = binding.owner
    process = getattr(owner, "process_input", None)
    process = process if callable(process) else None
    what = f"{owner._mud_name}: {'process_input' if process else 'command'}"
    binding.in_turn = True
    try:
        objects.run(owner, _input_turn, owner, line, process, what,
                    this_player=owner, this_interactive=owner, what=what)
    finally:
        binding.in_turn = False
    print_prompt(binding)
