"""Link-death in the shipped world: a body whose connection drops stays in
the world for mudlib.linkdead_timeout seconds, and logging in again (plain
or TLS) reattaches the new connection to it."""

from __future__ import annotations

import re

from conftest import SHIPPED_MUDLIB, Client
from mudclient import ECHO, TelnetPeer

PASSWORD = "moorland-wind"
PROMPT = "> "


def create(client: Client, name: str) -> None:
    client.read_until("What is your name? ")
    client.command(name, "[y/n] ")
    client.command("y", "characters): ")
    client.command(PASSWORD, "Type it again: ")
    client.command(PASSWORD, PROMPT)


def log_in(client: Client, name: str) -> str:
    client.read_until("What is your name? ")
    client.command(name, "Password: ")
    return client.command(PASSWORD, PROMPT)


def test_a_dropped_player_stays_and_reattaches(make_driver, certs):
    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    alice = Client.plain(driver.telnet_port)
    create(alice, "alice")
    bob = Client.plain(driver.telnet_port)
    create(bob, "bob")
    alice.read_until("Bob enters the game.")
    # Bob's link drops: no quit, the socket just goes.
    alice.raw.clear()
    bob.close()
    alice.read_until("Bob goes very still")
    driver.wait_for_log(r"Bob lost the link; link-dead for up to 600 s")
    look = alice.command("look bob", PROMPT)
    assert "Bob is an adventurer" in look and "stands very still" in look
    who = alice.command("who", "online.")
    assert re.search(r"^\s*Bob\s+link-dead\s*$", who, re.M), who   # in the world, marked
    assert "1 player online.  1 link-dead." in who
    # Bob logs in again over TLS: the same body, where he left it.
    again = Client.tls(driver.tls_port, certs.client_context())
    alice.raw.clear()
    text = log_in(again, "bob")
    assert "You were link-dead; your body waited for you" in text
    assert "Alice is here." in text
    alice.read_until("Bob stirs and looks around again.")
    driver.wait_for_log(r"Bob reconnected to a link-dead body")
    assert re.search(r"^\s*Bob\s+tls\b", again.command("who", "online."), re.M)
    assert "is encrypted" in again.command("tls", "cipher")
    # One body, not two.
    assert again.command("look", "Alice is here.").count("Alice is here.") == 1
    assert alice.command("look", "Bob is here.").count("Bob is here.") == 1


def test_the_link_dead_leave_after_the_timeout(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, mudlib_extra="  linkdead_timeout: 0.5\n")
    carol = Client.plain(driver.telnet_port)
    create(carol, "carol")
    dave = Client.plain(driver.telnet_port)
    create(dave, "dave")
    carol.read_until("Dave enters the game.")
    dave.close()
    driver.wait_for_log(r"Dave lost the link; link-dead for up to 0.5 s")
    carol.read_until("Dave fades slowly from view.")
    driver.wait_for_log(r"Dave was link-dead too long; saved and removed")
    assert "Dave is here." not in carol.command("look", PROMPT)
    # Logging in again makes a fresh body in the saved room.
    dave = Client.plain(driver.telnet_port)
    assert "Welcome back" in log_in(dave, "dave")


def test_zero_means_leave_at_once(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, mudlib_extra="  linkdead_timeout: 0\n")
    erin = Client.plain(driver.telnet_port)
    create(erin, "erin")
    erin.close()
    driver.wait_for_log(r"Erin was link-dead too long; saved and removed")


def test_dropping_mid_password_then_reattaching_shows_echo(make_driver):
    """WILL ECHO at the password prompt; the link drops there; the new
    connection's echo is on after its own password, on the reattached body."""
    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    frank = Client.plain(driver.telnet_port)
    create(frank, "frank")
    frank.close()
    driver.wait_for_log(r"Frank lost the link")
    half = TelnetPeer(driver.telnet_port)
    half.wait_text("What is your name? ")
    half.send_line("frank")
    half.wait_text("Password: ")
    half.wait_command(("WILL", ECHO))
    half.close()
    peer = TelnetPeer(driver.telnet_port)
    peer.wait_text("What is your name? ")
    peer.send_line("frank")
    peer.wait_text("Password: ")
    peer.send_line(PASSWORD)
    peer.wait_text("your body waited for you")
    echo = [c for c in peer.commands if c[1:2] == (ECHO,)]
    assert echo == [("WILL", ECHO), ("WONT", ECHO)], echo
    driver.wait_for_log(r"Frank reconnected to a link-dead body")
