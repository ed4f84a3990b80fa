"""Saving and restoring objects' persistent attributes under the data directory.

This module owns the on-disk format of ``save_object``/``restore_object``: one
JSON file per save name (``players/alice`` -> ``<data_dir>/players/alice.json``)
holding the attributes an object's class lists in ``persistent``.  Writes are
atomic (temporary file, fsync, rename, fsync of the directory), so a crash
mid-save leaves the previous save intact, never half a file.

A save that cannot be written (a full disk, a directory in the way) raises
``EfunError`` naming the save, and the driver's log names the file, so the
mudlib can tell its player the truth and the operator can find the cause.
A file that cannot be read back is left exactly as it is, for the operator.
The temporary files (``.alice.json.<random>.tmp`` beside ``alice.json``)
of a save that a crash or ``kill -9`` interrupted are removed at start
(``remove_orphaned_temporaries``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from .objects import EfunError, MudObject

log = logging.getLogger("driver.persistence")

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
#: a temporary file of save(): "." + the save file's name + "." + mkstemp's
#: random part (+ ".tmp"; files from before that suffix lack it)
_TEMPORARY = re.compile(r"^\..+\.json\.[a-z0-9_]{8}(\.tmp)?$")


def persistent_attributes(ob: MudObject) -> list[str]:
    names: list[str] = []
    for cls in reversed(type(ob).__mro__):
        for name in cls.__dict__.get("persistent", ()) or ():
            if name not in names:
                names.append(name)
    return names


def save_file(data_dir: Path, name: str) -> Path:
    if not isinstance(name, str) or not name:
        raise EfunError(f"bad save name {name!r}")
    if name.endswith(".json"):
        name = name[:-5]
    parts = name.strip("/").split("/")
    if not all(_SEGMENT.match(part) for part in parts):
        raise EfunError(f"bad save name {name!r}: use letters, digits, '_', '-', '.' and '/'")
    return data_dir.joinpath(*parts).with_suffix(".json")


def save(ob: MudObject, data_dir: Path, name: str) -> None:
    file = save_file(data_dir, name)
    values = {attr: getattr(ob, attr, None) for attr in persistent_attributes(ob)}
    try:
        text = json.dumps(values, indent=2, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise EfunError(f"save_object: {ob._mud_name} has an attribute that cannot be saved: {exc}") from None
    try:
        _write_atomically(file, text + "\n")
    except OSError as exc:
        log.error("cannot write the save file %s: %s", file, exc.strerror or exc)
        raise EfunError(f"save_object: cannot write the save {name!r}: "
                        f"{exc.strerror or exc}") from None


def _write_atomically(file: Path, text: str) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, file)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dir_fd = os.open(file.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_orphaned_temporaries(data_dir: Path) -> list[Path]:
    """Remove the temporary files of saves that never finished (the driver
    was killed between writing one and renaming it); returns them.  Called
    at start, before anything can be saving."""
    removed: list[Path] = []
    for directory, _dirs, files in os.walk(data_dir):
        for name in files:
            if _TEMPORARY.match(name):
                path = Path(directory) / name
                try:
                    path.unlink()
                except OSError as exc:
                    log.warning("cannot remove the unfinished save %s: %s", path,
                                exc.strerror or exc)
                    continue
                removed.append(path)
    return removed


def restore(ob: MudObject, data_dir: Path, name: str) -> bool:
    file = save_file(data_dir, name)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except UnicodeDecodeError:
        raise _unreadable(file, name, "is corrupt: not UTF-8 text") from None
    except OSError as exc:
        raise _unreadable(file, name, f"cannot be read: {exc.strerror or exc}",
                          "cannot read the save") from None
    try:
        values = json.loads(text)
    except ValueError as exc:
        raise _unreadable(file, name, f"is corrupt: {exc}") from None
    if not isinstance(values, dict):
        raise _unreadable(file, name, "is corrupt: expected a JSON object")
    for attr in persistent_attributes(ob):
        if attr in values:
            setattr(ob, attr, values[attr])
    return True


def _unreadable(file: Path, name: str, problem: str, lead: str | None = None) -> EfunError:
    """The error for a save that cannot be restored: the operator learns the
    file (which is left as it is) from the log; the mudlib learns the save's
    name, not the disk's layout."""
    log.error("save file %s %s; it is left as it is", file, problem)
    if lead is not None:
        return EfunError(f"restore_object: {lead} {name!r}: {problem.split(': ', 1)[-1]}")
    return EfunError(f"restore_object: the save {name!r} {problem}")


def save_value(value) -> str:
    """``save_value``: a value as text that ``restore_value`` turns back into it (JSON)."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise EfunError(f"save_value: cannot save {type(value).__name__}: {exc}") from None


def restore_value(text: str):
    if not isinstance(text, str):
        raise EfunError(f"bad argument 1 to restore_value: expected a string, got {text!r}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EfunError(f"restore_value: not a saved value: {exc}") from None
