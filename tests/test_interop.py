"""Other people's TLS stacks as players: OpenSSL, GnuTLS and telnetlib3.

``openssl s_client`` and ``gnutls-cli`` are driven through pipes the way a
person would type into them: a reader thread collects their output and every
wait has a deadline.  They verify the server's certificate against the test
CA, log a new character into the shipped world, look around and quit.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import threading
import time

import pytest
import telnetlib3
import trustme

from conftest import SHIPPED_MUDLIB, TIMEOUT, start_driver, strip_telnet
from driver.net.tls import TLS_ERR_PROTOCOL_VERSION, describe

PASSWORD = "moorland-wind"


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    """One shipped world for the module; each test uses its own characters."""
    driver = start_driver(tmp_path_factory.mktemp("interop"), certs, mudlib=SHIPPED_MUDLIB)
    yield driver
    driver.stop()


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} not installed (make tools)")
    return path


class ToolPlayer:
    """A command-line TLS client on pipes: type lines, wait for text."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self.output = bytearray()
        self.eof = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        fd = self.process.stdout.fileno()
        while True:
            data = os.read(fd, 65536)
            with self._changed:
                if not data:
                    self.eof = True
                    self._changed.notify_all()
                    return
                self.output += data
                self._changed.notify_all()

    def text(self, start: int = 0) -> str:
        with self._changed:
            return strip_telnet(bytes(self.output[start:])).decode("utf-8", errors="replace")

    def mark(self) -> int:
        with self._changed:
            return len(self.output)

    def wait_for(self, needle: str, start: int = 0, timeout: float = TIMEOUT) -> str:
        """Wait until the output (from byte ``start``) contains ``needle``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                text = strip_telnet(bytes(self.output[start:])).decode("utf-8", errors="replace")
                if needle in text:
                    return text
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof:
                    why = "exited" if self.eof else "timed out"
                    raise AssertionError(f"{self.argv[0]} {why} waiting for {needle!r}; "
                                         f"output:\n{text}")
                self._changed.wait(remaining)

    def send_line(self, line: str) -> None:
        self.process.stdin.write(line.encode("utf-8") + b"\n")
        self.process.stdin.flush()

    def command(self, line: str, until: str) -> str:
        start = self.mark()
        self.send_line(line)
        return self.wait_for(until, start)

    def close_input(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass

    def wait_exit(self, timeout: float = TIMEOUT) -> int:
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT)
        self.close_input()
        self._reader.join(TIMEOUT)
        self.process.stdout.close()


@pytest.fixture
def tools():
    started: list[ToolPlayer] = []

    def run(argv: list[str]) -> ToolPlayer:
        player = ToolPlayer(argv)
        started.append(player)
        return player

    yield run
    for player in started:
        player.stop()


def s_client(world, certs, *options: str, ca_file=None) -> list[str]:
    return [need("openssl"), "s_client", "-connect", f"127.0.0.1:{world.tls_port}",
            "-servername", "localhost", "-CAfile", str(ca_file or certs.ca_file),
            "-verify_return_error", "-verify_hostname", "localhost",
            "-nocommands",  # a line starting with Q, R or k is text for the game
            *options]


def gnutls_cli(world, certs, *options: str) -> list[str]:
    return [need("gnutls-cli"), "--x509cafile", str(certs.ca_file), "-p", str(world.tls_port),
            "--sni-hostname", "localhost", "--verify-hostname", "localhost", *options,
            "127.0.0.1"]


def play_a_new_character(player: ToolPlayer, name: str) -> None:
    """Name prompt to quit: create ``name``, look, quit."""
    player.command(name.lower(), f"Create a new character called {name}? [y/n] ")
    player.command("y", "characters): ")
    player.command(PASSWORD, "Type it again: ")
    text = player.command(PASSWORD, "Obvious exits")
    assert f"Welcome to Ravenmoor, {name}." in text
    text = player.command("look", "Obvious exits: north, south, east and west.")
    assert "The town square" in text
    player.command("quit", "Farewell, and come back soon!")


# --- OpenSSL -----------------------------------------------------------------------

def test_openssl_s_client_plays_over_tls_1_3(world, certs, tools):
    client = tools(s_client(world, certs))
    text = client.wait_for("What is your name? ")
    assert "Verify return code: 0 (ok)" in text
    assert "Verified peername: localhost" in text
    assert "New, TLSv1.3, Cipher is TLS_" in text
    assert "R  A  V  E  N  M  O  O  R" in text
    assert "Your connection is encrypted (TLSv1.3, " in text

    play_a_new_character(client, "Olga")
    # The driver's close_notify ends s_client cleanly ("closed"), without
    # anyone closing its input.
    assert client.wait_exit() == 0
    assert re.search(r"^closed$", client.text(), re.M), client.text()[-500:]
    world.wait_for_log(r"mudlib: Olga quit")


def test_openssl_s_client_rejects_a_server_it_cannot_verify(world, certs, tools, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA(organization_name="Somebody Else").cert_pem.write_to_path(str(other_ca))
    client = tools(s_client(world, certs, ca_file=other_ca))
    client.close_input()
    assert client.wait_exit() != 0
    text = client.text()
    assert "verify error" in text
    assert "What is your name?" not in text


def test_openssl_s_client_tls_1_2_works_without_compression(world, certs, tools):
    client = tools(s_client(world, certs, "-tls1_2", "-comp"))
    text = client.wait_for("What is your name? ")
    assert re.search(r"New, TLSv1\.2, Cipher is ECDHE-", text), text
    assert "Compression: NONE" in text
    assert "Verify return code: 0 (ok)" in text
    assert "Your connection is encrypted (TLSv1.2, ECDHE-" in text
    client.command("tessa", "Create a new character called Tessa? [y/n] ")
    client.close_input()  # s_client sends close_notify and leaves
    assert client.wait_exit() == 0


@pytest.mark.parametrize("options", [
    ("-tls1_1",),
    ("-no_tls1_2", "-no_tls1_3"),
], ids=["tls1_1", "no_tls1_2-no_tls1_3"])
def test_openssl_s_client_tls_1_1_is_refused(world, certs, tools, options):
    mark = world.log_mark()
    # SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all, so the refusal is the driver's.
    client = tools(s_client(world, certs, *options, "-cipher", "DEFAULT@SECLEVEL=0"))
    client.close_input()
    assert client.wait_exit() != 0
    text = client.text()
    assert "alert protocol version" in text, text[-1000:]
    assert "What is your name?" not in text
    world.wait_for_log(r"TLS handshake with 127\.0\.0\.1 failed: "
                       + re.escape(describe(TLS_ERR_PROTOCOL_VERSION)), start=mark)


# --- GnuTLS ------------------------------------------------------------------------

def test_gnutls_cli_plays_over_tls(world, certs, tools):
    client = tools(gnutls_cli(world, certs))
    text = client.wait_for("What is your name? ")
    assert "- Status: The certificate is trusted." in text
    assert "- Handshake was completed" in text
    assert "(TLS1.3" in text
    assert "Your connection is encrypted (TLSv1.3, " in text

    play_a_new_character(client, "Gunnar")
    # gnutls-cli says so when the peer ends TLS with close_notify (and calls
    # anything else "non-properly terminated").
    assert client.wait_exit() == 0
    text = client.text()
    assert "- Peer has closed the GnuTLS connection" in text
    assert "non-properly terminated" not in text
    world.wait_for_log(r"mudlib: Gunnar quit")


def test_gnutls_cli_with_another_ca_does_not_trust_us(world, certs, tools, tmp_path):
    other = tmp_path / "other-ca.pem"
    trustme.CA(organization_name="Somebody Else").cert_pem.write_to_path(str(other))
    argv = gnutls_cli(world, certs)
    argv[argv.index("--x509cafile") + 1] = str(other)
    client = tools(argv)
    client.close_input()
    assert client.wait_exit() != 0
    text = client.text()
    assert "NOT trusted" in text
    assert "What is your name?" not in text


# --- telnetlib3's client -------------------------------------------------------------

async def _read_name_prompt(port: int, ssl_context=None) -> tuple[str, str | None]:
    reader, writer = await telnetlib3.open_connection(
        "127.0.0.1", port, ssl=ssl_context,
        server_hostname="localhost" if ssl_context else None,
        connect_maxwait=0.5, connect_timeout=TIMEOUT, encoding="utf8")
    try:
        text = ""
        while "What is your name? " not in text:
            chunk = await reader.read(4096)
            assert chunk, f"connection closed before the name prompt:\n{text}"
            text += chunk
        writer.write("telma\r\n")
        while "[y/n]" not in text:
            chunk = await reader.read(4096)
            assert chunk, f"connection closed before the confirmation:\n{text}"
            text += chunk
        ssl_object = writer.get_extra_info("ssl_object")
        return text, ssl_object.version() if ssl_object is not None else None
    finally:
        writer.close()


def test_telnetlib3_client_on_the_plain_port(world):
    text, version = asyncio.run(asyncio.wait_for(_read_name_prompt(world.telnet_port), TIMEOUT))
    assert version is None
    assert f"For TLS, connect to localhost port {world.tls_port}." in text
    assert "Create a new character called Telma?" in text


def test_telnetlib3_client_on_the_tls_port(world, certs):
    text, version = asyncio.run(asyncio.wait_for(
        _read_name_prompt(world.tls_port, certs.client_context()), TIMEOUT))
    assert version == "TLSv1.3"
    assert "Your connection is encrypted (TLSv1.3, " in text
    assert "Create a new character called Telma?" in text
