"""The TLS efuns against a running driver: one test (or a few) per rule of
the contract in docs/efuns/tls.md.

The test mudlib (tests/mudlib) gives every connection to a /test_player
whose commands call the efuns from the world side and print one
machine-readable line each; its master secures the TLS port in the way
TEST_TLS_MODE names.  Clients are Python's ssl module, over real sockets
on loopback; where the bytes on the wire matter, ``WireTLS`` runs the
client over memory BIOs and keeps every byte the server sent.

Every wait has a deadline and waits on an event (bytes, a log line); the
only waits for *absence* are bounded ``select`` calls, marked as such.
"""

from __future__ import annotations

import datetime
import json
import random
import re
import select
import shutil
import signal
import socket
import ssl
import sys
import time
import warnings
from pathlib import Path

import pytest
import trustme
from cryptography import x509

from conftest import (IAC, ROOT, TEST_MUDLIB, TIMEOUT, Client, start_driver, strip_telnet,
                      write_leaf)
from conftest import TestCerts as CertFiles  # not "Test*": pytest would collect it

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from driver import efuns as driver_efuns  # noqa: E402
from driver.net import tls as driver_tls  # noqa: E402

#: How long "nothing arrives" is watched for; an absence can only be bounded.
QUIET = 0.4

#: Every result code driver/net/tls.py defines, by name.
RESULT_CODES = {name: value for name, value in vars(driver_tls).items()
                if name.startswith("TLS_") and isinstance(value, int)}


# --- drivers -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def driver_in_mode(tmp_path_factory, certs):
    """``driver_in_mode(mode, **config)``: one driver per mode for the module."""
    started = {}

    def get(mode: str = "deferred", **config):
        key = (mode, tuple(sorted(config.items())))
        if key not in started:
            started[key] = start_driver(tmp_path_factory.mktemp("tls-efuns"), certs,
                                        env={"TEST_TLS_MODE": mode}, **config)
        return started[key]

    yield get
    for driver in started.values():
        driver.stop()


@pytest.fixture
def driver(driver_in_mode):
    """The driver of most tests: bare tls_init_connection() on the TLS port."""
    return driver_in_mode("deferred")


# --- clients -----------------------------------------------------------------------

def find_line(text: str, prefix: str) -> str | None:
    """The first complete line starting with ``prefix`` (after any prompts)."""
    match = re.search(r"(?m)^(?:> )*(" + re.escape(prefix) + r"[^\r\n]*)\r\n", text)
    return match.group(1) if match else None


def wait_line(client: Client, prefix: str, timeout: float = TIMEOUT) -> str:
    """Read from ``client`` until a whole line starting with ``prefix`` arrived."""
    deadline = time.monotonic() + timeout
    while True:
        line = find_line(client.text, prefix)
        if line is not None:
            return line
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no line starting {prefix!r}; received:\n{client.text}")
        try:
            data = client.recv_some(remaining)
        except (socket.timeout, TimeoutError):
            continue
        if not data:
            raise AssertionError(f"closed before a line starting {prefix!r}; received:\n{client.text}")


def fields(line: str) -> dict[str, str]:
    """``KEY a=1 b=(2, 3) c=x`` -> {"a": "1", "b": "(2, 3)", "c": "x"}."""
    pairs = re.findall(r"(\w+)=(\(.*?\)|\S+)", line)
    return dict(pairs)


class Player:
    """A client logged in as a /test_player: its socket and its object's name."""

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name

    def run(self, command: str, prefix: str, timeout: float = TIMEOUT, *, keep: bool = False) -> str:
        """Send a command; return the answer line starting with ``prefix``.

        What was received before is forgotten, unless ``keep``: then the
        answer is searched for in (and ``client.text`` still holds) all of it.
        Output that comes before the answer on the socket came before the
        command ran, so ``keep`` shows what else the driver sent up to then.
        """
        if not keep:
            self.client.raw.clear()
        self.client.send_line(command)
        return wait_line(self.client, prefix, timeout)

    def sync_log(self, driver) -> int:
        """Wait until the log holds everything the driver logged so far; returns the mark."""
        token = f"sync-{time.monotonic_ns()}"
        self.run(f"log {token}", "LOGGED ")
        driver.wait_for_log(r"LOG " + token)
        return driver.log_mark()

    def wait_prompt(self) -> str:
        """Read until the text ends with a prompt; returns the text."""
        deadline = time.monotonic() + TIMEOUT
        while not self.client.text.endswith("> "):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no prompt; received:\n{self.client.text}")
            try:
                if not self.client.recv_some(remaining):
                    raise AssertionError(f"closed before a prompt; received:\n{self.client.text}")
            except (socket.timeout, TimeoutError):
                continue
        return self.client.text


class Clients:
    """Opens clients for a test and closes them all at its end."""

    def __init__(self, certs: CertFiles) -> None:
        self.certs = certs
        self.opened: list = []

    def keep(self, thing):
        self.opened.append(thing)
        return thing

    def raw(self, port: int) -> socket.socket:
        return self.keep(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT))

    def plain(self, driver) -> Player:
        client = self.keep(Client.plain(driver.telnet_port))
        line = wait_line(client, "LOGON ")
        assert fields(line)["args"] == "()", line
        return Player(client, fields(line)["me"])

    def tls(self, driver, context: ssl.SSLContext | None = None, *, logon: bool = True) -> Player:
        """A client on the TLS port; with ``logon`` it waits for the deferred logon."""
        context = context or self.certs.client_context()
        client = self.keep(Client.tls(driver.tls_port, context))
        if not logon:
            return Player(client, "")
        line = wait_line(client, "LOGON ")
        return Player(client, fields(line)["me"])

    def upgrade(self, player: Player, command: str,
                context: ssl.SSLContext | None = None) -> Player:
        """Send a starttls command, wait for GO AHEAD, then switch the socket to TLS."""
        player.client.raw.clear()
        player.client.send_line(command)
        player.client.read_until("GO AHEAD\r\n")
        text = player.client.text
        assert text.endswith("GO AHEAD\r\n"), f"plaintext after GO AHEAD: {text!r}"
        context = context or self.certs.client_context()
        secure = context.wrap_socket(player.client.sock, server_hostname="localhost")
        return Player(self.keep(Client(secure)), player.name)

    def close_all(self) -> None:
        for thing in self.opened:
            try:
                thing.close()
            except OSError:
                pass


@pytest.fixture
def clients(certs):
    opened = Clients(certs)
    yield opened
    opened.close_all()


def connect_and_learn_name(driver, clients: Clients) -> tuple[socket.socket, str]:
    """A raw socket on the TLS port, and the name of the object the master gave it."""
    mark = driver.log_mark()
    sock = clients.raw(driver.tls_port)
    match = driver.wait_for_log(r"CONNECT (\S+) port=tls", start=mark)
    return sock, match.group(1)


def wait_logon(driver, name: str, start: int = 0) -> tuple[int, ...]:
    """The arguments the driver passed to ``name``'s logon(), from the log."""
    match = driver.wait_for_log(r"LOGON args=\((.*?)\) me=" + re.escape(name) + r" ", start=start)
    args = match.group(1)
    if not args:
        return ()
    result, _, ob = args.partition(", ")
    assert ob.strip("'") == name, match.group(0)
    return (int(result), ob.strip("'"))


# --- the bytes on the wire ---------------------------------------------------------

def tls_record_types(data: bytes) -> list[int]:
    """The content types of the TLS records in ``data``; fails on anything else.

    A record split at the end of ``data`` is checked as far as it goes.
    """
    types = []
    offset = 0
    while offset < len(data):
        header = data[offset:offset + 5]
        assert header[0] in range(20, 25) and (len(header) < 2 or header[1] == 3), \
            f"not a TLS record at byte {offset}: {data[offset:offset + 24]!r}"
        types.append(header[0])
        if len(header) < 5:
            break
        offset += 5 + int.from_bytes(header[3:5], "big")
    return types


class WireTLS:
    """A TLS client over memory BIOs that keeps every byte the server sent."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext,
                 server_hostname: str = "localhost") -> None:
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=server_hostname)
        self.wire = bytearray()  # everything received from the server, as sent
        self.plain = bytearray()  # everything decrypted

    def client_hello(self) -> bytes:
        """Start the handshake; returns the ClientHello instead of sending it."""
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.outgoing.read()

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _receive(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([self.sock], [], [], max(0.0, remaining))
        if not ready:
            raise AssertionError(f"timed out; decrypted so far: {bytes(self.plain)!r}")
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError(f"the server closed; decrypted so far: {bytes(self.plain)!r}")
        self.feed(data)

    def feed(self, data: bytes) -> None:
        self.wire += data
        self.incoming.write(data)

    def handshake(self, timeout: float = TIMEOUT, then: bytes = b"") -> None:
        """Complete the handshake; ``then`` goes out in the same write as the Finished."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                self._receive(deadline)
                continue
            if then:
                self.tls.write(then)
            self._flush()
            return

    @property
    def text(self) -> str:
        return strip_telnet(bytes(self.plain)).decode("utf-8", errors="replace")

    def read_until(self, needle: str, timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            while True:
                try:
                    chunk = self.tls.read(65536)
                except ssl.SSLWantReadError:
                    break
                if not chunk:
                    break
                self.plain += chunk
            self._flush()
            if needle in self.text:
                return self.text
            self._receive(deadline)

    def send_line(self, line: str) -> None:
        self.tls.write(line.encode() + b"\r\n")
        self._flush()


# --- master.connect() and logon() ------------------------------------------------------

def test_plain_port_logon_has_no_arguments_and_state_is_inactive(driver, clients):
    player = clients.plain(driver)
    assert player.run("state", "STATE ") == "STATE 0"
    assert player.run("info", "INFO ") == "INFO null"
    assert player.run(f"state-of {player.name}", "STATE-OF ") == f"STATE-OF {player.name} 0"


def test_deferred_logon_gets_result_0_and_the_object(driver, clients):
    mark = driver.log_mark()
    player = clients.tls(driver, logon=False)
    line = wait_line(player.client, "LOGON ")
    values = fields(line)
    name = values["me"]
    assert values["args"] == f"(0, '{name}')", line
    assert values["this_player"] == name and values["this_interactive"] == name, line
    assert values["state"] == "1", line
    # Inside connect(), tls_init_connection returned > 0 and the state was -1.
    match = driver.wait_for_log(r"CONNECT " + re.escape(name) + r" port=tls mode=deferred "
                                r"result=(-?\d+) state=(-?\d+)", start=mark)
    assert int(match.group(1)) > 0 and match.group(2) == "-1", match.group(0)
    # The prompt follows the deferred logon, and the connection works.
    assert player.wait_prompt().endswith("> ")
    assert player.run("echo over tls", "ECHO ") == "ECHO over tls"
    assert player.run("state", "STATE ") == "STATE 1"


CONNECT_CALLBACKS = {
    # mode: (the extra arguments, what this_object() is in the callback)
    "callback-name": ("('extra1', 2)", "/master"),
    "callback-path": ("('extra1', 2)", "/master"),
    "callable": ("('x',)", "/master"),
    "lambda": ("('x',)", "/master"),
}


@pytest.mark.parametrize("mode", sorted(CONNECT_CALLBACKS))
def test_connect_callback_runs_instead_of_logon(driver_in_mode, clients, mode):
    driver = driver_in_mode(mode)
    extra, this_object = CONNECT_CALLBACKS[mode]
    mark = driver.log_mark()
    player = clients.tls(driver, logon=False)
    name = driver.wait_for_log(r"CONNECT (\S+) port=tls mode=" + re.escape(mode), start=mark).group(1)
    line = wait_line(player.client, "CALLBACK ")
    values = fields(line)
    assert values["result"] == "0", line
    assert values["ob"] == name, line
    assert values["extra"] == extra, line
    assert values["this_object"] == this_object, line
    assert values["this_player"] == name and values["this_interactive"] == name, line
    assert values["state"] == "1", line
    # The prompt is printed after the callback returns.
    assert player.wait_prompt().endswith("> ")
    # logon() was never called for this connection (it would have written first).
    assert player.run("echo after callback", "ECHO ", keep=True) == "ECHO after callback"
    assert "LOGON" not in player.client.text and player.client.text.count("CALLBACK") == 1
    player.sync_log(driver)
    assert f"me={name} " not in driver.log
    assert player.run("state", "STATE ") == "STATE 1"


def test_connect_without_logon_for_the_deferred_result_closes(make_driver, clients, tmp_path):
    """An object without logon() cannot receive a deferred result: error at connect time."""
    mudlib = tmp_path / "mudlib"
    shutil.copytree(TEST_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    master = mudlib / "master.py"
    master.write_text(master.read_text().replace('PLAYER = "/test_player"',
                                                 'PLAYER = "/test_helper"'))
    driver = make_driver(mudlib=mudlib)
    sock = clients.raw(driver.tls_port)
    driver.wait_for_log(r"has no logon\(\) to receive the TLS result")
    # Closed before any byte was sent; not even a handshake message.
    assert sock.recv(100) == b""


# --- while a handshake runs --------------------------------------------------------

def test_first_bytes_on_the_tls_port_are_tls_records(driver, clients, certs):
    """The driver queued telnet negotiation and logon text; none of it leaks."""
    wire = WireTLS(clients.raw(driver.tls_port), certs.client_context())
    wire.handshake()
    wire.read_until("LOGON ")
    wire.read_until("> ")
    assert wire.wire[0] == 0x16, bytes(wire.wire[:16])
    types = tls_record_types(bytes(wire.wire))
    assert types[0] == 0x16 and 0x17 in types
    # The telnet negotiation was held during the handshake and sent encrypted.
    assert wire.plain[0] == IAC, bytes(wire.plain[:16])
    # The prompt was not printed (nor queued) while the handshake ran.
    text = wire.text
    assert text.count("> ") == 1 and text.index("LOGON ") < text.index("> "), text


def test_command_right_behind_the_clients_finished(driver, clients, certs):
    """Application data in the same segment as the Finished: logon first, then the command."""
    wire = WireTLS(clients.raw(driver.tls_port), certs.client_context())
    wire.handshake(then=b"echo early\r\n")
    text = wire.read_until("ECHO early")
    assert fields(find_line(text, "LOGON "))["args"].startswith("(0, ")
    assert text.index("LOGON ") < text.index("ECHO early")


def test_nothing_is_sent_before_the_handshake_and_state_is_handshaking(driver, clients, certs):
    sock, name = connect_and_learn_name(driver, clients)
    # The one bounded wait for absence: no prompt, banner or telnet negotiation.
    ready, _, _ = select.select([sock], [], [], QUIET)
    assert not ready, f"the server sent {sock.recv(100)!r} before any ClientHello"
    observer = clients.plain(driver)
    assert observer.run(f"state-of {name}", "STATE-OF ") == f"STATE-OF {name} -1"
    # Now finish the handshake on the same socket.
    secure = certs.client_context().wrap_socket(sock, server_hostname="localhost")
    clients.keep(secure)
    player = Client(secure)
    line = wait_line(player, "LOGON ")
    assert fields(line)["args"] == f"(0, '{name}')"
    assert observer.run(f"state-of {name}", "STATE-OF ") == f"STATE-OF {name} 1"


def test_text_written_during_a_handshake_arrives_encrypted(driver, clients, certs):
    player = clients.plain(driver)
    player.wait_prompt()
    player.client.raw.clear()
    player.client.send_line("write-during-handshake")
    player.client.read_until(b"GO AHEAD\r\n")
    leftover = bytes(player.client.raw).split(b"GO AHEAD\r\n", 1)[1]
    assert leftover == b""
    wire = WireTLS(player.client.sock, certs.client_context())
    wire.handshake()
    text = wire.read_until("CALLBACK ")
    assert find_line(text, "HELD TEXT 1") == "HELD TEXT 1"
    assert find_line(text, "HELD TEXT 2") == "HELD TEXT 2 state=-1"
    assert text.index("HELD TEXT 1") < text.index("HELD TEXT 2") < text.index("CALLBACK")
    callback = fields(find_line(text, "CALLBACK "))
    assert callback["result"] == "0" and callback["extra"] == "('held',)"
    # Nothing but TLS records came after GO AHEAD, and no prompt in the clear.
    tls_record_types(bytes(wire.wire))
    assert b"HELD" not in wire.wire and b"> " not in wire.wire[:5]
    wire.read_until("> ")
    wire.send_line("echo secure")
    assert find_line(wire.read_until("ECHO secure"), "ECHO ") == "ECHO secure"


def test_client_hello_in_the_same_segment_as_the_command(driver, clients, certs):
    """An impatient client: "starttls" and its ClientHello in one write.

    Every byte after the command line belongs to the handshake, and the
    callback still runs on a later turn, not inside tls_init_connection.
    """
    player = clients.plain(driver)
    player.wait_prompt()
    player.client.raw.clear()
    wire = WireTLS(player.client.sock, certs.client_context())
    hello = wire.client_hello()
    # OpenSSL always sends renegotiation_info (extension 0xff01) or its SCSV
    # (0x00ff): a ClientHello holds telnet's IAC byte.
    assert IAC in hello
    # handshake_timeout=1: should the handshake be lost, it fails in 1 s, not 5.
    player.client.sock.sendall(b"starttls name 1\r\n" + hello)
    player.client.read_until(b"GO AHEAD\r\n")
    after = bytes(player.client.raw).split(b"GO AHEAD\r\n", 1)[1]
    if after:
        wire.feed(after)
    wire.handshake()
    text = wire.read_until("CALLBACK ")
    init = fields(find_line(text, "INIT "))
    assert init == {"returned": "1", "state": "-1", "this_player": player.name}
    callback = fields(find_line(text, "CALLBACK "))
    assert callback["result"] == "0" and callback["ob"] == player.name
    assert callback["this_player"] == player.name
    tls_record_types(bytes(wire.wire))
    wire.read_until("> ")
    wire.send_line("echo pipelined")
    assert find_line(wire.read_until("ECHO pipelined"), "ECHO ") == "ECHO pipelined"


# --- the three forms, from the world side -----------------------------------------

WORLD_FORMS = {
    # form: (the extra arguments, this_object() inside the callback; None = the player)
    "name": ("('a', 1)", "/test_helper"),
    "path": ("('b', 2)", "/test_helper"),
    "callable": ("('c', 3)", "/test_helper"),
    "lambda": ("('d', 4)", None),
    "self": ("('e',)", None),
}


@pytest.mark.parametrize("form", sorted(WORLD_FORMS))
def test_starttls_callback_forms(driver, clients, form):
    extra, this_object = WORLD_FORMS[form]
    player = clients.upgrade(clients.plain(driver), f"starttls {form}")
    name = player.name
    line = wait_line(player.client, "CALLBACK ")
    text = player.client.text
    # What the command wrote after tls_init_connection was held until now,
    # and this_player() was not disturbed by the call.
    init = fields(find_line(text, "INIT "))
    assert init == {"returned": "1", "state": "-1", "this_player": name}
    assert text.index("INIT ") < text.index("CALLBACK ")
    # No prompt while the handshake ran, not even queued: one, after the callback.
    assert "> " not in text[:text.index("CALLBACK ")], text
    values = fields(line)
    assert values["result"] == "0", line
    assert values["ob"] == name, line
    assert values["extra"] == extra, line
    assert values["this_object"] == (this_object or name), line
    assert values["this_player"] == name and values["this_interactive"] == name, line
    assert values["state"] == "1", line
    assert player.wait_prompt().endswith("> ")
    # The callback ran exactly once: a second run would come before this answer.
    assert player.run("echo upgraded", "ECHO ", keep=True) == "ECHO upgraded"
    assert player.client.text.count("CALLBACK ") == 1
    assert player.run("state", "STATE ") == "STATE 1"
    assert player.run("info", "INFO ").startswith('INFO {"indexed": ["TLS_')


def test_starttls_without_callback(driver, clients):
    player = clients.upgrade(clients.plain(driver), "starttls bare")
    assert fields(wait_line(player.client, "INIT "))["returned"] == "1"
    assert player.run("state", "STATE ", keep=True) == "STATE 1"
    assert "CALLBACK" not in player.client.text


def test_callback_method_that_does_not_exist_is_a_warning(driver, clients):
    mark = driver.log_mark()
    player = clients.upgrade(clients.plain(driver), "starttls missing")
    driver.wait_for_log(r"WARNING .*no_such_method", start=mark)
    assert fields(wait_line(player.client, "INIT "))["returned"] == "1"
    assert player.run("echo still here", "ECHO ", keep=True) == "ECHO still here"
    assert "CALLBACK" not in player.client.text
    assert player.run("state", "STATE ") == "STATE 1"


@pytest.mark.parametrize("form", ["name", "callable"])
def test_callback_of_a_destructed_object_is_skipped(driver, clients, form):
    mark = driver.log_mark()
    player = clients.upgrade(clients.plain(driver), f"starttls-destructed {form}")
    init = fields(wait_line(player.client, "INIT "))
    assert init == {"returned": "1", "destructed": "<destructed>"}
    # Commands run after the handshake; the callback would have come first.
    assert player.run("echo after", "ECHO ", keep=True) == "ECHO after"
    assert "CALLBACK" not in player.client.text
    assert player.run("state", "STATE ") == "STATE 1"
    end = player.sync_log(driver)
    logged = "\n".join(driver.lines[mark:end])
    assert "CALLBACK" not in logged and "error in" not in logged, logged


def test_exception_in_a_callback_is_logged_and_contained(driver, clients):
    bystander = clients.plain(driver)
    mark = driver.log_mark()
    player = clients.upgrade(clients.plain(driver), "starttls raise")
    line = wait_line(player.client, "CALLBACK ")
    assert fields(line)["result"] == "0"
    player.client.read_until("Something went wrong")
    driver.wait_for_log(r"ERROR .*error in .*TLS callback.*deliberate failure in a TLS callback",
                        start=mark)
    driver.wait_for_log(r"Traceback \(most recent call last\)", start=mark)
    driver.wait_for_log(r"in tls_raise", start=mark)
    assert player.run("echo unharmed", "ECHO ") == "ECHO unharmed"
    assert player.run("state", "STATE ") == "STATE 1"
    assert bystander.run("echo me too", "ECHO ") == "ECHO me too"


def test_exec_carries_the_handshake_and_its_callback(driver, clients):
    player = clients.upgrade(clients.plain(driver), "starttls-exec")
    exec_line = fields(wait_line(player.client, "EXEC "))
    assert exec_line["old"] == player.name and exec_line["returned"] == "1"
    assert exec_line["old_state"] == "0" and exec_line["new_state"] == "-1"
    new = exec_line["new"]
    values = fields(wait_line(player.client, "CALLBACK "))
    assert values["ob"] == new and values["this_player"] == new and values["this_interactive"] == new
    assert values["extra"] == "('exec',)" and values["state"] == "1"
    assert player.run("whoami", "WHOAMI ") == f"WHOAMI {new}"
    assert player.run("state", "STATE ") == "STATE 1"


def test_world_side_handshake_deadline_leaves_plaintext(driver, clients):
    """starttls with handshake_timeout=0.3 and a client that never starts TLS."""
    player = clients.plain(driver)
    player.wait_prompt()
    player.client.raw.clear()
    player.client.send_line("starttls name 0.3")
    line = wait_line(player.client, "CALLBACK ")
    values = fields(line)
    assert values["result"] == str(driver_tls.TLS_ERR_TIMEOUT), line
    assert values["ob"] == player.name and values["state"] == "0", line
    # What the command wrote during the handshake was discarded, not sent in the clear.
    assert "INIT " not in player.client.text
    assert player.run("echo plaintext goes on", "ECHO ") == "ECHO plaintext goes on"
    assert player.run("state", "STATE ") == "STATE 0"


def test_peer_leaving_during_a_world_side_handshake(driver, clients):
    player = clients.plain(driver)
    player.wait_prompt()
    mark = driver.log_mark()
    player.client.raw.clear()
    player.client.send_line("starttls name")
    player.client.read_until("GO AHEAD\r\n")
    player.client.close()
    match = driver.wait_for_log(r"CALLBACK result=(-?\d+) ob=" + re.escape(player.name) + " ",
                                start=mark)
    assert int(match.group(1)) == driver_tls.TLS_ERR_PEER_CLOSED
    end = clients.plain(driver).sync_log(driver)
    assert len(re.findall(r"CALLBACK .*ob=" + re.escape(player.name) + " ",
                          "\n".join(driver.lines[mark:end]))) == 1


# --- errors of tls_init_connection -------------------------------------------------

def test_second_init_while_handshaking_is_an_error(driver, clients):
    player = clients.upgrade(clients.plain(driver), "starttls-twice")
    error = wait_line(player.client, "ERROR ")
    assert "already has a secure connection" in error
    assert fields(wait_line(player.client, "INIT "))["returned"] == "1"
    assert fields(wait_line(player.client, "CALLBACK "))["extra"] == "('twice',)"
    assert player.run("echo once", "ECHO ", keep=True) == "ECHO once"
    assert player.client.text.count("CALLBACK") == 1


def test_init_on_an_active_connection_is_an_error(driver, clients):
    player = clients.tls(driver)
    line = player.run("init-again", "ERROR ")
    assert "already has a secure connection" in line
    assert player.run("state", "STATE ") == "STATE 1"


def test_efuns_on_a_non_interactive_object(driver, clients):
    player = clients.plain(driver)
    player.run("noninteractive", "NONINTERACTIVE info")
    text = player.client.text
    assert "object not interactive" in find_line(text, "NONINTERACTIVE init ")
    assert "object not interactive" in find_line(text, "NONINTERACTIVE deinit ")
    assert "object not interactive" in find_line(text, "NONINTERACTIVE cert ")
    assert find_line(text, "NONINTERACTIVE state ") == "NONINTERACTIVE state returned 0"
    assert find_line(text, "NONINTERACTIVE info ") == "NONINTERACTIVE info returned None"


def test_bad_arguments_leave_the_connection_inactive(driver, clients):
    player = clients.plain(driver)
    player.run("badargs", "BADARGS state")
    text = player.client.text
    assert "bad argument 2" in find_line(text, "BADARGS fun ")
    assert "bad argument 3" in find_line(text, "BADARGS fob ")
    assert "ERROR" in find_line(text, "BADARGS timeout ")
    assert find_line(text, "BADARGS state") == "BADARGS state=0"
    assert player.run("echo plain", "ECHO ") == "ECHO plain"


# --- failed handshakes ---------------------------------------------------------------

def test_plaintext_on_the_tls_port_gets_not_tls(driver, clients):
    bystander = clients.plain(driver)
    sock, name = connect_and_learn_name(driver, clients)
    sock.sendall(b"hello\r\n")
    assert wait_logon(driver, name) == (driver_tls.TLS_ERR_NOT_TLS, name)
    # The connection is still open: the test mudlib keeps it and says so in
    # plaintext.  What came before that is a TLS alert at most, never the
    # telnet negotiation or text held during the handshake.
    client = clients.keep(Client(sock))
    client.read_until("LOGON ")
    before = bytes(client.raw).split(b"LOGON", 1)[0]
    assert set(tls_record_types(before)) <= {0x15}, before
    player = Player(client, name)
    assert player.run("echo in the clear", "ECHO ", keep=True) == "ECHO in the clear"
    # "hello" was handshake material, never a command.
    assert "UNKNOWN" not in client.text
    assert player.run("state", "STATE ") == "STATE 0"
    assert bystander.run("echo unaffected", "ECHO ") == "ECHO unaffected"


def test_garbage_on_the_tls_port_fails_the_handshake(driver, clients):
    bystander = clients.plain(driver)
    sock, name = connect_and_learn_name(driver, clients)
    sock.sendall(random.Random(4711).randbytes(512))
    # Should OpenSSL still wait for more of a "record", the end of the
    # stream decides.
    sock.shutdown(socket.SHUT_WR)
    result, _ob = wait_logon(driver, name)
    assert result < 0
    described = bystander.run(f"error {result}", "TLSERROR ")
    assert "unknown" not in described.lower(), described
    assert bystander.run("echo unaffected", "ECHO ") == "ECHO unaffected"


def test_peer_closing_during_the_handshake(driver, clients):
    sock, name = connect_and_learn_name(driver, clients)
    sock.close()
    assert wait_logon(driver, name) == (driver_tls.TLS_ERR_PEER_CLOSED, name)


def test_handshake_deadline_per_call(driver_in_mode, clients):
    """tls_init_connection(handshake_timeout=1): a silent client fails after 1 s."""
    driver = driver_in_mode("timeout")
    bystander = clients.plain(driver)
    started = time.monotonic()
    sock, name = connect_and_learn_name(driver, clients)
    # Other players carry on while the handshake waits.
    assert bystander.run("echo meanwhile", "ECHO ") == "ECHO meanwhile"
    client = clients.keep(Client(sock))
    line = wait_line(client, "LOGON ", timeout=5)
    elapsed = time.monotonic() - started
    assert fields(line)["args"] == f"({driver_tls.TLS_ERR_TIMEOUT}, '{name}')"
    assert fields(line)["state"] == "0"
    assert 0.9 <= elapsed < 4, elapsed
    # Nothing was sent before the outcome: the LOGON line is the first byte.
    assert bytes(client.raw).startswith(b"LOGON"), bytes(client.raw[:32])
    assert bystander.run("echo after", "ECHO ") == "ECHO after"


def test_handshake_deadline_from_the_configuration(driver_in_mode, clients):
    driver = driver_in_mode("deferred", handshake_timeout=0.5)
    started = time.monotonic()
    _sock, name = connect_and_learn_name(driver, clients)
    assert wait_logon(driver, name) == (driver_tls.TLS_ERR_TIMEOUT, name)
    assert time.monotonic() - started >= 0.45


def test_tls_1_1_client_is_refused(driver, clients, certs):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(certs.ca_file))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1_1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as exc:
        pytest.skip(f"this OpenSSL cannot make a TLS 1.1 client: {exc}")
    sock, name = connect_and_learn_name(driver, clients)
    with pytest.raises(ssl.SSLError) as refused:
        context.wrap_socket(sock, server_hostname="localhost")
    if refused.value.reason in ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE"):
        pytest.skip(f"OpenSSL's security level keeps the client from offering TLS 1.1: "
                    f"{refused.value}")
    assert wait_logon(driver, name) == (driver_tls.TLS_ERR_PROTOCOL_VERSION, name)


def test_no_shared_cipher(driver, clients, certs):
    """A TLS 1.2 client offering only a suite the driver's policy refuses (SHA-1 MAC)."""
    context = certs.client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
    try:
        context.set_ciphers("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")
    except ssl.SSLError as exc:
        pytest.skip(f"this OpenSSL has no ECDHE-ECDSA-AES128-SHA: {exc}")
    sock, name = connect_and_learn_name(driver, clients)
    with pytest.raises(ssl.SSLError):
        context.wrap_socket(sock, server_hostname="localhost")
    assert wait_logon(driver, name) == (driver_tls.TLS_ERR_NO_SHARED_CIPHER, name)


def _client_context_with(certs, leaf, directory: Path, name: str) -> ssl.SSLContext:
    cert_file, key_file = write_leaf(leaf, directory / f"{name}.pem", directory / f"{name}-key.pem")
    context = certs.client_context()
    context.load_cert_chain(cert_file, key_file)
    return context


def _certificate_report(player) -> tuple[int, list]:
    report = json.loads(player.run("cert", "CERT ").split(" ", 1)[1])
    subject = report[1]
    return report[0], [tuple(subject[i:i + 3]) for i in range(0, len(subject), 3)]


def test_a_client_certificate_from_another_ca_gets_in_with_its_verify_result(
        driver, clients, certs, tmp_path):
    """Asked for, never required, judged by the mudlib (LDMud's rule): the
    handshake succeeds and tls_check_certificate says why it did not verify."""
    stranger = trustme.CA(organization_name="Stranger CA").issue_cert("mallory@example.org",
                                                                      common_name="mallory")
    player = clients.tls(driver, _client_context_with(certs, stranger, tmp_path, "mallory"))
    verify_result, subject = _certificate_report(player)
    # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY or _UNABLE_TO_VERIFY_LEAF_SIGNATURE
    assert verify_result in (20, 21), verify_result
    assert ("2.5.4.3", "commonName", "mallory") in subject


def test_an_expired_client_certificate_gets_in_with_its_verify_result(
        driver, clients, certs, tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    expired = certs.ca.issue_cert("old@example.org", common_name="old",
                                  not_before=now - datetime.timedelta(days=30),
                                  not_after=now - datetime.timedelta(days=1))
    player = clients.tls(driver, _client_context_with(certs, expired, tmp_path, "old"))
    verify_result, subject = _certificate_report(player)
    assert verify_result == 10  # X509_V_ERR_CERT_HAS_EXPIRED
    assert ("2.5.4.3", "commonName", "old") in subject


# --- tls_deinit_connection -----------------------------------------------------------

def read_to_close_notify(sock: ssl.SSLSocket, timeout: float = TIMEOUT) -> bytes:
    """Read a TLS stream until the server's close_notify."""
    deadline = time.monotonic() + timeout
    got = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no close_notify; received {bytes(got)!r}")
        sock.settimeout(remaining)
        data = sock.recv(65536)
        if not data:
            return bytes(got)
        got += data


def deinit_to_plaintext(player: Player) -> Player:
    player.client.send_line("deinit")
    secure = player.client.sock
    before = strip_telnet(read_to_close_notify(secure)).decode()
    assert "DEINIT before" in before
    plain = Client(secure.unwrap())
    line = wait_line(plain, "DEINIT after")
    assert line == "DEINIT after state=0"
    return Player(plain, player.name)


def test_deinit_leaves_a_plaintext_connection_both_ways(driver, clients):
    player = clients.tls(driver)
    plain = deinit_to_plaintext(player)
    assert plain.run("echo back in the clear", "ECHO ") == "ECHO back in the clear"
    assert plain.run("state", "STATE ") == "STATE 0"
    assert plain.run("info", "INFO ") == "INFO null"
    assert "object doesn't have a secure connection" in plain.run("cert", "ERROR ")


def test_secure_plain_secure_again(driver, clients):
    player = clients.upgrade(clients.plain(driver), "starttls name")
    wait_line(player.client, "CALLBACK ")
    plain = deinit_to_plaintext(player)
    assert plain.run("echo between", "ECHO ") == "ECHO between"
    again = clients.upgrade(plain, "starttls path")
    assert fields(wait_line(again.client, "CALLBACK "))["result"] == "0"
    assert again.run("state", "STATE ") == "STATE 1"
    assert again.run("echo secure again", "ECHO ") == "ECHO secure again"


def test_deinit_and_a_peer_that_drops_tls_without_close_notify(driver, clients):
    """After the server's close_notify the client just talks plaintext."""
    player = clients.tls(driver)
    player.client.send_line("deinit")
    secure = player.client.sock
    assert "DEINIT before" in strip_telnet(read_to_close_notify(secure)).decode()
    raw = clients.keep(socket.socket(fileno=secure.detach()))  # no close_notify of ours
    plain = Player(Client(raw), player.name)
    assert wait_line(plain.client, "DEINIT after") == "DEINIT after state=0"
    assert plain.run("echo no goodbye", "ECHO ") == "ECHO no goodbye"
    assert plain.run("state", "STATE ") == "STATE 0"


def test_state_and_init_agree_right_after_deinit(driver, clients):
    """The contract: state 0 is inactive, and only handshaking or active refuses init."""
    player = clients.tls(driver)
    mark = driver.log_mark()
    player.client.send_line("deinit-init")
    state, outcome = driver.wait_for_log(r"REINIT state=(-?\d+) (.*)", start=mark).groups()
    assert state != "0" or "already has a secure connection" not in outcome, (state, outcome)


def test_deinit_on_a_plain_connection_does_nothing(driver, clients):
    player = clients.plain(driver)
    assert player.run("deinit", "DEINIT after") == "DEINIT after state=0"
    assert player.run("echo fine", "ECHO ") == "ECHO fine"


def test_deinit_during_a_handshake_drops_callback_and_held_text(driver, clients):
    player = clients.plain(driver)
    player.wait_prompt()
    player.client.raw.clear()
    player.client.send_line("starttls-abandon")
    line = wait_line(player.client, "ABANDONED ")
    assert fields(line) == {"before": "-1", "after": "0"}
    assert player.run("echo plain again", "ECHO ", keep=True) == "ECHO plain again"
    text = player.client.text
    assert text.startswith("GO AHEAD\r\nABANDONED "), text
    assert "NEVER SENT" not in text and "CALLBACK" not in text
    assert player.run("state", "STATE ") == "STATE 0"


# --- tls_error -------------------------------------------------------------------------

def test_efuns_export_the_drivers_result_codes():
    for name, value in RESULT_CODES.items():
        assert getattr(driver_efuns, name) == value, name


def test_tls_error_describes_every_code(driver, clients):
    player = clients.plain(driver)
    texts = {}
    for name, code in sorted(RESULT_CODES.items(), key=lambda item: -item[1]):
        line = player.run(f"error {code}", "TLSERROR ")
        text = line.split(" ", 2)[2]
        assert text and "unknown" not in text.lower(), (name, text)
        assert not re.search(r"error:[0-9A-Fa-f]{8}", text), (name, text)  # OpenSSL's opaque form
        texts[name] = text
    assert len(set(texts.values())) == len(texts), texts
    assert "timed out" in texts["TLS_ERR_TIMEOUT"]
    assert "TLS" in texts["TLS_ERR_NOT_TLS"]
    unknown = player.run("error 12345", "TLSERROR ")
    assert "unknown" in unknown.lower() and "12345" in unknown
    assert "not a TLS result code" in player.run("error sideways", "TLSERROR ")
    assert player.run("echo still fine", "ECHO ") == "ECHO still fine"


# --- tls_query_connection_info -----------------------------------------------------

def test_connection_info_on_tls_1_3(driver, clients):
    player = clients.tls(driver)
    info = _info(player)
    cipher = player.client.sock.cipher()[0]
    assert info["indexed"][0] == info["cipher"] == cipher
    assert info["indexed"][4] == info["prot"] == "TLSv1.3"
    assert all(value is None or isinstance(value, str) for value in info["indexed"])
    assert info["length"] >= 5 and info["info_max"] == 5
    assert info["sni"] == "localhost"


def test_connection_info_on_tls_1_2(driver, clients, certs):
    context = certs.client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
    player = clients.tls(driver, context)
    info = _info(player)
    assert info["prot"] == info["indexed"][4] == "TLSv1.2"
    assert info["cipher"] == player.client.sock.cipher()[0]
    assert info["indexed"][2] and info["indexed"][3]  # key exchange and MAC are known


def _info(player: Player) -> dict:
    line = player.run("info", "INFO ")
    info = json.loads(line.split(" ", 1)[1])
    assert info is not None, line
    return info


# --- tls_check_certificate -----------------------------------------------------------

def test_client_certificate_is_reported(driver, clients, certs):
    cert_file, key_file = certs.issue_client_certificate("alice")
    context = certs.client_context()
    context.load_cert_chain(cert_file, key_file)
    player = clients.tls(driver, context)
    report = json.loads(player.run("cert", "CERT ").split(" ", 1)[1])
    assert len(report) == 2 and report[0] == 0
    subject = report[1]
    assert len(subject) % 3 == 0
    triples = [tuple(subject[i:i + 3]) for i in range(0, len(subject), 3)]
    assert ("2.5.4.3", "commonName", "alice") in triples, triples
    with_extra = json.loads(player.run("cert1", "CERT ").split(" ", 1)[1])
    assert len(with_extra) == 3 and with_extra[1] == subject
    # LDMud's layout: (oid, long name, value) per extension, subjectAltName's
    # value a flat list of (kind, kind, name); the other extensions 0, 0, 0.
    extensions = with_extra[2]
    assert len(extensions) % 3 == 0
    san = [extensions[i + 2] for i in range(0, len(extensions), 3)
           if extensions[i:i + 2] == ["2.5.29.17", "X509v3 Subject Alternative Name"]]
    assert san == [["rfc822Name", "rfc822Name", "alice@example.org"]], extensions
    assert "bad argument 2" in player.run("cert2", "ERROR ")


def test_no_client_certificate_is_none(driver, clients):
    player = clients.tls(driver)
    assert player.run("cert", "CERT ") == "CERT null"
    plain = clients.plain(driver)
    assert "object doesn't have a secure connection" in plain.run("cert", "ERROR ")


# --- tls_available, and a driver without certificates ------------------------------

def test_tls_available_with_certificates(driver, clients):
    assert clients.plain(driver).run("available", "AVAILABLE ") == "AVAILABLE True"


def test_driver_without_certificates(make_driver, clients):
    driver = make_driver(certs_=None, tls_port=None)
    assert driver.tls_port is None
    player = clients.plain(driver)
    assert player.run("available", "AVAILABLE ") == "AVAILABLE False"
    assert "TLS layer hasn't been initialized" in player.run("starttls bare", "ERROR ")
    assert "TLS layer hasn't been initialized" in player.run("cert", "ERROR ")
    assert "ERROR" in player.run("refresh", "ERROR ")
    assert player.run("state", "STATE ") == "STATE 0"
    assert player.run("info", "INFO ") == "INFO null"
    assert "timed out" in player.run(f"error {driver_tls.TLS_ERR_TIMEOUT}", "TLSERROR ")
    assert player.run("echo plain only", "ECHO ") == "ECHO plain only"


# --- tls_refresh_certs and SIGHUP ------------------------------------------------------

def own_certs(certs: CertFiles, directory: Path) -> CertFiles:
    """Copies of the server's files (certificate, key, trust file) that a test may spoil."""
    fullchain, key, ca_file = (directory / name for name in ("fullchain.pem", "privkey.pem", "ca.pem"))
    shutil.copyfile(certs.fullchain, fullchain)
    shutil.copyfile(certs.key, key)
    shutil.copyfile(certs.ca_file, ca_file)
    return CertFiles(certs.ca, directory, ca_file, fullchain, key)


def install_new_certificate(files: CertFiles, common_name: str) -> int:
    """Overwrite the certificate and key with a new pair; returns its serial."""
    leaf = files.ca.issue_cert("localhost", "127.0.0.1", common_name=common_name)
    write_leaf(leaf, files.fullchain, files.key)
    return x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).serial_number


def serial_of(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def server_certificate(driver, files: CertFiles) -> tuple[int, str | None]:
    """(serial, commonName) of the certificate a new connection is shown."""
    context = ssl.create_default_context(cadata=files.ca.cert_pem.bytes().decode())
    with socket.create_connection(("127.0.0.1", driver.tls_port), timeout=TIMEOUT) as sock:
        with context.wrap_socket(sock, server_hostname="localhost") as secure:
            peer = secure.getpeercert()
    names = dict(item[0] for item in peer["subject"])
    return int(peer["serialNumber"], 16), names.get("commonName")


@pytest.fixture
def refresh_driver(make_driver, certs, tmp_path):
    files = own_certs(certs, tmp_path)
    return make_driver(certs_=files), files


def test_refresh_with_good_files(refresh_driver, clients):
    driver, files = refresh_driver
    old_serial = serial_of(files.fullchain)
    assert server_certificate(driver, files)[0] == old_serial
    existing = clients.tls(driver)
    new_serial = install_new_certificate(files, "refreshed.example")
    mark = driver.log_mark()
    assert existing.run("refresh", "REFRESH ") == "REFRESH OK"
    driver.wait_for_log(r"TLS certificates reloaded", start=mark)
    assert server_certificate(driver, files) == (new_serial, "refreshed.example")
    # The session that was running keeps working, with the old certificate.
    assert existing.run("echo still here", "ECHO ") == "ECHO still here"
    assert int(existing.client.sock.getpeercert()["serialNumber"], 16) == old_serial
    assert existing.run("state", "STATE ") == "STATE 1"


@pytest.mark.parametrize("damage", ["garbage certificate", "garbage key", "mismatched key",
                                    "missing key", "garbage trust file"])
def test_refresh_with_broken_files_keeps_the_old_certificate(refresh_driver, clients, certs,
                                                             damage):
    driver, files = refresh_driver
    old_serial = serial_of(files.fullchain)
    player = clients.plain(driver)
    if damage == "garbage certificate":
        files.fullchain.write_text("this is not a certificate\n")
        named, why = files.fullchain, "certificate"
    elif damage == "garbage key":
        files.key.write_text("this is not a key\n")
        named, why = files.key, "key"
    elif damage == "mismatched key":
        files.key.write_bytes(certs.ca.issue_cert("other.example").private_key_pem.bytes())
        named, why = files.key, "match"
    elif damage == "missing key":
        files.key.unlink()
        named, why = files.key, "not found"
    else:
        files.ca_file.write_text("this is not a CA bundle\n")
        named, why = files.ca_file, "trust file"
    error = player.run("refresh", "ERROR ")
    assert str(named) in error and why in error, error
    assert server_certificate(driver, files)[0] == old_serial
    assert player.run("available", "AVAILABLE ") == "AVAILABLE True"


def test_sighup_reloads_certificates(refresh_driver, clients):
    driver, files = refresh_driver
    existing = clients.tls(driver)
    new_serial = install_new_certificate(files, "after-sighup.example")
    mark = driver.log_mark()
    driver.process.send_signal(signal.SIGHUP)
    driver.wait_for_log(r"SIGHUP: TLS certificates reloaded", start=mark)
    assert server_certificate(driver, files) == (new_serial, "after-sighup.example")
    assert existing.run("echo unaffected", "ECHO ") == "ECHO unaffected"
    # A broken file on the next SIGHUP: logged with its name, old one stays.
    files.fullchain.write_text("broken\n")
    mark = driver.log_mark()
    driver.process.send_signal(signal.SIGHUP)
    match = driver.wait_for_log(r"SIGHUP: certificate reload failed.*", start=mark)
    assert str(files.fullchain) in match.group(0)
    assert server_certificate(driver, files)[0] == new_serial


# --- the driver carries on -------------------------------------------------------------

def test_an_exception_in_a_command_harms_nobody_else(driver, clients):
    bystander = clients.tls(driver)
    player = clients.plain(driver)
    mark = driver.log_mark()
    player.client.raw.clear()
    player.client.send_line("raise")
    player.client.read_until("Something went wrong")
    driver.wait_for_log(r"deliberate failure in a command", start=mark)
    assert player.run("echo ok", "ECHO ") == "ECHO ok"
    assert bystander.run("echo ok too", "ECHO ") == "ECHO ok too"
