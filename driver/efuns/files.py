"""Efuns on files and saved state: ``save_object``/``restore_object``,
``save_value``/``restore_value``, and reading and writing the mudlib's files
as the master's ``valid_read``/``valid_write`` allow.
"""

from __future__ import annotations

from ..world import persistence as _persistence
from ..world.files import (
    GETDIR_DATES,
    GETDIR_NAMES,
    GETDIR_SIZES,
    copy_file,
    file_size,
    get_dir,
    mkdir,
    read_file,
    rename,
    rm,
    rmdir,
    write_file,
)
from ..world.objects import MudObject, check_alive
from ..world.persistence import restore_value, save_value
from ..world.runtime import current as _runtime

__all__ = [
    "save_object",
    "restore_object",
    "save_value",
    "restore_value",
    "read_file",
    "write_file",
    "file_size",
    "get_dir",
    "rm",
    "mkdir",
    "rmdir",
    "rename",
    "copy_file",
    "GETDIR_NAMES",
    "GETDIR_SIZES",
    "GETDIR_DATES",
]


def save_object(ob: MudObject, name: str) -> None:
    _persistence.save(check_alive(ob), _runtime().config.data_dir, name)


def restore_object(ob: MudObject, name: str) -> bool:
    return _persistence.restore(check_alive(ob), _runtime().config.data_dir, name)
