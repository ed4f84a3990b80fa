"""Terminal MUD clients (TinTin++, KBtin, tf5) played through tmux.

A terminal program can only be observed through its screen, so a
``TerminalClient`` polls ``tmux capture-pane`` (every 50 ms, each wait with a
deadline).  Each client runs in a tmux server of its own (``-L``) with a
fresh HOME, so nothing (TinTin++'s pinned certificates, tf's settings) is
shared between runs.  Tests using a client are skipped where its program or
tmux is not installed (``make interop-tools`` installs them as root).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import TIMEOUT

POLL = 0.05
COLUMNS, ROWS = 240, 60
PASSWORD = "moorland-wind"


def tool(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"{names[0]} not installed (make interop-tools installs it)")


class TerminalClient:
    """One client program in a detached tmux session of its own."""

    #: for messages: which client it was
    name = "the client"

    def __init__(self, home: Path, command: str) -> None:
        self.tmux = tool("tmux")
        self.session = f"mud-{uuid.uuid4().hex[:8]}"
        home.mkdir(exist_ok=True)
        # COLUMNS and LINES as well: a program that starts before the pane
        # has its size would take terminfo's 80x24 (tf5 then breaks lines at 80).
        self.run("new-session", "-d", "-s", self.session, "-x", str(COLUMNS), "-y", str(ROWS),
                 f"env HOME={home} TERM=xterm COLUMNS={COLUMNS} LINES={ROWS} {command}")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([self.tmux, "-L", self.session, *args], capture_output=True,
                              text=True, check=check, timeout=TIMEOUT)

    def screen(self, escapes: bool = False) -> str:
        """The scrollback and screen as text; with ``escapes``, with the
        colour and attribute sequences the client drew them in."""
        options = ("-e",) if escapes else ()
        return self.run("capture-pane", "-p", "-J", *options, "-S", "-2000",
                        "-t", self.session).stdout

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
                raise AssertionError(f"{self.name} never showed {needle!r}; screen:\n{screen}")
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


def clients(tmp_path: Path, make):
    """Fixture body: ``start()`` makes a client with a fresh HOME; all are closed after."""
    started: list[TerminalClient] = []

    def start() -> TerminalClient:
        client = make(tmp_path / f"home{len(started)}")
        started.append(client)
        return client

    yield start
    for client in started:
        client.close()


def create_character(client: TerminalClient, name: str) -> None:
    """The shipped login, from "What is your name?" to the welcome."""
    client.wait_for("What is your name?")
    client.type(name)
    client.wait_for("[y/n]")
    client.type("y")
    client.wait_for("characters):")
    client.type(PASSWORD)
    client.wait_for("Type it again:")
    client.type(PASSWORD)
    client.wait_for("Type 'help'")
