"""Every apply and callback the driver calls through the arity adapter
(``objects.accepted_arguments``, by way of ``objects.run_apply`` or
directly), written the LPC way, with fewer parameters than the driver
passes: each runs, and what it does is seen.

The call sites, and what each passes:

    world/interactive.py    logon()                      connect() path, net_connect success
                            logon(result, ob)            after the handshake connect() started
                            logon(-1)                    after a failed net_connect
                            TLS callback(result, ob, *extra)
                            input_to handler(line, *extra)
                            master disconnect(ob, how)
    world/client_applies.py master telnet_neg(ob, command, option, data)
                            receive_gmcp(package, data)
    world/errors.py         master runtime_error(message, where, traceback, player)
    world/timers.py         master heart_beat_error(culprit, error)
    world/commands.py       master fallback_command(command, player)
    world/permissions.py    master privilege_violation(operation, caller, *args),
                            valid_exec(program, new, old), valid_snoop(snooper, snoopee),
                            valid_read / valid_write(path, caller, efun),
                            prepare_destruct(ob) (asked by the destruct efun)
    game.py                 master tls_configure(context, side)

``logon()`` on the connect() path and after a successful net_connect is
passed nothing, so it has nothing to drop; every other one is tested here
against a running driver with the test mudlib tests/mudlib_arity, whose
applies declare fewer parameters (tests/test_ldmud_fidelity.py has
``logon()`` on the TLS port for an LDMud-style player, a callback declaring
only the result, and the adapter as a unit).
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest

from conftest import Client, start_driver
from mudclient import DO, GMCP, WILL, TelnetPeer, iac, sb

ARITY_MUDLIB = Path(__file__).resolve().parent / "mudlib_arity"

#: Options the test master answers itself (DO) or leaves to the driver (DONT).
PRIVATE_OPTION = 200
UNHANDLED_OPTION = 199


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    # A copy: a test whose permission apply failed to refuse must not write
    # into the repository.
    directory = tmp_path_factory.mktemp("arity")
    mudlib = directory / "mudlib"
    shutil.copytree(ARITY_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    driver = start_driver(directory, certs, mudlib=mudlib,
                          mudlib_extra="  heart_beat_interval: 0.1\n")
    yield driver
    driver.stop()


def enter(world) -> tuple[TelnetPeer, str]:
    """A player on the telnet port, past its logon(): (peer, object name)."""
    peer = TelnetPeer(world.telnet_port)
    peer.wait_text("WELCOME ")
    name = re.search(r"WELCOME (\S+) state=0", peer.text).group(1)
    return peer, name


def logged_since(world, mark: int) -> str:
    return "\n".join(world.lines[mark:])


def no_argument_errors(world, mark: int) -> None:
    """Had the adapter passed a surplus argument, Python would have said so."""
    logged = logged_since(world, mark)
    assert "TypeError" not in logged and "positional argument" not in logged, logged


# --- logon, TLS callbacks, input_to handlers ----------------------------------------------

def test_logon_after_the_handshake_connect_started_takes_nothing(world, certs):
    """logon(result, ob) is due; logon(self) runs, once the connection is secure."""
    mark = world.log_mark()
    peer = TelnetPeer(world.tls_port)
    peer.start_tls(certs.client_context())
    peer.finish_tls()
    peer.wait_text("WELCOME ")
    assert re.search(r"WELCOME /player#\d+ state=1\r\n", peer.text), peer.text
    world.wait_for_log(r"ARITY logon /player#\d+ state=1", start=mark)
    no_argument_errors(world, mark)
    peer.close()


def test_logon_after_a_failed_net_connect_takes_nothing(world):
    """logon(-1) is due; logon(self) runs, on an object still without a connection."""
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    peer, _ = enter(world)
    mark = world.log_mark()
    link = peer.run(f"dial {closed_port}", "DIALLING ").split()[1]
    world.wait_for_log(rf"net_connect to 127.0.0.1 port {closed_port} for {re.escape(link)} failed",
                       start=mark)
    world.wait_for_log(rf"ARITY link logon {re.escape(link)} interactive=0", start=mark)
    no_argument_errors(world, mark)
    peer.close()


def test_a_tls_callback_that_takes_nothing(world, certs):
    """fun(result, ob, "extra") is due; secured(self) runs after the handshake."""
    peer, _ = enter(world)
    mark = world.log_mark()
    peer.send_line("secure")
    peer.wait_text("GO AHEAD\r\n")
    peer.start_tls(certs.client_context())
    peer.finish_tls()
    peer.wait_text("SECURED state=1")
    no_argument_errors(world, mark)
    peer.close()


@pytest.mark.parametrize("command, reply", [
    ("ask-bare", "ANSWER_BARE ran"),                # handler(self): line and extra dropped
    ("ask-line", "ANSWER_LINE hello there"),        # handler(self, line): the extras dropped
])
def test_input_to_handlers_take_what_they_declare(world, command, reply):
    peer, _ = enter(world)
    mark = world.log_mark()
    assert peer.run(command, "ASKED") == "ASKED"
    prefix = reply.split()[0] + " "
    assert peer.run("hello there", prefix) == reply
    # The handler took the line: it is no command.
    assert "What?" not in peer.text and "FALLBACK" not in peer.text
    no_argument_errors(world, mark)
    peer.close()


def test_an_action_that_takes_no_argument(world):
    peer, _ = enter(world)
    mark = world.log_mark()
    assert peer.run("bare with words", "BARE ") == "BARE ran"  # the argument is dropped
    no_argument_errors(world, mark)
    peer.close()


def test_a_call_out_function_that_takes_fewer_arguments(world):
    peer, _ = enter(world)
    mark = world.log_mark()
    assert peer.run("later", "TOCK ") == "TOCK ran"  # call_out's "surplus" is dropped
    no_argument_errors(world, mark)
    peer.close()


# --- connection events: disconnect, telnet_neg, receive_gmcp ---------------------------------

def test_disconnect_that_takes_only_the_object(world):
    """disconnect(ob, how) is due; disconnect(self, ob) destructs the player."""
    peer, name = enter(world)
    mark = world.log_mark()
    peer.close()
    world.wait_for_log(rf"ARITY disconnect {re.escape(name)}$", start=mark)
    world.wait_for_log(r"ARITY prepare_destruct", start=mark)  # its destruct() went ahead
    no_argument_errors(world, mark)


def test_telnet_neg_without_the_data(world):
    """telnet_neg(ob, command, option, data) is due; (ob, command, option) answers."""
    peer, name = enter(world)
    mark = world.log_mark()
    peer.send(iac(WILL, PRIVATE_OPTION))
    peer.wait_command(("DO", PRIVATE_OPTION))          # the master's own answer
    world.wait_for_log(rf"ARITY telnet_neg {re.escape(name)} {WILL} {PRIVATE_OPTION}$", start=mark)
    peer.send(iac(WILL, UNHANDLED_OPTION))
    peer.wait_command(("DONT", UNHANDLED_OPTION))      # it returned false: the driver refuses
    world.wait_for_log(rf"ARITY telnet_neg {re.escape(name)} {WILL} {UNHANDLED_OPTION}$",
                       start=mark)
    assert ("DONT", PRIVATE_OPTION) not in peer.commands
    no_argument_errors(world, mark)
    peer.close()


def test_receive_gmcp_without_the_data(world):
    """receive_gmcp(package, data) is due; receive_gmcp(self, package) answers."""
    peer, name = enter(world)
    peer.send(iac(DO, GMCP))
    mark = world.log_mark()
    peer.send(sb(GMCP, b'Arity.Ping {"n": 1}'))
    peer.wait_command(("SB", GMCP, b'Arity.Heard {"package":"Arity.Ping"}'))
    world.wait_for_log(rf"ARITY receive_gmcp {re.escape(name)} Arity.Ping$", start=mark)
    no_argument_errors(world, mark)
    peer.close()


# --- the master's permission applies --------------------------------------------------------

@pytest.mark.parametrize("command, reply, operation", [
    ("bans", "BANS 0", "query_bans"),
    ("shutdown", "REFUSED shutdown: privilege violation: {player} may not do this", "shutdown"),
])
def test_privilege_violation_that_takes_only_the_operation(world, command, reply, operation):
    """privilege_violation(op, caller, *args) is due; (op) decides by the operation."""
    peer, name = enter(world)
    mark = world.log_mark()
    prefix = reply.split()[0] + " "
    assert peer.run(command, prefix) == reply.format(player=name)
    world.wait_for_log(rf"ARITY privilege_violation {operation}$", start=mark)
    no_argument_errors(world, mark)
    peer.close()


def test_valid_exec_that_takes_only_the_program(world):
    """valid_exec(program, new, old) is due; valid_exec(self, program) allows /player."""
    peer, _ = enter(world)
    mark = world.log_mark()
    new = peer.run("exec", "EXEC ").split()[1]
    world.wait_for_log(r"ARITY valid_exec /player$", start=mark)
    assert peer.run("whoami", "WHOAMI ") == f"WHOAMI {new}"  # the connection moved
    no_argument_errors(world, mark)
    peer.close()


def test_valid_snoop_that_takes_only_the_snooper(world):
    """valid_snoop(snooper, snoopee) is due; valid_snoop(self, snooper) allows."""
    watcher, watcher_name = enter(world)
    watched, watched_name = enter(world)
    mark = world.log_mark()
    assert watcher.run(f"snoop {watched_name}", "SNOOP ") == "SNOOP 1"
    world.wait_for_log(rf"ARITY valid_snoop {re.escape(watcher_name)}$", start=mark)
    watched.send_line("whoami")
    watcher.wait_text("% whoami")
    no_argument_errors(world, mark)
    watcher.close()
    watched.close()


def test_valid_write_that_takes_only_the_path(world):
    """valid_write(path, caller, efun) is due; valid_write(self, path) allows /data only."""
    peer, _ = enter(world)
    mark = world.log_mark()
    assert peer.run("write /data/kept.txt kept", "WRITE ") == "WRITE 1"
    world.wait_for_log(r"ARITY valid_write /data/kept.txt$", start=mark)
    assert peer.run("write /scribble.txt lost", "REFUSED ") == \
        "REFUSED write_file: write access to /scribble.txt denied"
    world.wait_for_log(r"ARITY valid_write /scribble.txt$", start=mark)
    no_argument_errors(world, mark)
    peer.close()


def test_valid_read_that_takes_only_the_path(world):
    """valid_read(path, caller, efun) is due; valid_read(self, path) rewrites a path."""
    peer, _ = enter(world)
    assert peer.run("write /data/note.txt hello note", "WRITE ") == "WRITE 1"
    mark = world.log_mark()
    assert peer.run("read /alias.txt", "READ ") == "READ hello note"
    world.wait_for_log(r"ARITY valid_read /alias.txt$", start=mark)
    no_argument_errors(world, mark)
    peer.close()


def test_prepare_destruct_that_takes_nothing(world):
    """prepare_destruct(ob) is due; prepare_destruct(self) runs, and the destruct goes on."""
    peer, name = enter(world)
    mark = world.log_mark()
    reply = peer.run("junk", "JUNK ")
    assert re.fullmatch(r"JUNK /thing#\d+ gone=True", reply), reply
    world.wait_for_log(rf"ARITY prepare_destruct this_player={re.escape(name)}$", start=mark)
    no_argument_errors(world, mark)
    peer.close()


# --- errors and commands nobody took ----------------------------------------------------------

def test_runtime_error_that_takes_only_the_message(world):
    """runtime_error(message, where, traceback, player) is due; (message) tells the player."""
    peer, _ = enter(world)
    mark = world.log_mark()
    assert peer.run("fail", "RUNTIME ") == "RUNTIME ValueError: arity boom"
    world.wait_for_log(r"ARITY runtime_error ValueError: arity boom$", start=mark)
    # The master took the report: the driver's own words are not added.
    assert "Something went wrong" not in peer.text
    no_argument_errors(world, mark)
    peer.close()


def test_heart_beat_error_that_takes_only_the_culprit(world):
    """heart_beat_error(culprit, error) is due; (culprit) keeps the heart beat on."""
    peer, _ = enter(world)
    mark = world.log_mark()
    ticker = re.escape(peer.run("tick", "TICKING ").split()[1])
    world.wait_for_log(rf"TICK 1 {ticker}$", start=mark)
    world.wait_for_log(rf"ARITY heart_beat_error {ticker}$", start=mark)
    world.wait_for_log(rf"{ticker}: heart beat kept after an error", start=mark)
    world.wait_for_log(rf"TICK 2 {ticker}$", start=mark)     # only because the apply said so
    no_argument_errors(world, mark)
    peer.close()


def test_fallback_command_that_takes_only_the_command(world):
    """fallback_command(command, player) is due; (command) takes the line."""
    peer, _ = enter(world)
    mark = world.log_mark()
    assert peer.run("xyzzy plugh", "FALLBACK ") == "FALLBACK xyzzy plugh"
    world.wait_for_log(r"ARITY fallback_command xyzzy plugh$", start=mark)
    # A line it declines falls through to the driver's "What?".
    assert peer.run("frobnicate", "What?") == "What?"
    no_argument_errors(world, mark)
    peer.close()


# --- the TLS contexts ---------------------------------------------------------------------------

def test_tls_configure_that_takes_only_the_context(world, certs):
    """tls_configure(context, side) is due; tls_configure(self, context) adds ALPN."""
    world.wait_for_log(r"ARITY tls_configure SSLContext$")
    context = certs.client_context()
    context.set_alpn_protocols(["arity"])
    client = Client.tls(world.tls_port, context)
    try:
        client.read_until("WELCOME ")
        # The server offers ALPN only because the master's tls_configure set it.
        assert client.sock.selected_alpn_protocol() == "arity"
    finally:
        client.close()
    no_argument_errors(world, 0)
