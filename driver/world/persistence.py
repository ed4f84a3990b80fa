"""Saving and restoring objects' persistent attributes under the data directory.

This module owns the on-disk format of ``save_object``/``restore_object``: one
JSON file per save name (``players/alice`` -> ``<data_dir>/players/alice.json``)
holding the attributes an object's class lists in ``persistent``.  Writes are
atomic (temporary file, fsync, rename, fsync of the directory), so a crash
mid-save leaves the previous save intact, never half a file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from .objects import EfunError, MudObject

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


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
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
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


def restore(ob: MudObject, data_dir: Path, name: str) -> bool:
    file = save_file(data_dir, name)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except UnicodeDecodeError:
        raise EfunError(f"restore_object: the save {name!r} is corrupt: not UTF-8 text") from None
    except OSError as exc:
        raise EfunError(f"restore_object: cannot read the save {name!r}: {exc.strerror}") from None
    try:
        values = json.loads(text)
    except ValueError as exc:
        raise EfunError(f"restore_object: the save {name!r} is corrupt: {exc}") from None
    if not isinstance(values, dict):
        raise EfunError(f"restore_object: the save {name!r} is corrupt: expected a JSON object")
    for attr in persistent_attributes(ob):
        if attr in values:
            setattr(ob, attr, values[attr])
    return True


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
