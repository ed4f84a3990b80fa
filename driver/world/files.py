"""File efuns: reading and writing the mudlib and data directories.

Every name is a mudlib path (``/rooms/square.py``, ``/data/notes.txt``; see
``permissions``), checked against the mudlib and data directories and then
against the master's ``valid_read``/``valid_write``.  Text is UTF-8.
``read_text`` and ``write_text`` are the whole-file reads and writes behind
``read_file`` and ``write_file``, with the efun name the master is told; the
line editor's sessions (``edit_sessions``) use them as ``"ed"``.

``rename`` and ``copy_file`` answer as LDMud's do: 0 for success, 1 for
failure (the other efuns here answer 1 for success).
"""

from __future__ import annotations

import errno
import fnmatch
import os
import shutil
from pathlib import Path

from .objects import EfunError
from .permissions import DATA_PREFIX, checked, disk_path

#: read_file refuses files larger than this (bytes)
MAX_READ = 4 * 1024 * 1024

GETDIR_NAMES = 1
GETDIR_SIZES = 2
GETDIR_DATES = 4


def read_file(path: str, start: int = 0, number: int = 0) -> str | None:
    """The file's text (lines ``start``.. ``start+number-1``, 1-based, if given); None if missing."""
    for value, what in ((start, "2"), (number, "3")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EfunError(f"bad argument {what} to read_file: expected a count >= 0, got {value!r}")
    _name, text = read_text(path, "read_file")
    if text is None or (not start and not number):
        return text
    lines = text.splitlines(keepends=True)
    first = max(start, 1) - 1
    chosen = lines[first:first + number] if number else lines[first:]
    return "".join(chosen) if chosen or first < len(lines) else None


def read_text(path: str, efun: str) -> tuple[str, str | None]:
    """The mudlib path ``path`` names, and the whole file's text (None if
    there is no such file), as the master lets ``efun`` read it."""
    name, file = checked(path, efun, write=False)
    try:
        if file.stat().st_size > MAX_READ:
            raise EfunError(f"{efun}: {name} is larger than {MAX_READ} bytes")
        return name, file.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return name, None
    except OSError as exc:
        raise EfunError(f"{efun}: cannot read {name}: {exc.strerror}") from None


def write_file(path: str, text: str, flags: int = 0) -> int:
    """Append ``text`` to the file (``flags & 1``: replace it instead); 1 on success."""
    if not isinstance(text, str):
        raise EfunError(f"bad argument 2 to write_file: expected a string, got {text!r}")
    write_text(path, text, append=not flags & 1, efun="write_file")
    return 1


def write_text(path: str, text: str, *, append: bool, efun: str) -> str:
    """Write (or append) ``text`` as the master lets ``efun`` write; the
    mudlib path it went to."""
    name, file = checked(path, efun, write=True)
    try:
        with open(file, "a" if append else "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise EfunError(f"{efun}: cannot write {name}: {exc.strerror}") from None
    return name


def file_size(path: str) -> int:
    """Size in bytes; -1 if there is no such file; -2 for a directory."""
    _name, file = checked(path, "file_size", write=False)
    try:
        if file.is_dir():
            return -2
        return file.stat().st_size
    except OSError:
        return -1


def get_dir(path: str, flags: int = GETDIR_NAMES) -> list:
    """``/dir/``: its entries; ``/dir/*.py``: those matching; ``/dir/x``: just x.

    With several flags the result is flat, as in LDMud: name, size, date, name, ...
    (size -2 for a directory; date as seconds since the epoch).
    """
    name, file = checked(path, "get_dir", write=False)
    if isinstance(flags, bool) or not isinstance(flags, int) or not flags & 7:
        raise EfunError(f"bad argument 2 to get_dir: expected GETDIR_* flags, got {flags!r}")
    pattern = None
    if path.rstrip().endswith("/"):
        directory = file
    elif any(ch in name.rsplit("/", 1)[-1] for ch in "*?["):
        directory, pattern = file.parent, file.name
    else:
        directory, pattern = file.parent, file.name
        if not file.exists():
            return []
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        return []
    if pattern is not None:
        entries = [e for e in entries if fnmatch.fnmatchcase(e, pattern)]
    result: list = []
    for entry in entries:
        full = directory / entry
        if flags & GETDIR_NAMES:
            result.append(entry)
        if flags & (GETDIR_SIZES | GETDIR_DATES):
            try:
                info = full.stat()
            except OSError:
                continue
            if flags & GETDIR_SIZES:
                result.append(-2 if full.is_dir() else info.st_size)
            if flags & GETDIR_DATES:
                result.append(int(info.st_mtime))
    return result


def rm(path: str) -> int:
    """Remove a file; 1 if it was removed, 0 if not."""
    _name, file = checked(path, "rm", write=True)
    try:
        file.unlink()
    except OSError:
        return 0
    return 1


def mkdir(path: str) -> int:
    _name, file = checked(path, "mkdir", write=True)
    try:
        file.mkdir()
    except OSError:
        return 0
    return 1


def rmdir(path: str) -> int:
    _name, file = checked(path, "rmdir", write=True)
    try:
        file.rmdir()
    except OSError:
        return 0
    return 1


def rename(source: str, destination: str) -> int:
    """Move a file or directory to a new name, or into ``destination`` if
    that is a directory; 0 on success, 1 on failure, as in LDMud.  The
    master's ``valid_write`` is asked for both names."""
    from_name, from_file = checked(source, "rename", write=True)
    to_file = _target(from_name, destination, "rename")
    if from_file == _root_of(from_name) or not from_file.exists() \
            or from_file == to_file or from_file in to_file.parents:
        return 1    # a whole directory tree, nothing, itself, or into itself
    if from_file.is_dir() and to_file.exists():
        return 1
    try:
        os.replace(from_file, to_file)
    except OSError as exc:
        if exc.errno != errno.EXDEV or from_file.is_dir():
            return 1
        try:    # a file from the mudlib to a data directory on another disk
            shutil.copyfile(from_file, to_file)
            from_file.unlink()
        except OSError:
            return 1
    return 0


def copy_file(source: str, destination: str) -> int:
    """Copy a file to a new name, or into ``destination`` if that is a
    directory; 0 on success, 1 on failure, as in LDMud.  The master's
    ``valid_read`` is asked for the file, ``valid_write`` for the copy."""
    from_name, from_file = checked(source, "copy_file", write=False)
    to_file = _target(from_name, destination, "copy_file")
    if not from_file.is_file():
        return 1
    try:
        shutil.copyfile(from_file, to_file)
    except OSError:     # (a copy onto the file itself too: shutil.SameFileError)
        return 1
    return 0


def _target(from_name: str, destination: str, efun: str) -> Path:
    """Where ``rename``/``copy_file`` puts ``from_name``: ``destination``,
    or the same name inside it if it is a directory, with write access."""
    to_name, to_file = checked(destination, efun, write=True)
    if to_file.is_dir():
        _, to_file = checked(f"{to_name.rstrip('/')}/{from_name.rsplit('/', 1)[-1]}",
                             efun, write=True)
    return to_file


def _root_of(name: str) -> Path:
    """The mudlib's or the data directory's own directory, for ``name``."""
    return disk_path(DATA_PREFIX if name == DATA_PREFIX or name.startswith(DATA_PREFIX + "/")
                     else "/")
