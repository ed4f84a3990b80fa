"""Colour and width on a player's terminal: LP colour markup and wrapping.

This module owns two things, and nothing about sockets or objects:

* ``terminal_colour(text, mapping, wrap, indent)``, LDMud's efun: the
  ``%^KEY%^`` markup expanded through a mapping (or a callable), and text
  wrapped at ``wrap`` columns with a hanging ``indent``.  The wrapper counts
  only the text a player sees: what the keys expand to (colour codes) takes
  no width, nor does an escape sequence already in the text.
* ``colour_depth(...)``: how many colours a client can show (0, 16, 256 or
  ``TRUECOLOUR``), judged from its MTTS bits and terminal type (TTYPE).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from wcwidth import wcwidth

# --- colour depth ----------------------------------------------------------------

NO_COLOUR = 0
COLOURS_16 = 16
COLOURS_256 = 256
TRUECOLOUR = 16_777_216

# MTTS bits (the same values as driver.mud_protocols; repeated so this module
# stands alone).
_MTTS_ANSI, _MTTS_256, _MTTS_TRUECOLOUR = 1, 8, 256

# Terminal types (TTYPE) that promise colour without MTTS.  A client that
# names no terminal, or one not listed ("DUMB", "VT100"), gets none: an
# escape sequence on a terminal that does not know it shows as garbage.
_TRUECOLOUR_TERMINALS = re.compile(r"TRUECOLOU?R|24BIT|-DIRECT$")
_256_TERMINALS = re.compile(r"256COLOU?R")
_16_COLOUR_TERMINALS = re.compile(
    r"^(ANSI|XTERM|LINUX|SCREEN|TMUX|RXVT|PUTTY|CYGWIN|KONSOLE|GNOME|ETERM|"
    r"VT220|VT320|VT420|VT525|MUDLET|TINTIN\+\+|KBTIN|TINYFUGUE|MUSHCLIENT|CMUD|ZMUD|"
    r"BLIGHTMUD)")


def colour_depth(mtts: int | None, terminal_type: str | None, client_name: str | None = None) -> int:
    """How many colours the client announced: 0, 16, 256 or ``TRUECOLOUR``.

    MTTS, when the client sent it, is the client's own word and decides;
    otherwise the terminal type is read the way terminfo names read
    ("XTERM-256COLOR" is 256, "ANSI" 16).
    """
    if mtts is not None:
        if mtts & _MTTS_TRUECOLOUR:
            return TRUECOLOUR
        if mtts & _MTTS_256:
            return COLOURS_256
        return COLOURS_16 if mtts & _MTTS_ANSI else NO_COLOUR
    for name in (terminal_type, client_name):
        if not name:
            continue
        name = name.strip().upper()
        if _TRUECOLOUR_TERMINALS.search(name):
            return TRUECOLOUR
        if _256_TERMINALS.search(name):
            return COLOURS_256
        if _16_COLOUR_TERMINALS.match(name):
            return COLOURS_16
    return NO_COLOUR


# --- terminal_colour ----------------------------------------------------------------

_DELIMITER = "%^"
# LDMud: "%^%^" and "%%^^" where a key could start are always a literal "%^".
_LITERALS = ("%^%^", "%%^^")
# An escape sequence already in the text (CSI ... final byte, or OSC ... BEL/ST):
# it takes no columns on screen.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")

Replacement = Mapping[Any, Any] | Callable[[str], Any] | None


def _lookup(key: str, mapping: Replacement) -> str:
    """What ``%^key%^`` becomes: the mapping's string for it, else the
    mapping's default (key 0: a string, or a callable given the key), else
    the key itself without its delimiters (LDMud)."""
    if callable(mapping) and not isinstance(mapping, Mapping):
        value = mapping(key)
        return value if isinstance(value, str) else key
    value = mapping.get(key)
    if isinstance(value, str):
        return value
    default = mapping.get(0)
    if callable(default):
        default = default(key)
    return default if isinstance(default, str) else key


def _expand(text: str, mapping: Replacement) -> list[tuple[bool, str]]:
    """The text as (visible, piece) pairs: visible text, and what keys
    expanded to (which takes no width)."""
    pieces: list[tuple[bool, str]] = []
    plain: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith(_LITERALS, i):
            plain.append(_DELIMITER)
            i += 4
            continue
        if text.startswith(_DELIMITER, i):
            end = text.find(_DELIMITER, i + 2)
            key = text[i + 2:] if end < 0 else text[i + 2:end]
            if plain:
                pieces.append((True, "".join(plain)))
                plain = []
            pieces.append((False, _lookup(key, mapping)))
            i = n if end < 0 else end + 2
            continue
        plain.append(text[i])
        i += 1
    if plain:
        pieces.append((True, "".join(plain)))
    return pieces


def _char_width(char: str) -> int:
    width = wcwidth(char)
    return width if width > 0 else 0     # combining marks and controls take no column


def visible_width(text: str) -> int:
    """Columns ``text`` takes on screen: escape sequences take none, wide
    characters (CJK) two."""
    return sum(_char_width(c) for c in _ESCAPE.sub("", text))


def _tokens(pieces: list[tuple[bool, str]]):
    """("code" | "space" | "word", text) tokens of a line.  Codes are what
    keys expanded to and escape sequences in the text: they take no width."""
    for visible, piece in pieces:
        if not visible:
            if piece:
                yield "code", piece
            continue
        for part in re.split(r"(" + _ESCAPE.pattern + r"| +)", piece):
            if not part:
                continue
            if part.startswith("\x1b"):
                yield "code", part
            elif part.startswith(" "):
                yield "space", part
            else:
                yield "word", part


def _wrap_line(pieces: list[tuple[bool, str]], width: int, indent: int) -> str:
    """One line (no newline in it) wrapped at ``width`` columns; continuation
    lines start with ``indent`` spaces.  A word that does not fit goes whole
    onto the next line; only a word longer than a whole line is cut."""
    indent = max(0, min(indent, width - 1))
    lines: list[list[str]] = [[]]
    column = 0          # columns used on the current line
    start = 0           # where words start on it: 0, or the indent
    space = ""          # spaces since the last word, written only before another
    codes: list[str] = []   # codes since the last word: they go with the next one

    def new_line() -> None:
        nonlocal column, start, space
        lines.append([" " * indent] if indent else [])
        column = start = indent
        space = ""

    def put(text: str, text_width: int, gap: str = "") -> None:
        # The gap before the codes: a colour starts with its word, not the space.
        nonlocal column, space
        lines[-1].append(gap)
        lines[-1].extend(codes)
        codes.clear()
        lines[-1].append(text)
        column += len(gap) + text_width
        space = ""

    for kind, text in _tokens(pieces):
        if kind == "code":
            codes.append(text)
        elif kind == "space":
            if column == 0 and len(lines) == 1:
                # The line's own indentation, kept as written.
                put(text[:width - 1], min(len(text), width - 1))
            else:
                space += text
        else:
            word_width = sum(_char_width(c) for c in text)
            gap = space if column > start else ""
            if column + len(gap) + word_width <= width:
                put(text, word_width, gap)
                continue
            if word_width <= width - indent:
                new_line()
                put(text, word_width)
                continue
            # Longer than a line: fill what is left of this one, then cut.
            if column + len(gap) + 1 > width:
                new_line()
                gap = ""
            chunk, chunk_width = "", 0
            for char in text:
                char_width = _char_width(char)
                if column + len(gap) + chunk_width + char_width > width:
                    put(chunk, chunk_width, gap)
                    new_line()
                    chunk, chunk_width, gap = "", 0, ""
                chunk += char
                chunk_width += char_width
            put(chunk, chunk_width, gap)
    # Spaces at the very end stay (a prompt ends in one), as far as they fit.
    lines[-1].append(space[:max(0, width - column)])
    lines[-1].extend(codes)
    return "\n".join("".join(parts) for parts in lines)


def terminal_colour(text: str, mapping: Replacement = None, wrap: int = 0, indent: int = 0) -> str:
    """LDMud's ``terminal_colour``: expand ``%^KEY%^`` through ``mapping``
    and wrap at ``wrap`` columns, continuation lines indented by ``indent``.

    ``mapping`` None (or 0): no markup is recognised, only wrapping.  A key
    not in the mapping takes the value of the mapping's key ``0`` if there is
    one (a string, or a callable given the key), else stays as its name.
    """
    expanded: list[tuple[bool, str]]
    if mapping is None or mapping == 0:
        expanded = [(True, text)]
    else:
        expanded = _expand(text, mapping)
    if wrap <= 0:
        return "".join(piece for _, piece in expanded)
    lines: list[list[tuple[bool, str]]] = [[]]
    for visible, piece in expanded:
        if not visible:
            lines[-1].append((visible, piece))
            continue
        parts = piece.split("\n")
        for number, part in enumerate(parts):
            if number:
                lines.append([])
            if part:
                lines[-1].append((True, part))
    return "\n".join(_wrap_line(line, wrap, indent) for line in lines)
