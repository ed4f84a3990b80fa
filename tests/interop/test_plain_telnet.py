"""Plain ``telnet`` (Debian's package ``telnet``: netkit's, or inetutils'
BSD-derived one) as a player, driven in tmux: the README's own example,
``telnet localhost 4000``.  How the screen is read: ``terminal.py``.

The client echoes what the player types itself (the terminal is in line
mode), so the screen shows whether the driver's negotiation left it in the
telnet NVT's default mode: a reply that starts in the column where the
typed line ended (a "staircase") means the client was talked out of
turning the Enter it echoes into CR LF (``WILL BINARY`` does that).
"""

from __future__ import annotations

import pytest

from conftest import SHIPPED_MUDLIB, start_driver
from terminal import PASSWORD, TerminalClient, clients, create_character, tool


class Telnet(TerminalClient):
    name = "telnet"

    def __init__(self, home, port: int) -> None:
        super().__init__(home, f"{tool('telnet')} 127.0.0.1 {port}")
        # telnet exits when the game closes the connection: keep its last screen.
        self.run("set-option", "-t", self.session, "remain-on-exit", "on")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    driver = start_driver(tmp_path_factory.mktemp("telnet"), None, tls_port=None,
                          mudlib=SHIPPED_MUDLIB)
    yield driver
    driver.stop()


@pytest.fixture
def telnet(tmp_path, world):
    yield from clients(tmp_path, lambda home: Telnet(home, world.telnet_port))


def _line_after(screen: str, typed: str) -> str:
    """The screen line after the last one that ends with what the player typed."""
    lines = screen.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].rstrip().endswith(typed):
            return lines[index + 1] if index + 1 < len(lines) else ""
    raise AssertionError(f"{typed!r} is not on the screen:\n{screen}")


def test_plain_telnet_draws_no_staircase(world, telnet):
    client = telnet()
    client.wait_for("What is your name?")
    create_character(client, "stairs")
    assert PASSWORD not in client.screen()  # WILL ECHO: telnet stopped echoing
    screen = client.screen()
    # Each reply starts at column 0, on the line after the one typed.
    assert _line_after(screen, "stairs").startswith("There is no one called Stairs"), screen
    assert _line_after(screen, "[y/n] y").startswith("Choose a password"), screen
    client.command("look", "Obvious exits")
    screen = client.screen()
    assert _line_after(screen, "> look") == "The town square", screen
    client.command("say hello there", "You say")
    screen = client.screen()
    assert _line_after(screen, "> say hello there").startswith("You say: hello there"), screen
    client.command("inventory", "You carry")
    screen = client.screen()
    assert _line_after(screen, "> inventory").startswith("You carry"), screen
    client.type("quit")
    screen = client.wait_for("Connection closed by foreign host.")
    assert _line_after(screen, "> quit").startswith("Your character has been saved."), screen
    world.wait_for_log(r"Stairs quit")
