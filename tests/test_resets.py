"""reset(): called now and then in every object, as in LDMud.

A real driver runs the test mudlib tests/mudlib_resets with resets every
0.2 to 0.4 seconds (``mudlib.reset_interval: 0.4``); its objects tell a
watching player of each reset, so the tests wait on those lines.  The
shipped world's rooms restock through the same apply (test_world_play).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from conftest import TIMEOUT, Client

from driver.world.resets import COMPACT_AFTER

RESETS_MUDLIB = Path(__file__).resolve().parent / "mudlib_resets"


def player(driver) -> Client:
    client = Client.plain(driver.telnet_port)
    client.read_until("Welcome to the reset tests.")
    return client


def watch(client: Client, *paths: str) -> None:
    """Hear of each path's resets; what arrives meanwhile stays in client.text."""
    for path in paths:
        client.send_line(f"watch {path}")
        client.read_until(f"watching {path}")


def answer(client: Client, line: str) -> str:
    """The test player's answer to ``line``: the value between its verb and " end"."""
    verb = line.split()[0]
    pattern = re.compile(rf"^(?:> )?{verb} (\S+) end\r?$", re.M)  # (after the prompt)
    before = len(pattern.findall(client.text))
    client.send_line(line)
    deadline = time.monotonic() + TIMEOUT
    while len(found := pattern.findall(client.text)) <= before:
        client.recv_some(max(0.01, deadline - time.monotonic()))
    return found[-1]


def seconds_to_next_reset(client: Client, path: str) -> float | None:
    value = answer(client, f"next {path}")
    return None if value == "None" else float(value)


def test_objects_reset_again_and_again_and_what_reset_returns_sets_the_next(make_driver):
    driver = make_driver(mudlib=RESETS_MUDLIB, mudlib_extra="  reset_interval: 0.4\n")
    client = player(driver)
    watch(client, "/counter", "/stopper", "/quitter", "/slow", "/broken", "/later")
    # Six resets of the counter take at least 1.2 s, three times the
    # longest usual interval: the others have had all the resets they get.
    text = client.read_until("/counter reset 6")
    assert "/stopper reset 1" in text and "/stopper reset 2" not in text   # reset() returned -1
    assert "/quitter reset 1" in text and "/quitter reset 2" not in text   # set_next_reset(-1)
    assert "/slow reset 1" in text and "/slow reset 2" not in text         # returned 30
    assert "/broken reset 2" in text         # its first reset raised; it resets again all the same
    assert "/later reset" not in text        # create() returned 60
    driver.wait_for_log(r"error in /broken->reset\(\): the first reset fails")
    assert 25 < seconds_to_next_reset(client, "/slow") <= 30
    assert 55 < seconds_to_next_reset(client, "/later") <= 60
    assert seconds_to_next_reset(client, "/stopper") is None
    assert seconds_to_next_reset(client, "/quitter") is None


def test_with_resets_off_an_object_resets_only_when_it_asks(make_driver):
    driver = make_driver(mudlib=RESETS_MUDLIB, mudlib_extra="  reset_interval: 0\n")
    client = player(driver)
    watch(client, "/counter")
    assert seconds_to_next_reset(client, "/counter") is None
    assert answer(client, "soon /counter") == "None"     # set_next_reset(0.3): none was due
    client.read_until("/counter reset 1")
    assert answer(client, "resets") == "1"
    assert seconds_to_next_reset(client, "/counter") is None   # and none after it


def test_a_crowd_of_resets_due_at_once_is_spread_over_passes_and_players_are_answered_between(
        make_driver):
    """Two thousand objects due in the same instant reset in passes of at
    most PER_PASS: a player's commands are answered while the rest wait."""
    driver = make_driver(mudlib=RESETS_MUDLIB, mudlib_extra="  reset_interval: 0\n")
    client = player(driver)
    assert answer(client, "crowd 2000 0.3") == "2000"
    seen = [int(answer(client, "resets"))]
    deadline = time.monotonic() + TIMEOUT
    while seen[-1] < 2000 and time.monotonic() < deadline:
        seen.append(int(answer(client, "resets")))
    assert seen[-1] == 2000, seen[-5:]
    assert any(0 < count < 2000 for count in seen), "the crowd reset in one pass"
    assert int(answer(client, "resets")) == 2000   # each once (reset() returned -1)


def test_objects_that_come_and_go_do_not_pile_up_in_the_reset_schedule(make_driver):
    """Every object is due for a reset an interval after it is made.  Fifty
    thousand made and destructed (players' bodies, as players come and go):
    the schedule sheds their entries, and still resets what lives."""
    driver = make_driver(mudlib=RESETS_MUDLIB, mudlib_extra="  reset_interval: 3600\n")
    client = player(driver)
    live_before = int(answer(client, "schedule"))
    for _ in range(10):
        assert answer(client, "churn 5000") == "5000"
    scheduled = int(answer(client, "schedule"))
    objects = int(answer(client, "objects"))
    print(f"reset schedule: {live_before} entries before, {scheduled} after 50,000 "
          f"objects came and went; {objects} objects loaded")
    # What is left: the live objects' entries, and at most as many stale ones
    # (or the few the schedule waits for before it rebuilds itself).
    assert scheduled <= 2 * max(objects, COMPACT_AFTER) + 1, scheduled
    watch(client, "/counter")              # what lives still resets
    answer(client, "soon /counter")
    client.read_until("/counter reset 1")
