"""Safe on the internet: password guessing neither stalls the game nor runs
unchecked, saves never claim to have worked when they did not, a broken
save file has a way on, and a public server makes nobody an administrator
by accident.

Everything runs against a real driver over real sockets: the shipped world
(mudlib/) for the login, the platform test mudlib for the worker efuns.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import threading
import time

import pytest

from conftest import SHIPPED_MUDLIB, TIMEOUT, Client, start_driver
from test_config import assert_refused, run_driver, shipped_settings, write_settings
from test_platform import PLATFORM_MUDLIB
from test_platform import connect as platform_connect
from test_world import PROMPT, create_character, do, plain_player, save_file

PASSWORD = "lantern-light"

WRONG = re.compile(r"wrong password for Bob from 127\.0\.0\.1")

# Throttling off: the guessers' checks run as fast as the workers allow.
NO_THROTTLE = "login:\n  throttle_after: 0\n  lockout_after: 0\n"


def flat(text: str) -> str:
    """Text with every run of white space as one space: the game wraps its
    lines to the client's window."""
    return " ".join(text.split())


def said(expected: str, text: str) -> bool:
    return flat(expected) in flat(text)


def log_count(driver, pattern: re.Pattern, start: int = 0) -> int:
    with driver._changed:
        return sum(1 for line in driver.lines[start:] if pattern.search(line))


def wait_log_count(driver, pattern: re.Pattern, start: int, count: int) -> None:
    """Until ``count`` log lines from ``start`` on match ``pattern`` (the
    driver's log is read by a thread of its own: a reply on the socket can
    come before the log line written just ahead of it)."""
    deadline = time.monotonic() + TIMEOUT
    with driver._changed:
        while log_count(driver, pattern, start) < count:  # (the condition's lock is an RLock)
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"fewer than {count} log lines match {pattern.pattern}"
            driver._changed.wait(remaining)


def make_bob(driver) -> None:
    bob = plain_player(driver)
    create_character(bob, "bob")
    bob.send_line("quit")
    bob.wait_closed()
    bob.close()


def ask_for_bob(client: Client) -> None:
    client.read_until("What is your name? ")
    client.command("bob", "Password: ")


# --- the game goes on while passwords are guessed -----------------------------------------

def test_an_honest_player_keeps_getting_replies_while_four_connections_guess(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, extra=NO_THROTTLE)
    alice = plain_player(driver)
    create_character(alice, "alice")
    make_bob(driver)

    stop = threading.Event()
    failures: list[BaseException] = []
    latencies: list[float] = []

    def guess(number: int) -> None:
        """Log in as Bob with wrong passwords, three to a connection, again and again."""
        try:
            attempt = 0
            while not stop.is_set():
                client = plain_player(driver)
                try:
                    ask_for_bob(client)
                    for _ in range(3):
                        attempt += 1
                        client.raw.clear()
                        client.send_line(f"guess-{number}-{attempt}")
                        client.read_until("Wrong password." if _ < 2 else "Goodbye.")
                        if stop.is_set():
                            break
                finally:
                    client.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            if not stop.is_set():
                failures.append(exc)

    guessers = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(4)]
    mark = driver.log_mark()
    for thread in guessers:
        thread.start()
    try:
        # The guessing is in full swing before the honest player says anything.
        driver.wait_for_log(r"wrong password for Bob from 127\.0\.0\.1 \(3\)", start=mark)
        during = driver.log_mark()
        # She plays on until eight more guesses have been checked: every
        # command of hers gets its reply meanwhile.
        deadline = time.monotonic() + TIMEOUT
        number = 0
        while log_count(driver, WRONG, during) < 8:
            assert time.monotonic() < deadline, "the guessing stopped"
            started = time.monotonic()
            text = do(alice, f"say still here {number}")
            latencies.append(time.monotonic() - started)
            assert f"You say: still here {number}" in text
            number += 1
        assert number >= 8
    finally:
        stop.set()
        for thread in guessers:
            thread.join(TIMEOUT)
    assert not failures, failures
    latencies.sort()
    print(f"\nreply while 4 connections guess: median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
          f"worst {latencies[-1] * 1000:.1f} ms; "
          f"{log_count(driver, WRONG, mark)} wrong passwords checked meanwhile")


def test_a_line_typed_while_the_password_is_checked_waits_its_turn(make_driver):
    """The password and the first command arrive together: the command is
    the next turn, after the check, not something the login swallows."""
    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    make_bob(driver)
    bob = plain_player(driver)
    ask_for_bob(bob)
    bob.raw.clear()
    bob.sock.sendall(f"{PASSWORD}\r\nsay typed ahead\r\nsay and this\r\n".encode())
    text = bob.read_until("You say: and this")
    assert text.index("Welcome back to Ravenmoor, Bob.") < text.index("You say: typed ahead") \
        < text.index("You say: and this")
    assert "What?" not in text
    # One prompt per turn, each after its turn's words.
    bob.read_until(b"You say: and this\r\n" + PROMPT)
    raw = bytes(bob.raw)
    assert raw.count(PROMPT) == 3, raw
    assert raw.index(PROMPT) > raw.index(b"Welcome back")


# --- throttling ---------------------------------------------------------------------------

THROTTLE = ("login:\n  throttle_after: 2\n  throttle_delay: 1\n  throttle_max_delay: 1\n"
            "  lockout_after: 4\n  lockout_duration: 2\n")


def test_wrong_passwords_are_throttled_then_locked_out_and_both_end_by_themselves(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, extra=THROTTLE)
    make_bob(driver)
    mark = driver.log_mark()

    # Two wrong passwords: from now on each attempt waits.
    intruder = plain_player(driver)
    ask_for_bob(intruder)
    assert "Wrong password." in intruder.command("guess-1", "Password: ")
    assert "Wrong password." in intruder.command("guess-2", "Password: ")
    driver.wait_for_log(r"login throttled: address 127\.0\.0\.1 after 2 wrong passwords "
                        r"\(now 127\.0\.0\.1 trying Bob\); next attempt in 1 s", start=mark)
    driver.wait_for_log(r"login throttled: character Bob after 2 wrong passwords", start=mark)
    wait_log_count(driver, WRONG, mark, 2)

    # Too early: refused with a message, and the password is not even checked.
    text = intruder.command("guess-3", "Password: ")
    assert said("Too many wrong passwords have been tried from your address.  "
                "Please wait 1 second and try again.", text)
    assert "Wrong password." not in text
    assert log_count(driver, WRONG, mark) == 2

    # The wait ends by itself.  The next wrong password is this
    # connection's third, which ends it, and makes the next wait.
    driver.wait_for_log(r"login wait over: address 127\.0\.0\.1", start=mark)
    driver.wait_for_log(r"login wait over: character Bob", start=mark)
    wait_over = driver.log_mark()
    intruder.raw.clear()
    intruder.send_line("guess-4")
    intruder.wait_closed()
    assert "Too many wrong passwords.  Goodbye." in intruder.text
    intruder.close()
    driver.wait_for_log(r"login throttled: address 127\.0\.0\.1 after 3 wrong passwords",
                        start=wait_over)

    # After that wait, the fourth wrong password is a lock-out ...
    again = plain_player(driver)
    ask_for_bob(again)
    driver.wait_for_log(r"login wait over: address 127\.0\.0\.1", start=wait_over)
    driver.wait_for_log(r"login wait over: character Bob", start=wait_over)
    assert "Wrong password." in again.command("guess-5", "Password: ")
    driver.wait_for_log(r"login lock-out: address 127\.0\.0\.1 after 4 wrong passwords "
                        r"\(now 127\.0\.0\.1 trying Bob\); refused for 2 s", start=mark)
    driver.wait_for_log(r"login lock-out: character Bob after 4 wrong passwords", start=mark)

    # ... in which even the right password is refused, unchecked, and the
    # connection closed.
    again.raw.clear()
    again.send_line(PASSWORD)
    again.wait_closed()
    assert said("Too many wrong passwords have been tried from your address.  "
                "Logins are refused for", again.text)
    assert "Welcome" not in again.text
    again.close()

    # The lock-out ends by itself, and Bob gets in.
    driver.wait_for_log(r"login lock-out of address 127\.0\.0\.1 ended", start=mark)
    driver.wait_for_log(r"login lock-out of character Bob ended", start=mark)
    bob = plain_player(driver)
    ask_for_bob(bob)
    assert "Welcome back to Ravenmoor, Bob." in do(bob, PASSWORD)
    assert log_count(driver, WRONG, mark) == 4


def test_once_throttled_parallel_guesses_get_one_check(make_driver):
    """Four connections send a password at the same moment while the address
    is throttled: one is checked, the others are refused unchecked."""
    driver = make_driver(mudlib=SHIPPED_MUDLIB, extra=(
        "login:\n  throttle_after: 1\n  throttle_delay: 1\n  throttle_max_delay: 1\n"
        "  lockout_after: 0\n"))
    make_bob(driver)
    guessers = [plain_player(driver) for _ in range(4)]
    for guesser in guessers:
        ask_for_bob(guesser)
    mark = driver.log_mark()
    assert "Wrong password." in guessers[0].command("first", "Password: ")
    driver.wait_for_log(r"login wait over: address 127\.0\.0\.1", start=mark)
    driver.wait_for_log(r"login wait over: character Bob", start=mark)

    together = driver.log_mark()
    for number, guesser in enumerate(guessers):
        guesser.raw.clear()
        guesser.send_line(f"together-{number}")
    answers = [guesser.read_until("Password: ") for guesser in guessers]
    assert sum("Wrong password." in text for text in answers) == 1, answers
    assert sum("Too many wrong passwords have been tried" in text for text in answers) == 3
    # The checked guess's log line is read from the driver's log before it is counted.
    driver.wait_for_log(WRONG.pattern, start=together)
    assert log_count(driver, WRONG, together) == 1


# --- the worker efuns ---------------------------------------------------------------------

def test_slow_work_runs_on_a_bounded_pool_of_workers(make_driver, tmp_path):
    driver = make_driver(mudlib=PLATFORM_MUDLIB, tls_port=None, certs_=None,
                         extra="workers:\n  threads: 1\n  queue: 1\n")
    ann = platform_connect(driver, "ann")
    ready, gate = tmp_path / "ready", tmp_path / "gate"
    os.mkfifo(ready)
    os.mkfifo(gate)
    ready_fd = os.open(ready, os.O_RDONLY | os.O_NONBLOCK)
    try:
        # A job that tells the test it has started, then blocks on the gate.
        ann.py("def hold(ready, gate):\\n"
               "    with open(ready, 'w') as signal: signal.write('x')\\n"
               "    with open(gate) as blocker: return blocker.read()\\n"
               "async def job(fun, *args):\\n"
               "    try:\\n"
               "        write('DONE ' + repr(await run_in_worker(fun, *args)) + chr(10))\\n"
               "    except Exception as exc:\\n"
               "        write('FAILED ' + type(exc).__name__ + ': ' + str(exc) + chr(10))\\n"
               "me.job = job\\n"
               f"call_out(job, 0, hold, {str(ready)!r}, {str(gate)!r})")
        readable, _, _ = select.select([ready_fd], [], [], TIMEOUT)
        assert readable and os.read(ready_fd, 1) == b"x", "the first job never started"

        # The one thread is busy: a second job waits in the queue, a third is refused.
        assert ann.py("run_in_worker(str.upper, 'queued'); "
                      "_ = driver_info('workers')['queued']") == "1"
        assert "all 1 worker threads are busy and 1 jobs are waiting" in \
            ann.py_error("run_in_worker(str.upper, 'third')")
        assert ann.py("_ = driver_info('workers')['refused']") == "1"
        # Meanwhile the game answers at once.
        assert ann.line("ring bell", "RING") == "RING"

        ann.raw.clear()
        with open(gate, "w") as opener:
            opener.write("opened")
        assert ann.wait_line("DONE ") == "DONE 'opened'"
        # The job queued behind it runs next; until the thread has taken it
        # off the queue, the queue is still full and new work is refused.
        deadline = time.monotonic() + TIMEOUT
        while ann.py("_ = driver_info('workers')['queued']") != "0":
            assert time.monotonic() < deadline, "the queued job never left the queue"
    finally:
        os.close(ready_fd)

    # An exception in the work is raised at the await; a method of a mudlib
    # object is refused (it would run beside the game).
    ann.raw.clear()
    ann.send_line("py call_out(me.job, 0, int, 'not a number')")
    assert ann.wait_line("FAILED ").startswith("FAILED ValueError: invalid literal")
    assert "pass a plain function" in ann.py_error("run_in_worker(me.cmd_wiz, '')")

    # The password efuns, awaited.
    ann.raw.clear()
    ann.send_line("py async def h():\\n"
                  "    stored = await hash_password('secret-1')\\n"
                  "    right = await check_password('secret-1', stored)\\n"
                  "    wrong = await check_password('secret-2', stored)\\n"
                  "    missing = await check_password('secret-1', None)\\n"
                  "    write(' '.join(map(str, ('HASH', stored.split('$')[0], right, wrong, "
                  "missing))) + chr(10))\\n"
                  "call_out(h, 0)")
    assert ann.wait_line("HASH ") == "HASH scrypt True False False"


# --- saves that fail, saves that cannot be read, saves left half-written ------------------

def test_a_failed_save_at_shutdown_is_not_called_saved(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    alice = plain_player(driver)
    create_character(alice, "alice")
    bob = plain_player(driver)
    create_character(bob, "bob")
    # Alice's save file has become a directory: her save must fail.
    file = save_file(driver, "alice")
    file.unlink()
    file.mkdir()

    alice.raw.clear()
    bob.raw.clear()
    driver.process.send_signal(signal.SIGTERM)
    alice.wait_closed()
    bob.wait_closed()
    assert said("Your character could NOT be saved (Is a directory)", alice.text)
    assert "has been saved" not in alice.text
    assert said("Your character has been saved.", bob.text)
    assert driver.process.wait(TIMEOUT) == 0
    driver.wait_for_log(r"ERROR .*cannot write the save file .*/players/alice\.json: Is a directory")
    driver.wait_for_log(r"ERROR .*shutdown: 1 character\(s\) could not be saved: Alice \(Is a directory\)")
    assert "every player has been saved" not in driver.log


def test_quitting_when_the_save_fails_says_so(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    alice = plain_player(driver)
    create_character(alice, "alice")
    file = save_file(driver, "alice")
    file.unlink()
    file.mkdir()
    alice.raw.clear()
    alice.send_line("quit")
    alice.wait_closed()
    assert said("Your character could NOT be saved (Is a directory)", alice.text)
    assert "has been saved" not in alice.text


def test_a_corrupt_save_file_gives_a_clear_message_a_way_on_and_is_kept(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    make_bob(driver)
    file = save_file(driver, "bob")
    damaged = b'{"name": "Bob", "password_hash": "scr'
    file.write_bytes(damaged)
    mark = driver.log_mark()

    visitor = plain_player(driver)
    visitor.read_until("What is your name? ")
    text = visitor.command("bob", "What is your name? ")
    assert said("Your character file could not be read; the game's operators have been told.  "
                "You may create a new name or try later.", text)
    assert "Something went wrong" not in text
    driver.wait_for_log(rf"ERROR .*save file {re.escape(str(file))} is corrupt: .*; "
                        r"it is left as it is", start=mark)
    driver.wait_for_log(r"ERROR .*Bob cannot log in from 127\.0\.0\.1: the character's save "
                        r"file is unreadable", start=mark)
    # The name is not offered for creation (that would write over the file)...
    text = visitor.command("bob", "What is your name? ")
    assert "could not be read" in text and "Create a new character" not in text
    # ... but a new one can be made at once.
    create_character_from_name_prompt(visitor, "carol")
    assert file.read_bytes() == damaged


def create_character_from_name_prompt(client: Client, name: str) -> str:
    client.command(name, "[y/n] ")
    client.command("y", "characters): ")
    client.command(PASSWORD, "Type it again: ")
    return do(client, PASSWORD)


def test_orphaned_temporary_saves_are_removed_at_start(tmp_path, certs):
    players = tmp_path / "data" / "players"
    players.mkdir(parents=True)
    kept = players / "alice.json"
    kept.write_text(json.dumps({"name": "Alice"}))
    orphans = [players / ".alice.json.k3x9_q2z.tmp", players / ".bob.json.abcdefgh"]
    for orphan in orphans:
        orphan.write_text('{"name": "Al')
    unrelated = players / "notes.txt"
    unrelated.write_text("keep me")

    driver = start_driver(tmp_path, certs, mudlib=SHIPPED_MUDLIB)
    try:
        for orphan in orphans:
            driver.wait_for_log(rf"WARNING .*removed {re.escape(str(orphan))}: the temporary "
                                r"file of a save that never finished")
            assert not orphan.exists()
        assert kept.read_text() == json.dumps({"name": "Alice"})
        assert unrelated.read_text() == "keep me"
    finally:
        driver.stop()


# --- the first administrator ----------------------------------------------------------------

def test_on_loopback_the_first_character_is_the_administrator_and_is_told(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    alice = plain_player(driver)
    text = create_character(alice, "alice")
    assert said("You are the first character in this world, so you are its administrator", text)
    assert "promote" in do(alice, "help")
    bob = plain_player(driver)
    text = create_character(bob, "bob")
    assert "administrator" not in text
    assert "promote" not in do(bob, "help")


@pytest.mark.parametrize("admins", [(), ("carol",)])
def test_beyond_loopback_nobody_becomes_administrator_unless_named(make_driver, admins):
    """Listening on every interface (0.0.0.0, a kernel-chosen port; the test
    still connects through 127.0.0.1): the first character is a player,
    unless the configuration names them."""
    args = ("--host", "0.0.0.0", *(arg for name in admins for arg in ("--admin", name)))
    driver = make_driver(mudlib=SHIPPED_MUDLIB, tls_port=None, args=args)
    alice = plain_player(driver)
    text = create_character(alice, "alice")
    assert "administrator" not in text
    assert "promote" not in do(alice, "help")
    assert json.loads(save_file(driver, "alice").read_text())["level"] == "player"
    if not admins:
        driver.wait_for_log(r"WARNING .*Alice is the first character, but not an administrator: "
                            r"the game listens beyond this machine")
        return
    carol = plain_player(driver)
    create_character(carol, "carol")
    assert "promote" in do(carol, "help")


# --- the configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("section, key, value, expected", [
    ("login", "throttle_after", -1, "login.throttle_after: expected a whole number, 0 or more"),
    ("login", "throttle_delay", "soon", "login.throttle_delay: expected a positive number"),
    ("login", "lockout_duration", 0, "login.lockout_duration: expected a positive number"),
    ("workers", "threads", 0, "workers.threads: expected a whole number of at least 1"),
    ("workers", "queue", 2.5, "workers.queue: expected a whole number of at least 1"),
])
def test_bad_login_and_worker_settings_are_refused_in_one_line(certs, tmp_path, section, key,
                                                               value, expected):
    settings = shipped_settings(certs, tmp_path / "data")
    settings[section][key] = value
    config = write_settings(tmp_path, settings)
    assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path), expected)
