"""Efuns on objects: loading, cloning, finding, moving and calling them; the
call stack (``this_object``, ``this_player``, ``previous_object``); actions
and commands; hot reload.

Thin layers over the object table (``world.objects``), the command parser
(``world.commands``) and ``world.reload``: each checks its arguments, raising
``EfunError`` with LDMud's meaning, and hands the work on.
"""

from __future__ import annotations

from typing import Any, Callable

from ..world import commands as _commands
from ..world import objects as _objects
from ..world import permissions as _permissions
from ..world import reload as _reload
from ..world import shadows as _shadows
from ..world.commands import (
    AA_IMM_ARGS,
    AA_NOSPACE,
    AA_SHORT,
    AA_VERB,
    add_action,
    disable_commands,
    enable_commands,
    find_living,
    find_player,
    living,
    notify_fail,
    query_actions,
    query_notify_fail,
    query_verb,
    remove_action,
    set_living_name,
)
from ..world.objects import EfunError, MudObject, check_alive
from ..world.runtime import current as _runtime

__all__ = [
    "MudObject",
    "EfunError",
    "inherit",
    "load_object",
    "clone_object",
    "find_object",
    "destruct",
    "object_name",
    "load_name",
    "this_object",
    "this_player",
    "this_interactive",
    "previous_object",
    "call_other",
    "shadow",
    "unshadow",
    "query_shadowing",
    "environment",
    "move_object",
    "all_inventory",
    "present",
    "present_clone",
    "objects",
    "deep_inventory",
    "update_program",
    "reload_object",
    "enable_commands",
    "disable_commands",
    "living",
    "set_living_name",
    "find_living",
    "find_player",
    "add_action",
    "remove_action",
    "query_actions",
    "query_verb",
    "notify_fail",
    "query_notify_fail",
    "command",
    "AA_VERB",
    "AA_SHORT",
    "AA_NOSPACE",
    "AA_IMM_ARGS",
]


def inherit(path: str) -> type:
    """The class of the program at ``path``, to derive from: ``class X(inherit("/std/room"))``."""
    return _runtime().table.program(path).cls


def load_object(path: str) -> MudObject:
    return _runtime().table.load(path)


def clone_object(path: str | MudObject) -> MudObject:
    if isinstance(path, MudObject):
        path = path._mud_program.path
    return _runtime().table.clone(path)


def find_object(path: str) -> MudObject | None:
    return _runtime().table.find(path)


def destruct(ob: MudObject) -> None:
    """Remove ``ob``; the master's ``prepare_destruct(ob)`` runs first."""
    if isinstance(ob, MudObject) and ob._mud_destructed:
        return
    check_alive(ob)
    if ob is not _permissions.master():
        _permissions.ask_master("prepare_destruct", ob)
    _runtime().table.destruct(ob)


def object_name(ob: MudObject | None = None) -> str:
    return check_alive(this_object() if ob is None else ob)._mud_name


def load_name(ob: MudObject | None = None) -> str:
    """The name ``ob`` was loaded or cloned from: ``/obj/coin`` for ``/obj/coin#12``."""
    return object_name(ob).partition("#")[0]


def this_object() -> MudObject | None:
    return _objects.current_frame().this_object


def this_player() -> MudObject | None:
    return _objects.current_frame().this_player


def this_interactive() -> MudObject | None:
    return _objects.current_frame().this_interactive


def previous_object() -> MudObject | None:
    return _objects.current_frame().caller


def call_other(ob: MudObject | str, fun: str, *args: Any) -> Any:
    """Call ``ob.fun(*args)`` as LP does: ``ob`` becomes this_object, the caller previous_object.

    Returns None if the object does not define ``fun``.
    """
    if isinstance(ob, str):
        ob = load_object(ob)
    check_alive(ob)
    if not isinstance(fun, str) or fun.startswith("_"):
        return None
    if ob._mud_shadowed_by is not None:   # a shadow may answer in its place
        ob, method = _shadows.receiver(ob, fun, _objects.current_frame().this_object)
    else:
        method = getattr(ob, fun, None)
    if not callable(method):
        return None
    return _objects.call_in_frame(ob, method, *args)


def shadow(ob: MudObject) -> int:
    """this_object() becomes a shadow of ``ob``: ``call_other`` to ``ob``
    comes to it first.  1 if it did, 0 if the master's
    ``query_allow_shadow(ob)`` (this_object() its previous_object) did not
    allow it, or does not exist."""
    me = check_alive(this_object(), "this_object()")
    check_alive(ob)
    why = _shadows.why_not(me, ob)
    if why is not None:
        raise EfunError(f"shadow '{me._mud_name}' on '{ob._mud_name}': {why}.")
    defined, allowed = _permissions.ask_master("query_allow_shadow", ob)
    if not (defined and allowed) or me._mud_destructed or ob._mud_destructed \
            or _shadows.why_not(me, ob) is not None:   # (the master may change things)
        return 0
    _shadows.attach(me, ob)
    return 1


def unshadow() -> None:
    """this_object() stops shadowing; the shadows in front of it (if any)
    now stand in front of what it shadowed."""
    me = check_alive(this_object(), "this_object()")
    if me._mud_shadowing is not None:
        _shadows.detach(me)


def query_shadowing(ob: MudObject) -> MudObject | None:
    """The object ``ob`` shadows, or None."""
    return _shadows.shadowed_object(check_alive(ob))


def environment(ob: MudObject | None = None) -> MudObject | None:
    return check_alive(this_object() if ob is None else ob)._mud_environment


def move_object(ob: MudObject, dest: MudObject | str) -> None:
    if isinstance(dest, str):
        dest = load_object(dest)
    _commands.move(check_alive(ob), check_alive(dest, "destination"), _runtime().table)


def all_inventory(ob: MudObject | None = None) -> list[MudObject]:
    return list(check_alive(this_object() if ob is None else ob)._mud_inventory)


def present(name: str | MudObject, env: MudObject | None = None) -> MudObject | None:
    """An object in ``env`` that answers to ``name`` via its ``id()``; ``"coin 2"`` is the second.

    Without ``env``: this_object()'s inventory, then the objects beside it (LDMud).
    """
    if env is None:
        me = check_alive(this_object(), "this_object()")
        places = [me] + ([me._mud_environment] if me._mud_environment is not None else [])
    else:
        places = [check_alive(env, "environment")]
    if not isinstance(name, (str, MudObject)):
        raise EfunError(f"bad argument 1 to present: expected a name or an object, got {name!r}")
    wanted = 1
    if isinstance(name, str):
        word, _, number = name.rpartition(" ")
        if word and number.isdigit() and int(number) > 0:
            name, wanted = word, int(number)
    for place in places:
        for item in list(place._mud_inventory):
            if item is name:
                return item
            answerer, id_fun = item, getattr(item, "id", None)
            if item._mud_shadowed_by is not None:     # a disguise may answer for it
                answerer, id_fun = _shadows.receiver(item, "id", None)
            if isinstance(name, str) and callable(id_fun) \
                    and _objects.call_in_frame(answerer, id_fun, name):
                wanted -= 1
                if wanted == 0:
                    return item
    return None


def present_clone(program: str | MudObject, env: MudObject | None = None,
                  n: int = 1) -> MudObject | None:
    """The ``n``-th object in ``env``'s inventory (default this_object()'s)
    made from ``program``: a file name, or an object standing for its own
    (its load_name)."""
    if isinstance(program, MudObject):
        wanted = load_name(program)
    elif isinstance(program, str):
        wanted = _runtime().table.normalize(program)
    else:
        raise EfunError(f"bad argument 1 to present_clone: expected a file name or an object, "
                        f"got {program!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise EfunError(f"bad argument 3 to present_clone: expected a number from 1, got {n!r}")
    place = check_alive(this_object() if env is None else env, "environment")
    for item in place._mud_inventory:
        if item._mud_name.partition("#")[0] == wanted:
            n -= 1
            if n == 0:
                return item
    return None


def deep_inventory(ob: MudObject | None = None) -> list[MudObject]:
    """Everything inside ``ob``, at any depth, each container before its contents."""
    result: list[MudObject] = []
    stack = list(reversed(check_alive(this_object() if ob is None else ob)._mud_inventory))
    while stack:
        item = stack.pop()
        result.append(item)
        stack.extend(reversed(item._mud_inventory))
    return result


def objects() -> list[MudObject]:
    return list(_runtime().table.objects.values())


def command(text: str, ob: MudObject | None = None) -> int:
    """``ob`` (default this_object()) does ``text`` as if typed; 1 if an action took it.

    Making another object act needs the master's ``privilege_violation("command", ...)``.
    """
    target = this_object() if ob is None else ob
    if target is not this_object():
        _permissions.check_privilege("command", target, text)
    return _commands.command(text, target)


def update_program(path: str) -> list[str]:
    """Recompile ``path`` and what inherits it; running objects switch to the new code."""
    return _reload.update_program(_runtime().table, path)


def reload_object(ob: str | MudObject) -> MudObject:
    """``update_program``, then a fresh blueprint that takes over inventory and connection."""
    return _reload.reload_object(_runtime().table, ob)


def callable_argument(fun: Any, owner: MudObject | None, argument: str) -> Callable:
    """A method name or a callable given to an efun, as the callable to store."""
    if isinstance(fun, str):
        method = getattr(owner, fun, None) if owner is not None else None
        if not callable(method):
            raise EfunError(f"bad {argument}: {owner!r} has no method {fun!r}")
        return method
    if callable(fun):
        return fun
    raise EfunError(f"bad {argument}: expected a method name or a callable, got {fun!r}")
