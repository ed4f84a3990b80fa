"""Input beyond lines: the ``input_to`` stack, single keypresses, and snooping.

This module owns:

* input handlers' order: ``input_to``s and ``ed`` sessions are numbered as
  they start (``next_handler_order``), and the newest takes the next line;
* the ``input_to`` stack's introspection and cancellation
  (``find_input_to``, ``remove_input_to``, ``input_to_info``), and dropping
  handlers whose object was destructed;
* ``INPUT_CHARMODE``: while the newest ``input_to`` asks for single
  characters, the connection's line reader delivers each keypress on its
  own and the client is asked for character-at-a-time input (telnet
  ``WILL SGA`` and ``WILL ECHO``; the driver then echoes the keys itself
  unless ``INPUT_NOECHO`` is set too).  A client that refuses keeps sending
  whole lines; the driver still hands them over one character at a time;
* ``snoop``: a copy of everything a player reads and types goes to the
  snooper, each line prefixed with ``%``.
"""

from __future__ import annotations

import itertools
import weakref
from typing import TYPE_CHECKING, Any, Callable

from .objects import EfunError, MudObject, check_alive

try:
    from telnetlib3.telopt import SGA, WILL
except ImportError:  # pragma: no cover - telnetlib3 is a requirement
    SGA = WILL = None

if TYPE_CHECKING:
    from .interactive import Interactive


# --- input_to handlers, and the binding that holds them ---------------------------------

INPUT_NOECHO = 1     # input_to flags, as LDMud's
INPUT_CHARMODE = 2
INPUT_PROMPT = 4


#: Input handlers (``input_to``s and ``ed`` sessions) are numbered as they
#: start: the newest one a player has takes the next line.
next_handler_order = itertools.count().__next__


class InputHandler:
    """One pending ``input_to``: where the next line goes, and how to ask for it."""

    __slots__ = ("fun", "flags", "prompt", "extra", "prompt_shown", "order")

    def __init__(self, fun: Callable, flags: int, prompt: str | None, extra: tuple) -> None:
        self.fun = fun
        self.flags = flags
        self.prompt = prompt
        self.extra = extra
        self.prompt_shown = False
        self.order = next_handler_order()


def binding_of(ob: Any) -> Interactive | None:
    """The live connection binding of an object, or None."""
    binding = getattr(ob, "_mud_interactive", None)
    if binding is None or binding.connection.closing:
        return None
    return binding


# --- the input_to stack -----------------------------------------------------------------

def _owner_of(handler: InputHandler) -> MudObject | None:
    owner = getattr(handler.fun, "__self__", None)
    return owner if isinstance(owner, MudObject) else None


def next_handler(binding) -> InputHandler | None:
    """The newest handler whose object still exists (others are dropped)."""
    handlers = binding.input_handlers
    while handlers:
        owner = _owner_of(handlers[-1])
        if owner is None or not owner._mud_destructed:
            return handlers[-1]
        handlers.pop()
    return None


def _matches(handler: InputHandler, fun: Any) -> bool:
    if fun is None:
        return True
    name = getattr(handler.fun, "__name__", None)
    return handler.fun == fun or (isinstance(fun, str) and name == fun)


def _binding(ob: Any, efun: str):
    binding = binding_of(check_alive(ob))
    if binding is None:
        raise EfunError(f"{efun}: {ob._mud_name} is not interactive")
    return binding


def find_input_to(ob: MudObject, fun: str | Callable | None = None) -> int:
    """Position of the newest matching ``input_to`` (0 = the newest), or -1."""
    handlers = binding_of(check_alive(ob))
    if handlers is None:
        return -1
    stack = handlers.input_handlers
    for position, handler in enumerate(reversed(stack)):
        if _matches(handler, fun):
            return position
    return -1


def remove_input_to(ob: MudObject, fun: str | Callable | None = None) -> bool:
    """Cancel the newest pending ``input_to`` of ``ob`` (of ``fun``, if given)."""
    binding = binding_of(check_alive(ob))
    if binding is None:
        return False
    stack = binding.input_handlers
    for index in range(len(stack) - 1, -1, -1):
        if _matches(stack[index], fun):
            handler = stack.pop(index)
            if handler.flags & INPUT_NOECHO and not any(h.flags & INPUT_NOECHO for h in stack):
                binding.connection.set_echo_hidden(False)
            sync_char_mode(binding)
            return True
    return False


def input_to_info(ob: MudObject) -> list[tuple]:
    """Pending ``input_to``s of ``ob``, newest first: (object, function, *extra)."""
    binding = binding_of(check_alive(ob))
    if binding is None:
        return []
    return [(_owner_of(h), getattr(h.fun, "__name__", h.fun), *h.extra)
            for h in reversed(binding.input_handlers)]


# --- character mode -----------------------------------------------------------------------

def sync_char_mode(binding) -> None:
    """Switch the connection in or out of character mode to suit the newest handler."""
    connection = binding.connection
    telnet = connection.telnet
    if telnet is None or connection.closing:
        return
    reader = telnet.line_reader
    top = binding.input_handlers[-1] if binding.input_handlers else None
    wanted = bool(top is not None and top.flags & INPUT_CHARMODE)
    if reader.char_mode == wanted:
        return
    reader.char_mode = wanted
    if not connection.incoming:
        return
    if wanted:
        if SGA is not None:
            telnet.writer.iac(WILL, SGA)
        connection.set_echo_hidden(True)  # WILL ECHO: the client stops echoing locally
    elif not (top is not None and top.flags & INPUT_NOECHO):
        connection.set_echo_hidden(False)


def echo_key(binding, handler: InputHandler, key: str) -> None:
    """In character mode without INPUT_NOECHO the driver echoes the keys."""
    if handler.flags & INPUT_CHARMODE and not handler.flags & INPUT_NOECHO:
        binding.connection.write_text("\n" if key == "\r" else key)


# --- snooping -------------------------------------------------------------------------------

#: snooped binding -> the object snooping it
_snoops: "weakref.WeakKeyDictionary[Any, MudObject]" = weakref.WeakKeyDictionary()


def snooper_of(binding) -> MudObject | None:
    snooper = _snoops.get(binding)
    if snooper is None:
        return None
    if snooper._mud_destructed or binding_of(snooper) is None:
        _snoops.pop(binding, None)
        return None
    return snooper


def _send_to_snooper(binding, text: str) -> None:
    snooper = snooper_of(binding)
    if snooper is None:
        return
    target = binding_of(snooper)
    lines = text.split("\n")
    marked = "\n".join(f"%{line}" if line else line for line in lines)
    target.connection.write_text(marked)


def snoop_output(binding, text: str) -> None:
    if _snoops.data:
        _send_to_snooper(binding, text)


def snoop_input(binding, line: str, hidden: bool) -> None:
    if _snoops.data and not hidden:  # (the dict itself: no Python-level __len__ per line)
        _send_to_snooper(binding, f" {line}\n")


def start_snoop(snooper: MudObject, snoopee: MudObject) -> bool:
    watcher = binding_of(snooper)
    watched = binding_of(snoopee)
    if watcher is None:
        raise EfunError(f"snoop: {snooper._mud_name} is not interactive")
    if watched is None:
        raise EfunError(f"snoop: {snoopee._mud_name} is not interactive")
    if snooper is snoopee:
        raise EfunError("snoop: an object cannot snoop itself")
    # no loops: the snoopee must not (indirectly) snoop the snooper
    here = watcher
    while here is not None:
        who = snooper_of(here)
        if who is snoopee:
            raise EfunError(f"snoop: {snoopee._mud_name} already snoops {snooper._mud_name}")
        here = binding_of(who) if who is not None else None
    if snooper_of(watched) is not None:
        return False  # LDMud: one snooper per player
    _snoops[watched] = snooper
    return True


def stop_snoop(snooper: MudObject) -> bool:
    if not _snoops.data:
        return False  # nobody snoops (the usual case: every destruct asks)
    stopped = False
    for binding, who in list(_snoops.items()):
        if who is snooper:
            del _snoops[binding]
            stopped = True
    return stopped


def query_snoop(ob: MudObject) -> MudObject | None:
    binding = binding_of(check_alive(ob))
    return snooper_of(binding) if binding is not None else None


def object_destructed(ob: MudObject) -> None:
    stop_snoop(ob)
    binding = ob._mud_interactive
    if binding is not None and _snoops.data:
        _snoops.pop(binding, None)
