"""tf5 (TinyFugue 5) as a player, driven in tmux: over TLS (/connect -x) and
plain telnet.  How the screen is read: ``terminal.py``.

tf5 does not verify the server's certificate; it reports the cipher it
connected with.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SHIPPED_MUDLIB, start_driver
from terminal import PASSWORD, TerminalClient, clients, create_character, tool


class TinyFugue(TerminalClient):
    name = "tf5"

    def __init__(self, home) -> None:
        # A fresh HOME's ~/.tfrc: no line breaking of tf's own, and a word
        # once tf's main loop runs (input typed before then can be lost).
        home.mkdir(exist_ok=True)
        (home / ".tfrc").write_text("/set wrap=off\n/repeat -0.1 1 /echo <ready>\n")
        super().__init__(home, f"{tool('tf5', 'tf')} -n")  # -n: no world at start
        self.wait_for("<ready>")


@pytest.fixture
def tf5(tmp_path):
    yield from clients(tmp_path, TinyFugue)


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("tf5"), certs, mudlib=SHIPPED_MUDLIB)
    yield driver
    driver.stop()


def test_tf5_over_tls(world, tf5):
    tf = tf5()
    tf.type(f"/connect -x localhost {world.tls_port}")
    screen = tf.wait_for("Your connection is encrypted (TLSv1.")
    assert "using cipher TLS_" in screen  # tf's own report of the TLS 1.3 suite
    create_character(tf, "tfsecure")
    assert PASSWORD not in tf.screen()  # WILL ECHO: tf hid the password
    tf.command("look", "Obvious exits")
    # The listing's last line: tf may draw the first before the rest has arrived.
    tf.command("who", "online.  'tls' means the connection is encrypted.")
    who = tf.screen()
    who = who[who.rindex("Adventurers in"):]
    assert "Tfsecure" in who and "tls" in who
    tf.command("tls", "Your connection is encrypted: TLSv1.")
    tf.type("quit")
    tf.wait_for("Farewell")
    # close_notify, then the close: OpenSSL's "zero return" is the clean end
    tf.wait_for("closed: SSL: SSL_ERROR_ZERO_RETURN")
    world.wait_for_log(r"Tfsecure quit")


def test_tf5_over_plain_telnet(world, tf5):
    tf = tf5()
    mark = world.log_mark()
    tf.type(f"/connect localhost {world.telnet_port}")
    tf.wait_for("This connection is not encrypted.")
    create_character(tf, "tfplain")
    assert PASSWORD not in tf.screen()
    tf.command("tls", "Your connection is not encrypted")
    tf.type("quit")
    tf.wait_for("Farewell")
    world.wait_for_log(r"Tfplain quit", start=mark)


def test_what_tf5_negotiates(tmp_path_factory, tf5):
    """TTYPE, NAWS and MCCP2 from tf5; no charset, so text reaches it as ASCII
    (it would show UTF-8 as "cafC)")."""
    driver = start_driver(tmp_path_factory.mktemp("tf5-client"), None, tls_port=None,
                          mudlib=Path(__file__).resolve().parent.parent / "mudlib_clients")
    try:
        tf = tf5()
        tf.type(f"/connect localhost {driver.telnet_port}")
        tf.wait_for("WELCOME ")
        answer = tf.command("client", "CLIENT {")
        info = json.loads(answer.split("CLIENT ", 1)[1].split("\n", 1)[0])
        assert info["client"] == "TINYFUGUE" and info["mtts"] is None
        assert info["mccp"] is True and info["tls"] == 0
        assert info["window"] is not None and info["window"][0] > 100  # tmux's width, less tf's
        tf.command("unicode", "UNICODE cafe ?")
    finally:
        driver.stop()
