"""Efuns on players and their connections: text to them, ``input_to``,
``ed``, prompts, ``exec``, where a connection comes from, and ``snoop``.

Thin layers over the interactives (``world.interactive``), input handling
(``world.inputs``), the editor's sessions (``world.edit_sessions``) and the
one text path (``world.messages``).
"""

from __future__ import annotations

import time as _time
from typing import Any, Callable

from ..world import inputs as _inputs
from ..world import permissions as _permissions
from ..world.edit_sessions import EditSession as _EditSession
from ..world.inputs import (
    INPUT_CHARMODE,
    INPUT_NOECHO,
    INPUT_PROMPT,
    InputHandler,
    binding_of,
    find_input_to,
    input_to_info,
    query_snoop,
    remove_input_to,
)
from ..world.messages import deliver as _deliver
from ..world.objects import EfunError, MudObject, check_alive
from ..world.objects import current_frame as _current_frame
from ..world.runtime import current as _runtime
from .objects import callable_argument, load_object, this_interactive, this_object, this_player

__all__ = [
    "write",
    "tell_object",
    "say",
    "tell_room",
    "users",
    "interactive",
    "exec",
    "exec_interactive",
    "remove_interactive",
    "input_to",
    "ed",
    "query_editing",
    "set_prompt",
    "query_ip_number",
    "query_mud_port",
    "query_listen_ports",
    "query_host_name",
    "query_idle",
    "INPUT_NOECHO",
    "INPUT_CHARMODE",
    "INPUT_PROMPT",
    "remove_input_to",
    "find_input_to",
    "input_to_info",
    "snoop",
    "query_snoop",
    "query_once_interactive",
    "set_max_commands",
    "get_max_commands",
]


def write(text: Any) -> None:
    """Text to this_player()."""
    player = _current_frame().this_player  # this_player(), a call fewer: most replies come this way
    if player is not None and not player._mud_destructed:
        _deliver(player, text if type(text) is str else str(text))


def tell_object(ob: MudObject, text: Any) -> None:
    _deliver(check_alive(ob), str(text))


def tell_room(room: MudObject | str, text: Any, exclude: Any = ()) -> None:
    if isinstance(room, str):
        room = load_object(room)
    check_alive(room, "room")
    if isinstance(exclude, MudObject):
        exclude = (exclude,)
    excluded = set(map(id, exclude or ()))
    for ob in list(room._mud_inventory):
        if id(ob) not in excluded and not ob._mud_destructed:
            _deliver(ob, str(text))


def say(text: Any, exclude: Any = None) -> None:
    """Text to everyone in this_player()'s room but this_player (and ``exclude``)."""
    player = this_player() or this_object()
    if player is None or player._mud_environment is None:
        return
    others = [player]
    if isinstance(exclude, MudObject):
        others.append(exclude)
    elif exclude:
        others.extend(exclude)
    tell_room(player._mud_environment, text, others)


def users() -> list[MudObject]:
    return _runtime().interactives.users()


def interactive(ob: MudObject | None = None) -> bool:
    ob = this_object() if ob is None else ob
    return isinstance(ob, MudObject) and binding_of(check_alive(ob)) is not None


def query_once_interactive(ob: MudObject | None = None) -> bool:
    """True if ``ob`` has ever had a connection (LDMud)."""
    return bool(check_alive(this_object() if ob is None else ob)._mud_once_interactive)


def exec(new: MudObject, old: MudObject) -> bool:  # noqa: A001 - LDMud's name
    """Move ``old``'s connection, TLS state and pending callbacks to ``new``."""
    check_alive(new, "new")
    check_alive(old, "old")
    _permissions.check_exec(new, old)
    return _runtime().interactives.exec(new, old)


#: ``exec`` under a name that does not shadow Python's built-in ``exec`` when
#: imported (``from driver.efuns import exec_interactive``); the same efun.
exec_interactive = exec


def remove_interactive(ob: MudObject | None = None) -> None:
    """Close ``ob``'s connection after sending what is pending (close_notify on TLS)."""
    binding = binding_of(check_alive(this_object() if ob is None else ob))
    if binding is not None:
        _runtime().interactives.close(binding)


def input_to(fun: str | Callable, flags: int = 0, *extra: Any) -> bool:
    """The player's next line goes to ``fun(line, *extra)`` instead of being a command.

    With ``INPUT_PROMPT`` the first extra argument is the prompt to show;
    ``INPUT_NOECHO`` asks the client not to echo (telnet WILL ECHO).
    """
    player = this_player()
    binding = binding_of(player) if player is not None else None
    if binding is None:
        return False
    if not isinstance(flags, int):
        raise EfunError(f"bad argument 2 to input_to: flags must be an int, got {flags!r}")
    owner = this_object() or player
    method = callable_argument(fun, owner, "argument 1 to input_to")
    prompt = None
    if flags & INPUT_PROMPT:
        if not extra:
            raise EfunError("input_to: INPUT_PROMPT needs the prompt as the third argument")
        prompt, extra = str(extra[0]), extra[1:]
    _runtime().interactives.add_input_handler(binding, InputHandler(method, flags, prompt, extra))
    return True


def ed(file: str | None = None, func: str | Callable | None = None) -> bool:
    """Open the line editor on ``file`` for this_player(); ``func`` runs when it ends.

    The player's lines go to the editor until ``q``; ``h`` in it lists its
    commands.  The master's ``valid_read`` (as ``"ed_start"``) must allow
    reading ``file``, and ``valid_write`` (as ``"ed"``) allows each ``w``.
    """
    player = this_player()
    binding = binding_of(player) if player is not None else None
    if binding is None:
        raise EfunError("ed: this_player() is not interactive")
    if file is not None and not isinstance(file, str):
        raise EfunError(f"bad argument 1 to ed: expected a file name, got {file!r}")
    if binding.editor is not None:
        raise EfunError(f"ed: {player._mud_name} is editing already")
    exit_fn = None
    if func is not None:
        exit_fn = callable_argument(func, this_object() or player, "argument 2 to ed")
    session = _EditSession(binding, exit_fn)
    _deliver(player, session.open(file))
    _runtime().interactives.start_editor(binding, session)
    return True


def query_editing(ob: MudObject) -> bool | MudObject:
    """Whether ``ob`` is in the editor: False, the object whose function
    runs when it ends, or True."""
    binding = getattr(check_alive(ob), "_mud_interactive", None)
    session = binding.editor if binding is not None else None
    if session is None:
        return False
    return session.exit_object or True


def set_prompt(prompt: str | Callable[[], str | None] | None = None,
               ob: MudObject | None = None) -> str | Callable[[], str | None]:
    """Set the prompt of ``ob`` (default this_player()); returns the old one.

    A callable is called each time the prompt is printed, and what it
    returns is printed if it is a string (LDMud's closure prompts).
    """
    binding = binding_of(check_alive(this_player() if ob is None else ob))
    if binding is None:
        raise EfunError("set_prompt: object not interactive")
    if prompt is not None and not isinstance(prompt, str) and not callable(prompt):
        raise EfunError(f"bad argument 1 to set_prompt: expected a string or a callable, "
                        f"got {prompt!r}")
    old = binding.prompt
    if prompt is not None:
        binding.prompt = prompt
    return old


def _attached_binding(ob: MudObject | None):
    """The connection ``ob`` is bound to, even while it closes: where it came
    from stays true until the driver detaches it (so the ``logon(result)``
    of a handshake the peer cut short can still name the address)."""
    return getattr(check_alive(this_player() if ob is None else ob), "_mud_interactive", None)


def query_ip_number(ob: MudObject | None = None) -> str | None:
    binding = _attached_binding(ob)
    return binding.connection.peer[0] if binding else None


def query_mud_port(ob: MudObject | None = None) -> int | None:
    binding = _attached_binding(ob)
    return binding.connection.local_port if binding else None


def query_idle(ob: MudObject) -> float:
    binding = binding_of(check_alive(ob))
    if binding is None:
        raise EfunError("query_idle: object not interactive")
    return _time.monotonic() - binding.last_input


class ListenPorts(tuple):
    """``(telnet, tls)``, and by name ``.telnet``, ``.tls``, ``.web`` and
    ``.web_proxy``.  The web ports are attributes only, so code that
    unpacks the pair goes on working."""

    def __new__(cls, telnet: int | None, tls: int | None, web: int | None = None,
                web_proxy: int | None = None):
        ports = super().__new__(cls, (telnet, tls))
        ports.web = web
        ports.web_proxy = web_proxy
        return ports

    telnet = property(lambda self: self[0])
    tls = property(lambda self: self[1])

    def __repr__(self) -> str:
        return (f"ListenPorts(telnet={self[0]}, tls={self[1]}, web={self.web}, "
                f"web_proxy={self.web_proxy})")


def query_listen_ports() -> ListenPorts:
    """The ports the driver listens on: ``.telnet``, ``.tls``, ``.web`` (HTTPS
    and secure WebSocket) and ``.web_proxy`` (plain HTTP for a reverse
    proxy); None for a port that is off."""
    runtime = _runtime()
    return ListenPorts(runtime.telnet_port, runtime.tls_port, runtime.web_port,
                       runtime.web_proxy_port)


def query_host_name() -> str:
    return _runtime().config.hostname


def snoop(snooper: MudObject, snoopee: MudObject | None = None) -> int:
    """``snooper`` sees what ``snoopee`` reads and types; without ``snoopee``, stops. 1 if done."""
    check_alive(snooper, "snooper")
    if snoopee is not None:
        check_alive(snoopee, "snoopee")
    _permissions.check_snoop(snooper, snoopee)
    if snoopee is None:
        return int(_inputs.stop_snoop(snooper))
    return int(_inputs.start_snoop(snooper, snoopee))


def set_max_commands(num: int, ob: MudObject | None = None) -> None:
    """How many commands per second ``ob`` (default this_interactive()) may
    run; negative: no limit.  Asks the master's privilege_violation first."""
    if isinstance(num, bool) or not isinstance(num, int):
        raise EfunError(f"bad argument 1 to set_max_commands: expected a whole number, got {num!r}")
    ob = this_interactive() if ob is None else ob
    if ob is None:
        raise EfunError("set_max_commands: no object given and no this_interactive()")
    binding = binding_of(check_alive(ob))
    if binding is None:
        raise EfunError(f"set_max_commands: {ob._mud_name} is not interactive")
    _permissions.check_privilege("set_max_commands", ob, num)
    binding.max_commands = -1 if num < 0 else num
    _runtime().interactives.turns.limits_changed(binding)


def get_max_commands(ob: MudObject | None = None) -> int:
    """Commands per second ``ob`` (default this_interactive()) may run: -1
    means no limit, 0 that ``ob`` is not interactive."""
    ob = this_interactive() if ob is None else ob
    binding = binding_of(check_alive(ob)) if ob is not None else None
    if binding is None:
        return 0
    rate = _runtime().interactives.turns.rate_of(binding)
    return -1 if rate is None else rate
