"""The LP platform: object model, commands, input, time, persistence, files,
permissions and administration, driven from the world side over real
connections.

The test mudlib (tests/mudlib_platform/) gives each connection a /player
whose `py <code>` command runs Python with every efun in scope (`me` is the
player, `here` its room) and answers `PY <repr>` or `PYERR <error>`.
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import pytest

from conftest import TIMEOUT, Client

PLATFORM_MUDLIB = Path(__file__).resolve().parent / "mudlib_platform"


class Player(Client):
    def py(self, code: str) -> str:
        """Run ``code`` in the world; the repr of ``_``, or raises on PYERR."""
        answer = self.line("py " + code, ("PY ", "PYERR "))
        if answer.startswith("PYERR "):
            raise AssertionError(f"{code!r} failed: {answer}")
        return answer[len("PY "):]

    def py_error(self, code: str) -> str:
        answer = self.line("py " + code, ("PY ", "PYERR "))
        assert answer.startswith("PYERR "), f"{code!r} did not fail: {answer}"
        return answer[len("PYERR "):]

    def line(self, command: str, prefixes: str | tuple[str, ...]) -> str:
        """Send ``command``; the first whole line of the answer starting with a prefix."""
        prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
        self.raw.clear()
        self.send_line(command)
        return self.wait_line(prefixes)

    def wait_line(self, prefixes: str | tuple[str, ...], timeout: float = TIMEOUT) -> str:
        """The first whole line received that starts with one of ``prefixes``."""
        prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
        pattern = re.compile(r"^(?:> )*((?:" + "|".join(map(re.escape, prefixes)) + r").*?)\r?\n",
                             re.M)
        deadline = time.monotonic() + timeout
        while True:
            match = pattern.search(self.text)
            if match:
                return match.group(1)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line starting with {prefixes}; received:\n{self.text}")
            try:
                data = self.recv_some(remaining)
            except (socket.timeout, TimeoutError):
                continue
            if not data:
                raise AssertionError(f"closed while waiting for {prefixes}; received:\n{self.text}")


def connect(driver, name: str | None = None) -> Player:
    player = Player.plain(driver.telnet_port)
    player.read_until("LOGON ")
    player.read_until("\n")
    if name:
        player.line(f"name {name}", "NAME ")
    return player


def start(make_driver, **mudlib_keys):
    """A driver on the platform mudlib; keyword arguments are extra ``mudlib:`` keys."""
    return make_driver(mudlib=PLATFORM_MUDLIB, tls_port=None, certs_=None,
                       mudlib_extra="".join(f"  {k}: {v}\n" for k, v in mudlib_keys.items()))


@pytest.fixture
def platform(make_driver):
    return start(make_driver)


# --- objects ----------------------------------------------------------------------------

def test_objects_load_clone_find_move_and_inventory(platform):
    ann = connect(platform, "ann")
    assert ann.py("_ = object_name(load_object('/room'))") == "'/room'"
    assert ann.py("b = clone_object('/bell'); _ = object_name(b)").startswith("'/bell#")
    assert ann.py("_ = find_object('/room') is here") == "True"
    assert ann.py("_ = find_object('/no/such') ") == "None"
    assert ann.py("_ = find_object(object_name(me)) is me") == "True"
    # containers, deep_inventory, present with a number
    code = ("box = clone_object('/room2'); b1 = clone_object('/bell'); b2 = clone_object('/bell')\\n"
            "move_object(box, here); move_object(b1, box); move_object(b2, box)\\n"
            "_ = [object_name(environment(b1)) == object_name(box), "
            "len(all_inventory(box)), "
            "[object_name(o) for o in deep_inventory(here)].index(object_name(b1)) > "
            "[object_name(o) for o in deep_inventory(here)].index(object_name(box)), "
            "present('bell', box) is b1, present('bell 2', box) is b2, present('bell 3', box)]")
    assert ann.py(code) == "[True, 2, True, True, True, None]"
    # present() without an environment: my inventory, then beside me
    code = ("b = clone_object('/bell'); move_object(b, here)\\n"
            "_ = present('bell') is b")
    assert ann.py(code) == "True"
    assert "/player#" in ann.py("_ = [object_name(o) for o in objects()]")
    assert ann.py_error("move_object(me, me)").startswith("EfunError: cannot move")
    assert "no such program" in ann.py_error("load_object('/nowhere')")
    assert "bad object path" in ann.py_error("load_object('../etc/passwd')")


# --- shadows ---------------------------------------------------------------------------------

def test_shadows_answer_call_other_as_in_ldmuds_example(platform):
    """LDMud's own example of shadow(): c shadows a in front of b."""
    ann = connect(platform, "ann")
    ann.py("me.a, me.b, me.c = (load_object(f'/shadows/{x}') for x in 'abc')")
    objects = "a, b, c, log = me.a, me.b, me.c, load_object('/shadows/log'); "
    assert ann.py(objects + "_ = (call_other(b, 'do_shadow', a), call_other(c, 'do_shadow', a))") == "(1, 1)"
    assert ann.py(objects + "_ = (query_shadowing(a), query_shadowing(b), query_shadowing(c))") == \
        "(None, </shadows/a>, </shadows/b>)"
    calls = {}
    for call in ("call_other(a, 'fun')", "call_other(b, 'fun')", "call_other(c, 'fun')",
                 "call_other(b, 'fun2')"):
        calls[call] = ann.py(objects + f"{call}; _ = log.take()")
    assert calls == {
        "call_other(a, 'fun')": "['/shadows/c [c] fun()', '/shadows/b [b] fun()', "
                                "'/shadows/a [a] fun()']",
        "call_other(b, 'fun')": "['/shadows/c [c] fun()', '/shadows/b [b] fun()', "
                                "'/shadows/a [a] fun()']",
        "call_other(c, 'fun')": "['/shadows/c [c] fun()', '/shadows/b [b] fun()', "
                                "'/shadows/a [a] fun()']",
        # b's call to a starts below b; its call to itself meets c, which stands in front of it
        "call_other(b, 'fun2')": "['/shadows/b [b] fun2()', '/shadows/a [a] fun3()', "
                                 "'/shadows/c [c] fun3()']",
    }
    # A plain Python call is not redirected, and a call to a shadow that
    # lacks the function goes on down the chain.
    assert ann.py(objects + "a.fun(); _ = (log.take(), call_other(b, 'id', 'wolf'))") == \
        "(['/player#1 [a] fun()'], True)"       # (a plain call: this_object() is the caller)
    # c stands down: b is in front of a again.
    ann.py(objects + "call_other(c, 'stop')")
    assert ann.py(objects + "call_other(a, 'fun'); _ = (log.take(), query_shadowing(c))") == \
        "(['/shadows/b [b] fun()', '/shadows/a [a] fun()'], None)"
    # A destructed victim sets its shadows free, and they live on.
    ann.py(objects + "destruct(a)")
    assert ann.py(objects + "_ = (query_shadowing(b), object_name(b))") == "(None, '/shadows/b')"


def test_a_disguise_answers_present_and_the_rules_of_shadowing_hold(platform):
    ann = connect(platform, "ann")
    ann.py("me.stone = clone_object('/shadows/a'); move_object(me.stone, here); "
           "me.disguise = clone_object('/shadows/c')")
    mine = "stone, disguise = me.stone, me.disguise; "
    assert ann.py("_ = present('wolf', here)") == "None"
    assert ann.py(mine + "_ = (call_other(disguise, 'do_shadow', stone), present('wolf', here) is stone, "
                  "present('stone', here))") == "(1, True, None)"
    # The rules LDMud enforces, as errors.
    assert "Already shadowing" in ann.py_error(mine +
        "call_other(disguise, 'do_shadow', clone_object('/shadows/a'))")
    assert "Can't shadow a shadow" in ann.py_error(
        mine + "call_other(clone_object('/shadows/b'), 'do_shadow', disguise)")
    assert "Can't shadow when shadowed" in ann.py_error(
        "s = clone_object('/shadows/b'); call_other(clone_object('/shadows/cover'), 'cover', s); "
        "call_other(s, 'do_shadow', clone_object('/shadows/a'))")
    assert "Can't shadow self" in ann.py_error("s = clone_object('/shadows/b'); "
                                               "call_other(s, 'do_shadow', s)")
    assert "The shadow resides inside another object ('/room')" in ann.py_error(
        "s = clone_object('/shadows/b'); move_object(s, here); "
        "call_other(s, 'do_shadow', clone_object('/shadows/a'))")
    assert "Can't shadow a 'no_shadow' program" in ann.py_error(
        "call_other(clone_object('/shadows/b'), 'do_shadow', clone_object('/shadows/sealed'))")
    # The master's query_allow_shadow refuses what query_prevent_shadow refuses.
    assert ann.py("_ = call_other(clone_object('/shadows/b'), 'do_shadow', "
                  "clone_object('/shadows/guarded'))") == "0"


def test_a_destructed_object_is_unusable_and_its_timers_are_dropped(make_driver):
    driver = start(make_driver, heart_beat_interval=0.05)
    ann = connect(driver, "ann")
    code = ("t = clone_object('/ticker')\\n"
            "destruct(t)\\n"
            "errors = []\\n"
            "for f in (lambda: object_name(t), lambda: environment(t), lambda: move_object(t, here),"
            " lambda: call_other(t, 'start'), lambda: tell_object(t, 'x'), lambda: all_inventory(t),"
            " lambda: set_heart_beat(t, 1), lambda: living(t), lambda: interactive(t)):\\n"
            "    try:\\n"
            "        f(); errors.append('no error')\\n"
            "    except EfunError as exc:\\n"
            "        errors.append('is destructed' in str(exc))\\n"
            "_ = (errors, destruct(t))")
    assert ann.py(code) == "([True, True, True, True, True, True, True, True, True], None)"
    # heart beat and call_out of a destructed object never run; a living one's do
    mark = driver.log_mark()
    code = ("gone = clone_object('/ticker'); kept = clone_object('/ticker')\\n"
            "for t in (gone, kept):\\n"
            "    call_other(t, 'start'); call_other(t, 'arm_later', 'late')\\n"
            "destruct(gone)\\n"
            "_ = (object_name(kept), gone in heart_beat_info(), kept in heart_beat_info())")
    kept, in_gone, in_kept = ann.py(code).strip("()").split(", ")
    assert (in_gone, in_kept) == ("False", "True")
    kept = kept.strip("'")
    driver.wait_for_log(rf"BEAT {re.escape(kept)} count 3", start=mark)
    driver.wait_for_log(rf"CALLOUT {re.escape(kept)} late", start=mark)
    driver.wait_for_log(r"PREPARE_DESTRUCT /ticker#\d+", start=mark)
    later = "\n".join(driver.lines[mark:])
    assert len(re.findall(r"BEAT /ticker#", later)) == len(re.findall(rf"BEAT {re.escape(kept)}", later))
    assert len(re.findall(r"CALLOUT /ticker#", later)) == 1


def test_destructing_an_interactive_closes_its_connection(platform):
    ann = connect(platform, "ann")
    bob = connect(platform, "bob")
    ann.py("destruct(find_living('bob'))")
    bob.wait_closed()
    assert ann.py("_ = len(users())") == "1"


def test_what_is_left_inside_a_destructed_object_goes_with_it_but_a_player_does_not(platform):
    """LDMud's rule for the objects prepare_destruct left inside, except that
    a player's body is never destructed on the way (this master moves
    nobody out)."""
    ann = connect(platform, "ann")
    bob = connect(platform, "bob")
    ann.line("wiz", "WIZ")
    mark = platform.log_mark()
    ann.py("box = clone_object('/bell'); inner = clone_object('/bell'); move_object(inner, box); "
           "move_object(box, load_object('/room2')); move_object(find_living('bob'), box)")
    assert ann.py("_ = len([o for o in objects() if object_name(o).startswith('/bell#')])") == "2"
    ann.py("destruct(find_object('/room2'))")
    # the box and the bell inside it are gone; bob is nowhere, and still connected
    assert ann.py("_ = len([o for o in objects() if object_name(o).startswith('/bell#')])") == "0"
    assert ann.py("_ = environment(find_living('bob'))") == "None"
    platform.wait_for_log(r"interactive /player#\d+ was inside it and is now nowhere", start=mark)
    assert bob.py("_ = 1") == "1"


#: Efuns the sweep below leaves out: they end the game, the connection or
#: the player's object, or wait for the player.
_NOT_SWEPT = {"shutdown", "destruct", "exec", "remove_interactive", "snoop", "input_to",
              "tls_deinit_connection", "command"}

_SWEEP = r"""
import inspect
from driver import efuns as E
odd = [None, 42, "x", -1, 3.5, [], {}, me, bytes([255])]
unclear = {}
for name in E.__all__:
    fn = getattr(E, name)
    if not callable(fn) or isinstance(fn, type) or name.isupper() or name in NOT_SWEPT:
        continue
    required = [p for p in inspect.signature(fn).parameters.values()
                if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    for count in range(len(required) + 1):
        for value in odd:
            try:
                fn(*[value] * count)
            except E.EfunError:
                pass
            except TypeError as exc:
                if "positional argument" not in str(exc):  # Python's own arity check is clear
                    unclear[f"{name}({count} x {type(value).__name__})"] = repr(exc)
            except Exception as exc:
                unclear[f"{name}({count} x {type(value).__name__})"] = repr(exc)
tell_object(me, chr(10) + "SWEEP " + repr(unclear) + chr(10))
"""


def test_every_efun_refuses_odd_arguments_with_a_clear_error(platform):
    """Each efun, given None, numbers, strings, lists, dicts, bytes or an
    object where it expects something else, raises EfunError naming the
    problem, never an internal error."""
    ann = connect(platform, "ann")
    ann.line("wiz", "WIZ")
    code = f"NOT_SWEPT = {sorted(_NOT_SWEPT)!r}\n" + _SWEEP
    ann.send_line("py " + code.replace("\n", "\\n"))
    answer = ann.wait_line("SWEEP ")
    assert answer == "SWEEP {}", answer


# --- commands ------------------------------------------------------------------------------

def test_actions_from_rooms_and_items_come_and_go_with_them(platform):
    ann = connect(platform, "ann")
    assert ann.line("ring bell", "RING") == "RING"
    text = ann.line("ring", ("Ring what?", "What?"))
    assert text == "Ring what?"  # notify_fail beats the default
    assert ann.line("dance", ("What?", "FALLBACK")) == "What?"
    assert ann.line("fallback now", "FALLBACK") == "FALLBACK fallback now"
    # an item's action reaches whoever stands beside it or carries it
    ann.py("b = clone_object('/bell'); move_object(b, here)")
    assert ann.line("toll", "TOLL") == "TOLL"
    ann.py("move_object(present('bell', here), me)")
    assert ann.line("toll", "TOLL") == "TOLL"
    actions = ann.py("_ = sorted(v for v, f, o, fun in query_actions(me))")
    assert "'toll'" in actions and "'ring'" in actions
    # walking away drops the room's actions; the carried bell's stay
    assert ann.line("go /room2", "MOVED") == "MOVED /room2"
    assert ann.line("ring bell", ("RING", "What?")) == "What?"
    assert ann.line("toll", "TOLL") == "TOLL"
    # the bell destructed: its action is gone
    ann.py("destruct(present('bell', me))")
    assert ann.line("toll", ("TOLL", "What?")) == "What?"
    assert ann.line("go /room", "MOVED") == "MOVED /room"
    assert ann.line("ring bell", "RING") == "RING"


def test_init_runs_in_ldmud_order_for_livings_meeting(platform):
    ann = connect(platform, "ann")
    bob = connect(platform, "bob")
    # bob arrived after ann: ann sees bob's init (bob has none) and bob sees the room's
    assert bob.line("ring bell", "RING") == "RING"
    ann.read_until("bob rings the bell.")
    # a bell brought in by bob: both get its action
    bob.py("b = clone_object('/bell'); move_object(b, me)")
    assert bob.line("toll", "TOLL") == "TOLL"
    bob.py("move_object(present('bell', me), here)")
    assert ann.line("toll", "TOLL") == "TOLL"


def test_verb_flags_query_verb_process_input_and_command(platform):
    ann = connect(platform, "ann")
    assert ann.line("!hello there", "SHOUT") == "SHOUT verb='!hello' arg='hello there'"
    assert ann.line("ex thing", "EXAMINE") == "EXAMINE verb='ex' arg='thing'"
    assert ann.line("exa", "EXAMINE") == "EXAMINE verb='exa' arg=None"
    assert ann.line("e", ("EXAMINE", "What?")) == "What?"  # shorter than the -2 minimum
    assert ann.line("look", "LOOK").endswith("verb=look")
    # process_input: a string replaces the line; a true value means handled
    assert ann.line("alias ring bell", "RING") == "RING"
    ann.raw.clear()
    ann.send_line("swallow")
    ann.read_until("SWALLOWED")
    ann.send_line("py _ = 'after'")
    text = ann.read_until("PY 'after'")
    assert "What?" not in text
    # command(): a living does a command as if typed
    assert ann.py("_ = command('ring bell')") == "1"
    assert ann.py("_ = command('no such verb')") == "0"
    # an NPC: command() on another object asks privilege_violation
    mark = platform.log_mark()
    assert ann.py("n = clone_object('/npc'); move_object(n, here); _ = living(n)") == "True"
    assert "privilege violation" in ann.py_error("command('dance', present('npc', here) or "
                                                 "[o for o in all_inventory(here) if living(o) and not interactive(o)][0])")
    platform.wait_for_log(r"PRIVILEGE command caller=/player#\d+ allowed=False", start=mark)
    ann.line("wiz", "WIZ")
    assert ann.py("n = [o for o in all_inventory(here) if living(o) and not interactive(o)][0]\\n"
                  "_ = command('dance wildly', n)") == "1"
    platform.wait_for_log("NPC DANCES wildly", start=mark)
    assert "must be" not in ann.py_error("add_action('cmd_py', '')")
    assert "no method" in ann.py_error("add_action('no_such_method', 'verb')")


def test_an_error_in_an_action_is_reported_and_the_player_carries_on(platform):
    ann = connect(platform, "ann")
    wiz = connect(platform, "wiz")
    wiz.line("wiz", "WIZ")
    mark = platform.log_mark()
    assert ann.line("raise", "RUNTIME-ERROR") == "RUNTIME-ERROR RuntimeError: deliberate failure in an action"
    wiz.read_until("[error] /player#")
    platform.wait_for_log(r"error in /player#\d+: process_input: deliberate failure", start=mark)
    assert ann.line("ring bell", "RING") == "RING"


# --- input ----------------------------------------------------------------------------------

def test_input_to_stacks_newest_first_and_keeps_this_player(platform):
    ann = connect(platform, "ann")
    wiz = connect(platform, "wiz")
    assert ann.line("ask2", "ASKED") == "ASKED TWICE"
    info = wiz.py("_ = [(object_name(o), f, *x) for o, f, *x in input_to_info(find_living('ann'))]")
    assert re.fullmatch(r"\[\('/player#\d+', 'got_other', 'inner'\), "
                        r"\('/player#\d+', 'got_answer', 'outer'\)\]", info), info
    assert ann.line("first", "OTHER") == "OTHER inner 'first'"
    answer = ann.line("second", "ANSWER")
    assert re.fullmatch(r"ANSWER outer 'second' this_player=/player#\d+", answer)
    assert ann.line("ring bell", "RING") == "RING"


def test_remove_input_to_and_find_input_to(platform):
    ann = connect(platform, "ann")
    ann.line("ask2", "ASKED")
    # Both pending; the newest (got_other) would take the next line.  Remove it
    # from another object's point of view: a wizard's py on ann.
    wiz = connect(platform, "wiz")
    wiz.line("wiz", "WIZ")
    assert wiz.py("a = find_living('ann'); _ = (find_input_to(a, 'got_other'), "
                  "find_input_to(a, 'got_answer'), find_input_to(a, 'nothing'))") == "(0, 1, -1)"
    assert wiz.py("_ = remove_input_to(find_living('ann'), 'got_other')") == "True"
    assert wiz.py("_ = len(input_to_info(find_living('ann')))") == "1"
    ann.raw.clear()
    ann.send_line("hello")
    assert "ANSWER outer 'hello'" in ann.read_until("ANSWER")
    ann.line("ask", "ASKED")
    assert wiz.py("_ = remove_input_to(find_living('ann'))") == "True"
    assert wiz.py("_ = remove_input_to(find_living('ann'))") == "False"
    assert ann.line("ring bell", "RING") == "RING"  # a command again


def test_input_to_noecho_and_charmode(platform):
    ann = connect(platform, "ann")
    ann.raw.clear()
    ann.send_line("ask 1")  # INPUT_NOECHO
    ann.read_until("ASKED flags=1")
    assert bytes([255, 251, 1]) in ann.raw  # IAC WILL ECHO
    ann.raw.clear()
    ann.send_line("secret")
    ann.read_until("ANSWER first 'secret'")
    assert bytes([255, 252, 1]) in ann.raw  # IAC WONT ECHO
    # character mode: each key on its own, SGA and ECHO offered
    ann.raw.clear()
    ann.send_line("keys 3")
    ann.read_until("KEYS")
    assert bytes([255, 251, 3]) in ann.raw  # IAC WILL SGA
    ann.raw.clear()
    ann.sock.sendall(b"xy")
    ann.read_until("KEY 'y'")
    assert "KEY 'x'" in ann.text
    ann.sock.sendall(b"\r\n")
    ann.read_until("KEY '\\r'")
    # back in line mode: a whole line is a command again
    assert ann.line("ring bell", "RING") == "RING"


def test_snoop_needs_permission_and_shows_both_directions(platform):
    ann = connect(platform, "ann")
    wiz = connect(platform, "wiz")
    assert "valid_snoop" in ann.py_error("snoop(me, find_living('wiz'))")
    wiz.line("wiz", "WIZ")
    assert wiz.py("_ = snoop(me, find_living('ann'))") == "1"
    assert wiz.py("_ = object_name(query_snoop(find_living('ann'))) == object_name(me)") == "True"
    wiz.raw.clear()
    ann.line("ring bell", "RING")
    wiz.read_until("%RING")
    assert "% ring bell" in wiz.text
    assert wiz.py("_ = snoop(me)") == "1"
    wiz.raw.clear()
    ann.line("ring bell", "RING")
    assert wiz.py("_ = 'quiet'") == "'quiet'"
    assert "%RING" not in wiz.text


# --- time -------------------------------------------------------------------------------------

def test_call_outs_heart_beats_and_lag(make_driver):
    driver = start(make_driver, heart_beat_interval=0.1)
    ann = connect(driver, "ann")
    code = ("t = clone_object('/ticker')\\n"
            "call_other(t, 'start', 'count')\\n"
            "_ = (query_heart_beat(t), t in heart_beat_info(), object_name(t))")
    result = ann.py(code)
    assert result.startswith("(True, True, '/ticker#")
    name = re.search(r"'(/ticker#\d+)'", result).group(1)
    driver.wait_for_log(rf"BEAT {re.escape(name)} count 1")
    # call_out, find_call_out, call_out_info, remove_call_out
    code = (f"t = find_object('{name}')\\n"
            "def later_here(tag):\\n    debug_message('CALLOUT-PY ' + tag)\\n"
            "call_out(later_here, 0.05, 'fired')\\n"
            "call_out('cmd_wiz', 60, None)\\n"
            "_ = (round(find_call_out('cmd_wiz')), find_call_out('nothing'), "
            "[(f, round(left)) for o, f, left, *a in call_out_info() if f == 'cmd_wiz'])")
    assert ann.py(code) == "(60, -1, [('cmd_wiz', 60)])"
    driver.wait_for_log("CALLOUT-PY fired")
    assert ann.py("_ = (remove_call_out('cmd_wiz') > 59, remove_call_out('cmd_wiz'))") == "(True, -1)"
    assert "bad argument 2" in ann.py_error("call_out('cmd_wiz', 'soon')")
    assert "has no method" in ann.py_error("call_out('no_such_method', 1)")
    # lag and load are measured
    lag = ann.py("_ = tuple(driver_info('lag'))")
    assert re.fullmatch(r"\([\d.e-]+, [\d.e-]+, [\d.e-]+\)", lag), lag
    assert re.fullmatch(r"'\d+\.\d\d cmds/s, \d+ ms lag'", ann.py("_ = query_load_average()"))
    assert ann.py("_ = driver_info('heart_beat_interval')") == "0.1"
    assert "unknown 'nonsense'" in ann.py_error("driver_info('nonsense')")
    assert ann.py(f"set_heart_beat(find_object('{name}'), 0); _ = heart_beat_info()") == "[]"
    assert "has no heart_beat" in ann.py_error("set_heart_beat(clone_object('/bell'), 1)")


def test_a_failing_or_hanging_heart_beat_is_turned_off_and_the_others_beat_on(make_driver):
    """LDMud's rule: an error (or a timeout) in heart_beat() turns it off,
    unless the master's heart_beat_error() returns true."""
    driver = start(make_driver, heart_beat_interval=0.1, eval_time_limit=0.5)
    ann = connect(driver, "ann")
    code = ("names = []\\n"
            "for mode in ('fail', 'hang', 'flaky', 'count'):\\n"
            "    t = clone_object('/ticker'); call_other(t, 'start', mode); names.append(object_name(t))\\n"
            "_ = names")
    names = json.loads(ann.py(code).replace("'", '"'))
    failing, hanging, flaky, counting = names
    mark = driver.log_mark()
    driver.wait_for_log(r"error in /ticker#\d+->heart_beat\(\): deliberate failure", start=mark)
    driver.wait_for_log(r"error in /ticker#\d+->heart_beat\(\): evaluation took longer", start=mark)
    for name in (failing, hanging):
        driver.wait_for_log(rf"{re.escape(name)}: heart beat turned off after an error", start=mark)
        driver.wait_for_log(rf"HEART_BEAT_ERROR {re.escape(name)} ", start=mark)
    # the flaky one is kept by the master, and the healthy one never noticed
    driver.wait_for_log(rf"BEAT {re.escape(flaky)} flaky 3", timeout=20, start=mark)
    driver.wait_for_log(rf"BEAT {re.escape(counting)} count 3", timeout=20, start=mark)
    assert f"BEAT {failing} fail 2" not in driver.log
    assert f"BEAT {hanging} hang 2" not in driver.log
    on = ann.py(f"_ = [query_heart_beat(find_object(n)) for n in {names!r}]")
    assert on == "[False, False, True, True]", on
    # the player was never blocked for long, and is still served
    assert ann.line("ring bell", "RING") == "RING"


# --- the evaluation limit ------------------------------------------------------------------------

def test_a_runaway_loop_is_stopped_and_the_game_carries_on(make_driver):
    driver = start(make_driver, eval_time_limit=0.3)
    ann = connect(driver, "ann")
    bob = connect(driver, "bob")
    mark = driver.log_mark()
    for command in ("spin", "spin catching"):
        answer = ann.line(command, "RUNTIME-ERROR")
        assert answer.startswith("RUNTIME-ERROR EvaluationTimeout: evaluation took longer than")
    driver.wait_for_log(r"error in /player#\d+: process_input: evaluation took longer", start=mark)
    assert "cmd_spin" in driver.log  # the traceback shows where it looped
    assert bob.line("ring bell", "RING") == "RING"
    assert ann.line("ring bell", "RING") == "RING"
    # a call_out that loops is stopped too
    ann.py("call_out(lambda: [None for _ in iter(int, 1)], 0)")
    driver.wait_for_log(r"error in <lambda>\(\): evaluation took longer", start=mark)
    assert int(ann.py("_ = driver_info('eval_timeouts')")) >= 3
    assert ann.line("ring bell", "RING") == "RING"


# --- persistence -------------------------------------------------------------------------------

def test_save_and_restore_object_and_value(platform):
    ann = connect(platform, "ann")
    data = platform.directory / "data"
    ann.py("me.persistent_value = {'gold': 3, 'items': ['apple']}; save_object(me, 'chars/ann')")
    saved = json.loads((data / "chars" / "ann.json").read_text())
    assert saved["persistent_value"] == {"gold": 3, "items": ["apple"]}
    assert ann.py("me.persistent_value = None; _ = (restore_object(me, 'chars/ann'), "
                  "me.persistent_value)") == "(True, {'gold': 3, 'items': ['apple']})"
    assert ann.py("_ = restore_object(me, 'chars/nobody')") == "False"
    # a save that cannot be written leaves the previous one intact
    error = ann.py_error("me.persistent_value = object(); save_object(me, 'chars/ann')")
    assert "cannot be saved" in error
    assert json.loads((data / "chars" / "ann.json").read_text())["persistent_value"]["gold"] == 3
    assert not [p for p in (data / "chars").iterdir() if p.name.startswith(".")]
    # corrupt files: clear errors that name the save, not the disk
    (data / "chars" / "broken.json").write_text('{"name": "x", ')
    error = ann.py_error("restore_object(me, 'chars/broken')")
    assert "the save 'chars/broken' is corrupt" in error and str(data) not in error
    (data / "chars" / "list.json").write_text("[1, 2]")
    assert "expected a JSON object" in ann.py_error("restore_object(me, 'chars/list')")
    (data / "chars" / "binary.json").write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8" in ann.py_error("restore_object(me, 'chars/binary')")
    assert "bad save name" in ann.py_error("save_object(me, '../escape')")
    # save_value / restore_value
    assert ann.py("_ = restore_value(save_value({'a': [1, 2.5, None, 'x']}))") == \
        "{'a': [1, 2.5, None, 'x']}"
    assert "not a saved value" in ann.py_error("restore_value('{oops')")
    assert "cannot save" in ann.py_error("save_value(object())")


# --- files and permissions ---------------------------------------------------------------------

def test_file_efuns_stay_inside_the_mudlib_and_ask_the_master(platform):
    ann = connect(platform, "ann")
    # not a wizard: only /data/public/ is readable, nothing writable
    assert "read access to /room.py denied" in ann.py_error("read_file('/room.py')")
    assert "write access" in ann.py_error("write_file('/data/x.txt', 'x')")
    ann.line("wiz", "WIZ")
    assert ann.py("_ = read_file('/room.py', 1, 1)") == repr('"""/room: where test players start.  `ring` is the room\'s action;\n')
    assert ann.py("_ = file_size('/room.py') > 100") == "True"
    assert ann.py("_ = (file_size('/'), file_size('/nothing.txt'))") == "(-2, -1)"
    assert ann.py("_ = (mkdir('/data/notes'), write_file('/data/notes/a.txt', 'one' + chr(10)), "
                  "write_file('/data/notes/a.txt', 'two' + chr(10)))") == "(1, 1, 1)"
    assert (platform.directory / "data" / "notes" / "a.txt").read_text() == "one\ntwo\n"
    assert ann.py("write_file('/data/notes/a.txt', 'new', 1); _ = read_file('/data/notes/a.txt')") == "'new'"
    assert ann.py("_ = (get_dir('/data/notes/'), get_dir('/data/notes/*.txt'), "
                  "get_dir('/data/notes/a.txt', 3), get_dir('/data/notes/*.md'))") == \
        "(['a.txt'], ['a.txt'], ['a.txt', 3], [])"
    assert "player.py" in ann.py("_ = get_dir('/')")
    assert ann.py("_ = (rm('/data/notes/a.txt'), rm('/data/notes/a.txt'), "
                  "read_file('/data/notes/a.txt'), rmdir('/data/notes'))") == "(1, 0, None, 1)"
    for path in ("/../config.yaml", "/data/../../x", "../../etc/passwd"):
        assert "outside the mudlib" in ann.py_error(f"read_file({path!r})")
    # a symbolic link out of the mudlib is refused too
    (platform.directory / "data" / "link").symlink_to("/etc")
    assert "outside the mudlib" in ann.py_error("read_file('/data/link/hostname')")
    assert "bad file name" in ann.py_error("read_file('')")


def test_rename_and_copy_file_answer_as_ldmud_does(platform):
    """0 for success and 1 for failure; into a directory that exists; and
    the master is asked for both names."""
    ann = connect(platform, "ann")
    data = platform.directory / "data"
    assert "write access to /data/a.txt denied" in ann.py_error("rename('/data/a.txt', '/data/b')")
    assert "read access" in ann.py_error("copy_file('/room.py', '/data/room.py')")
    ann.line("wiz", "WIZ")
    ann.py("write_file('/data/a.txt', 'alpha'); mkdir('/data/box')")
    assert ann.py("_ = (copy_file('/data/a.txt', '/data/b.txt'), rename('/data/b.txt', '/data/c.txt'), "
                  "rename('/data/c.txt', '/data/box'), copy_file('/data/a.txt', '/data/box'))") \
        == "(0, 0, 0, 0)"
    assert sorted(p.name for p in (data / "box").iterdir()) == ["a.txt", "c.txt"]
    assert (data / "box" / "c.txt").read_text() == "alpha" and not (data / "b.txt").exists()
    assert ann.py("_ = (rename('/data/none', '/data/x'), copy_file('/data/none', '/data/x'), "
                  "copy_file('/data/box', '/data/x'), rename('/data/box', '/data/box/inner'), "
                  "rename('/data', '/data/elsewhere'), copy_file('/data/a.txt', '/data/a.txt'))") \
        == "(1, 1, 1, 1, 1, 1)"
    assert ann.py("_ = (rename('/data/box', '/data/crate'), file_size('/data/crate/a.txt'))") \
        == "(0, 5)"
    assert ann.py("_ = copy_file('/room.py', '/data/room.py')") == "0"   # mudlib to data
    assert (data / "room.py").read_text().startswith('"""/room:')
    assert "outside the mudlib" in ann.py_error("rename('/data/a.txt', '/../a.txt')")
    assert (data / "a.txt").exists()


def test_privileged_efuns_need_the_master(platform):
    ann = connect(platform, "ann")
    _bob = connect(platform, "bob")  # held, so that bob stays connected for users()
    mark = platform.log_mark()
    assert "shutdown: privilege violation" in ann.py_error("shutdown('no')")
    platform.wait_for_log(r"PRIVILEGE shutdown caller=/player#\d+ allowed=False", start=mark)
    assert "exec: refused" in ann.py_error("exec(clone_object('/player'), me)")
    # users, interactive, query_once_interactive, query_idle
    assert ann.py("_ = sorted(o.query_name() for o in users())") == "['ann', 'bob']"
    assert ann.py("n = clone_object('/npc'); _ = (interactive(me), interactive(n), "
                  "query_once_interactive(me), query_once_interactive(n), "
                  "0 <= query_idle(find_living('bob')) < 60)") == "(True, False, True, False, True)"
    assert "not interactive" in ann.py_error("query_idle(clone_object('/npc'))")
    # a wizard may
    ann.line("wiz", "WIZ")
    ann.send_line("py shutdown('test over')")
    platform.wait_for_log(r"shutting down: test over")
    assert platform.process.wait(TIMEOUT) == 0
