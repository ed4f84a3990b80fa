"""The shipped world on the LP platform: items, emotes, wizards, a room with
a heart beat, a room reloaded under two connected players (one on TLS, one
plain), and characters that survive a driver restart.

The driver runs on a copy of mudlib/ so a test can break a room's file.
"""

from __future__ import annotations

import re
import shutil
import signal

import pytest

from conftest import SHIPPED_MUDLIB, TIMEOUT, start_driver
from test_world import PASSWORD, create_character, do, plain_player, tls_player


@pytest.fixture
def game(tmp_path, certs):
    """Start (and restart) a driver on a copy of the shipped world in one directory."""
    mudlib = tmp_path / "mudlib"
    shutil.copytree(SHIPPED_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    directory = tmp_path / "run"
    directory.mkdir()
    started = []

    def start(**mudlib_keys):
        extra = "".join(f"  {key}: {value}\n" for key, value in mudlib_keys.items())
        driver = start_driver(directory, certs, mudlib=mudlib, mudlib_extra=extra)
        driver.mudlib = mudlib
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.stop()


def log_in(client, name: str) -> str:
    client.read_until("What is your name? ")
    client.command(name, "Password: ")
    return do(client, PASSWORD)


def test_two_players_one_on_tls_share_the_world_a_wizard_reloads_it_and_a_restart_keeps_them(game, certs):
    world = game()
    alice = tls_player(world, certs)
    create_character(alice, "alice")
    world.wait_for_log(r"Alice is the first character: made an admin")
    bob = plain_player(world)
    create_character(bob, "bob")
    alice.read_until("Bob enters the game.")

    # talking and emoting, both ways
    bob.raw.clear()
    do(alice, "say Evening, Bob.")
    bob.read_until("Alice says: Evening, Bob.")
    alice.raw.clear()
    assert "Bob grins." in do(bob, "emote grins")  # as the room sees it
    alice.read_until("Bob grins.")

    # things: the square's coin
    text = do(alice, "look")
    assert "You see a copper coin here." in text and "Bob is here." in text
    bob.raw.clear()
    assert "You take a copper coin." in do(alice, "get coin")
    bob.read_until("Alice takes a copper coin.")
    assert "a copper coin" in do(alice, "i")
    assert "You drop a copper coin." in do(alice, "drop coin")
    assert "You carry nothing." in do(alice, "inventory")

    # movement, seen from both sides
    alice.raw.clear()
    assert "The herb garden" in do(bob, "east")
    alice.read_until("Bob leaves east.")
    bob.raw.clear()
    do(alice, "go east")
    bob.read_until("Alice arrives from the west.")
    assert "You can't go that way." in do(alice, "north")

    # the garden's apple: an item's own action, and the room's
    assert "the apple on the ground will have to do" in do(alice, "shake tree")
    do(alice, "get apple")
    bob.raw.clear()
    assert "You eat the apple." in do(alice, "eat apple")
    bob.read_until("Alice eats an apple.")
    assert "What?" in do(bob, "eat apple")
    assert "an apple thumps onto the gravel" in do(bob, "shake tree")

    # wizards only: bob is a player, alice (the first character) an admin
    assert "What?" in do(bob, "update here")
    text = do(alice, "people")
    cipher = alice.sock.cipher()[0]
    assert re.search(rf"^Alice\s+127\.0\.0\.1\s+{world.tls_port}\s+TLSv1\.3\s+{re.escape(cipher)}\s+\d+s",
                     text, re.M), text
    assert re.search(rf"^Bob\s+127\.0\.0\.1\s+{world.telnet_port}\s+telnet\s+-\s+\d+s", text, re.M), text

    # a wizard reloads the room both stand in: new code, both still there
    garden = world.mudlib / "rooms" / "garden.py"
    garden.write_text(garden.read_text().replace("The herb garden", "The physic garden"))
    assert "Updated /rooms/garden." in do(alice, "update here")
    text = do(bob, "look")
    assert "The physic garden" in text and "Alice is here." in text
    assert "two red apples" in text  # the room's apple moved into the new room, beside its own
    alice.raw.clear()
    assert "You say: Still here." in do(bob, "say Still here.")
    alice.read_until("Bob says: Still here.")
    assert "The town square" in do(bob, "west")  # the exits are the new room's actions

    # a broken file: the error names the file and line; the old room stays
    garden.write_text(garden.read_text().replace("    exits = {", "    exits = {{", 1))
    text = do(alice, "update here")
    assert re.search(r"Update failed: update_program: /rooms/garden\.py, line \d+: SyntaxError", text), text
    assert "The physic garden" in do(alice, "look")
    garden.write_text(garden.read_text().replace("    exits = {{", "    exits = {", 1))

    # admin makes bob a wizard; he can use the wizard commands at once
    bob.raw.clear()
    assert "Bob is a wizard now." in do(alice, "promote bob")
    bob.read_until("Alice has made you a wizard.")
    assert "The physic garden" in do(bob, "goto alice")

    # restart: both come back where they were, with their levels
    world.process.send_signal(signal.SIGTERM)
    assert world.process.wait(TIMEOUT) == 0
    alice.close()
    bob.close()
    world = game()
    alice = tls_player(world, certs)
    text = log_in(alice, "Alice")
    assert "Welcome back to Ravenmoor, Alice." in text and "The physic garden" in text
    bob = plain_player(world)
    assert "The physic garden" in log_in(bob, "Bob")
    assert re.search(r"^Alice\s+127\.0\.0\.1", do(bob, "people"), re.M)  # still a wizard
    assert "Bob is a wizard already." in do(alice, "promote bob")  # still an admin


def test_the_tower_top_ravens_live_on_the_rooms_heart_beat(game, certs):
    world = game(heart_beat_interval=0.05)
    carol = plain_player(world)
    create_character(carol, "carol")
    do(carol, "north")
    carol.raw.clear()
    do(carol, "up")
    carol.read_until("A raven croaks, loud and sudden", timeout=TIMEOUT)
    carol.read_until("The ravens shuffle along the parapet")
    assert "The foot of the watchtower" in do(carol, "down")
