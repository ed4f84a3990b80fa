"""Permissions: the master decides who may do what, as in LDMud.

This module owns every question the driver asks the master before a
privileged operation, and the mapping of mudlib file names to disk:

* ``privilege_violation(op, caller, *args)`` for ``shutdown``, ``set_max_commands``,
  ``tls_refresh_certs``, ``command`` on another object, and the site bans
  (``ban_site``, ``unban_site``, ``query_bans``): a positive result
  allows the operation, anything else refuses it with an ``EfunError``;
* ``valid_exec(program, new, old)`` for ``exec``;
* ``valid_snoop(snooper, snoopee)`` for ``snoop``;
* ``valid_read(path, caller, efun)`` and ``valid_write(path, caller, efun)``
  for the file efuns.

Every privilege and snoop decision, either way, goes to the audit log
(``world.audit``).

A master that does not define an apply allows the operation (a small
mudlib need not have a security model); the shipped master defines them
all.  ``caller`` is the object whose code called the efun (this_object());
the master can look at ``this_interactive()`` for the player behind it.

File names are mudlib paths: ``/rooms/square.py`` is in the mudlib
directory, and ``/data/...`` is in the data directory (``mudlib.data_dir``).
A path that leaves them (``..``, a symbolic link pointing elsewhere) is
refused before the master is asked; absolute disk paths never reach the
mudlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import audit, objects, runtime
from .objects import EfunError, MudObject

DATA_PREFIX = "/data"


def master() -> MudObject | None:
    rt = runtime.current()
    return rt.table.find(rt.config.master)


def ask_master(apply: str, *args: Any) -> tuple[bool, Any]:
    """(whether the master defines ``apply``, what it returned)."""
    ob = master()
    fun = getattr(ob, apply, None) if ob is not None else None
    if not callable(fun):
        return False, None
    return True, objects.call_in_frame(ob, fun, *objects.accepted_arguments(fun, args))


def _caller() -> MudObject | None:
    return objects.current_frame().this_object


def _name(ob: Any) -> str:
    return getattr(ob, "_mud_name", repr(ob))


def check_privilege(operation: str, *args: Any) -> None:
    """Raise unless the master's ``privilege_violation`` allows ``operation``."""
    caller = _caller()
    defined, result = ask_master("privilege_violation", operation, caller, *args)
    target = args[0] if args and isinstance(args[0], MudObject) else None
    details = {"args": " ".join(str(a) for a in args if a is not target)} if args else {}
    if defined and not (isinstance(result, (int, float)) and result > 0):
        audit.record(operation, "denied", target, **details)
        raise EfunError(f"{operation}: privilege violation: {_name(caller)} may not do this")
    audit.record(operation, "ok", target, **details)


def check_exec(new: MudObject, old: MudObject) -> None:
    caller = _caller()
    program = caller._mud_program.path if isinstance(caller, MudObject) and caller._mud_program else ""
    defined, result = ask_master("valid_exec", program, new, old)
    if defined and not result:
        raise EfunError(f"exec: refused by the master's valid_exec for {program or '?'}")


def check_snoop(snooper: MudObject, snoopee: MudObject | None) -> None:
    defined, result = ask_master("valid_snoop", snooper, snoopee)
    action = "snoop" if snoopee is not None else "snoop-stop"
    if defined and not result:
        audit.record(action, "denied", snoopee, snooper=snooper)
        raise EfunError("snoop: refused by the master's valid_snoop")
    audit.record(action, "ok", snoopee, snooper=snooper)


# --- file names ---------------------------------------------------------------------------

def normalize_path(path: Any) -> str:
    """``rooms//x/../y.py`` -> ``/rooms/y.py``; refuses paths above the root."""
    if not isinstance(path, str) or not path.strip():
        raise EfunError(f"bad file name {path!r}")
    parts: list[str] = []
    for part in path.strip().split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise EfunError(f"bad file name {path!r}: outside the mudlib")
            parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def disk_path(path: str) -> Path:
    """The file on disk for a normalized mudlib path (mudlib or data directory)."""
    rt = runtime.current()
    if path == DATA_PREFIX or path.startswith(DATA_PREFIX + "/"):
        root = rt.config.data_dir.resolve()
        rest = path[len(DATA_PREFIX):].lstrip("/")
    else:
        root = rt.table.mudlib_dir
        rest = path.lstrip("/")
    file = (root / rest).resolve() if rest else root
    if file != root and root not in file.parents:
        raise EfunError(f"bad file name {path!r}: outside the mudlib")
    return file


def checked(path: Any, efun: str, write: bool) -> tuple[str, Path]:
    """Normalize ``path``, ask the master, and give the disk file."""
    name = normalize_path(path)
    file = disk_path(name)
    apply = "valid_write" if write else "valid_read"
    defined, result = ask_master(apply, name, _caller(), efun)
    if defined and not result:
        raise EfunError(f"{efun}: {'write' if write else 'read'} access to {name} denied")
    if isinstance(result, str) and result != name:  # the master may rewrite the path
        name = normalize_path(result)
        file = disk_path(name)
    return name, file
