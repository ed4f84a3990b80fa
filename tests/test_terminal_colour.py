"""terminal_colour and query_colour_depth: LDMud's markup, wrapping that
counts only what the player sees, and the colour depth a client announced.
Pure functions, checked as the efuns the mudlib calls."""

from __future__ import annotations

import re

import pytest

from driver.efuns import EfunError, terminal_colour
from driver.net.ansi import COLOURS_16, COLOURS_256, NO_COLOUR, TRUECOLOUR, colour_depth

ANSI = {"RED": "\x1b[31m", "RESET": "\x1b[0m"}


def visible(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_keys_as_ldmud_expands_them():
    trans = {"GREEN": "ansi-green", "RED": "", "BLUE": 1}
    assert terminal_colour("%^GREEN%^ and %^RED%^ and %^BLUE%^", trans) == "ansi-green and  and BLUE"
    assert terminal_colour("%^GREEN%^%^RED%^x", {"GREEN": "g", "RED": "r"}) == "grx"
    assert terminal_colour("100%%^^ and %^%^", {}) == "100%^ and %^"


def test_the_default_key_and_callables():
    assert terminal_colour("%^RED%^hot%^WHATEVER%^", {0: ""}) == "hot"
    assert terminal_colour("%^RED%^hot%^RESET%^", {**ANSI, 0: ""}) == "\x1b[31mhot\x1b[0m"
    assert terminal_colour("%^a%^-%^b%^", {0: lambda key: key.upper()}) == "A-B"
    assert terminal_colour("%^a%^-%^b%^", lambda key: f"<{key}>") == "<a>-<b>"
    assert terminal_colour("%^RED%^ stays", None) == "%^RED%^ stays"


def test_wrapping_counts_only_visible_columns_and_keeps_words_whole():
    text = "%^RED%^The quick brown fox%^RESET%^ jumps over the lazy dog " * 3
    wrapped = terminal_colour(text.strip(), ANSI, 20, 2)
    lines = wrapped.split("\n")
    assert all(len(visible(line)) <= 20 for line in lines), lines
    assert all(line.startswith("  ") for line in lines[1:])
    words = visible(wrapped).split()
    assert words == visible(terminal_colour(text, ANSI)).split()     # no word cut
    assert max(len(visible(line)) for line in lines) >= 17            # and lines well filled


def test_a_word_longer_than_the_line_is_cut_and_spaces_are_kept_where_they_mean_something():
    lines = terminal_colour("x " + "a" * 25 + " y", None, 10).split("\n")
    assert all(len(line) <= 10 for line in lines) and "".join(lines).count("a") == 25
    assert terminal_colour("What is your name? ", {0: ""}, 80) == "What is your name? "
    assert terminal_colour("    indented line", None, 80) == "    indented line"
    assert terminal_colour("one\ntwo three", None, 5) == "one\ntwo\nthree"


def test_bad_arguments_are_efun_errors():
    for args in ((5,), ("x", "not a mapping"), ("x", {}, -1), ("x", {}, 10, "2")):
        with pytest.raises(EfunError):
            terminal_colour(*args)


@pytest.mark.parametrize("mtts, terminal, client, depth", [
    (9, "XTERM-256COLOR", "MUDLET", COLOURS_256),
    (2831, "ANSI-TRUECOLOR", "MUDLET", TRUECOLOUR),
    (1, "XTERM-256COLOR", "X", COLOURS_16),       # MTTS is the client's word
    (0, "ANSI", "X", NO_COLOUR),
    (None, "XTERM-256COLOR", None, COLOURS_256),
    (None, "xterm", None, COLOURS_16),
    (None, "TINYFUGUE", None, COLOURS_16),
    (None, "hardcopy", "KBtin", COLOURS_16),       # KBtin's TTYPE: its name, then "hardcopy"
    (None, "DUMB", None, NO_COLOUR),
    (None, None, None, NO_COLOUR),
])
def test_colour_depth_from_mtts_then_terminal_type(mtts, terminal, client, depth):
    assert colour_depth(mtts, terminal, client) == depth
