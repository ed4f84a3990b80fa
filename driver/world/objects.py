"""Mudlib objects: programs, blueprints and clones, and who is running.

This module owns the LP object model as the driver sees it:

* A *program* is a file ``<mudlib>/<path>.py`` defining one class derived
  from ``MudObject``.  It is compiled into a module of its own (never into
  ``sys.modules``: mudlib files are not a Python package, and a program may be
  compiled again when it changes).  Programs inherit from each other LP style,
  ``class Tavern(inherit("/std/room"))``.
* An *object* is an instance of a program's class: the blueprint is named by
  the path (``/rooms/tavern``), clones by path and number (``/std/player#7``).
* The *execution context*: ``this_object()``, ``this_player()``,
  ``this_interactive()`` and ``previous_object()`` are a stack of frames.  The
  driver pushes one for every call it makes into the mudlib (``run``), and
  ``call_other`` pushes one for calls between objects.  A plain Python method
  call does not push a frame; inside it ``self`` is this object.
* The one error path: every call the driver makes into the mudlib goes
  through ``run``, which logs the traceback, tells the player responsible that
  something went wrong, and returns, so no mudlib error reaches the driver.
* LPC's argument rule for applies: a function the driver calls is given only
  as many of the driver's arguments as it declares (``accepted_arguments``),
  so ``def logon(self):`` works wherever LDMud would call ``logon()``.
"""

from __future__ import annotations

import inspect
import logging
import os
import traceback
import types
import weakref
from pathlib import Path
from typing import Any, Callable

from . import evaluation

log = logging.getLogger("driver.objects")


class EfunError(Exception):
    """An efun refused its arguments; the message says why (LDMud's runtime error)."""


class MudObject:
    """Base class of every mudlib object.

    The driver keeps its bookkeeping in attributes starting with ``_mud_``;
    mudlib code uses the efuns instead of touching them.
    """

    _mud_name: str = "<unloaded>"
    _mud_program: Program | None = None
    _mud_destructed: bool = False
    _mud_environment: MudObject | None = None
    _mud_inventory: list[MudObject]
    _mud_interactive: Any = None  # the connection binding while interactive
    _mud_once_interactive: bool = False  # has ever had a connection
    _mud_living: bool = False  # enable_commands() was called
    _mud_actions: list | None = None  # the actions (add_action) this living can use
    #: the object whose create() moved this one into it (reload_object
    #: replaces such furnishings instead of keeping old and new)
    _mud_furnishing_of: MudObject | None = None
    #: the loop time of the next reset() (resets.py); None: none is due
    _mud_next_reset: float | None = None
    #: the shadow chain (shadows.py): the object this one shadows, and the
    #: shadow standing in front of this one
    _mud_shadowing: MudObject | None = None
    _mud_shadowed_by: MudObject | None = None

    def create(self) -> None:
        """Called once when the object has been made.  Override freely."""

    def __repr__(self) -> str:
        state = " (destructed)" if self._mud_destructed else ""
        return f"<{self._mud_name}{state}>"


class Program:
    """A compiled mudlib file: its path, module and object class."""

    __slots__ = ("path", "file", "module", "cls")

    def __init__(self, path: str, file: Path, module: types.ModuleType, cls: type) -> None:
        self.path = path
        self.file = file
        self.module = module
        self.cls = cls


# --- the execution context --------------------------------------------------------

class Frame:
    __slots__ = ("this_object", "this_player", "this_interactive", "caller")

    def __init__(self, this_object, this_player, this_interactive, caller) -> None:
        self.this_object = this_object
        self.this_player = this_player
        self.this_interactive = this_interactive
        self.caller = caller


_frames: list[Frame] = [Frame(None, None, None, None)]


def current_frame() -> Frame:
    return _frames[-1]


_KEEP = object()


def call_in_frame(this_object, fn: Callable, *args, this_player=_KEEP, this_interactive=_KEEP,
                  **kwargs):
    """Call ``fn`` with a new frame on the stack; errors propagate."""
    top = _frames[-1]
    frame = Frame(
        this_object,
        top.this_player if this_player is _KEEP else this_player,
        top.this_interactive if this_interactive is _KEEP else this_interactive,
        top.this_object,
    )
    _frames.append(frame)
    try:
        return fn(*args, **kwargs)
    finally:
        _frames.pop()


def describe_callable(fn: Callable) -> str:
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", repr(fn))
    return f"{owner._mud_name}->{name}()" if isinstance(owner, MudObject) else f"{name}()"


#: Set by the driver: tells the player responsible (or None) and the wizards
#: that something failed: ``error_reporter(player, exc, where, traceback_text)``.
error_reporter: Callable[[MudObject | None, BaseException, str, str], None] | None = None

#: Set by the driver: steps a coroutine that ``async def`` world code returned
#: (``coroutines.start``; it sits above this module, as it runs each step
#: through ``call_in_frame``): ``coroutine_starter(coro, this_object,
#: this_player, this_interactive, what)``.
coroutine_starter: Callable[..., None] | None = None


def run(this_object, fn: Callable, *args, this_player=_KEEP, this_interactive=_KEEP,
        what: str | None = None, on_error: Callable[[BaseException], None] | None = None,
        **kwargs):
    """The driver's way into the mudlib: a frame, and the one error path.

    Returns what ``fn`` returned, or None if it raised.  The traceback goes
    to the log; the player responsible is told something went wrong; then
    ``on_error(exc)``, if given, lets the caller act on the failure.
    """
    top = _frames[-1]
    player = top.this_player if this_player is _KEEP else this_player
    interactive = top.this_interactive if this_interactive is _KEEP else this_interactive
    # (The evaluation limit's alarm raises only in mudlib code, never here.)
    nested = evaluation.enter()
    try:
        # call_in_frame's work, inlined: this runs for every command
        _frames.append(Frame(this_object, player, interactive, top.this_object))
        try:
            result = fn(*args, **kwargs)
        finally:
            _frames.pop()
            evaluation.leave()
    except evaluation.EvaluationTimeout as exc:
        if nested:
            raise  # the outermost call reports it, and the whole evaluation stops
        report_error(exc, what or describe_callable(fn), interactive or player)
        if on_error is not None:
            on_error(exc)
        return None
    except Exception as exc:  # noqa: BLE001 - mudlib errors must never reach the driver
        report_error(exc, what or describe_callable(fn), interactive or player)
        if on_error is not None:
            on_error(exc)
        return None
    if type(result) is types.CoroutineType:  # inspect.iscoroutine, without a call per command
        # ``async def`` world code: the driver steps it (see coroutines.py).
        coroutine_starter(result, this_object, player, interactive, what or describe_callable(fn))
        return None
    return result


def accepted_arguments(fn: Callable, args: tuple) -> tuple:
    """The leading ``args`` that ``fn`` has parameters for; the rest are dropped.

    An LPC function called with more arguments than it declares ignores the
    surplus, and mudlibs rely on it: LDMud calls ``logon`` with the TLS
    result and the object after a handshake, and a ``logon()`` written with
    no parameters still runs.  A Python function would raise ``TypeError``
    instead, so every apply and callback the driver calls is given as many
    of its arguments, from the front, as the function's signature has room
    for (all of them if it takes ``*args``).  Missing arguments are not made
    up: a function that needs more than the driver passes fails as usual.
    """
    func = getattr(fn, "__func__", fn)
    capacity = _positional_capacity(func)
    if capacity is None:
        return args
    if func is not fn:  # a bound method: its first parameter is already taken
        capacity -= 1
    return args if len(args) <= capacity else args[:capacity if capacity > 0 else 0]


#: function -> how many positional arguments it takes (None: any number).
#: Weak keys: a program compiled again brings new functions, and the old
#: ones (with their modules) must be free to go.
_capacities: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _positional_capacity(func: Callable) -> int | None:
    try:
        return _capacities[func]
    except (KeyError, TypeError):  # not seen yet, or not weakly referenceable
        pass
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin): pass everything
        capacity = None
    else:
        kinds = [p.kind for p in parameters]
        capacity = None if inspect.Parameter.VAR_POSITIONAL in kinds else sum(
            kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for kind in kinds)
    try:
        _capacities[func] = capacity
    except TypeError:
        pass
    return capacity


def run_apply(this_object, fn: Callable, *args, **options):
    """``run`` for an apply or callback: ``fn`` gets the arguments it declares."""
    return run(this_object, fn, *accepted_arguments(fn, args), **options)


def report_error(exc: BaseException, where: str, player) -> None:
    """The one error path: traceback to the log, a word to the player responsible."""
    text = format_mudlib_traceback(exc)
    log.error("error in %s: %s\n%s", where, exc, text)
    if error_reporter is not None:
        error_reporter(player if isinstance(player, MudObject) else None, exc, where, text)


def describe_error(exc: BaseException) -> str:
    """One line: the error and the innermost mudlib file and line it came from."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError):
        return text
    here = os.path.dirname(__file__)
    where = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if not frame.f_code.co_filename.startswith(here):
            where = f"{frame.f_code.co_filename}, line {line}"
    return f"{text} ({where})" if where else text


def format_mudlib_traceback(exc: BaseException) -> str:
    """The traceback without the driver's own frames in front of the mudlib's."""
    tb = exc.__traceback__
    here = os.path.dirname(__file__)
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(here) and tb.tb_next:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()


# --- the object table -------------------------------------------------------------

#: path as asked -> ``ObjectTable.normalize``'s answer (it depends on the
#: text alone): the same few paths are asked for at every login
_NORMALIZED: dict[str, str] = {}
_NORMALIZED_MAX = 4096


class ObjectTable:
    """Every loaded program and every live object, by name."""

    def __init__(self, mudlib_dir: Path) -> None:
        self.mudlib_dir = mudlib_dir.resolve()
        self.programs: dict[str, Program] = {}
        self.objects: dict[str, MudObject] = {}
        self._clone_numbers: dict[str, int] = {}
        self._compiling: list[str] = []
        #: objects whose create() is running, innermost last
        self._creating: list[MudObject] = []
        #: called with an object that is being destructed (closes its connection)
        self.on_destruct: Callable[[MudObject], None] | None = None
        #: called when an object's create() has run: (object, what create() returned)
        self.on_created: Callable[[MudObject, Any], None] | None = None
        #: further callables run then (actions, heart beat, call_outs, snoops)
        self.destruct_hooks: list[Callable[[MudObject], None]] = []

    # -- names and files --------------------------------------------------------

    def normalize(self, path: str) -> str:
        """``std/room.py`` -> ``/std/room``; refuses paths that leave the mudlib."""
        known = _NORMALIZED.get(path) if type(path) is str else None
        if known is not None:
            return known  # every login clones /player, finds /master, ...
        normal = self._normalize(path)
        if len(_NORMALIZED) >= _NORMALIZED_MAX:
            _NORMALIZED.clear()
        _NORMALIZED[path] = normal
        return normal

    def _normalize(self, path: str) -> str:
        if not isinstance(path, str) or not path.strip():
            raise EfunError(f"bad object path {path!r}")
        path = path.strip()
        if "#" in path:
            path = path.split("#", 1)[0]
        if path.endswith(".py"):
            path = path[:-3]
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if not parts or any(p == ".." or p.startswith(".") for p in parts):
            raise EfunError(f"bad object path {path!r}")
        return "/" + "/".join(parts)

    def file_of(self, path: str) -> Path:
        file = (self.mudlib_dir / (path.lstrip("/") + ".py")).resolve()
        if self.mudlib_dir not in file.parents:
            raise EfunError(f"bad object path {path!r}: outside the mudlib")
        return file

    # -- programs ---------------------------------------------------------------

    def program(self, path: str) -> Program:
        """The compiled program for a path, compiling it on first use."""
        path = self.normalize(path)
        program = self.programs.get(path)
        if program is None:
            program = self._compile(path)
            self.programs[path] = program
        return program

    def _compile(self, path: str) -> Program:
        file = self.file_of(path)
        if path in self._compiling:
            chain = " -> ".join(self._compiling + [path])
            raise EfunError(f"recursive inherit: {chain}")
        try:
            source = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise EfunError(f"no such program: {path} ({file} does not exist)") from None
        except OSError as exc:
            raise EfunError(f"cannot read {file}: {exc.strerror}") from None
        module = types.ModuleType(f"mudlib:{path}")
        module.__file__ = str(file)
        self._compiling.append(path)
        try:
            code = compile(source, str(file), "exec")
            exec(code, module.__dict__)  # noqa: S102 - running mudlib code is the point
        finally:
            self._compiling.pop()
        cls = self._program_class(path, module)
        return Program(path, file, module, cls)

    @staticmethod
    def _program_class(path: str, module: types.ModuleType) -> type:
        explicit = module.__dict__.get("__program__")
        if isinstance(explicit, type) and issubclass(explicit, MudObject):
            return explicit
        own = [value for value in module.__dict__.values()
               if isinstance(value, type) and issubclass(value, MudObject)
               and value.__module__ == module.__name__]
        if len(own) == 1:
            return own[0]
        if not own:
            raise EfunError(f"{path}: defines no class derived from MudObject")
        names = ", ".join(cls.__name__ for cls in own)
        raise EfunError(f"{path}: defines several object classes ({names}); "
                        "name one with __program__ = ClassName")

    # -- objects ----------------------------------------------------------------

    def _instantiate(self, program: Program, name: str) -> MudObject:
        ob = program.cls.__new__(program.cls)
        ob._mud_name = name
        ob._mud_program = program
        ob._mud_inventory = []
        # Read on every command: the object's own from the start.  (A class
        # default that no instance value shadows is looked up the slow way
        # on every read in Python 3.11; an instance value is one indexed load.)
        ob._mud_destructed = ob._mud_living = False
        self.objects[name] = ob
        self._creating.append(ob)
        created = None
        try:
            run_create = getattr(ob, "create", None)
            if callable(run_create):
                created = call_in_frame(ob, run_create)
        except BaseException:
            self.objects.pop(name, None)
            ob._mud_destructed = True
            raise
        finally:
            self._creating.pop()
        if self.on_created is not None:
            self.on_created(ob, created)
        return ob

    def find(self, path: str) -> MudObject | None:
        if not isinstance(path, str):
            return None
        base, _, number = path.partition("#")
        try:
            name = self.normalize(base) + (f"#{number}" if number else "")
        except EfunError:
            return None
        return self.objects.get(name)

    def load(self, path: str) -> MudObject:
        path = self.normalize(path)
        ob = self.objects.get(path)
        if ob is None:
            ob = self._instantiate(self.program(path), path)
        return ob

    def clone(self, path: str) -> MudObject:
        path = self.normalize(path)
        program = self.program(path)
        number = self._clone_numbers.get(path, 0) + 1
        self._clone_numbers[path] = number
        return self._instantiate(program, f"{path}#{number}")

    def destruct(self, ob: MudObject) -> None:
        if ob._mud_destructed:
            return
        if self.on_destruct is not None:
            self.on_destruct(ob)
        for hook in self.destruct_hooks:
            hook(ob)
        env = ob._mud_environment
        if env is not None and ob in env._mud_inventory:
            env._mud_inventory.remove(ob)
        # What is still inside goes with it (as in LDMud), except a player's
        # body: a master that did not move it out in prepare_destruct must
        # not cost the player the connection, so it is left nowhere.
        for item in list(ob._mud_inventory):
            if item._mud_interactive is not None:
                item._mud_environment = None
                log.warning("%s: interactive %s was inside it and is now nowhere "
                            "(move players out in prepare_destruct)", ob._mud_name, item._mud_name)
            else:
                self.destruct(item)
        ob._mud_inventory.clear()
        ob._mud_environment = None
        ob._mud_destructed = True
        if self.objects.get(ob._mud_name) is ob:  # a reloaded blueprint's name is its successor's
            del self.objects[ob._mud_name]

    def move(self, ob: MudObject, dest: MudObject) -> None:
        here = dest
        while here is not None:
            if here is ob:
                raise EfunError(f"cannot move {ob._mud_name} into itself")
            here = here._mud_environment
        old = ob._mud_environment
        if old is not None and ob in old._mud_inventory:
            old._mud_inventory.remove(ob)
        ob._mud_environment = dest
        dest._mud_inventory.append(ob)
        ob._mud_furnishing_of = dest if self._creating and self._creating[-1] is dest else None


def current_callable(fun: Any) -> Any:
    """A bound method of a mudlib object, re-bound to its object's current class."""
    owner = getattr(fun, "__self__", None)
    func = getattr(fun, "__func__", None)
    if not isinstance(owner, MudObject) or func is None:
        return fun
    name = func.__name__
    fresh = getattr(type(owner), name, None)
    if fresh is None or fresh is func:
        return fun
    bound = getattr(owner, name, None)
    return bound if callable(bound) else fun


def check_alive(ob: Any, argument: str = "object") -> MudObject:
    """Efun argument check: a live mudlib object."""
    if not isinstance(ob, MudObject):
        raise EfunError(f"bad argument: {argument} must be an object, got {ob!r}")
    if ob._mud_destructed:
        raise EfunError(f"bad argument: {argument} {ob._mud_name} is destructed")
    return ob
