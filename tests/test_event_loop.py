"""The driver on uvloop's event loop (``server.event_loop: uvloop``), and
the choice of loop.

The same driver, the same worlds, the same clients as the rest of the
suite, over real sockets and real TLS: only the event loop under the driver
changes.  The default (``auto``) runs uvloop wherever it can be
imported, so the rest of the suite runs on it too, unless
``MUD_TEST_EVENT_LOOP=asyncio`` puts every other test file on asyncio's
loop (``conftest.py``).  Each test here starts its drivers on uvloop by
name, so this file checks uvloop whatever ``MUD_TEST_EVENT_LOOP`` says.
Here: logging in on the plain, TLS and web ports; no cyclic garbage left
by closed connections; STARTTLS and tls_deinit_connection; the evaluation
limit's SIGALRM; SIGHUP and a clean shutdown; and the configuration that
chooses the loop (the default, and ``auto`` without uvloop).  Tests whose
subject the loop itself touches elsewhere run on both loops where they are
(``EVENT_LOOPS``: the TLS client that never reads, the send timeout and TCP
keepalive in test_fair.py, the per-address limit at accept in
test_admission.py).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, SHIPPED_MUDLIB, TEST_MUDLIB, TIMEOUT, Client, start_driver, strip_telnet
from test_collector import PROBE
from test_collector import \
    test_players_who_quit_or_vanish_leave_no_cyclic_garbage as players_leave_no_cyclic_garbage
from test_config import assert_refused, run_driver, shipped_settings, write_settings
from test_platform import PLATFORM_MUDLIB, connect as platform_player
from test_tls_efuns import (Clients, deinit_to_plaintext, fields, read_to_close_notify,
                            wait_line)
from test_world import create_character, do, tls_player
from webclient import WebSocketPlayer

UVLOOP = "uvloop"


# --- the shipped world on uvloop: telnet, TLS and the web port --------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("uvloop-world"), certs, mudlib=SHIPPED_MUDLIB,
                          event_loop=UVLOOP, args=("--web-port", "0"))
    driver.web_port = int(driver.wait_for_log(r", web on [^:]+:(\d+)").group(1))
    yield driver
    driver.stop()


def test_the_loop_in_use_is_logged_before_the_ports(world):
    loop_line = next(i for i, line in enumerate(world.lines) if "event loop: " in line)
    listening = next(i for i, line in enumerate(world.lines) if "listening: " in line)
    assert loop_line < listening
    assert "event loop: uvloop 0." in world.lines[loop_line]


def test_a_plain_telnet_player_logs_in_and_plays(world):
    player = Client.plain(world.telnet_port)
    text = player.read_until("What is your name? ")
    assert "R  A  V  E  N  M  O  O  R" in text
    create_character(player, "Tamsin")
    assert "You say: heard on uvloop" in do(player, "say heard on uvloop")
    player.send_line("quit")
    player.wait_closed()


def test_a_tls_port_player_is_secured_by_the_master_and_plays(world, certs):
    """The shipped master calls tls_init_connection() on the TLS port."""
    player = tls_player(world, certs)
    text = player.read_until("What is your name? ")
    assert "Your connection is encrypted (TLSv1.3, " in text
    create_character(player, "Osric")
    assert "TLSv1.3" in do(player, "tls")
    player.send_line("quit")
    # Ends with close_notify: a cut without it raises (suppress_ragged_eofs=False).
    read_to_close_notify(player.sock)


def test_a_websocket_player_on_the_web_port_plays_with_a_telnet_player(world, certs):
    listener = tls_player(world, certs)
    listener.read_until("What is your name? ")
    create_character(listener, "Wendel")

    web = WebSocketPlayer(world.web_port, certs.client_context())
    assert web.hello is not None and web.hello["secure"] is True, web.hello
    assert web.hello["protocol"] == "TLSv1.3"
    web.read_until("What is your name? ")
    web.command("Brisa", "[y/n] ")
    web.command("y", "characters): ")
    web.command("salt-and-heather", "Type it again: ")
    web.command("salt-and-heather", "> ")
    assert "You say: over the websocket" in web.command("say over the websocket", "websocket")
    assert "Brisa says: over the websocket" in listener.read_until("over the websocket")
    web.close()
    assert web.close_code == 1000
    listener.close()


def test_players_who_leave_leave_no_cyclic_garbage(make_driver, certs):
    """uvloop's transports too must not keep a closed connection in a cycle
    (it would never be freed from the collector's frozen generation)."""
    players_leave_no_cyclic_garbage(make_driver(mudlib=SHIPPED_MUDLIB, event_loop=UVLOOP,
                                                env={"PYTHONPATH": str(PROBE)}), certs)


# --- STARTTLS and tls_deinit_connection (the test mudlib) ---------------------------------

@pytest.fixture(scope="module")
def efun_driver(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("uvloop-efuns"), certs, mudlib=TEST_MUDLIB,
                          event_loop=UVLOOP, env={"TEST_TLS_MODE": "deferred"})
    yield driver
    driver.stop()


@pytest.fixture
def clients(certs):
    opened = Clients(certs)
    yield opened
    opened.close_all()


def test_tls_port_logon_gets_the_handshake_result(efun_driver, clients):
    """The test master's bare tls_init_connection(): logon(0, ob) once it is done."""
    player = clients.tls(efun_driver, logon=False)
    values = fields(wait_line(player.client, "LOGON "))
    assert values["args"] == f"(0, '{values['me']}')", values
    assert player.run("state", "STATE ") == "STATE 1"
    info = json.loads(player.run("info", "INFO ")[len("INFO "):])
    assert info["prot"] == "TLSv1.3", info


def test_starttls_deinit_and_starttls_again_on_one_connection(efun_driver, clients):
    """Plain, secure (tls_init_connection mid-session), plain again
    (tls_deinit_connection: close_notify, then plaintext), secure again."""
    player = clients.upgrade(clients.plain(efun_driver), "starttls name")
    assert fields(wait_line(player.client, "CALLBACK "))["result"] == "0"
    assert player.run("state", "STATE ") == "STATE 1"
    plain_again = deinit_to_plaintext(player)
    assert plain_again.run("echo in the clear", "ECHO ") == "ECHO in the clear"
    again = clients.upgrade(plain_again, "starttls path")
    assert fields(wait_line(again.client, "CALLBACK "))["result"] == "0"
    assert again.run("echo secure again", "ECHO ") == "ECHO secure again"


# --- the evaluation limit and signals -------------------------------------------------------

def test_a_runaway_loop_is_stopped_by_the_evaluation_limit(make_driver):
    """SIGALRM (signal.signal, not the loop's handler) interrupts mudlib code on uvloop."""
    driver = make_driver(mudlib=PLATFORM_MUDLIB, tls_port=None, certs_=None, event_loop=UVLOOP,
                         mudlib_extra="  eval_time_limit: 0.3\n")
    ann = platform_player(driver, "ann")
    answer = ann.line("spin", "RUNTIME-ERROR")
    assert answer.startswith("RUNTIME-ERROR EvaluationTimeout: evaluation took longer than")
    assert ann.line("ring bell", "RING") == "RING"


def test_sighup_reloads_and_sigterm_shuts_down_cleanly(tmp_path, certs):
    driver = start_driver(tmp_path, certs, mudlib=SHIPPED_MUDLIB, event_loop=UVLOOP,
                          args=("--web-port", "0"))
    try:
        web_port = int(driver.wait_for_log(r", web on [^:]+:(\d+)").group(1))
        secure = tls_player(driver, certs)
        secure.read_until("What is your name? ")
        create_character(secure, "Hestia")
        web = WebSocketPlayer(web_port, certs.client_context())
        web.read_until("What is your name? ")

        mark = driver.log_mark()
        driver.process.send_signal(signal.SIGHUP)
        driver.wait_for_log(r"SIGHUP: TLS certificates reloaded", start=mark)
        assert "Hestia" in do(secure, "who")  # reloading disturbed nobody

        driver.process.send_signal(signal.SIGTERM)
        # The TLS player is told, saved, and gets close_notify (a cut without
        # it raises: suppress_ragged_eofs=False); the web client hears 1001.
        goodbye = strip_telnet(read_to_close_notify(secure.sock)).decode()
        assert "Your character has been saved." in goodbye
        assert web.wait_close_frame() == 1001
        assert driver.process.wait(TIMEOUT) == 0
        driver.wait_for_log(r"driver stopped \(SIGTERM\)")
        assert (tmp_path / "data" / "players" / "hestia.json").is_file()
        assert "Traceback" not in driver.log
    finally:
        driver.stop()


# --- choosing the loop --------------------------------------------------------------------------

def test_the_default_loop_is_uvloop_where_it_can_be_imported(make_driver, certs, tmp_path):
    driver = make_driver(event_loop=None)
    assert "event loop: uvloop 0." in driver.log
    config = write_settings(tmp_path, shipped_settings(certs, tmp_path / "data"))
    for chosen, expected in (((), "event loop: uvloop 0."),
                             (("--event-loop", "auto"), "event loop: uvloop 0."),
                             (("--event-loop", "asyncio"), "event loop: asyncio (")):
        result = run_driver("--config", str(config), "--check-config", *chosen, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout, (chosen, result.stdout)


def _without_uvloop(tmp_path) -> dict:
    """An environment whose Python cannot import uvloop (a module of that
    name, first on the path, that fails as an absent one does)."""
    shadow = tmp_path / "no-uvloop"
    shadow.mkdir(exist_ok=True)
    (shadow / "uvloop.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'uvloop'\", name='uvloop')\n")
    return {"PYTHONPATH": str(shadow)}


def test_auto_runs_on_asyncio_where_uvloop_cannot_be_imported(make_driver, certs, tmp_path):
    """The default on a Python without uvloop: the game runs, on asyncio's
    loop, and the log and --check-config say why it is not uvloop."""
    without = _without_uvloop(tmp_path)
    driver = make_driver(mudlib=TEST_MUDLIB, event_loop="auto", env=without)
    assert "event loop: asyncio (" in driver.log
    assert "uvloop cannot be imported (No module named 'uvloop')" in driver.log
    player = Client.plain(driver.telnet_port)
    try:
        player.read_until("LOGON")
    finally:
        player.close()
    config = write_settings(tmp_path, shipped_settings(certs, tmp_path / "data"))
    result = subprocess.run([sys.executable, str(ROOT / "driver.py"), "--config", str(config),
                             "--check-config"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=TIMEOUT,
                            env={**without, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "event loop: asyncio (" in result.stdout
    assert "uvloop cannot be imported (No module named 'uvloop')" in result.stdout


@pytest.mark.parametrize("value", ["nonsense", "UVLOOP", 1, None])
def test_an_unknown_event_loop_is_refused_in_one_line(certs, tmp_path, value):
    settings = shipped_settings(certs, tmp_path / "data")
    settings["server"]["event_loop"] = value
    config = write_settings(tmp_path, settings)
    line = assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path),
                          "server.event_loop", "auto, asyncio or uvloop")
    assert repr(value) in line


def test_the_command_line_chooses_the_loop_and_is_checked(certs, tmp_path):
    config = write_settings(tmp_path, shipped_settings(certs, tmp_path / "data"))
    result = run_driver("--config", str(config), "--check-config", "--event-loop", "uvloop",
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_refused(run_driver("--config", str(config), "--check-config", "--event-loop", "libuv",
                              cwd=tmp_path), "server.event_loop", "'libuv'")


def test_uvloop_chosen_but_not_importable_is_a_configuration_error(certs, tmp_path):
    """A Python where ``import uvloop`` fails (``_without_uvloop``)."""
    without = _without_uvloop(tmp_path)
    settings = shipped_settings(certs, tmp_path / "data")
    settings["server"].update(event_loop="uvloop", telnet_port=0, tls_port=0)
    config = write_settings(tmp_path, settings)
    for extra in (("--check-config",), ()):
        result = subprocess.run([sys.executable, str(ROOT / "driver.py"), "--config", str(config),
                                 *extra], cwd=tmp_path, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=TIMEOUT,
                                env={**without, "PATH": "/usr/bin:/bin"})
        line = assert_refused(result, "server.event_loop", "uvloop cannot be imported",
                              "No module named 'uvloop'", "event_loop: asyncio")
        assert line.startswith("driver.py: configuration error: ")
