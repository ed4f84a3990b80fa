"""The line editor behind ``ed()``: LDMud's ed, almost ed(1) compatible.

Theory of operation.  An ``Editor`` is a buffer of lines and the command
language that works on it, and nothing else: a line of the player's input
goes in (``feed``), the text to show comes out, and ``prompt`` says what to
ask with (``:`` for a command, ``*`` while lines are being inserted).  It
does no I/O of its own: files are read and written through the two
functions it is given, which the driver binds to the file efuns' checks, so
the master's ``valid_read``/``valid_write`` decide what a player may open
and save (``edit_sessions``).  Routing the player's lines here, the prompt,
and what happens when the connection drops belong to the session too.

The language, as in ed(1) and LDMud's ed (``h`` prints a summary):

* addresses: ``N``, ``.`` (the current line), ``$`` (the last),
  ``/re/`` and ``?re?`` (the next or previous line matching; an empty
  pattern repeats the last), ``'x`` (the line marked ``x``), each with
  ``+N``/``-N`` after it, or alone (relative to the current line); a range
  is ``A,B``, ``,`` is ``1,$`` and ``;`` is ``.,$``;
* commands: ``a i c`` (insert; a line holding only ``.`` ends it), ``d``,
  ``p``/``P``, ``l`` (tabs and line ends shown), ``n`` (line numbers on or
  off), ``=``, ``j``, ``m`` and ``t`` (move, copy), ``s/re/new/[g][p]``
  (``&`` is the match, ``\\1``..``\\9`` its groups), ``g/re/cmd`` and
  ``v/re/cmd`` (cmd is ``p``, ``l``, ``d`` or an ``s``), ``z`` (a
  screenful), ``k``x (mark the line as ``x``; the mark goes when the
  line is deleted or changed, and moves with it), ``w``/``W`` [file]
  (write, append), ``r`` file, ``e``/``E``
  file, ``f`` [file], ``x`` (write if changed, then quit), ``q`` (quit; a
  changed buffer needs a second ``q``), ``Q`` (quit, changes lost), ``h``;
  an empty line prints the next line.

Patterns are ed's regular expressions: ``( ) + ? { } |`` are plain
characters (a wizard searches for ``def look(`` as typed), and with a
backslash in front they are special: ``\\(``..``\\)`` groups, ``\\|``
alternatives, ``\\{m,n\\}`` counts; ``\\<``, ``\\>`` are word edges.  They become
Python patterns (``_python_pattern``).
"""

from __future__ import annotations

import re
from typing import Callable

#: The most text a buffer holds (characters): as much as ``read_file`` reads.
MAX_BUFFER = 4 * 1024 * 1024

#: Lines ``z`` prints.
SCREENFUL = 20

COMMAND_PROMPT = ":"
INSERT_PROMPT = "*"

HELP = """\
ed: commands take an address or a range before them: 1,5p  .,$d  /look/p
  N . $  line N, the current line, the last     +N -N  relative to one
  /re/ ?re?  the next, previous line matching   ,  all lines   ;  . to $
  a i c   append after, insert before, change (end with a lone '.')
  d p l   delete, print, print with tabs and ends shown
  n       line numbers on or off                =  the line's number
  j       join lines                            m N, t N  move, copy after N
  s/re/new/[g][p]   substitute (& is the match, \\1..\\9 its groups)
  g/re/cmd  v/re/cmd  cmd (p l d s) on the lines matching, not matching
  z       a screenful                           (empty line)  the next line
  w [file]  W [file]  write, append             r file  read in after the line
  e file  E file  edit another (E: changes lost) f [file]  show or set the name
  x       write if changed and quit             q  quit   Q  quit, changes lost
  u       undo the last change (u again: redo)  !cmd  a game command
  kx      mark the line as x (a to z)           'x  the line marked x
"""

# The commands that change the buffer: the state before the last of them
# is kept for u.  (e and E start another file: nothing before them is undone.)
_CHANGING = frozenset("aicdjmtsgvr")


class _MarkedLine(str):
    """A line that carries a mark (``kx``).  A mark belongs to the line
    itself, not to its number, as in ed(1): it moves with the line (``m``,
    lines inserted or deleted above it) and is gone once the line is
    deleted or changed, because a changed line is a new string.  A copy
    (``t``) is a plain line again."""

    __slots__ = ()


class FileRefused(Exception):
    """A file the editor was given no access to, or could not read or write."""


class EditorError(Exception):
    """A command that cannot be done: its message is shown, nothing changes."""


Reader = Callable[[str], "str | None"]       # path -> text, None if there is no such file
Writer = Callable[[str, str, bool], None]    # path, text, append


class Editor:
    """One ed buffer and its command language (sans-I/O)."""

    def __init__(self, read: Reader, write: Writer, *, resolve: Callable[[str], str] = str) -> None:
        self._read = read
        self._write = write
        self._resolve = resolve      # a file name as typed -> the path to use
        self.lines: list[str] = []
        self.current = 0             # 1-based; 0 before the first line (empty buffer)
        self.path: str | None = None
        self.modified = False
        self.numbered = False
        self.finished = False
        self._size = 0
        self._inserting_at: int | None = None  # insert mode: new lines go after this one
        self._last_pattern: re.Pattern | None = None
        self._quit_warned = False
        # (lines, current line) before the last change, for u
        self._undo: tuple[list[str], int] | None = None
        # letter -> the marked line (its string object: see _MarkedLine)
        self._marks: dict[str, _MarkedLine] = {}

    # -- the outside -----------------------------------------------------------------

    @property
    def prompt(self) -> str:
        return INSERT_PROMPT if self._inserting_at is not None else COMMAND_PROMPT

    @property
    def inserting(self) -> bool:
        return self._inserting_at is not None

    def start(self, path: str | None, text: str | None = None) -> str:
        """Begin on the file ``path`` holding ``text`` (None: a new file;
        ``path`` None: an empty buffer with no name); what to show."""
        if path is None:
            return "No file.\n"
        self.path = path
        if text is None:
            return f"{path}, new file\n"
        self._insert_text(0, text)
        self.current = len(self.lines)
        self.modified = False
        return f"{path}, {len(self.lines)} lines\n"

    def feed(self, line: str) -> str:
        """One line of input: a command, or a line to insert.  Returns the text to show."""
        if self.finished:
            return ""
        if self._inserting_at is not None:
            return self._insert_line(line)
        quit_warned, self._quit_warned = self._quit_warned, False
        try:
            return self._command(line, quit_warned)
        except (EditorError, FileRefused) as exc:
            return f"{exc}\n"

    def text(self) -> str:
        """The buffer as a file's text."""
        return "".join(line + "\n" for line in self.lines)

    # -- insert mode -----------------------------------------------------------------

    def _insert_line(self, line: str) -> str:
        if line == ".":
            self._inserting_at = None
            return ""
        if self._size + len(line) + 1 > MAX_BUFFER:
            self._inserting_at = None
            return f"The buffer is full ({MAX_BUFFER} characters); insert mode ended.\n"
        at = self._inserting_at
        self.lines.insert(at, line)
        self._size += len(line) + 1
        self._inserting_at = self.current = at + 1
        self.modified = True
        return ""

    def _insert_text(self, after: int, text: str) -> int:
        """Lines of ``text`` after line ``after``; how many."""
        new = text.replace("\r\n", "\n").split("\n")
        if new and new[-1] == "":
            new.pop()
        size = sum(len(line) + 1 for line in new)
        if self._size + size > MAX_BUFFER:
            raise EditorError(f"The buffer would be larger than {MAX_BUFFER} characters.")
        self.lines[after:after] = new
        self._size += size
        return len(new)

    # -- commands --------------------------------------------------------------------

    def _command(self, line: str, quit_warned: bool) -> str:
        first, second, given, rest = self._parse_range(line)
        command, argument = (rest[:1], rest[1:]) if rest else ("", "")
        if command == "":
            if given == 0:  # an empty line: the next one
                second = self.current + 1
            self._check(second)
            self.current = second
            return self._show(second, second)
        handler = self._COMMANDS.get(command)
        if handler is None:
            raise EditorError("Unrecognized or failed command.")
        if command not in _CHANGING:
            return handler(self, first, second, given, argument, quit_warned)
        before = (self.lines[:], self.current)
        shown = handler(self, first, second, given, argument, quit_warned)
        if self._inserting_at is not None or self.lines != before[0]:
            self._undo = before     # (a, i, c: whatever is typed until the '.')
        return shown

    # Each takes (first, second, how many addresses were given, the text
    # after the command letter, whether the last command was a refused q).

    def _append(self, first, second, given, argument, _q):
        self._no_argument(argument)
        self._check(second, allow_zero=True)
        self._inserting_at = second
        return ""

    def _insert(self, first, second, given, argument, _q):
        self._no_argument(argument)
        self._check(second, allow_zero=True)
        self._inserting_at = max(second - 1, 0)
        return ""

    def _change(self, first, second, given, argument, _q):
        self._no_argument(argument)
        self._check_range(first, second)
        self._delete_lines(first, second)
        self._inserting_at = first - 1
        self.current = first - 1
        return ""

    def _delete(self, first, second, given, argument, _q):
        self._no_argument(argument)
        self._check_range(first, second)
        self._delete_lines(first, second)
        self.current = min(first, len(self.lines))
        return ""

    def _print(self, first, second, given, argument, _q):
        self._no_argument(argument)
        self._check_range(first, second)
        self.current = second
        return self._show(first, second)

    def _list(self, first, second, given, argument, _q):
        self._no_argument(argument)
        self._check_range(first, second)
        self.current = second
        return self._show(first, second, literal=True)

    def _number(self, first, second, given, argument, _q):
        self._no_argument(argument)
        self.numbered = not self.numbered
        return f"Line numbers {'on' if self.numbered else 'off'}.\n"

    def _line_number(self, first, second, given, argument, _q):
        self._no_argument(argument)
        return f"{second}\n"

    def _join(self, first, second, given, argument, _q):
        self._no_argument(argument)
        if given < 2:
            first, second = first, first + 1
        self._check_range(first, second)
        if first < second:
            self.lines[first - 1:second] = ["".join(self.lines[first - 1:second])]
            self._size -= second - first
            self.modified = True
        self.current = first
        return ""

    def _move(self, first, second, given, argument, _q):
        self._check_range(first, second)
        destination = self._destination(argument)
        if first <= destination < second:
            raise EditorError("Cannot move lines into themselves.")
        block = self.lines[first - 1:second]
        del self.lines[first - 1:second]
        if destination >= second:
            destination -= len(block)
        self.lines[destination:destination] = block
        self.current = destination + len(block)
        self.modified = True
        return ""

    def _copy(self, first, second, given, argument, _q):
        self._check_range(first, second)
        destination = self._destination(argument)
        block = [str(line) for line in self.lines[first - 1:second]]  # (copies carry no mark)
        size = sum(len(line) + 1 for line in block)
        if self._size + size > MAX_BUFFER:
            raise EditorError(f"The buffer would be larger than {MAX_BUFFER} characters.")
        self.lines[destination:destination] = block
        self._size += size
        self.current = destination + len(block)
        self.modified = True
        return ""

    def _substitute(self, first, second, given, argument, _q):
        self._check_range(first, second)
        pattern, replacement, flags = self._substitution(argument)
        changed = 0
        for number in range(first, second + 1):
            if self._substitute_line(number, pattern, replacement, "g" in flags):
                changed = number
        if not changed:
            raise EditorError("Substitution failed: no match.")
        self.current = changed
        return self._show(changed, changed) if "p" in flags else ""

    def _global(self, first, second, given, argument, _q, matching: bool = True):
        if not given:
            first, second = 1, len(self.lines)
        if not self.lines:
            raise EditorError("The buffer is empty.")
        self._check_range(first, second)
        if not argument:
            raise EditorError("g and v need a pattern: g/re/p")
        delimiter = argument[0]
        source, end = _until(argument, 1, delimiter)
        pattern = self._pattern(source)
        command = argument[end + 1:] if end < len(argument) else ""
        command = command or "p"
        chosen = [n for n in range(first, second + 1)
                  if bool(pattern.search(self.lines[n - 1])) == matching]
        if not chosen:
            raise EditorError("No line matches." if matching else "Every line matches.")
        letter, rest = command[0], command[1:]
        if letter in "pl" and not rest:
            self.current = chosen[-1]
            return "".join(self._show(n, n, literal=letter == "l") for n in chosen)
        if letter == "d" and not rest:
            for number in reversed(chosen):
                self._delete_lines(number, number)
            self.current = min(chosen[0], len(self.lines))
            return ""
        if letter == "s":
            pattern, replacement, flags = self._substitution(rest)
            shown = []
            for number in chosen:
                if self._substitute_line(number, pattern, replacement, "g" in flags):
                    self.current = number
                    if "p" in flags:
                        shown.append(self._show(number, number))
            return "".join(shown)
        raise EditorError("g and v run p, l, d or s on each line.")

    def _inverse_global(self, first, second, given, argument, quit_warned):
        return self._global(first, second, given, argument, quit_warned, matching=False)

    def _screenful(self, first, second, given, argument, _q):
        self._no_argument(argument)
        start = second if given else self.current + 1
        if not self.lines:
            raise EditorError("The buffer is empty.")
        self._check(start)
        end = min(len(self.lines), start + SCREENFUL - 1)
        self.current = end
        return self._show(start, end)

    def _write_file(self, first, second, given, argument, _q, append: bool = False):
        path = self._file_argument(argument, "w")
        if not given:
            first, second = 1, len(self.lines)
        if self.lines:
            self._check_range(first, second)
        block = self.lines[first - 1:second] if self.lines else []
        text = "".join(line + "\n" for line in block)
        self._write(path, text, append)
        if self.path is None:
            self.path = path
        if path == self.path and not append and (first, second) == (1, len(self.lines)):
            self.modified = False
        return f'"{path}" {len(block)} lines {len(text.encode())} bytes\n'

    def _append_file(self, first, second, given, argument, quit_warned):
        return self._write_file(first, second, given, argument, quit_warned, append=True)

    def _read_in(self, first, second, given, argument, _q):
        path = self._file_argument(argument, "r")
        after = second if given else len(self.lines)
        self._check(after, allow_zero=True)
        text = self._read(path)
        if text is None:
            raise EditorError(f'"{path}" isn\'t readable.')
        count = self._insert_text(after, text)
        if count:
            self.modified = True
            self.current = after + count
        return f'"{path}" {count} lines {len(text.encode())} bytes\n'

    def _edit(self, first, second, given, argument, quit_warned, force: bool = False):
        if self.modified and not force and not quit_warned:
            self._quit_warned = True
            raise EditorError("File has been changed: w it, or e again (E) to lose the changes.")
        path = self._file_argument(argument, "e")
        text = self._read(path)
        self.lines, self._size, self.current = [], 0, 0
        self.path, self.modified, self._undo, self._marks = path, False, None, {}
        if text is None:
            return f"{path}, new file\n"
        self._insert_text(0, text)
        self.current = len(self.lines)
        return f"{path}, {len(self.lines)} lines\n"

    def _edit_anyway(self, first, second, given, argument, quit_warned):
        return self._edit(first, second, given, argument, quit_warned, force=True)

    def _file_name(self, first, second, given, argument, _q):
        name = argument.strip()
        if name:
            self.path = self._resolve(name)
        return f"{self.path or '<no file>'}\n"

    def _quit(self, first, second, given, argument, quit_warned):
        self._no_argument(argument)
        if self.modified and not quit_warned:
            self._quit_warned = True
            raise EditorError("File has been changed: w it, or q again (Q) to lose the changes.")
        self.finished = True
        return ""

    def _quit_anyway(self, first, second, given, argument, _q):
        self._no_argument(argument)
        self.finished = True
        return ""

    def _write_and_quit(self, first, second, given, argument, _q):
        self._no_argument(argument)
        shown = ""
        if self.modified:
            if self.path is None:
                raise EditorError("No file name: w file, then q.")
            shown = self._write_file(1, len(self.lines), 0, "", False)
        self.finished = True
        return shown

    def _help(self, first, second, given, argument, _q):
        return HELP

    def _undo_last(self, first, second, given, argument, _q):
        """The buffer as it was before the last change; u again redoes it."""
        self._no_argument(argument)
        if given:
            raise EditorError("u takes no address.")
        if self._undo is None:
            raise EditorError("Nothing to undo.")
        lines, current = self._undo
        self._undo = (self.lines, self.current)
        self.lines, self.current = lines, current
        self._size = sum(len(line) + 1 for line in lines)
        self.modified = True
        return ""

    def _mark(self, first, second, given, argument, _q):
        letter = argument.strip()
        if len(letter) != 1 or not "a" <= letter <= "z":
            raise EditorError("k needs a mark, a letter from a to z: ka")
        self._check(second)
        line = self.lines[second - 1]
        if type(line) is not _MarkedLine:
            line = self.lines[second - 1] = _MarkedLine(line)
        self._marks[letter] = line
        return ""

    def _marked(self, letter: str) -> int:
        """The number of the line marked ``letter``."""
        line = self._marks.get(letter)
        for number, candidate in enumerate(self.lines, 1):
            if candidate is line:
                return number
        raise EditorError(f"No line is marked {letter}." if letter.isalpha()
                          else "A mark is a letter from a to z: 'a")

    _COMMANDS = {
        "a": _append, "i": _insert, "c": _change, "d": _delete, "p": _print, "P": _print,
        "l": _list, "n": _number, "=": _line_number, "j": _join, "m": _move, "t": _copy,
        "s": _substitute, "g": _global, "v": _inverse_global, "z": _screenful,
        "w": _write_file, "W": _append_file, "r": _read_in, "e": _edit, "E": _edit_anyway,
        "f": _file_name, "q": _quit, "Q": _quit_anyway, "x": _write_and_quit, "h": _help,
        "u": _undo_last, "k": _mark,
    }

    # -- addresses -------------------------------------------------------------------

    def _parse_range(self, line: str) -> tuple[int, int, int, str]:
        """(first, second, how many addresses were given, the rest of the line)."""
        line = line.lstrip()
        if line[:1] == ",":
            return 1, len(self.lines), 2, line[1:].lstrip()
        if line[:1] == ";":
            return self.current, len(self.lines), 2, line[1:].lstrip()
        first, position = self._address(line, 0)
        if first is None:
            return self.current, self.current, 0, line
        if line[position:position + 1] in (",", ";"):
            if line[position] == ";":
                self.current = first
            second, after = self._address(line, position + 1)
            if second is None:
                raise EditorError("A range needs a second address: 1,5p")
            return first, second, 2, line[after:].lstrip()
        return first, first, 1, line[position:].lstrip()

    def _address(self, line: str, position: int) -> tuple[int | None, int]:
        """One address at ``position``: its line number (None if there is
        none) and where the line goes on."""
        while line[position:position + 1] == " ":
            position += 1
        character = line[position:position + 1]
        value: int | None = None
        if character.isdigit():
            match = re.compile(r"\d+").match(line, position)
            value, position = int(match.group()), match.end()
        elif character == ".":
            value, position = self.current, position + 1
        elif character == "$":
            value, position = len(self.lines), position + 1
        elif character == "'":
            value, position = self._marked(line[position + 1:position + 2]), position + 2
        elif character in ("/", "?"):
            source, end = _until(line, position + 1, character)
            value = self._search(self._pattern(source), forward=character == "/")
            position = end + 1
        while line[position:position + 1] in ("+", "-"):
            sign = 1 if line[position] == "+" else -1
            match = re.compile(r"\d*").match(line, position + 1)
            step = int(match.group()) if match.group() else 1
            value = (self.current if value is None else value) + sign * step
            position = match.end()
        return value, position

    def _search(self, pattern: re.Pattern, forward: bool) -> int:
        count = len(self.lines)
        for step in range(1, count + 1):
            number = (self.current - 1 + (step if forward else -step)) % count + 1
            if pattern.search(self.lines[number - 1]):
                return number
        raise EditorError("Pattern not found.")

    def _pattern(self, source: str) -> re.Pattern:
        if not source:
            if self._last_pattern is None:
                raise EditorError("No previous pattern.")
            return self._last_pattern
        try:
            self._last_pattern = re.compile(_python_pattern(source))
        except re.error as exc:
            raise EditorError(f"ed: bad pattern: {exc}") from None
        return self._last_pattern

    def _destination(self, argument: str) -> int:
        destination, after = self._address(argument, 0)
        if destination is None or argument[after:].strip():
            raise EditorError("m and t need the line to put them after: 1,3m$")
        self._check(destination, allow_zero=True)
        return destination

    # -- helpers ---------------------------------------------------------------------

    def _check(self, number: int, allow_zero: bool = False) -> None:
        if not (0 if allow_zero else 1) <= number <= len(self.lines):
            raise EditorError("Line out of range." if self.lines else "The buffer is empty.")

    def _check_range(self, first: int, second: int) -> None:
        self._check(first)
        self._check(second)
        if first > second:
            raise EditorError("The range runs backwards.")

    @staticmethod
    def _no_argument(argument: str) -> None:
        if argument.strip():
            raise EditorError("Unrecognized or failed command.")

    def _file_argument(self, argument: str, command: str) -> str:
        name = argument.strip()
        if name:
            return self._resolve(name)
        if self.path is None:
            raise EditorError(f"No file name: {command} file")
        return self.path

    def _delete_lines(self, first: int, second: int) -> None:
        self._size -= sum(len(line) + 1 for line in self.lines[first - 1:second])
        del self.lines[first - 1:second]
        self.modified = True

    def _substitution(self, argument: str) -> tuple[re.Pattern, str, str]:
        if not argument or argument[0].isalnum() or argument[0] in " \\":
            raise EditorError("s needs a delimiter: s/old/new/")
        delimiter = argument[0]
        source, end = _until(argument, 1, delimiter)
        replacement, end = _until(argument, end + 1, delimiter)
        flags = argument[end + 1:].strip()
        if set(flags) - set("gp"):
            raise EditorError("s takes the flags g and p.")
        return self._pattern(source), _python_replacement(replacement), flags

    def _substitute_line(self, number: int, pattern: re.Pattern, replacement: str,
                         every: bool) -> bool:
        old = self.lines[number - 1]
        try:
            new, count = pattern.subn(replacement, old, count=0 if every else 1)
        except (re.error, IndexError) as exc:
            raise EditorError(f"ed: bad replacement: {exc}") from None
        if not count:
            return False
        if "\n" in new:
            raise EditorError("A substitution cannot make a new line.")
        self._size += len(new) - len(old)
        self.lines[number - 1] = new
        self.modified = True
        return True

    def _show(self, first: int, second: int, literal: bool = False) -> str:
        shown = []
        for number in range(first, second + 1):
            line = self.lines[number - 1]
            if literal:
                line = line.replace("\\", "\\\\").replace("\t", "\\t") + "$"
            shown.append(f"{number:4d}  {line}\n" if self.numbered else f"{line}\n")
        return "".join(shown)


def _until(text: str, start: int, delimiter: str) -> tuple[str, int]:
    """The text from ``start`` to the next unescaped ``delimiter`` (or the
    end), with ``\\delimiter`` unescaped; and the delimiter's index."""
    out = []
    position = start
    while position < len(text):
        character = text[position]
        if character == "\\" and position + 1 < len(text):
            following = text[position + 1]
            out.append(following if following == delimiter else character + following)
            position += 2
            continue
        if character == delimiter:
            return "".join(out), position
        out.append(character)
        position += 1
    return "".join(out), len(text)


# ed's pattern characters that are plain in ed and special in Python's re.
_PLAIN_IN_ED = set("()+?{}|")


def _python_pattern(source: str) -> str:
    """An ed regular expression as a Python one."""
    out = []
    position = 0
    while position < len(source):
        character = source[position]
        if character == "\\" and position + 1 < len(source):
            following = source[position + 1]
            position += 2
            if following in _PLAIN_IN_ED:  # \( \) \{ \} \+ \? \|: special in ed
                out.append(following)
            elif following in "<>":
                out.append(r"\b")
            else:
                out.append("\\" + following)
            continue
        if character == "[":  # a bracket expression is copied as it is
            end = source.find("]", position + (2 if source[position + 1:position + 2] in "^]" else 1))
            if end < 0:
                end = len(source) - 1
            out.append(source[position:end + 1])
            position = end + 1
            continue
        out.append("\\" + character if character in _PLAIN_IN_ED else character)
        position += 1
    return "".join(out)


def _python_replacement(text: str) -> str:
    """ed's replacement (``&`` the match, ``\\1`` a group, ``\\&`` an
    ampersand) as a template for ``re.sub``."""
    out = []
    position = 0
    while position < len(text):
        character = text[position]
        if character == "\\" and position + 1 < len(text):
            following = text[position + 1]
            if following.isdigit():
                out.append(f"\\g<{following}>")
            elif following == "\\":
                out.append("\\\\")
            else:
                out.append(following)
            position += 2
            continue
        out.append("\\g<0>" if character == "&" else character)
        position += 1
    return "".join(out)
