"""Where the contract (docs/efuns.md) is silent, the driver does what LDMud
does: one test per behaviour, against a running driver with real TLS
clients.

* A pending TLS callback is dropped unrun when the driver itself closes the
  connection (destruct of the player, ``remove_interactive``), as LDMud's
  ``remove_interactive`` drops it; it is not told "the peer closed".
* ``exec()`` inside ``master.connect()`` hands the connection away: the
  driver calls no ``logon()`` (LDMud's ``new_player`` returns).
* ``connect()`` returning an object that already has a connection closes
  the new one.
* A callback skipped because its object is gone (or its method does not
  exist) still leaves the player a prompt.
* Applies and callbacks get only the arguments they declare, as LPC
  functions do: ``def logon(self):`` works on the TLS port.
* ``tls_check_certificate(ob, 1)``: element 2 in the layout of LDMud's
  OpenSSL build.
* A prompt given to ``set_prompt`` as a callable is called each time it is
  printed (LDMud's closure prompts); when it returns no string, or fails,
  no prompt is printed.

And what the efun pages promise a mudlib author who knows LDMud: what
``binary_message``'s flags mean here, and the log line ``debug_message``
writes.

The test mudlib and its clients are those of test_tls_efuns.py.
"""

from __future__ import annotations

import json
import re
import sys

import pytest
from cryptography import x509

from conftest import ROOT, Client
from test_tls_efuns import (  # noqa: F401 - clients, driver, driver_in_mode are fixtures
    Player,
    clients,
    driver,
    driver_in_mode,
    fields,
    find_line,
    wait_line,
)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from driver import efuns as driver_efuns  # noqa: E402
from driver.world.objects import accepted_arguments  # noqa: E402

SUBJECT_ALT_NAME = "2.5.29.17"


def logged_between(driver, start: int, end: int) -> str:
    return "\n".join(driver.lines[start:end])


# --- the driver closing a connection drops its pending callback ----------------------

@pytest.mark.parametrize("how", ["destruct", "remove"])
def test_closing_during_a_handshake_drops_the_callback_unrun(driver, clients, how):
    """destruct(player) or remove_interactive(player) while handshaking: no cb(-2, ...)."""
    bystander = clients.plain(driver)
    player = clients.plain(driver)
    player.wait_prompt()
    mark = driver.log_mark()
    player.client.raw.clear()
    player.client.send_line(f"starttls-then {how}")
    player.client.read_until("GO AHEAD\r\n")
    driver.wait_for_log(rf"THEN {how} {re.escape(player.name)} state=-1", start=mark)
    # The driver closes; the handshake never got a ClientHello.
    player.client.wait_closed()
    end = bystander.sync_log(driver)
    logged = logged_between(driver, mark, end)
    assert "CALLBACK" not in logged, logged
    assert "error in" not in logged, logged
    assert bystander.run("echo unaffected", "ECHO ") == "ECHO unaffected"


# A peer that leaves mid-handshake is still reported (-2): that is
# test_tls_efuns.py::test_peer_leaving_during_a_world_side_handshake.


# --- exec() inside connect() -----------------------------------------------------------

@pytest.mark.parametrize("port", ["telnet", "tls"])
def test_exec_inside_connect_means_no_logon(driver_in_mode, clients, certs, port):
    driver = driver_in_mode("exec")
    mark = driver.log_mark()
    if port == "tls":
        client = clients.keep(Client.tls(driver.tls_port, certs.client_context()))
    else:
        client = clients.keep(Client.plain(driver.telnet_port))
    match = driver.wait_for_log(rf"CONNECT (\S+) port={port} mode=exec result=(\S+) state=(-?\d+)",
                                start=mark)
    name = match.group(1)
    if port == "tls":
        # exec() carried the running handshake to the player...
        assert int(match.group(2)) > 0 and match.group(3) == "-1", match.group(0)
    player = Player(client, name)
    # ...which owns the connection now, and was never given logon() or a prompt.
    assert player.run("whoami", "WHOAMI ", keep=True) == f"WHOAMI {name}"
    assert client.text.split("WHOAMI")[0].strip() == "", client.text
    end = player.sync_log(driver)
    assert f"me={name} " not in logged_between(driver, mark, end)
    assert player.run("state", "STATE ") == f"STATE {1 if port == 'tls' else 0}"


def test_connect_returning_an_object_with_a_connection_closes_the_new_one(driver_in_mode, clients):
    driver = driver_in_mode("steal")
    first = clients.plain(driver)
    mark = driver.log_mark()
    second = clients.keep(Client.plain(driver.telnet_port))
    driver.wait_for_log(r"already has a connection; closing", start=mark)
    second.wait_closed()
    # The first connection still belongs to its object, and gets its answers.
    assert first.run("whoami", "WHOAMI ") == f"WHOAMI {first.name}"


# --- a skipped callback, and the prompt ------------------------------------------------

@pytest.mark.parametrize("command", ["starttls-destructed name", "starttls-destructed callable",
                                     "starttls missing"])
def test_a_skipped_callback_still_leaves_a_prompt(driver, clients, command):
    player = clients.upgrade(clients.plain(driver), command)
    text = player.wait_prompt()
    assert "INIT " in text and "CALLBACK" not in text, text
    assert text.count("> ") == 1, text
    assert player.run("state", "STATE ") == "STATE 1"


# --- prompts given as callables ------------------------------------------------------------

def test_a_callable_prompt_is_called_each_time_it_is_printed(driver, clients):
    player = clients.plain(driver)
    assert player.run("prompt counting", "PROMPT ") == "PROMPT counting old=>"
    assert player.wait_prompt().endswith("\r\n[1]> "), player.client.text
    player.run("echo again", "ECHO ")
    assert player.wait_prompt().endswith("ECHO again\r\n[2]> "), player.client.text
    assert player.run("prompt plain", "PROMPT ") == "PROMPT plain old=callable"
    assert player.wait_prompt().endswith("PROMPT plain old=callable\r\n> ")


@pytest.mark.parametrize("kind", ["silent", "failing"])
def test_a_callable_prompt_without_a_string_prints_none(driver, clients, kind):
    player = clients.plain(driver)
    mark = driver.log_mark()
    player.run(f"prompt {kind}", "PROMPT ")
    player.run("echo quiet", "ECHO ", keep=True)
    player.run("prompt plain", "PROMPT ", keep=True)
    text = player.wait_prompt()
    assert "> " not in text[:-2], text  # the only prompt: the one "prompt plain" left
    if kind == "failing":
        driver.wait_for_log(r"error in .*prompt: this prompt is broken", start=mark)
    assert player.run("echo still here", "ECHO ") == "ECHO still here"


# --- applies get the arguments they declare ----------------------------------------------

def test_a_logon_without_parameters_on_the_tls_port(driver_in_mode, clients):
    driver = driver_in_mode("bare-logon")
    mark = driver.log_mark()
    player = clients.tls(driver, logon=False)
    line = wait_line(player.client, "BARE LOGON ")
    name = driver.wait_for_log(r"BARE LOGON (\S+)", start=mark).group(1)
    assert fields(line) == {"this_player": name}, line
    assert player.wait_prompt().endswith("> ")
    assert player.run("hello", "BARE ECHO ") == "BARE ECHO hello"
    assert "error in" not in "\n".join(driver.lines[mark:])


def test_a_callback_that_declares_only_the_result(driver, clients):
    player = clients.upgrade(clients.plain(driver), "starttls short")
    line = wait_line(player.client, "SHORT CALLBACK ")
    assert fields(line) == {"result": "0", "this_player": player.name}, line
    assert player.wait_prompt().endswith("> ")


class _Shapes:
    def none(self):
        pass

    def two(self, a, b=None):
        pass

    def many(self, a, *rest):
        pass

    @classmethod
    def klass(cls, a):
        pass

    @staticmethod
    def static(a, b):
        pass

    def __call__(self, a):
        pass


def test_accepted_arguments_keeps_the_leading_ones_each_shape_can_take():
    shapes = _Shapes()
    args = (1, 2, 3)
    assert accepted_arguments(shapes.none, args) == ()
    assert accepted_arguments(shapes.two, args) == (1, 2)
    assert accepted_arguments(shapes.two, (1,)) == (1,)  # nothing is made up
    assert accepted_arguments(shapes.many, args) == args
    assert accepted_arguments(shapes.klass, args) == (1,)
    assert accepted_arguments(shapes.static, args) == (1, 2)
    assert accepted_arguments(shapes, args) == (1,)
    assert accepted_arguments(lambda result, ob, *extra: None, args) == args
    assert accepted_arguments(lambda: None, args) == ()
    assert accepted_arguments(print, args) == args  # no signature to read: everything


# --- exec under a second name ------------------------------------------------------------

def test_exec_interactive_is_exec():
    assert driver_efuns.exec_interactive is driver_efuns.exec
    assert "exec_interactive" in driver_efuns.__all__ and "exec" in driver_efuns.__all__


# --- tls_check_certificate(ob, 1) in LDMud's layout --------------------------------------

def triples(flat: list) -> list[tuple]:
    assert len(flat) % 3 == 0, flat
    return [tuple(flat[i:i + 3]) for i in range(0, len(flat), 3)]


def test_certificate_extensions_in_ldmuds_layout(driver, clients, certs):
    cert_file, key_file = certs.issue_client_certificate("carol")
    context = certs.client_context()
    context.load_cert_chain(cert_file, key_file)
    player = clients.tls(driver, context)
    report = json.loads(player.run("cert1", "CERT ").split(" ", 1)[1])
    assert len(report) == 3 and report[0] == 0
    presented = x509.load_pem_x509_certificate(cert_file.read_bytes())
    extensions = triples(report[2])
    # One (oid, long name, value) per extension, in certificate order; only
    # subjectAltName is filled in, every other extension is 0, 0, 0.
    assert len(extensions) == len(presented.extensions)
    for extension, (oid, name, value) in zip(presented.extensions, extensions):
        if extension.oid.dotted_string == SUBJECT_ALT_NAME:
            assert (oid, name) == (SUBJECT_ALT_NAME, "X509v3 Subject Alternative Name")
            assert triples(value) == [("rfc822Name", "rfc822Name", "carol@example.org")]
        else:
            assert (oid, name, value) == (0, 0, 0), extension


# --- what the pages of binary_message and debug_message promise ---------------------------

@pytest.mark.parametrize("flags, wire", [(0, b"<\xff\xff\xf9>"), (1, b"<\xff\xf9>")])
def test_binary_message_flags(driver, clients, flags, wire):
    """Bit 0 clear: IAC doubled (data); set: sent as given (here IAC GA)."""
    player = clients.plain(driver)
    player.run(f"binary {flags} 3cfff93e0d0a", "BINARY ")
    assert find_line(player.client.text, "BINARY returned=") == "BINARY returned=6"
    assert wire in bytes(player.client.raw), bytes(player.client.raw)


def test_debug_message_log_line_format(driver, clients):
    player = clients.plain(driver)
    mark = driver.log_mark()
    player.run("log format-check", "LOGGED ")
    line = driver.wait_for_log(r"LOG format-check", start=mark).string
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO    mudlib: LOG format-check",
                        line), line
