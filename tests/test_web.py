"""The web port: HTTPS, a secure WebSocket carrying telnet, and the web client.

A real driver serves the shipped world (copied, with one test object that
writes ANSI colour and tries the TLS efuns) on its web port; headless
Chromium, driven by Playwright, plays it through the page as a person
would.  A TLS telnet player shares the world with it.  Raw sockets with
Python's ssl send what no browser would: a malformed upgrade, an oversized
message, a request that never ends.  A real nginx, configured as
docs/clients.md tells operators, stands in front of the driver's port for
a reverse proxy.  Every wait has a deadline.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SHIPPED_MUDLIB, TIMEOUT, Client, start_driver, write_config
from webclient import WebSocketPlayer

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Playwright's waits are in milliseconds.
WAIT_MS = int(TIMEOUT * 1000)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="Debian's chromium is not installed (make tools)")

PROBE = '''\
"""A test object: colour in three depths, and the TLS efuns on its cloner."""
from driver.efuns import (MudObject, query_listen_ports, query_mud_port, this_player,
                          tls_deinit_connection, tls_init_connection,
                          tls_query_connection_state, write)


class Probe(MudObject):
    def create(self):
        player = this_player()
        write("\\x1b[31mred\\x1b[0m \\x1b[1;38;5;208morange\\x1b[0m "
              "\\x1b[38;2;10;200;30mgreen\\x1b[0m plain\\n")
        for name, efun in (("init", tls_init_connection), ("deinit", tls_deinit_connection)):
            try:
                efun(player)
                write(f"{name}: allowed\\n")
            except Exception as exc:
                write(f"{name} refused: {exc}\\n")
        web = query_mud_port(player) == query_listen_ports().web
        write(f"state {tls_query_connection_state(player)} on the web port: {web}\\n")

    def short_description(self):
        return "a probe"
'''


def web_port_of(driver) -> int:
    return int(driver.wait_for_log(r", web on [^:]+:(\d+)").group(1))


def world_copy(directory: Path) -> Path:
    mudlib = directory / "mudlib"
    shutil.copytree(SHIPPED_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    (mudlib / "obj" / "webprobe.py").write_text(PROBE)
    return mudlib


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    directory = tmp_path_factory.mktemp("web")
    driver = start_driver(directory, certs, mudlib=world_copy(directory),
                          args=("--web-port", "0"),
                          extra="web:\n  upgrade_timeout: 2\n  max_message_bytes: 4096\n")
    driver.web_port = web_port_of(driver)
    yield driver
    driver.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              timeout=WAIT_MS * 3)
        yield chromium
        chromium.close()


class WebPlayer:
    """One browser tab on the web client, and what its player does there."""

    def __init__(self, browser, port: int) -> None:
        self.context = browser.new_context(ignore_https_errors=True,
                                           viewport={"width": 1000, "height": 700})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.set_default_timeout(WAIT_MS)
        self.url = f"https://localhost:{port}/"
        self.page.goto(self.url)
        self.wait_state("connected")

    def wait_state(self, state: str, timeout: float = TIMEOUT) -> None:
        self.page.wait_for_selector(f"#state[data-state={state}]", timeout=int(timeout * 1000))

    def log_text(self) -> str:
        return self.page.inner_text("#log")

    def wait_text(self, text: str, timeout: float = TIMEOUT) -> str:
        self.page.wait_for_function(
            "text => document.getElementById('log').innerText.includes(text)", arg=text,
            timeout=int(timeout * 1000))
        return self.log_text()

    def wait_words(self, text: str, timeout: float = TIMEOUT) -> str:
        """As ``wait_text``, for text the game may have wrapped to the window:
        any run of spaces and line breaks matches any other."""
        self.page.wait_for_function(
            "text => document.getElementById('log').innerText.replace(/\\s+/g, ' ')"
            ".includes(text)", arg=text, timeout=int(timeout * 1000))
        return " ".join(self.log_text().split())

    def type(self, line: str) -> None:
        self.page.fill("#command", line)
        self.page.press("#command", "Enter")

    def create_character(self, name: str, password: str) -> None:
        self.wait_text("What is your name?")
        self.type(name)
        self.wait_text("Create a new character")
        self.type("y")
        # While the driver says WILL ECHO, the input is a password field.
        self.page.wait_for_selector("#command[type=password]")
        assert self.page.inner_text("#input-label") == "Password"
        self.type(password)
        self.wait_text("Type it again")
        assert self.page.get_attribute("#command", "type") == "password"
        self.type(password)
        self.page.wait_for_selector("#command[type=text]")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def alice(world, browser):
    """The first character, made in the browser (so an administrator)."""
    player = WebPlayer(browser, world.web_port)
    player.create_character("Alice", "wonderland")
    player.wait_text("Alice")
    yield player
    player.close()


# -- the page -------------------------------------------------------------------

def test_page_and_assets_are_served_over_https(world, certs):
    context = certs.client_context()
    for path, content_type in (("/", "text/html"), ("/client.js", "text/javascript"),
                               ("/client.css", "text/css")):
        status, headers, body = https_get(world.web_port, context, path)
        assert status == 200, path
        assert headers["content-type"].startswith(content_type)
        assert headers["x-content-type-options"] == "nosniff"
        assert "connect-src 'self'" in headers["content-security-policy"]
        assert int(headers["content-length"]) == len(body) > 100
    status, _headers, _body = https_get(world.web_port, context, "/../config.yaml")
    assert status == 404
    # Nothing on the page comes from elsewhere: no CDN, works on a LAN.
    _status, _headers, page = https_get(world.web_port, context, "/")
    assert b"http://" not in page and b"https://" not in page


def test_login_in_the_browser_masks_the_password_and_shows_tls(alice, world):
    page = alice.page
    text = alice.wait_text("Your connection is encrypted (TLSv1.")
    assert "wonderland" not in text  # never echoed
    assert page.get_attribute("#log", "role") == "log"
    assert re.match(r"TLSv1\.[23] · \S+", page.inner_text("#security"))
    alice.type("tls")
    assert re.search(r"Your connection is encrypted: TLSv1\.[23], cipher \S+",
                     alice.wait_text("Your connection is encrypted:"))
    # The master saw a secure connection from connect() on.
    world.wait_for_log(r"mudlib: web client from 127\.0\.0\.1 \(TLSv1\.[23], ")
    assert not alice.errors


def test_tls_efuns_on_a_web_player(alice):
    alice.type("clone /obj/webprobe")
    text = alice.wait_text("on the web port")
    assert "init refused: tls_init_connection: interactive already has a secure connection" in text
    assert "deinit refused: tls_deinit_connection: a web client's connection is secure" in text
    assert "state 1 on the web port: True" in text


def test_colour_arrives_as_styled_text(alice):
    alice.type("clone /obj/webprobe")
    alice.wait_text("orange")
    page = alice.page
    red = page.locator("#log span.fg1", has_text="red").last
    assert red.evaluate("e => getComputedStyle(e).color") == "rgb(205, 49, 49)"
    orange = page.locator("#log span.bold", has_text="orange").last
    assert orange.evaluate("e => e.style.color") == "rgb(255, 135, 0)"  # 256-colour 208
    green = page.locator("#log span", has_text="green").last
    assert green.evaluate("e => e.style.color") == "rgb(10, 200, 30)"
    assert "\x1b" not in alice.log_text()
    # Real text: selectable and copyable as plain words.
    selected = page.evaluate("""() => {
        const line = [...document.querySelectorAll('#log .line')].reverse()
            .find(l => l.innerText.includes('orange'));
        const range = document.createRange(); range.selectNodeContents(line);
        const selection = getSelection(); selection.removeAllRanges(); selection.addRange(range);
        return selection.toString(); }""")
    assert selected.strip() == "red orange green plain"


def test_gmcp_updates_the_panel(alice):
    page = alice.page
    alice.type("look")
    page.wait_for_function("() => document.getElementById('room-name').innerText !== 'Not in a room yet'")
    before = page.inner_text("#room-name")
    exits = page.inner_text("#room-exits")
    assert exits and exits != "none known"
    assert page.locator("#vitals meter").count() >= 2
    direction = exits.split(", ")[0]
    alice.type(direction)
    page.wait_for_function("name => document.getElementById('room-name').innerText !== name",
                           arg=before)
    alice.type({"north": "south", "south": "north", "east": "west", "west": "east",
                "up": "down", "down": "up"}.get(direction, "look"))


def test_browser_and_tls_players_hear_each_other(alice, world, certs):
    bob = Client.tls(world.tls_port, certs.client_context())
    try:
        bob.read_until("What is your name?")
        bob.send_line("Bob")
        bob.read_until("[y/n]")
        bob.send_line("y")
        bob.read_until("Choose a password")
        bob.send_line("builder")
        bob.read_until("Type it again")
        bob.send_line("builder")
        bob.read_until("> ")
        # Alice, an administrator, goes where Bob is; her commands run in order.
        alice.type("goto Bob")
        alice.type("say hello from the browser")
        assert "Alice says: hello from the browser" in bob.read_until("hello from the browser")
        bob.send_line("say hello from telnet")
        alice.wait_text("Bob says: hello from telnet")
    finally:
        bob.close()


# -- closing and reconnecting -----------------------------------------------------

def test_the_page_reconnects_when_the_driver_comes_back(browser, certs, tmp_path_factory):
    directory = tmp_path_factory.mktemp("web-restart")
    first = start_driver(directory, certs, mudlib=SHIPPED_MUDLIB, args=("--web-port", "0"))
    port = web_port_of(first)
    player = WebPlayer(browser, port)
    second = None
    try:
        player.wait_text("What is your name?")
        first.stop()  # close code 1001, going away: the page tries again by itself
        player.wait_state("waiting")
        assert "reconnecting" in player.page.inner_text("#state")
        second = start_driver(tmp_path_factory.mktemp("web-restart"), certs,
                              mudlib=SHIPPED_MUDLIB, args=("--web-port", str(port)))
        player.wait_state("connected", timeout=TIMEOUT * 2)
        # (A function, as every wait here: Playwright polls a bare expression
        # with eval() in the page, which the page's CSP refuses.)
        player.page.wait_for_function(
            "() => document.getElementById('log').innerText.split('What is your name?').length > 2")
    finally:
        player.close()
        if second is not None:
            second.stop()
        first.stop()


# -- what no browser would send ------------------------------------------------------

def https_get(port: int, context: ssl.SSLContext, path: str):
    with tls_socket(port, context) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = read_all(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def tls_socket(port: int, context: ssl.SSLContext) -> ssl.SSLSocket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return context.wrap_socket(sock, server_hostname="localhost")


def read_all(sock, timeout: float = TIMEOUT) -> bytes:
    """Everything until the server closes (a deadline bounds it)."""
    deadline = time.monotonic() + timeout
    data = bytearray()
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            break
        except (ssl.SSLError, ConnectionResetError):
            return bytes(data)
        if not chunk:
            return bytes(data)
        data += chunk
    raise AssertionError(f"the server did not close the connection; got {bytes(data)[:200]!r}")


def upgrade_request(port: int, key: bytes | None = None, extra: str = "") -> bytes:
    key = key or base64.b64encode(os.urandom(16))
    return (f"GET /ws HTTP/1.1\r\nHost: localhost:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: https://localhost:{port}\r\n{extra}\r\n").encode()


def client_frame(opcode: int, payload: bytes, declared: int | None = None) -> bytes:
    """A masked client frame (RFC 6455, 5.2); ``declared`` may claim a longer payload."""
    size = len(payload) if declared is None else declared
    head = bytes([0x80 | opcode])
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_code(data: bytes) -> int | None:
    """The code of the first close frame the server sent (server frames are not masked)."""
    at = 0
    while at + 2 <= len(data):
        opcode, size = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if size == 126:
            size, at = struct.unpack("!H", data[at:at + 2])[0], at + 2
        elif size == 127:
            size, at = struct.unpack("!Q", data[at:at + 8])[0], at + 8
        if opcode == 8:
            return struct.unpack("!H", data[at:at + 2])[0] if size >= 2 else None
        at += size
    return None


@pytest.fixture(scope="module")
def carol(world, certs):
    """A TLS telnet player who goes on playing while others misbehave."""
    client = Client.tls(world.tls_port, certs.client_context())
    client.read_until("What is your name?")
    client.send_line("Carol")
    client.read_until("[y/n]")
    client.send_line("y")
    client.read_until("Choose a password")
    client.send_line("lantern")
    client.read_until("Type it again")
    client.send_line("lantern")
    client.read_until("> ")
    yield client
    client.close()


def still_playing(client: Client) -> None:
    started = time.monotonic()
    assert "You say: still here" in client.command("say still here", "still here")
    assert time.monotonic() - started < TIMEOUT


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", b"400"),
    (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     b"Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", b"400"),
    (b"BREW /pot HTCPCP/1.0\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(60)) + b"\r\n",
     b"431"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n", b"431"),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", b"413"),
])
def test_malformed_requests_are_refused_and_nobody_else_notices(world, certs, carol,
                                                                request_bytes, status):
    with tls_socket(world.web_port, certs.client_context()) as sock:
        sock.sendall(request_bytes)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    still_playing(carol)


def test_a_websocket_from_another_origin_is_refused(world, certs):
    with tls_socket(world.web_port, certs.client_context()) as sock:
        sock.sendall(upgrade_request(world.web_port).replace(
            b"Origin: https://localhost", b"Origin: https://evil.example"))
        assert read_all(sock).startswith(b"HTTP/1.1 403")
    world.wait_for_log(rf"WebSocket from another origin \(https://evil\.example:{world.web_port}, "
                       rf"for Host 'localhost:{world.web_port}'\)")


def test_an_oversized_message_closes_only_its_connection(world, certs, carol):
    with tls_socket(world.web_port, certs.client_context()) as sock:
        sock.sendall(upgrade_request(world.web_port))
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        # 4096 bytes is this driver's limit; the frame claims a megabyte.
        sock.sendall(client_frame(2, b"x" * 8192, declared=1 << 20))
        assert close_code(head.partition(b"\r\n\r\n")[2] + read_all(sock)) == 1009
    world.wait_for_log(r"web request refused: a WebSocket message over 4096 bytes")
    still_playing(carol)


def test_a_slow_request_is_closed_at_the_deadline(world, certs, carol):
    mark = world.log_mark()
    with tls_socket(world.web_port, certs.client_context()) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: loc")  # and never the rest
        still_playing(carol)
        assert read_all(sock) == b""
        assert 1.5 < time.monotonic() - started < TIMEOUT
    world.wait_for_log(r"web connection closed: no WebSocket within 2 s", start=mark)


def test_a_raw_websocket_client_plays_and_closes_cleanly(world, certs):
    with tls_socket(world.web_port, certs.client_context()) as sock:
        sock.sendall(upgrade_request(world.web_port))
        data = b""
        while b"What is your name?" not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        assert data.startswith(b"HTTP/1.1 101")
        assert b'"type": "connection"' in data and b'"secure": true' in data
        sock.sendall(client_frame(9, b"are you there"))  # a ping: the pong comes back
        sock.sendall(client_frame(8, struct.pack("!H", 1000)))
        rest = read_all(sock)
        assert b"\x8a\x0dare you there" in rest
        assert close_code(rest) == 1000


def test_a_silent_websocket_is_dropped_and_one_that_answers_pings_stays(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, extra=(
        "web:\n  proxy_port: 0\n  proxy_host: 127.0.0.1\n  ping_interval: 0.5\n"))
    port = int(driver.wait_for_log(r"web for a proxy on 127\.0\.0\.1:(\d+)").group(1))
    silent = WebSocketPlayer(port, None, answer_pings=False)
    live = WebSocketPlayer(port, None)
    live.wait_pings(4)  # two seconds: four times what a silent peer is given
    live.ping(b"still here")
    silent.wait_eof()
    assert silent.pings >= 1
    driver.wait_for_log(r"WebSocket peer silent for \S+ s; closing")
    live.close()


def test_a_certificate_reload_reaches_the_next_web_connection_and_spares_open_ones(
        certs, tmp_path):
    from test_config import own_certificates, renew_and_reload
    own = own_certificates(certs, tmp_path)
    (tmp_path / "game").mkdir()
    driver = start_driver(tmp_path / "game", own, mudlib=SHIPPED_MUDLIB, args=("--web-port", "0"))
    try:
        port = web_port_of(driver)
        before = WebSocketPlayer(port, certs.client_context())
        before.read_until("What is your name?")
        old_certificate = before.sock.getpeercert(binary_form=True)
        cert, _mark = renew_and_reload(driver, certs, own, tmp_path, 200)
        after = WebSocketPlayer(port, certs.client_context())
        served = after.sock.getpeercert(binary_form=True)
        assert served != old_certificate
        assert served == ssl.PEM_cert_to_DER_cert(cert.read_text())
        # The WebSocket opened before the reload goes on as it was.
        before.ping(b"after the reload")
        assert before.sock.getpeercert(binary_form=True) == old_certificate
        before.close()
        after.close()
    finally:
        driver.stop()


# -- behind a reverse proxy -----------------------------------------------------------

def test_plain_http_for_a_proxy_takes_the_address_from_x_forwarded_for(make_driver):
    driver = make_driver(extra="web:\n  proxy_port: 0\n  proxy_host: 127.0.0.1\n")
    port = int(driver.wait_for_log(r"web for a proxy on 127\.0\.0\.1:(\d+)").group(1))
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(upgrade_request(port, extra="X-Forwarded-For: 203.0.113.9\r\n"))
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        assert data.startswith(b"HTTP/1.1 101")
        driver.wait_for_log(r"forwarded for 203\.0\.113\.9")
        assert b'"secure": false' in data + sock.recv(4096)


def forwarded_for(port: int, address: str, **kwargs) -> WebSocketPlayer:
    """A WebSocket, as a reverse proxy forwards it for ``address``."""
    return WebSocketPlayer(port, None, headers=[(b"x-forwarded-for", address.encode())], **kwargs)


def behind_a_proxy(directory: Path, certs, banned: tuple[str, ...] = ("203.0.113.0/24",)):
    """A driver serving a reverse proxy on loopback (a trusted proxy, and
    not exempt from the limits), one connection per address, ``banned``
    networks banned; and its proxy port."""
    (directory / "data").mkdir(parents=True)
    (directory / "data" / "bans.json").write_text(json.dumps({"format": 1, "bans": [
        {"network": network, "reason": "spam", "by": "Alice", "at": time.time(),
         "expires": None} for network in banned]}))
    driver = start_driver(directory, certs, mudlib=SHIPPED_MUDLIB,
                          extra="web:\n  proxy_port: 0\n  proxy_host: 127.0.0.1\n",
                          limits="limits:\n  per_address: 1\n")
    try:
        port = int(driver.wait_for_log(r"web for a proxy on 127\.0\.0\.1:(\d+)").group(1))
    except AssertionError:
        driver.stop()
        raise
    return driver, port


def test_behind_a_proxy_bans_and_limits_apply_to_the_forwarded_address(tmp_path, certs):
    """Every player comes from the proxy; the ban list and the per-address
    limit judge the address it forwards."""
    driver, port = behind_a_proxy(tmp_path / "game", certs)
    try:
        banned = forwarded_for(port, "203.0.113.9", wait_hello=False)
        banned.wait_eof()
        assert banned.accepted and banned.hello is None and not banned.telnet
        assert (banned.close_code, banned.close_reason) == (
            1008, "Connections from your address are not accepted here.")
        driver.wait_for_log(r"refused a connection from 203\.0\.113\.9 .*the site is banned")

        first = forwarded_for(port, "198.51.100.7")
        first.read_until("What is your name?")
        second = forwarded_for(port, "198.51.100.7", wait_hello=False)  # limits.per_address: 1
        second.wait_eof()
        assert (second.close_code, second.close_reason) == (
            1008, "Too many connections from your address; try again later.")
        forwarded_for(port, "198.51.100.8").read_until("What is your name?")  # another player
        # The first player leaves: their address may connect again.  (The
        # driver releases the connection's place before its socket closes.)
        first.close()
        forwarded_for(port, "198.51.100.7").read_until("What is your name?")
    finally:
        driver.stop()


def test_behind_a_proxy_a_websocket_it_names_no_one_for_counts_as_the_proxys(tmp_path, certs):
    """The proxy's page requests and named players are not counted against
    its address; a WebSocket without X-Forwarded-For is the proxy's own."""
    driver, port = behind_a_proxy(tmp_path / "game", certs)
    try:
        named = forwarded_for(port, "198.51.100.7")
        named.read_until("What is your name?")
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as page:
            page.sendall(f"GET / HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
            assert page.recv(4096).startswith(b"HTTP/1.1 200")
            own = WebSocketPlayer(port, None)  # names no one: the proxy's, its one place
            own.read_until("What is your name?")
            again = WebSocketPlayer(port, None, wait_hello=False)
            again.wait_eof()
            assert (again.close_code, again.close_reason) == (
                1008, "Too many connections from your address; try again later.")
            own.close()
            named.close()
    finally:
        driver.stop()


def test_a_refused_player_behind_a_proxy_reads_why_in_the_browser(browser, tmp_path, certs):
    # Chromium stands in for the proxy: it sends X-Forwarded-For itself.
    driver, port = behind_a_proxy(tmp_path / "game", certs)
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(f"http://localhost:{port}/")
        page.wait_for_function(
            "text => document.getElementById('log').innerText.includes(text)",
            arg="Connections from your address are not accepted here.")
        page.wait_for_selector("#state[data-state=closed]")
        assert page.inner_text("#state") == "Refused"   # and no reconnecting on its own
        driver.wait_for_log(r"refused a connection from 203\.0\.113\.9 ")
    finally:
        context.close()
        driver.stop()


def test_plain_http_is_refused_on_a_non_loopback_address(tmp_path, certs):
    config = write_config(tmp_path, certs, extra="web:\n  proxy_port: 0\n  proxy_host: 0.0.0.0\n")
    result = subprocess.run([sys.executable, str(ROOT / "driver.py"), "--config", str(config),
                             "--check-config"], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 2
    assert "web.proxy_host: 0.0.0.0 is not a loopback address" in result.stderr


# -- behind nginx, set up as docs/clients.md says ----------------------------------------
#
# A real nginx does TLS on its own port and forwards the page and the
# WebSocket to the driver's port for a proxy, with the location block of
# docs/clients.md as it is written there (only the port differs).  Players
# connect from addresses of their own on loopback (127.0.0.2, ...), so the
# address nginx forwards is not the proxy's.

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_CONFIG = """\
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
{location}
    }}
}}
"""


def documented_nginx_location(proxy_port: int) -> str:
    """The location block docs/clients.md gives operators, for ``proxy_port``."""
    text = (ROOT / "docs" / "clients.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", text, re.S).group(1)
    assert "http://127.0.0.1:4081;" in block, block
    return block.replace("http://127.0.0.1:4081;", f"http://127.0.0.1:{proxy_port};")


class Nginx:
    """nginx in the foreground, one process, all its files in ``directory``."""

    def __init__(self, directory: Path, proxy_port: int, certs) -> None:
        if not os.path.exists(NGINX):
            pytest.skip("nginx is not installed (make interop-tools installs it)")
        directory.mkdir(parents=True)
        self.directory = directory
        self.process: subprocess.Popen | None = None
        location = documented_nginx_location(proxy_port)
        # nginx cannot be given port 0 and asked which it got: take a free
        # port, and take another if someone else bound it meanwhile.
        for _ in range(5):
            self.port = free_port()
            config = directory / "nginx.conf"
            config.write_text(NGINX_CONFIG.format(
                dir=directory, port=self.port, certificate=certs.fullchain, key=certs.key,
                location=location))
            self.process = subprocess.Popen(
                [NGINX, "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            if self._wait_listening():
                return
        raise AssertionError(f"nginx did not start:\n{self.error_log()}")

    def _wait_listening(self) -> bool:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # it could not start (the port was taken?)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT).close()
                return True
            except ConnectionRefusedError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"nginx never listened:\n{self.error_log()}")

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=TIMEOUT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx_world(tmp_path, certs):
    """The shipped world behind nginx: (driver, nginx).  As ``behind_a_proxy``:
    one connection per address; 203.0.113.0/24 and 127.0.0.5 banned."""
    driver, proxy_port = behind_a_proxy(tmp_path / "game", certs,
                                        banned=("203.0.113.0/24", "127.0.0.5/32"))
    try:
        nginx = Nginx(tmp_path / "nginx", proxy_port, certs)
    except BaseException:
        driver.stop()
        raise
    yield driver, nginx
    nginx.stop()
    driver.stop()


def test_a_browser_plays_through_nginx_as_documented(nginx_world, browser):
    driver, nginx = nginx_world
    mark = driver.log_mark()
    player = WebPlayer(browser, nginx.port)  # https://localhost:<nginx>/: page and WebSocket
    try:
        player.create_character("Nina", "behind-the-proxy")
        player.wait_text("Welcome to Ravenmoor, Nina.")
        assert player.page.inner_text("#security") == "TLS by the proxy"
        player.type("say through nginx")
        player.wait_text("You say: through nginx")
        # The game sees no TLS on this connection, and says whose it is.
        player.type("tls")
        player.wait_words("The proxy, not the game, encrypts the connection")
        player.type("who")
        text = player.wait_words("a browser whose encryption, if any, is the web proxy's")
        assert re.search(r"Nina web\b", text), text
        driver.wait_for_log(r"web client from 127\.0\.0\.1 \(through a reverse proxy\)",
                            start=mark)
        assert not player.errors
    finally:
        player.close()


def test_through_nginx_the_address_is_the_one_nginx_saw(nginx_world, certs):
    """nginx appends the address it saw to any X-Forwarded-For the client
    sent: the driver believes that one, so a forged header neither hides a
    player nor gets them banned; bans and limits judge the real address."""
    driver, nginx = nginx_world
    context = certs.client_context()
    forged = [(b"x-forwarded-for", b"203.0.113.9")]  # a banned network, claimed
    first = WebSocketPlayer(nginx.port, context, headers=forged, source="127.0.0.2")
    first.read_until("What is your name?")
    driver.wait_for_log(r"forwarded for 127\.0\.0\.2\b")
    # limits.per_address: 1, counted for 127.0.0.2, not for the proxy.
    second = WebSocketPlayer(nginx.port, context, source="127.0.0.2", wait_hello=False)
    second.wait_eof()
    assert (second.close_code, second.close_reason) == (
        1008, "Too many connections from your address; try again later.")
    WebSocketPlayer(nginx.port, context, source="127.0.0.3").read_until("What is your name?")
    first.close()
    # A site ban judges the address nginx saw, too.
    banned = WebSocketPlayer(nginx.port, context, source="127.0.0.5", wait_hello=False)
    banned.wait_eof()
    assert (banned.close_code, banned.close_reason) == (
        1008, "Connections from your address are not accepted here.")
    driver.wait_for_log(r"refused a connection from 127\.0\.0\.5 .*the site is banned")
