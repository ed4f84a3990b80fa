"""A player's ``ed`` session: the line editor (``editor.Editor``) bound to a connection.

This module owns what the editor itself does not know about:

* files, read and written as the player: through the file efuns' checks,
  as the efun ``"ed"`` (``"ed_start"`` for the file ``ed()`` opens), so the
  master's ``valid_read``/``valid_write`` decide, with this_object() and
  this_interactive() the player; a name typed in the editor goes through
  the master's ``make_path_absolute`` first, if it has one (LDMud's apply:
  ``w hall.py`` can mean the wizard's own directory);
* taking the player's lines: a session is an input handler like an
  ``input_to``, numbered when it starts; the newest of them takes the next
  line (``Interactives.run_line``), and in command mode a line starting with
  ``!`` is a game command instead (LDMud's ``!cmd``);
* the end: ``q``, ``x`` or ``Q`` calls the exit function ``ed()`` was given,
  in the object that gave it, or says "Exit from ed.";
* the emergency save: if the connection is lost, or the player destructed,
  with changes not written, the master's
  ``get_ed_buffer_save_file_name(file)`` names where the buffer goes (no
  answer: it is lost), as in LDMud; then the exit function runs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from . import files, objects, permissions
from .editor import Editor, EditorError, FileRefused
from .inputs import next_handler_order
from .messages import deliver
from .objects import EfunError, MudObject

if TYPE_CHECKING:
    from .interactive import Interactive

log = logging.getLogger("driver.ed")


class EditSession:
    """One player's editor, and where its output and its end go."""

    __slots__ = ("binding", "editor", "exit_fn", "order")

    def __init__(self, binding: Interactive, exit_fn: Callable | None) -> None:
        self.binding = binding
        self.editor = Editor(self._read, self._write, resolve=self._resolve)
        self.exit_fn = exit_fn
        self.order = next_handler_order()

    @property
    def prompt(self) -> str:
        return self.editor.prompt

    @property
    def inserting(self) -> bool:
        return self.editor.inserting

    @property
    def exit_object(self) -> MudObject | None:
        owner = getattr(self.exit_fn, "__self__", None)
        return owner if isinstance(owner, MudObject) else None

    def open(self, path: str | None) -> str:
        """Read the file (``EfunError`` if the master refuses); the line that says so."""
        try:
            if path is None:
                return self.editor.start(None)
            name, text = files.read_text(path, "ed_start")
            return self.editor.start(name, text)
        except (FileRefused, EditorError) as exc:
            raise EfunError(f"ed: {exc}") from None

    def feed(self, line: str) -> None:
        """A line of the player's, in their turn (this_object() is the player)."""
        shown = self.editor.feed(line)
        if shown:
            self._show(shown)
        if self.editor.finished:
            self._end()

    def connection_lost(self) -> None:
        """The player's connection is gone: save what was not written, then end."""
        if self.binding.editor is not self:
            return
        self.binding.editor = None
        player = self.binding.owner
        if self.editor.modified and self.editor.lines:
            self._emergency_save(player)
        self._call_exit_fn(player)

    # -- the editor's files --------------------------------------------------------

    def _resolve(self, name: str) -> str:
        defined, result = permissions.ask_master("make_path_absolute", name)
        if defined and isinstance(result, str) and result:
            name = result
        try:
            return permissions.normalize_path(name)
        except EfunError as exc:
            raise FileRefused(str(exc)) from None

    def _read(self, path: str) -> str | None:
        try:
            return files.read_text(path, "ed")[1]
        except EfunError as exc:
            raise FileRefused(str(exc)) from None

    def _write(self, path: str, text: str, append: bool) -> None:
        try:
            files.write_text(path, text, append=append, efun="ed")
        except EfunError as exc:
            raise FileRefused(str(exc)) from None

    # -- the end -------------------------------------------------------------------

    def _show(self, text: str) -> None:
        owner = self.binding.owner
        if owner is not None and not owner._mud_destructed:
            deliver(owner, text)

    def _end(self) -> None:
        if self.binding.editor is self:
            self.binding.editor = None
        if self.exit_fn is None:
            self._show("Exit from ed.\n")
            return
        self._call_exit_fn(self.binding.owner)

    def _call_exit_fn(self, player: MudObject | None) -> None:
        fn, owner = self.exit_fn, self.exit_object
        if fn is None:
            return
        if owner is not None and owner._mud_destructed:
            log.info("ed: the object of the exit function %s is gone; nothing called",
                     objects.describe_callable(fn))
            return
        fn = objects.current_callable(fn)  # the newest code after a reload
        objects.run_apply(owner, fn, this_player=player, what="ed exit function")

    def _emergency_save(self, player: MudObject | None) -> None:
        master = permissions.master()
        apply = getattr(master, "get_ed_buffer_save_file_name", None)
        name = None
        if callable(apply):
            name = objects.run_apply(master, apply, self.editor.path or "", this_player=player,
                                     this_interactive=None, what="get_ed_buffer_save_file_name")
        if not isinstance(name, str) or not name:
            log.info("ed: a buffer of %d lines was lost with the connection (the master "
                     "named no file for it)", len(self.editor.lines))
            return
        try:
            path = permissions.normalize_path(name)
            file = permissions.disk_path(path)
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(self.editor.text(), encoding="utf-8")
        except (EfunError, OSError) as exc:
            log.warning("ed: cannot save the buffer of a lost connection to %s: %s", name, exc)
            return
        log.info("ed: the unsaved buffer of a lost connection went to %s", path)
