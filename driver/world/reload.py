"""Hot reload: new code for running objects while players stay connected.

This module owns ``update_program`` and ``reload_object``:

* ``update_program(path)`` compiles the file again, then every loaded
  program that inherits it (base first), so the whole family is consistent.
  If any of them fails to compile (a syntax error, an exception at module
  level), nothing changes: the error names the file and line, and the old
  code keeps running.  Otherwise every existing object of those programs,
  blueprint and clones, is switched to its new class in place
  (``ob.__class__ = new``): its attributes, inventory, connection (with its
  TLS session), ``input_to``s, call_outs and heart beat are untouched, and
  the next call into it runs the new code.  New clones use the new code.
* ``reload_object(path)`` does that, and then replaces the blueprint with a
  fresh one (``create()`` runs again, so a room gets its new description and
  exits): the old blueprint's inventory moves into the new one, except what
  the old ``create()`` put there (the new ``create()`` made its own: a
  garden has one apple after a reload, not two), the livings there see its
  ``init()`` again (so its actions are the new ones), its connection and
  heart beat carry over, and the old blueprint is destructed.
* Callbacks stored as bound methods (call_outs, ``input_to``, actions, TLS
  callbacks) are looked up again by name when they fire
  (``objects.current_callable``), so they run the object's current code.
"""

from __future__ import annotations

import logging

from . import commands, objects, runtime
from .objects import EfunError, MudObject, ObjectTable, Program

log = logging.getLogger("driver.reload")


def describe_compile_error(exc: BaseException, table: ObjectTable) -> str:
    """'/rooms/x.py, line 12: invalid syntax', with mudlib paths, not the disk's."""
    root = str(table.mudlib_dir)

    def virtual(filename: str | None) -> str:
        if filename and filename.startswith(root):
            return filename[len(root):] or "/"
        return filename or "?"

    if isinstance(exc, SyntaxError):
        return f"{virtual(exc.filename)}, line {exc.lineno}: {type(exc).__name__}: {exc.msg}"
    if isinstance(exc, EfunError):
        return str(exc).replace(root, "")
    text = objects.describe_error(exc)
    return text.replace(root, "")


def _family(table: ObjectTable, program: Program) -> list[Program]:
    """``program`` and every loaded program that inherits it, bases first."""
    dependents = [p for p in table.programs.values()
                  if p is not program and issubclass(p.cls, program.cls)]
    dependents.sort(key=lambda p: len(p.cls.__mro__))
    return [program, *dependents]


def update_program(table: ObjectTable, path: str) -> list[str]:
    """Recompile ``path`` and its heirs, switch their objects; the paths updated."""
    path = table.normalize(path)
    old = table.programs.get(path)
    if old is None:
        try:
            table.program(path)
        except Exception as exc:  # noqa: BLE001 - reported as one line
            raise EfunError(f"update_program: {describe_compile_error(exc, table)}") from None
        return [path]
    family = _family(table, old)
    saved = dict(table.programs)
    staged: dict[str, Program] = {}
    try:
        for program in family:
            table.programs.pop(program.path, None)
            new = table._compile(program.path)
            table.programs[program.path] = new
            staged[program.path] = new
    except Exception as exc:  # noqa: BLE001 - any failure leaves the old code running
        table.programs.clear()
        table.programs.update(saved)
        raise EfunError(f"update_program: {describe_compile_error(exc, table)}; "
                        "the old code keeps running") from None
    for ob in list(table.objects.values()):
        program = ob._mud_program
        new = staged.get(program.path) if program is not None else None
        if new is None or program is new:
            continue
        try:
            ob.__class__ = new.cls
        except TypeError as exc:
            log.warning("update_program: %s keeps its old code: %s", ob._mud_name, exc)
            continue
        ob._mud_program = new
    log.info("updated %s", ", ".join(staged))
    return list(staged)


def reload_object(table: ObjectTable, target: str | MudObject) -> MudObject:
    """``update_program``, then a fresh blueprint that takes over from the old one."""
    if isinstance(target, MudObject):
        objects.check_alive(target)
        path = target._mud_program.path
        if target._mud_name != path:  # a clone: new code, same object
            update_program(table, path)
            return target
    else:
        path = table.normalize(target)
    update_program(table, path)
    old = table.objects.get(path)
    if old is None:
        return table.load(path)
    program = table.programs[path]
    del table.objects[path]
    try:
        new = table._instantiate(program, path)
    except Exception as exc:  # noqa: BLE001 - the old blueprint stays
        table.objects[path] = old
        raise EfunError(f"reload_object: {path}: create() failed: "
                        f"{describe_compile_error(exc, table)}; the old object stays") from None
    _take_over(table, old, new)
    return new


def _take_over(table: ObjectTable, old: MudObject, new: MudObject) -> None:
    rt = runtime.current()
    if old._mud_environment is not None and new._mud_environment is None:
        table.move(new, old._mud_environment)
    for item in list(old._mud_inventory):
        if item._mud_furnishing_of is old:
            continue  # the new create() made its own; this one goes with the old blueprint
        table.move(item, new)
    if old._mud_interactive is not None and new._mud_interactive is None:
        rt.interactives.exec(new, old)
    heart_beats = getattr(rt, "heart_beats", None)
    if heart_beats is not None and heart_beats.is_on(old):
        heart_beats.set(new, True)
    table.destruct(old)
    commands.reinit(new)
    log.info("reloaded %s", new._mud_name)

