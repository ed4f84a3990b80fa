"""KBtin as a player, driven in tmux: over TLS (#sslsession) and plain telnet.

KBtin (a descendant of TinTin++, with its TLS from GnuTLS) names itself
"KBtin" in TTYPE and then calls its terminal "hardcopy", without MTTS: the
game has only its name to go on for colour.  Every run gets a fresh HOME,
as KBtin pins the first certificate it sees under ~/.tintin/ssl.  How the
screen is read: ``terminal.py``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from conftest import SHIPPED_MUDLIB, TIMEOUT, start_driver
from terminal import COLUMNS, PASSWORD, ROWS, TerminalClient, clients, create_character, tool

# One SGR sequence, and a run of them.
_SGR = r"\x1b\[([0-9;]*)m"


class KBtin(TerminalClient):
    name = "KBtin"

    def __init__(self, home) -> None:
        super().__init__(home, tool("KBtin", "kbtin"))
        # Ready once it runs a command: the typed line shows "$r", the output "<ready>".
        self.command("#variable r ready;#showme <$r>", "<ready>")


@pytest.fixture
def kbtin(tmp_path):
    yield from clients(tmp_path, KBtin)


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("kbtin"), certs, mudlib=SHIPPED_MUDLIB)
    yield driver
    driver.stop()


def foreground_before(screen: str, text: str) -> set[int]:
    """The SGR parameters the client drew just before the last ``text``."""
    runs = list(re.finditer(f"((?:{_SGR})+){re.escape(text)}", screen))
    assert runs, f"{text!r} is not on the screen with its attributes:\n{screen!r}"
    return {int(number) for number in re.findall(r"\d+", runs[-1].group(1))}


def test_kbtin_over_tls_in_colour(world, kbtin):
    kb = kbtin()
    kb.type(f"#sslsession mud localhost {world.tls_port}")
    screen = kb.wait_for("Your connection is encrypted (TLSv1.")
    assert "#Saving server certificate" in screen  # a fresh HOME: first use, pinned now
    create_character(kb, "kbtls")
    assert PASSWORD not in kb.screen()  # WILL ECHO: KBtin hid the password
    # Its name alone promises colour: the room's title arrives coloured
    # (any foreground but the default white and grey), and 'colour' says why.
    answer = kb.command("colour", "your screen gets")
    assert "your screen gets 16 colours (your client said 16 colours)" in answer
    kb.command("look", "Obvious exits")
    drawn = foreground_before(kb.screen(escapes=True), "The town square")
    assert drawn & (set(range(31, 37)) | set(range(90, 97))), drawn
    kb.command("who", "online.  'tls' means the connection is encrypted.")
    who = kb.screen()
    who = who[who.rindex("Adventurers in"):]
    assert "Kbtls" in who and "tls" in who
    kb.command("tls", "Your connection is encrypted: TLSv1.")
    kb.type("quit")
    kb.wait_for("Farewell")
    kb.wait_for("#SESSION 'mud' DIED.")
    world.wait_for_log(r"Kbtls quit")


def test_kbtin_over_plain_telnet_is_told_its_own_way_to_tls(world, kbtin):
    kb = kbtin()
    mark = world.log_mark()
    kb.type(f"#session mud localhost {world.telnet_port}")
    kb.wait_for("This connection is not encrypted.")
    create_character(kb, "kbplain")
    # The TTYPE answer may still be on its way when the first command runs:
    # ask until the game knows the client.
    deadline = time.monotonic() + TIMEOUT
    while "In KBtin:" not in (answer := kb.command("tls", "port")):
        assert time.monotonic() < deadline, answer
    assert f"In KBtin: #sslsession game localhost {world.tls_port}" in answer
    assert "#ssl game" not in answer  # TinTin++'s command is not KBtin's
    kb.type("quit")
    kb.wait_for("#SESSION 'mud' DIED.")
    world.wait_for_log(r"Kbplain quit", start=mark)


def test_what_kbtin_negotiates(tmp_path_factory, kbtin):
    """TTYPE (its name, then "hardcopy"), NAWS and MCCP2 from a real client;
    CHARSET refused without costing the login anything."""
    driver = start_driver(tmp_path_factory.mktemp("kbtin-client"), None, tls_port=None,
                          mudlib=Path(__file__).resolve().parent.parent / "mudlib_clients")
    try:
        kb = kbtin()
        kb.type(f"#session mud localhost {driver.telnet_port}")
        kb.wait_for("WELCOME ")
        # The TTYPE cycle takes a few round trips (after the first answer,
        # "KBtin" is taken for the terminal; the second tells it was the
        # client's name): ask until it is done.
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = kb.command("client", "CLIENT {")
            info = json.loads(answer.split("CLIENT ", 1)[1].split("\n", 1)[0])
            if info["client"] is not None or time.monotonic() > deadline:
                break
        assert info["client"] == "KBtin"
        assert info["terminal"] == "hardcopy" and info["mtts"] is None
        assert info["mccp"] is True                                  # compressed, not TLS
        # The tmux window, less the line KBtin keeps for typing.
        assert info["window"] == [COLUMNS, ROWS - 1]
        assert info["charset"] == "UTF-8" and info["tls"] == 0
        kb.command("unicode", "UNICODE café ☕")
    finally:
        driver.stop()
