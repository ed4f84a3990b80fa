"""The shipped world as its operators run it: a shutdown announced in
advance (and called off), an immediate one that asks first, one audit line
for each privileged command, the banner and message of the day from the
data directory (edited while the game runs), nobody counted link-dead by a
shutdown, and certificate expiry in 'people'.

Real driver, real sockets, real TLS; waits are on bytes and log lines,
each with a deadline.
"""

from __future__ import annotations

import datetime
import re
import signal

import pytest

from conftest import SHIPPED_MUDLIB, TIMEOUT, write_leaf
from conftest import TestCerts as Certificates
from test_world import (PROMPT, create_character, do, plain_player, read_to_clean_eof,
                        tls_player)
from test_world_play import log_in


@pytest.fixture
def world(make_driver):
    return make_driver(mudlib=SHIPPED_MUDLIB)


def audit_lines(driver, start: int, end: int | None = None) -> list[str]:
    return [line for line in driver.lines[start:end] if " AUDIT " in line]


def admin_and_player(world, certs):
    """Alda, the first character and so the administrator, over TLS; Bob, a
    player, over telnet."""
    alda = tls_player(world, certs)
    create_character(alda, "alda")
    bob = plain_player(world)
    create_character(bob, "bob")
    return alda, bob


def assert_shut_down_without_link_death(world) -> None:
    assert world.process.wait(TIMEOUT) == 0
    world.wait_for_log(r"driver stopped")
    for name in ("Alda", "Bob"):
        world.wait_for_log(rf"{name} was saved and disconnected by the shutdown")
    assert "lost the link" not in world.log, world.log


# --- a shutdown with a countdown ----------------------------------------------------------

def test_a_countdown_is_announced_to_everyone_then_shuts_the_game_down(world, certs):
    alda, bob = admin_and_player(world, certs)
    mark = world.log_mark()
    alda.raw.clear()
    bob.raw.clear()
    alda.send_line("shutdown 2s The new moor is ready")

    start = "[shutdown] Alda will shut Ravenmoor down in 2 seconds: The new moor is ready."
    alda.read_until(start)
    bob.read_until(start)
    # The daemon shuts the game down at the end: everyone is saved and told.
    assert "Ravenmoor is shutting down now." in read_to_clean_eof(alda)
    bob.wait_closed()
    assert "Your character has been saved." in bob.text
    assert_shut_down_without_link_death(world)

    lines = audit_lines(world, mark)
    assert len(lines) == 2, lines
    assert re.search(r"AUDIT action=shutdown-scheduled actor=Alda outcome=ok seconds=2 "
                     r'reason="The new moor is ready"$', lines[0]), lines
    # The shutdown() itself, recorded by the driver: the daemon made the call.
    assert re.search(r"AUDIT action=shutdown actor=/secure/shutdown_daemon outcome=ok "
                     r'args="The new moor is ready"$', lines[1]), lines


def test_a_countdown_passes_its_marks_one_at_a_time_and_can_be_cancelled(world, certs):
    alda, bob = admin_and_player(world, certs)
    mark = world.log_mark()
    bob.raw.clear()
    text = do(alda, "shutdown 11s")
    assert "Alda will shut Ravenmoor down in 11 seconds." in text
    bob.read_until("Alda will shut Ravenmoor down in 11 seconds.")

    text = do(alda, "shutdown 5 another one")
    assert "A shutdown is already counting down" in text
    assert "started by Alda" in text
    assert re.search(r"The game shuts down in \d+s \(started by Alda\)", do(alda, "shutdown"))

    bob.read_until("[shutdown] Ravenmoor shuts down in 10 seconds.")
    alda.raw.clear()
    bob.raw.clear()
    alda.send_line("shutdown cancel")
    alda.read_until("[shutdown] Alda has cancelled the shutdown.  Ravenmoor carries on.")
    bob.read_until("[shutdown] Alda has cancelled the shutdown.  Ravenmoor carries on.")
    alda.read_until(PROMPT)
    after_cancel = world.log_mark()

    assert "No shutdown is counting down." in do(alda, "shutdown cancel")
    assert "No shutdown is counting down." in do(alda, "shutdown")
    assert "The town square" in do(bob, "look")
    world.wait_for_log(r"AUDIT action=shutdown-cancelled actor=Alda outcome=failed "
                       r'why="no countdown"$', start=after_cancel)

    lines = audit_lines(world, mark)
    assert [re.search(r"action=(\S+) actor=Alda outcome=(\w+)", line).groups()
            for line in lines] == [("shutdown-scheduled", "ok"),
                                   ("shutdown-scheduled", "failed"),
                                   ("shutdown-cancelled", "ok"),
                                   ("shutdown-cancelled", "failed")], lines
    assert world.process.poll() is None     # still running


def test_a_player_who_logs_in_during_a_countdown_is_told(world, certs):
    alda = tls_player(world, certs)
    create_character(alda, "alda")
    do(alda, "shutdown 10m Moving house")
    cara = plain_player(world)
    text = create_character(cara, "cara")
    assert re.search(r"\[shutdown\] Alda will shut the game down in (10|9)m: Moving house\.",
                     text), text
    cara.raw.clear()
    do(alda, "shutdown cancel")
    cara.read_until("Alda has cancelled the shutdown.")


# --- an immediate shutdown asks first -----------------------------------------------------------

def test_shutdown_now_asks_for_confirmation_and_only_yes_stops_the_game(world, certs):
    alda, bob = admin_and_player(world, certs)
    mark = world.log_mark()
    assert "What?" in do(bob, "shutdown now")          # a player has no such command
    assert audit_lines(world, mark) == []

    alda.command("shutdown now", "Really shut the game down now? (y/n) ")
    assert "The game goes on." in do(alda, "n")
    world.wait_for_log(r'AUDIT action=shutdown actor=Alda outcome=failed why="not confirmed"$',
                       start=mark)
    assert world.process.poll() is None
    assert "The town square" in do(bob, "look")

    mark = world.log_mark()
    alda.command("shutdown now Fixing the bog", "Really shut the game down now? (y/n) ")
    alda.raw.clear()
    bob.raw.clear()
    alda.send_line("y")
    assert "Ravenmoor is shutting down now." in read_to_clean_eof(alda)
    bob.wait_closed()
    assert "Ravenmoor is shutting down now." in bob.text
    assert_shut_down_without_link_death(world)
    lines = audit_lines(world, mark)
    assert len(lines) == 1, lines
    assert re.search(r'AUDIT action=shutdown actor=Alda outcome=ok args="Fixing the bog"$',
                     lines[0]), lines


def test_sigterm_saves_and_disconnects_without_link_death(world, certs):
    alda, bob = admin_and_player(world, certs)
    world.process.send_signal(signal.SIGTERM)
    read_to_clean_eof(alda)
    bob.wait_closed()
    assert_shut_down_without_link_death(world)


# --- one audit line per privileged command ------------------------------------------------------

# (command, the audit line it leaves): each line is checked to be the only
# one its command left.
AUDITED_COMMANDS = (
    ("promote nobody", r'action=promote actor=Alda outcome=failed target=nobody '
                       r'why="not in the game"'),
    ("promote bob", r"action=promote actor=Alda outcome=ok target=Bob"),
    ("promote bob", r'action=promote actor=Alda outcome=failed target=Bob '
                    r'why="a wizard already"'),
    ("clone /obj/apple", r"action=clone actor=Alda outcome=ok target=/obj/apple#\d+"),
    ("clone /obj/unicorn", r"action=clone actor=Alda outcome=failed target=/obj/unicorn why=.+"),
    ("destruct apple", r"action=destruct actor=Alda outcome=ok target=/obj/apple#\d+"),
    ("destruct unicorn", r'action=destruct actor=Alda outcome=failed target=unicorn '
                         r'why="not found"'),
    ("update here", r"action=update actor=Alda outcome=ok target=/rooms/square"),
    ("update /rooms/nowhere", r"action=update actor=Alda outcome=failed "
                              r"target=/rooms/nowhere why=.+"),
    ("goto /rooms/nowhere", r"action=goto actor=Alda outcome=failed target=/rooms/nowhere "
                            r'why="room does not load"'),
    ("goto bob", r"action=goto actor=Alda outcome=ok target=/rooms/square player=Bob"),
    ("snoop nobody", r'action=snoop actor=Alda outcome=failed target=nobody '
                     r'why="not in the game"'),
    # What the driver records by itself, and so the mudlib does not:
    ("snoop bob", r"action=snoop actor=Alda outcome=ok target=Bob snooper=Alda"),
    ("snoop", r"action=snoop-stop actor=Alda outcome=ok snooper=Alda"),
    ("tlsreload", r"action=tls_refresh_certs actor=Alda outcome=ok"),
    ("shutdown soon", r'action=shutdown actor=Alda outcome=failed why=usage'),
)


def test_each_privileged_command_leaves_exactly_one_audit_line(world, certs):
    alda, bob = admin_and_player(world, certs)
    marks = []
    for command, expected in AUDITED_COMMANDS:
        marks.append(world.log_mark())
        do(alda, command)
        # Each command's lines are logged before its prompt is sent, in
        # order: a second line would come before the next command's.
        world.wait_for_log(expected, start=marks[-1])
    marks.append(None)
    for (command, expected), start, end in zip(AUDITED_COMMANDS, marks, marks[1:]):
        lines = audit_lines(world, start, end)
        assert len(lines) == 1, (command, lines)
        assert re.search(r"INFO +audit: AUDIT " + expected + "$", lines[0]), (command, lines)


def test_a_wizard_who_is_not_an_admin_cannot_promote(world, certs):
    alda, bob = admin_and_player(world, certs)
    do(alda, "promote bob")
    # Alda's own line is read from the log before the mark, not after it.
    world.wait_for_log(r"AUDIT action=promote actor=Alda outcome=ok target=Bob$")
    mark = world.log_mark()
    assert "What?" in do(bob, "promote alda")
    assert "Updated /rooms/square." in do(bob, "update here")
    world.wait_for_log(r"AUDIT action=update actor=Bob outcome=ok target=/rooms/square$",
                       start=mark)
    assert len(audit_lines(world, mark)) == 1


# --- the banner and the message of the day ---------------------------------------------------------

def test_banner_and_motd_come_from_the_data_directory_and_are_read_at_each_login(world):
    data = world.directory / "data"
    # An editor on Windows, and a stray escape sequence: both tidied away.
    (data / "banner.txt").write_bytes(b"*** The Moor MUD ***\r\nEst. 2026\x1b[31m\r\n")
    (data / "motd.txt").write_text("The bog is closed for repairs.\n")

    first = plain_player(world)
    text = first.read_until("What is your name? ")
    assert "*** The Moor MUD ***\r\nEst. 2026" in text
    assert "R  A  V  E  N" not in text
    assert "\x1b" not in text
    text = create_character(first, "alda")
    assert text.index("Welcome to Ravenmoor, Alda.") \
        < text.index("The bog is closed for repairs.") < text.index("The town square")

    # Edited while the game runs: the next login sees the new text.
    (data / "motd.txt").write_text("The bog is open again.\n")
    (data / "banner.txt").unlink()
    second = plain_player(world)
    assert "R  A  V  E  N  M  O  O  R" in second.read_until("What is your name? ")
    text = create_character(second, "bob")
    assert "The bog is open again." in text
    assert "closed for repairs" not in text

    # A player who logs back in to a link-dead body is told too.
    (data / "motd.txt").write_text("%^WARNING%^Mind the gap.%^RESET%^\n")
    second.close()
    world.wait_for_log(r"Bob lost the link")
    again = plain_player(world)
    text = log_in(again, "bob")
    assert "Mind the gap." in text and "%^" not in text

    # No file, no message of the day.
    (data / "motd.txt").unlink()
    first.send_line("quit")
    first.wait_closed()
    third = plain_player(world)
    text = log_in(third, "alda")
    assert "Mind the gap." not in text and "The bog" not in text


def test_an_unreadable_motd_is_logged_and_the_login_goes_on(world):
    (world.directory / "data" / "motd.txt").mkdir()     # a directory: read_file gives None
    (world.directory / "data" / "banner.txt").write_text("x" * 9000)
    mark = world.log_mark()
    player = plain_player(world)
    text = player.read_until("What is your name? ")
    assert "x" * 40 in text
    world.wait_for_log(r"/data/banner.txt is 9000 characters long; only the first 8000",
                       start=mark)
    assert "The town square" in create_character(player, "alda")


# --- certificates in 'people' -----------------------------------------------------------------------

def test_people_shows_the_days_each_certificate_has_left(world, certs):
    alda, _ = admin_and_player(world, certs)
    text = " ".join(do(alda, "people").split())    # lines wrapped to the window
    assert re.search(r"fullchain\.pem: localhost, 127\.0\.0\.1, ::1; issued by .*Test CA",
                     text), text
    assert re.search(r"\d+ days left", text), text
    assert "renew" not in text


def test_people_warns_about_a_certificate_that_expires_within_21_days(make_driver, certs,
                                                                      tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = certs.ca.issue_cert("localhost", "127.0.0.1",
                               not_before=now - datetime.timedelta(days=80),
                               not_after=now + datetime.timedelta(days=10, hours=1))
    fullchain, key = write_leaf(leaf, tmp_path / "soon.pem", tmp_path / "soon-key.pem")
    expiring = Certificates(certs.ca, tmp_path, certs.ca_file, fullchain, key)
    world = make_driver(mudlib=SHIPPED_MUDLIB, certs_=expiring)
    alda = tls_player(world, expiring)
    create_character(alda, "alda")
    text = " ".join(do(alda, "people").split())
    assert re.search(r"soon\.pem: localhost, 127\.0\.0\.1; issued by .*; expires .*, "
                     r"10 days left", text), text
    assert "Expires in 10 days: renew it soon." in text


def test_uptime_for_everyone_and_status_for_wizards(world):
    ann = plain_player(world)
    create_character(ann, "ann")        # the first character: an administrator
    bea = plain_player(world)
    create_character(bea, "bea")
    text = " ".join(do(bea, "uptime").split())
    assert re.search(r"Ravenmoor has been running for \d+s, since .* UTC\. "
                     r"2 players are in the game\.", text), text
    assert "What?" in do(bea, "status")
    status = " ".join(do(ann, "status").split())
    for pattern in (r"Ravenmoor, up \d+s \(since .* UTC\)",
                    r"Players 2 in the game, 0 link-dead; 2 connections",
                    r"Commands [\d.]+ a second over the last minute; [\d,]+ since start",
                    r"Lag \d+ ms now, \d+ ms on average, \d+ ms at worst in the last minute",
                    r"Objects [\d,]+ \(\d+ programs\); \d+ heart beats, \d+ call_outs waiting",
                    r"Memory [\d.]+ MiB resident",
                    r"Passwords \d+ worker threads: 0 waiting, \d+ checked, 0 turned away busy",
                    r"Limits \d+ evaluations stopped after [\d.]+ s"):
        assert re.search(pattern, status), (pattern, status)
    memory = float(re.search(r"Memory ([\d.]+) MiB", status).group(1))
    assert 5 < memory < 2000, memory


def test_an_administrator_boots_a_player_who_is_told_why_and_may_come_back(world, certs):
    alda, bob = admin_and_player(world, certs)
    cy = plain_player(world)
    create_character(cy, "cyd")
    assert "What?" in do(bob, "boot cyd no reason")          # not an administrator
    assert "Boot whom, and why?" in do(alda, "boot cyd")
    assert "Zed is not in the game." in do(alda, "boot zed flooding")
    assert "'quit' is the way out for you." in do(alda, "boot alda testing")
    mark = world.log_mark()
    assert "Cyd is out of the game." in do(alda, "boot cyd flooding the channels")
    text = read_to_clean_eof(cy)
    assert "Alda has put you out of the game: flooding the channels" in " ".join(text.split())
    world.wait_for_log(r"AUDIT action=boot actor=Alda outcome=ok target=Cyd "
                       r'why="flooding the channels"$', start=mark)
    world.wait_for_log(r"Cyd was booted by Alda: flooding the channels", start=mark)
    assert "Cyd" not in do(alda, "who")
    again = plain_player(world)                               # not banned: back at once
    again.read_until("What is your name? ")
    again.command("cyd", "Password: ")
