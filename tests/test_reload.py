"""Hot reload: new code while players stay connected, over plain and TLS.

Each test runs the driver on a copy of the platform test mudlib in a
temporary directory, so it can rewrite the world's files while it runs.
"""

from __future__ import annotations

import re
import shutil
import socket

import pytest

from conftest import TIMEOUT
from test_platform import PLATFORM_MUDLIB, Player, connect


@pytest.fixture
def world(make_driver, certs, tmp_path):
    mudlib = tmp_path / "mudlib"
    shutil.copytree(PLATFORM_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    driver = make_driver(mudlib=mudlib)
    driver.mudlib = mudlib
    return driver


def tls_connect(driver, certs, name: str) -> Player:
    sock = socket.create_connection(("127.0.0.1", driver.tls_port), timeout=TIMEOUT)
    player = Player(certs.client_context().wrap_socket(sock, server_hostname="localhost"))
    player.read_until("LOGON ")
    player.read_until("\n")
    player.line(f"name {name}", "NAME ")
    return player


def rewrite(driver, name: str, old: str, new: str) -> None:
    file = driver.mudlib / name
    text = file.read_text()
    assert old in text, f"{old!r} not in {name}"
    file.write_text(text.replace(old, new))


def test_updating_the_player_program_keeps_players_connected_and_their_callbacks(world, certs):
    ann = tls_connect(world, certs, "ann")
    bob = connect(world, "bob")
    ann.line("wiz", "WIZ")
    assert ann.py("_ = tls_query_connection_state(me)") == "1"
    # bob is in the middle of answering a question; a call_out is pending
    bob.line("ask", "ASKED")
    ticker = ann.py("_ = object_name(clone_object('/ticker'))")    # the old code, loaded

    rewrite(world, "player.py", 'write("WIZ\\n")', 'write("WIZ v2\\n")')
    rewrite(world, "player.py", 'write(f"ANSWER {tag}', 'write(f"ANSWER-V2 {tag}')
    rewrite(world, "ticker.py", 'debug_message(f"CALLOUT {', 'debug_message(f"CALLOUT-V2 {')
    # The call_out (50 ms) is armed in the same evaluation as the update, so
    # it is certainly still pending then, however slow the machine.
    assert ann.py(f"call_other(find_object({ticker}), 'arm_later', 'after-reload'); "
                  "_ = (update_program('/player'), update_program('/ticker'))") == \
        "(['/player'], ['/ticker'])"
    world.wait_for_log(r"CALLOUT-V2 /ticker#\d+ after-reload")

    # the same objects, connections and TLS session; the new code
    assert ann.line("wiz", "WIZ") == "WIZ v2"
    assert ann.py("_ = (tls_query_connection_state(me), tls_query_connection_info(me).prot)") \
        .startswith("(1, 'TLSv1.")
    assert bob.line("forty-two", "ANSWER") .startswith("ANSWER-V2 first 'forty-two'")
    assert bob.line("ring bell", "RING") == "RING"
    # new clones use the new code too
    assert ann.py("p = clone_object('/player'); _ = type(p) is type(me)") == "True"


def test_a_syntax_error_names_the_file_and_line_and_the_old_code_keeps_running(world):
    ann = connect(world, "ann")
    ann.line("wiz", "WIZ")
    rewrite(world, "player.py", "    def cmd_wiz(self, arg):\n", "    def cmd_wiz(self, arg) oops:\n")
    error = ann.py_error("update_program('/player')")
    line = next(number for number, text in
                enumerate((world.mudlib / "player.py").read_text().splitlines(), 1) if "oops" in text)
    assert f"/player.py, line {line}: SyntaxError" in error, error
    assert "the old code keeps running" in error
    assert str(world.mudlib) not in error  # mudlib paths, never the disk's
    assert ann.line("wiz", "WIZ") == "WIZ"
    # an exception while the new file runs is refused the same way
    rewrite(world, "player.py", "    def cmd_wiz(self, arg) oops:\n", "    def cmd_wiz(self, arg):\n")
    rewrite(world, "player.py", "START = \"/room\"\n", "START = \"/room\"\n1 / 0\n")
    error = ann.py_error("reload_object('/player')")
    assert "ZeroDivisionError" in error and "/player.py, line" in error
    assert ann.line("wiz", "WIZ") == "WIZ"


def test_reloading_a_room_rebuilds_it_around_the_players_in_it(world, certs):
    ann = tls_connect(world, certs, "ann")
    bob = connect(world, "bob")
    ann.line("wiz", "WIZ")
    ann.py("b = clone_object('/bell'); move_object(b, here)")
    old = ann.py("_ = id(here)")
    assert ann.line("look", "LOOK").startswith("LOOK ROOM v1 created=ROOM v1")

    rewrite(world, "room.py", 'description = "ROOM v1"', 'description = "ROOM v2"')
    rewrite(world, "room.py", 'write("RING\\n")', 'write("RING v2\\n")')
    assert ann.py("_ = object_name(reload_object('/room'))") == "'/room'"
    # a fresh blueprint (create() ran again) holding everyone and everything
    assert ann.line("look", "LOOK").startswith("LOOK ROOM v2 created=ROOM v2")
    assert ann.py("_ = id(here)") != old
    assert ann.py("_ = (object_name(environment(me)), sorted(o.query_name() for o in "
                  "all_inventory(here) if interactive(o)), present('bell', here) is not None, "
                  "find_object('/room') is here)") == "('/room', ['ann', 'bob'], True, True)"
    # the room's actions are the new ones, for both players; both still connected
    assert bob.line("ring bell", "RING") == "RING v2"
    assert ann.line("ring bell", "RING") == "RING v2"
    assert ann.py("_ = tls_query_connection_state(me)") == "1"


def test_updating_a_base_program_updates_what_inherits_it(world):
    (world.mudlib / "base.py").write_text(
        "from driver.efuns import MudObject\n\n"
        "class Base(MudObject):\n    def hello(self):\n        return 'base v1'\n")
    (world.mudlib / "derived.py").write_text(
        "from driver.efuns import inherit\n\n"
        "class Derived(inherit('/base')):\n    def shout(self):\n        return self.hello().upper()\n")
    ann = connect(world, "ann")
    ann.line("wiz", "WIZ")
    assert ann.py("d = clone_object('/derived'); move_object(d, me); _ = d.shout()") == "'BASE V1'"
    rewrite(world, "base.py", "'base v1'", "'base v2'")
    assert ann.py("_ = update_program('/base')") == "['/base', '/derived']"
    assert ann.py("_ = [o.shout() for o in all_inventory(me)]") == "['BASE V2']"
    # create() failing in a reload keeps the old blueprint
    ann.py("load_object('/derived')")
    rewrite(world, "derived.py", "class Derived(inherit('/base')):\n",
            "class Derived(inherit('/base')):\n    def create(self):\n        raise KeyError('no')\n")
    error = ann.py_error("reload_object('/derived')")
    assert "create() failed" in error and "the old object stays" in error
    assert ann.py("_ = find_object('/derived') is not None") == "True"
    assert re.fullmatch(r"'\d+'", ann.py("_ = str(len(objects()))"))


def test_reloading_a_room_replaces_what_its_create_put_there(world):
    """A garden whose create() plants a bell has one planted bell after a
    reload, not two; a bell a player put there stays."""
    (world.mudlib / "garden.py").write_text(
        "from driver.efuns import MudObject, clone_object, move_object\n\n"
        "class Garden(MudObject):\n"
        "    def create(self):\n"
        "        move_object(clone_object('/bell'), self)\n")
    ann = connect(world, "ann")
    ann.line("wiz", "WIZ")
    mine = ann.py("m = clone_object('/bell'); move_object(m, load_object('/garden')); "
                  "_ = object_name(m)").strip("'")
    inside = "sorted(object_name(o) for o in all_inventory(find_object('/garden')))"
    planted_before = [name for name in eval(ann.py(f"_ = {inside}")) if name != mine]
    assert len(planted_before) == 1
    ann.py("reload_object('/garden')")
    after = eval(ann.py(f"_ = {inside}"))
    assert mine in after and len(after) == 2, after
    assert planted_before[0] not in after  # a fresh one, from the new create()
    # the old planted bell went with the old blueprint: two bells in the world, not three
    assert ann.py("_ = len([o for o in objects() if object_name(o).startswith('/bell#')])") == "2"
