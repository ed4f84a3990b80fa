"""TinTin++ as a player, driven in tmux: over TLS (#ssl) and plain telnet.

A terminal program can only be observed through its screen, so these tests
poll ``tmux capture-pane`` (every 50 ms, each wait with a deadline).  Every
run gets a fresh HOME: TinTin++ pins the first certificate it sees for a
host and port under ~/.tintin/ssl.  ``make interop`` runs them (and installs
tintin++ and tmux as root when missing); elsewhere they are skipped without
the tools.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid

from pathlib import Path

import pytest

from conftest import SHIPPED_MUDLIB, TIMEOUT, start_driver

POLL = 0.05
COLUMNS, ROWS = 240, 60
PASSWORD = "moorland-wind"


def tool(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"{names[0]} not installed (make interop installs it)")


class TinTin:
    """tt++ in a detached tmux session of its own."""

    def __init__(self, home) -> None:
        self.tmux = tool("tmux")
        tintin = tool("tt++", "/usr/games/tt++")
        self.session = f"tt-{uuid.uuid4().hex[:8]}"
        home.mkdir(exist_ok=True)
        # A tmux server of its own (-L): nothing shared with other runs.
        self.run("new-session", "-d", "-s", self.session, "-x", str(COLUMNS), "-y", str(ROWS),
                 f"env HOME={home} TERM=xterm {tintin} -G")
        # Ready once it runs a command: the typed line shows "$r", the output "<ready>".
        self.command("#variable r ready;#showme <$r>", "<ready>")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([self.tmux, "-L", self.session, *args], capture_output=True,
                              text=True, check=check, timeout=TIMEOUT)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-S", "-2000", "-t", self.session).stdout

    def type(self, line: str) -> None:
        self.run("send-keys", "-t", self.session, "-l", line)
        self.run("send-keys", "-t", self.session, "Enter")

    def wait_for(self, needle: str, timeout: float = TIMEOUT, count: int = 1) -> str:
        """Wait until the screen shows ``needle`` (``count`` times)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if screen.count(needle) >= count:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"TinTin++ never showed {needle!r}; screen:\n{screen}")
            time.sleep(POLL)

    def command(self, line: str, needle: str) -> str:
        """Type a line; wait until one more ``needle`` than before is on screen.
        Returns the screen from the new ``needle``'s line on."""
        seen = self.screen().count(needle)
        self.type(line)
        screen = self.wait_for(needle, count=seen + 1)
        index = -1
        for _ in range(seen + 1):
            index = screen.index(needle, index + 1)
        return screen[screen.rfind("\n", 0, index) + 1:]

    def close(self) -> None:
        self.run("kill-server", check=False)


@pytest.fixture
def tintin(tmp_path):
    players: list[TinTin] = []

    def start() -> TinTin:
        player = TinTin(tmp_path / f"home{len(players)}")
        players.append(player)
        return player

    yield start
    for player in players:
        player.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("tintin"), certs, mudlib=SHIPPED_MUDLIB)
    yield driver
    driver.stop()


def create_character(tt: TinTin, name: str) -> None:
    tt.wait_for("What is your name?")
    tt.type(name)
    tt.wait_for("[y/n]")
    tt.type("y")
    tt.wait_for("characters):")
    tt.type(PASSWORD)
    tt.wait_for("Type it again:")
    tt.type(PASSWORD)
    tt.wait_for("Type 'help'")


def test_tintin_over_tls(world, tintin):
    tt = tintin()
    tt.type(f"#ssl mud localhost {world.tls_port}")
    screen = tt.wait_for("Your connection is encrypted (TLSv1.")
    assert "SAVING SERVER CERTIFICATE" in screen  # a fresh HOME: first use, pinned now
    create_character(tt, "tintls")
    assert PASSWORD not in tt.screen()  # WILL ECHO: TinTin++ hid the password
    tt.command("look", "Obvious exits")
    who = tt.command("who", "Adventurers in")
    assert "Tintls" in who and "tls" in who
    tt.command("tls", "Your connection is encrypted: TLSv1.")
    tt.type("quit")
    tt.wait_for("Farewell")
    tt.wait_for("#SESSION 'mud' DIED.")
    world.wait_for_log(r"Tintls quit")


def test_tintin_over_plain_telnet(world, tintin):
    tt = tintin()
    mark = world.log_mark()
    tt.type(f"#session mud localhost {world.telnet_port}")
    tt.wait_for("This connection is not encrypted.")
    create_character(tt, "tinplain")
    answer = tt.command("tls", "Your connection is not encrypted")
    tt.wait_for("connection settings")
    assert f"#ssl game localhost {world.tls_port}" in tt.screen()
    assert answer
    tt.type("quit")
    tt.wait_for("#SESSION 'mud' DIED.")
    world.wait_for_log(r"Tinplain quit", start=mark)


def test_what_tintin_negotiates(tmp_path_factory, tintin):
    """TTYPE with MTTS, NAWS and MCCP2 from a real client; CHARSET refused
    without costing the login anything."""
    driver = start_driver(tmp_path_factory.mktemp("tintin-client"), None, tls_port=None,
                          mudlib=Path(__file__).resolve().parent.parent / "mudlib_clients")
    try:
        tt = tintin()
        tt.type(f"#session mud localhost {driver.telnet_port}")
        tt.wait_for("WELCOME ")
        # The TTYPE cycle takes a few round trips; ask until it is done.
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = tt.command("client", "CLIENT {")
            info = json.loads(answer.split("CLIENT ", 1)[1].split("\n", 1)[0])
            if info["mtts"] is not None or time.monotonic() > deadline:
                break
        assert info["client"] == "TINTIN++"
        assert info["mtts"] is not None and info["mtts"] & 1      # MTTS: ANSI at least
        assert info["mccp"] is True                                  # compressed, not TLS
        assert info["window"] == [COLUMNS, ROWS]                     # the tmux window
        assert info["charset"] == "UTF-8" and info["tls"] == 0
        tt.command("unicode", "UNICODE café ☕")
    finally:
        driver.stop()
