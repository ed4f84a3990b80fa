"""The shipped world (mudlib/) played over real sockets, plain and TLS.

Each test starts the driver with the world players get, on ports the kernel
picks, and plays it the way a MUD client does: log in, look around, walk,
talk, quit.  Over TLS the client is strict about endings: its socket raises
instead of returning b"" when the stream stops without a close_notify, so a
clean EOF here means the driver closed TLS properly.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import ssl
import time

import pytest

from conftest import SHIPPED_MUDLIB, TIMEOUT, Client
from driver.net.tls import TLS_ERR_NOT_TLS, describe

IAC, DO, DONT, WILL, WONT, GA, ECHO = 255, 253, 254, 251, 252, 249, 1
WILL_ECHO = bytes([IAC, WILL, ECHO])
WONT_ECHO = bytes([IAC, WONT, ECHO])
IAC_GA = bytes([IAC, GA])
PROMPT = b"> " + IAC_GA

PASSWORD = "lantern-light"


class Player(Client):
    """A client that answers the echo negotiation the way MUD clients do:
    DO ECHO to WILL ECHO (and stops echoing the password), DONT ECHO to
    WONT ECHO."""

    def recv_some(self, timeout: float = TIMEOUT) -> bytes:
        data = super().recv_some(timeout)
        # Answer in the order the offers arrived, as a client reading the stream does.
        offers = re.findall(re.escape(WILL_ECHO) + b"|" + re.escape(WONT_ECHO), data)
        answers = b"".join(bytes([IAC, DO, ECHO]) if offer == WILL_ECHO else bytes([IAC, DONT, ECHO])
                           for offer in offers)
        if answers:
            self.sock.sendall(answers)
        return data


def tls_player(driver, certs, cls=Player) -> Client:
    sock = socket.create_connection(("127.0.0.1", driver.tls_port), timeout=TIMEOUT)
    # suppress_ragged_eofs=False: an end without close_notify raises SSLEOFError.
    wrapped = certs.client_context().wrap_socket(sock, server_hostname="localhost",
                                                 suppress_ragged_eofs=False)
    return cls(wrapped)


def plain_player(driver, cls=Player) -> Client:
    return cls(socket.create_connection(("127.0.0.1", driver.telnet_port), timeout=TIMEOUT))


def read_to_clean_eof(client: Client, timeout: float = TIMEOUT) -> str:
    """Read until the server ends the stream; returns all text received.

    Over TLS only a close_notify gives b""; an abrupt end raises
    ``ssl.SSLEOFError`` and fails the test.
    """
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"the server did not close the connection; received:\n{client.text}")
        try:
            data = client.recv_some(remaining)
        except (socket.timeout, TimeoutError):
            continue
        if not data:
            return client.text


def do(client: Client, line: str) -> str:
    """Send a command and read its answer, up to the prompt and its GA."""
    client.raw.clear()
    client.send_line(line)
    return client.read_until(PROMPT)


def create_character(client: Client, name: str, password: str = PASSWORD) -> str:
    """From the name prompt to the first command prompt, as a new character."""
    client.read_until("What is your name? ")
    client.command(name, "[y/n] ")
    client.command("y", "characters): ")
    client.command(password, "Type it again: ")
    return do(client, password)


def quit_game(client: Client) -> None:
    """'quit', and wait until the driver closes the connection."""
    client.send_line("quit")
    client.wait_closed()
    client.close()


def at_password_prompt(driver, name: str) -> Client:
    """A new plain connection that has given ``name`` and is asked for the password."""
    client = plain_player(driver)
    client.read_until("What is your name? ")
    client.command(name, "Password: ")
    return client


def save_file(driver, name: str):
    return driver.directory / "data" / "players" / f"{name.lower()}.json"


@pytest.fixture
def world(make_driver):
    return make_driver(mudlib=SHIPPED_MUDLIB)


# --- one player, start to finish ------------------------------------------------------

def test_new_character_over_tls_from_login_to_quit(world, certs):
    alice = tls_player(world, certs)
    text = alice.read_until("What is your name? ")
    assert "R  A  V  E  N  M  O  O  R" in text
    assert "Your connection is encrypted (TLSv1.3, " in text

    text = alice.command("alice", "[y/n] ")
    assert "Create a new character called Alice?" in text

    alice.raw.clear()
    alice.send_line("y")
    alice.read_until("characters): ")
    raw = bytes(alice.raw)
    assert WILL_ECHO in raw, "the password prompt must ask the client not to echo"
    assert raw.index(WILL_ECHO) < raw.index(b"Choose a password")
    assert WONT_ECHO not in raw

    alice.raw.clear()
    alice.send_line(PASSWORD)
    alice.read_until("Type it again: ")
    raw = bytes(alice.raw)
    assert PASSWORD.encode() not in raw
    assert WONT_ECHO in raw, "echo must come back on once the password is in"
    # ... and goes off again for the confirmation.
    assert raw.rindex(WILL_ECHO) > raw.index(WONT_ECHO)
    assert raw.rindex(WILL_ECHO) < raw.index(b"Type it again")

    alice.raw.clear()
    alice.send_line(PASSWORD)
    text = alice.read_until(PROMPT)
    raw = bytes(alice.raw)
    assert WONT_ECHO in raw and raw.index(WONT_ECHO) < raw.index(b"Welcome")
    assert "Welcome to Ravenmoor, Alice." in text
    assert "The town square" in text

    text = do(alice, "look")
    assert "The town square" in text
    assert "Obvious exits: north, south, east and west." in text

    text = do(alice, "east")
    assert "The herb garden" in text and "Obvious exit: west." in text

    assert "You say: Hello, garden." in do(alice, "say Hello, garden.")

    text = do(alice, "who")
    assert re.search(r"^\s*Alice\s+tls\b", text, re.M), text
    assert "1 player online." in text

    text = do(alice, "tls")
    cipher = alice.sock.cipher()[0]
    assert f"Your connection is encrypted: TLSv1.3, cipher {cipher}" in text

    alice.raw.clear()
    alice.send_line("quit")
    text = read_to_clean_eof(alice)  # recv gave b"": the TLS stream ended with close_notify
    assert "Your character has been saved.  Farewell" in text
    alice.close()
    world.wait_for_log(r"mudlib: Alice quit")

    saved = json.loads(save_file(world, "alice").read_text())
    assert saved["name"] == "Alice"
    assert saved["room"] == "/rooms/garden"


def test_the_prompt_ends_with_go_ahead(world, certs):
    bob = plain_player(world)
    bob.read_until(b"What is your name? " + IAC_GA)
    create_character(bob, "bob")
    bob.raw.clear()
    bob.send_line("look")
    bob.read_until(b"> " + IAC_GA)
    assert bytes(bob.raw).endswith(b"> " + IAC_GA)

    carol = tls_player(world, certs)
    carol.read_until(b"What is your name? " + IAC_GA)


def test_a_client_that_does_not_answer_is_still_asked_not_to_echo_each_password(world):
    """A client that never answers the negotiation still reads the stream:
    after the first password it is told WONT ECHO, so the confirmation
    prompt must say WILL ECHO again, or the stream says "echo on" while the
    password is typed a second time."""
    erin = Client.plain(world.telnet_port)  # answers nothing
    erin.read_until("What is your name? ")
    erin.command("erin", "[y/n] ")
    erin.command("y", "characters): ")
    assert WILL_ECHO in erin.raw
    erin.raw.clear()
    erin.send_line(PASSWORD)
    erin.read_until("Type it again: ")
    raw = bytes(erin.raw)
    assert WONT_ECHO in raw
    assert WILL_ECHO in raw[raw.index(WONT_ECHO):raw.index(b"Type it again")], (
        "no IAC WILL ECHO before the second password prompt: " + repr(raw))


def test_a_saved_character_comes_back_with_the_right_password_only(world, certs):
    alice = tls_player(world, certs)
    create_character(alice, "alice")
    do(alice, "east")
    alice.send_line("quit")
    read_to_clean_eof(alice)
    alice.close()

    file = save_file(world, "alice")
    assert file.is_file()
    stored = file.read_text()
    assert PASSWORD not in stored  # only a hash is kept
    assert json.loads(stored)["password_hash"].startswith("scrypt$")

    again = plain_player(world)
    again.read_until("What is your name? ")
    again.raw.clear()
    again.send_line("Alice")
    again.read_until("Password: ")
    raw = bytes(again.raw)
    assert WILL_ECHO in raw and raw.index(WILL_ECHO) < raw.index(b"Password: ")

    text = again.command("not-the-password", "Password: ")
    assert "Wrong password." in text
    assert "Welcome" not in text
    world.wait_for_log(r"wrong password for Alice from 127\.0\.0\.1 \(1\)")

    text = do(again, PASSWORD)
    assert "Welcome back to Ravenmoor, Alice." in text
    assert "The herb garden" in text  # where she left off


def test_a_player_changes_their_password(world):
    """'password': the current one first (a wrong one changes nothing and
    is audited), then the new one twice, never echoed; three wrong in a row
    and the command refuses for a while.  The next login takes only the new
    password, and says when and from where the last one was."""
    new_password = "heather-and-peat"
    pam = plain_player(world)
    create_character(pam, "pam")
    old_hash = scrypt_hash(world, "pam")

    pam.raw.clear()
    pam.command("password", "Current password: ")
    assert WILL_ECHO in bytes(pam.raw)
    assert "That is not your password.  It stays as it was." in do(pam, "not-my-password")
    world.wait_for_log(r"AUDIT action=password actor=Pam outcome=failed .*wrong current password")

    pam.command("password", "Current password: ")
    pam.command(PASSWORD, "New password (at least 6 characters): ")
    assert "That password is too short." in do(pam, "short")

    pam.command("password", "Current password: ")
    pam.command(PASSWORD, "characters): ")
    pam.command(new_password, "Type it again: ")
    assert "The passwords do not match." in do(pam, new_password + "!")

    pam.command("password", "Current password: ")
    pam.command(PASSWORD, "characters): ")
    pam.command(new_password, "Type it again: ")
    pam.raw.clear()
    assert "Your password has been changed." in do(pam, new_password)
    assert WONT_ECHO in bytes(pam.raw)  # echo is back for the next command
    world.wait_for_log(r"AUDIT action=password actor=Pam outcome=ok")
    assert scrypt_hash(world, "pam") != old_hash  # saved at once

    for _ in range(3):
        pam.command("password", "Current password: ")
        do(pam, PASSWORD)  # the old one is wrong now
    text = do(pam, "password")  # ten minutes, less what has passed since
    assert re.search(r"Too many wrong passwords: 'password' works again in (10|9)m\.", text), text
    world.wait_for_log(r"AUDIT action=password actor=Pam outcome=failed .*locked=True")
    quit_game(pam)

    again = at_password_prompt(world, "pam")
    assert "Wrong password." in again.command(PASSWORD, "Password: ")
    text = " ".join(do(again, new_password).split())  # as one line: it is wrapped at 80
    assert re.search(r"Welcome back to Ravenmoor, Pam\. You were last here on [^.]*, "
                     r"from 127\.0\.0\.1\.", text), text
    log = world.log
    assert PASSWORD not in log and new_password not in log


def test_finger_tells_who_someone_is_in_the_game_or_not(world):
    """'finger' reads the save file through the master (no player may read
    /data), never shows the password hash, and shows the last login's
    address only to administrators."""
    ann = plain_player(world)
    create_character(ann, "ann")    # the first character here: an administrator
    bea, cid = plain_player(world), plain_player(world)
    create_character(bea, "bea")
    create_character(cid, "cid")
    quit_game(bea)

    text = do(cid, "finger ann")
    assert "Ann, a wizard and administrator." in text
    assert "Playing since " in text and "In the game now." in text
    text = do(cid, "finger BEA")
    assert "Bea, an adventurer." in text and "Last here on " in text
    assert "Last login from" not in text and "scrypt" not in text
    assert "Last login from 127.0.0.1." in do(ann, "finger bea")
    assert "There is no one called Zed here." in do(cid, "finger zed")
    assert "There is no one called" in do(cid, "finger ../ann")


def test_an_administrator_gives_a_forgetful_player_a_one_time_password(world):
    """'newpassword': for a character not in the game, confirmed first; the
    one-time password is shown to the administrator alone (never logged),
    and at the next login it works once and a new password must be chosen
    before anything else."""
    ann = plain_player(world)
    create_character(ann, "ann")    # the first character here: an administrator
    bob = plain_player(world)
    create_character(bob, "bob")
    assert "Bob is in the game: they can change it with 'password'." in \
        do(ann, "newpassword bob")
    quit_game(bob)
    world.wait_for_log(r"Bob quit")
    assert "There is no one called Zed here." in do(ann, "newpassword zed")
    ann.command("newpassword bob", "[y/n] ")
    assert "Bob's password stays as it was." in do(ann, "n")
    ann.command("newpassword bob", "[y/n] ")
    text = " ".join(do(ann, "y").split())
    one_time = re.search(r"Bob's one-time password is: (\S+) Give it to Bob", text).group(1)
    world.wait_for_log(r"AUDIT action=newpassword actor=Ann outcome=ok target=Bob")
    assert one_time not in world.log

    again = at_password_prompt(world, "bob")
    assert "Wrong password." in again.command(PASSWORD, "Password: ")  # the old one is gone
    assert "a one-time password" in again.command(one_time, "characters): ")
    again.command("bob-remembers", "Type it again: ")
    text = do(again, "bob-remembers")
    assert "Your password has been changed." in text and "Welcome back" in text
    assert "What?" in do(again, "newpassword ann")  # for administrators only
    quit_game(again)

    last = at_password_prompt(world, "bob")
    assert "Wrong password." in last.command(one_time, "Password: ")  # it worked once
    assert "Welcome back" in do(last, "bob-remembers")


def scrypt_hash(driver, name: str) -> str:
    """The password hash in the character's save file."""
    stored = json.loads(save_file(driver, name).read_text())
    assert stored["password_hash"].startswith("scrypt$")
    return stored["password_hash"]


def test_three_wrong_passwords_end_the_connection(world):
    bob = plain_player(world)
    create_character(bob, "bob")
    quit_game(bob)

    intruder = at_password_prompt(world, "bob")
    intruder.command("guess-one", "Password: ")
    intruder.command("guess-two", "Password: ")
    intruder.raw.clear()
    intruder.send_line("guess-three")
    intruder.wait_closed()
    assert "Too many wrong passwords." in intruder.text
    assert "Welcome" not in intruder.text


def test_a_plain_player_is_told_where_the_tls_port_is(world):
    dave = plain_player(world)
    text = dave.read_until("What is your name? ")
    assert f"For TLS, connect to localhost port {world.tls_port}." in text
    create_character(dave, "dave")
    text = do(dave, "tls")
    assert "Your connection is not encrypted" in text
    assert f"accepts TLS connections at localhost port {world.tls_port}." in text
    assert f"#ssl game localhost {world.tls_port}" in text
    text = do(dave, "who")
    assert re.search(r"^\s*Dave\s+telnet\b", text, re.M), text


def test_a_tls_player_and_a_plain_player_see_each_other(world, certs):
    alice = tls_player(world, certs)
    create_character(alice, "alice")
    bob = plain_player(world)
    create_character(bob, "bob")
    alice.read_until("Bob enters the game.")

    text = do(alice, "look")
    assert "Bob is here." in text

    bob.raw.clear()
    assert "You say: Hello, Bob." in do(alice, "say Hello, Bob.")
    bob.read_until("Alice says: Hello, Bob.")
    alice.raw.clear()
    assert "You say: Evening, Alice." in do(bob, "'Evening, Alice.")
    alice.read_until("Bob says: Evening, Alice.")

    text = do(bob, "who")
    assert re.search(r"^\s*Alice\s+tls\b", text, re.M), text
    assert re.search(r"^\s*Bob\s+telnet\b", text, re.M), text
    assert "2 players online." in text

    alice.raw.clear()
    do(bob, "east")
    alice.read_until("Bob leaves east.")
    bob.raw.clear()
    do(alice, "e")
    bob.read_until("Alice arrives from the west.")
    assert "Bob is here." in alice.text


def test_a_failed_handshake_is_logged_and_the_connection_closed(world):
    mark = world.log_mark()
    with socket.create_connection(("127.0.0.1", world.tls_port), timeout=TIMEOUT) as sock:
        sock.sendall(b"hello\r\n")
        received = bytearray()
        deadline = time.monotonic() + TIMEOUT
        while True:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(4096)
            except (socket.timeout, TimeoutError):
                raise AssertionError("the driver kept a failed TLS connection open") from None
            if not data:
                break
            received += data
    # Nothing of the game was sent in the clear.
    assert b"What is your name" not in received and b"R  A  V" not in received
    world.wait_for_log(
        r"TLS handshake with 127\.0\.0\.1 failed: " + re.escape(describe(TLS_ERR_NOT_TLS)),
        start=mark)


def test_a_handshake_cut_short_is_logged_with_the_address(world):
    """The peer sends half a ClientHello and hangs up: logon(result) still
    knows where the connection came from."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    hello = outgoing.read()
    mark = world.log_mark()
    with socket.create_connection(("127.0.0.1", world.tls_port), timeout=TIMEOUT) as sock:
        sock.sendall(hello[:len(hello) // 2])
    world.wait_for_log(r"TLS handshake with 127\.0\.0\.1 failed: the peer closed the connection",
                       start=mark)


def test_sigterm_tells_players_saves_them_and_closes_tls_cleanly(world, certs):
    alice = tls_player(world, certs)
    create_character(alice, "alice")
    bob = plain_player(world)
    create_character(bob, "bob")
    # Moving is not saved by itself: only the shutdown can save these rooms.
    do(alice, "east")
    do(bob, "north")
    assert json.loads(save_file(world, "alice").read_text())["room"] == "/rooms/square"

    alice.raw.clear()
    bob.raw.clear()
    world.process.send_signal(signal.SIGTERM)

    text = read_to_clean_eof(alice)  # close_notify, not a dropped stream
    assert "Ravenmoor is shutting down now." in text
    assert "Your character has been saved." in text
    bob.wait_closed()
    assert "Ravenmoor is shutting down now." in bob.text

    assert world.process.wait(TIMEOUT) == 0
    world.wait_for_log(r"shutdown: every player has been saved")
    world.wait_for_log(r"driver stopped \(SIGTERM\)")
    assert json.loads(save_file(world, "alice").read_text())["room"] == "/rooms/garden"
    assert json.loads(save_file(world, "bob").read_text())["room"] == "/rooms/tower"


def test_a_save_that_fails_is_reported_and_the_player_plays_on(world, certs):
    """The save file has become a directory, so writing it fails: the player
    is told what failed (never "saved"), the log names the file, and the
    game goes on."""
    alice = tls_player(world, certs)
    create_character(alice, "alice")
    file = save_file(world, "alice")
    file.unlink()
    file.mkdir()
    mark = world.log_mark()

    text = do(alice, "save")
    assert "Your character could NOT be saved (Is a directory)" in text
    assert "has been saved" not in text
    world.wait_for_log(r"ERROR .*cannot write the save file .*/players/alice\.json: Is a directory",
                       start=mark)
    world.wait_for_log(r"ERROR .*mudlib: saving Alice failed: .*Is a directory", start=mark)

    # Still connected, still playing.
    assert "The town square" in do(alice, "look")
    assert "You say: Still here." in do(alice, "say Still here.")
