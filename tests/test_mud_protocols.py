"""MUD protocols: MSSP, GMCP, MCCP2 (and its end before TLS), the mudlib's
telnet negotiation hook, and the pure helpers of driver.net.mud_protocols."""

from __future__ import annotations

import json

import pytest
from telnetlib3.mud import mssp_decode

from conftest import start_driver
from driver.net import mud_protocols
from mudclient import (CLIENT_MUDLIB, DO, DONT, GMCP, MCCP2, MSSP, MXP, WILL, TelnetPeer,
                       client_info, connect, iac, sb)


@pytest.fixture(scope="module")
def world(tmp_path_factory, certs):
    driver = start_driver(tmp_path_factory.mktemp("protocols"), certs, mudlib=CLIENT_MUDLIB)
    yield driver
    driver.stop()


# --- MSSP -----------------------------------------------------------------------------

def test_mssp_for_a_crawler(world):
    peer = TelnetPeer(world.telnet_port)
    peer.wait_command(("WILL", MSSP))
    peer.send(iac(DO, MSSP))
    fields = mssp_decode(peer.wait_sb(MSSP))
    assert fields["NAME"] == "Client Test World"           # the master's query_mud_name()
    assert fields["PORT"] == str(world.telnet_port)
    assert fields["TLS"] == fields["SSL"] == str(world.tls_port)
    assert fields["HOSTNAME"] == "localhost"
    assert int(fields["UPTIME"]) > 1_600_000_000           # a Unix time: when the driver started
    # The master's query_mssp() adds fields, overrides PLAYERS, removes CODEBASE.
    assert fields["GENRE"] == "Testing" and fields["CONTACT"] == "nobody@example.org"
    assert fields["PLAYERS"] == "42" and "CODEBASE" not in fields
    peer.close()


def test_mssp_defaults_without_master_overrides(make_driver, tmp_path):
    mudlib = tmp_path / "mudlib"
    mudlib.mkdir()
    (mudlib / "master.py").write_text(
        "from driver.efuns import MudObject, clone_object\n"
        "class Master(MudObject):\n"
        "    def connect(self):\n"
        "        return clone_object('/login')\n")
    (mudlib / "login.py").write_text(
        "from driver.efuns import MudObject, write\n"
        "class Login(MudObject):\n"
        "    def logon(self, *args):\n"
        "        write('HELLO\\n')\n")
    driver = make_driver(mudlib=mudlib, tls_port=None,
                         extra="mssp:\n  name: Configured Name\n  fields:\n    LANGUAGE: English\n")
    peer = TelnetPeer(driver.telnet_port)
    peer.wait_text("HELLO")
    peer.send(iac(DO, MSSP))
    fields = mssp_decode(peer.wait_sb(MSSP))
    assert fields["NAME"] == "Configured Name" and fields["LANGUAGE"] == "English"
    assert fields["PLAYERS"] == "1" and fields["CODEBASE"].startswith("pymud-tls-driver")
    assert "TLS" not in fields and "SSL" not in fields
    peer.close()


# --- GMCP -----------------------------------------------------------------------------

def test_gmcp_hello_supports_and_messages_both_ways(world):
    peer = connect(world)
    peer.send(iac(DO, GMCP))
    peer.send(sb(GMCP, b'Core.Hello {"client": "Mudlet", "version": "4.17.2"}'))
    peer.send(sb(GMCP, b'Core.Supports.Set ["Char 1", "Room 1", "Char.Skills 1"]'))
    peer.send(sb(GMCP, b'Core.Supports.Remove ["Char.Skills"]'))
    peer.send(sb(GMCP, b'Core.Supports.Add ["Comm.Channel 2"]'))
    mark = world.log_mark()
    peer.send(sb(GMCP, 'Char.Say {"text": "héllo"}'.encode()))
    world.wait_for_log(r'GMCP /player#\d+ Char.Say \{"text": "h\\u00e9llo"\}', start=mark)
    info = client_info(peer)
    assert info["gmcp_client"] == {"client": "Mudlet", "version": "4.17.2"}
    assert info["gmcp_supports"] == {"Char": 1, "Room": 1, "Comm.Channel": 2}
    # The apply answers a ping; send_gmcp sends UTF-8 JSON.
    peer.send(sb(GMCP, b"Core.Ping"))
    peer.wait_command(("SB", GMCP, b"Core.Ping"))
    assert peer.run('gmcp Char.Vitals {"hp": 10, "name": "Zo\\u00eb"}', "GMCP SENT") == "GMCP SENT True"
    peer.wait_command(("SB", GMCP, 'Char.Vitals {"hp":10,"name":"Zoë"}'.encode()))
    peer.close()


def test_send_gmcp_without_gmcp_is_false(world):
    peer = connect(world)
    peer.send(iac(DONT, GMCP))
    assert peer.run("gmcp Char.Vitals {}", "GMCP SENT") == "GMCP SENT False"
    assert not any(c[:2] == ("SB", GMCP) for c in peer.commands)
    peer.close()


# --- MCCP2 ----------------------------------------------------------------------------

def test_mccp2_compresses_when_the_client_asks(world):
    peer = connect(world)
    peer.wait_command(("WILL", MCCP2))
    peer.send(iac(DO, MCCP2))
    peer.wait_command(("SB", MCCP2, b""))
    before = peer.inflated_total
    assert peer.run("unicode", "UNICODE ") == "UNICODE café ☕"
    assert peer.inflated_total > before  # that text came compressed
    assert client_info(peer)["mccp"] is True
    peer.close()


def test_starting_tls_ends_compression_first(world, certs):
    peer = connect(world)
    peer.send(iac(DO, MCCP2))
    peer.wait_command(("SB", MCCP2, b""))
    peer.send_line("starttls")
    # "GO AHEAD" arrives compressed, then the zlib stream ends (Z_FINISH)
    # before anything of TLS: nothing is ever compressed and encrypted.
    peer.wait(lambda: peer.compression_ended, "the end of the compressed stream")
    assert "GO AHEAD" in peer.text
    peer.start_tls(certs.client_context())
    peer.finish_tls()
    peer.wait_text("SECURED result=0")
    info = client_info(peer)
    assert info["tls"] == 1 and info["mccp"] is False
    # Asking again over TLS is refused.
    peer.send(iac(DO, MCCP2))
    peer.wait_command(("WONT", MCCP2))
    assert peer.run("echo still encrypted, not compressed", "ECHO ").endswith("compressed")
    peer.close()


def test_no_mccp_on_the_tls_port(world, certs):
    peer = TelnetPeer(world.tls_port)
    peer.start_tls(certs.client_context())
    peer.finish_tls()
    peer.wait_text("WELCOME ")
    peer.wait_command(("WILL", GMCP))
    assert ("WILL", MCCP2) not in peer.commands
    peer.send(iac(DO, MCCP2))
    peer.wait_command(("WONT", MCCP2))
    assert client_info(peer)["mccp"] is False
    peer.close()


# --- the mudlib's telnet_neg hook -------------------------------------------------------

def test_telnet_neg_answers_and_unhandled_options_are_refused(world):
    peer = connect(world)
    mark = world.log_mark()
    # WILL MXP: the master answers DO MXP itself (send_telnet_neg).
    peer.send(iac(WILL, MXP))
    world.wait_for_log(rf"TELNET_NEG /player#\d+ {251} {MXP} -", start=mark)
    peer.wait_command(("DO", MXP))
    # An option nobody handles is refused, after the master saw it.
    peer.send(iac(WILL, 200))
    peer.wait_command(("DONT", 200))
    world.wait_for_log(r"TELNET_NEG /player#\d+ 251 200 -", start=mark)
    peer.send(iac(DO, 93))
    peer.wait_command(("WONT", 93))
    # Subnegotiation for an option the driver does not parse reaches the master.
    peer.send(sb(MXP, b"\x01\x02hello"))
    world.wait_for_log(r"TELNET_NEG /player#\d+ 250 91 0102" + b"hello".hex(), start=mark)
    assert peer.run("echo fine", "ECHO ") == "ECHO fine"
    peer.close()


# --- pure helpers -----------------------------------------------------------------------

def test_client_info_from_ttype_answers():
    info = mud_protocols.ClientInfo()
    for ttype in ("TINTIN++", "XTERM-256COLOR", "MTTS 2317"):
        info.add_ttype(ttype)
    assert (info.client_name, info.terminal_type, info.mtts) == ("TINTIN++", "XTERM-256COLOR", 2317)
    assert info.mtts & mud_protocols.MTTS_SSL
    info = mud_protocols.ClientInfo()
    info.add_ttype("ansi")
    info.add_ttype("ansi")
    assert (info.client_name, info.terminal_type, info.mtts) == (None, "ansi", None)
    assert mud_protocols.parse_mtts("MTTS x") is None and mud_protocols.parse_mtts("mtts 9") == 9


def test_a_client_repeating_itself_cannot_grow_what_is_kept_about_it():
    info = mud_protocols.ClientInfo()
    for number in range(10_000):
        info.add_ttype(f"TERM-{number}")
        info.gmcp_core("Core.Supports.Add", [f"Module{number} 1", "X" * 5000 + " 1"])
    assert info.ttypes == [f"TERM-{n}" for n in range(mud_protocols.MAX_TTYPES)]
    assert len(info.gmcp_supports) == mud_protocols.MAX_GMCP_MODULES
    assert "Module0" in info.gmcp_supports and "X" * 5000 not in info.gmcp_supports
    info.gmcp_core("Core.Supports.Remove", ["Module0"])
    info.gmcp_core("Core.Supports.Add", ["Char 2"])  # room again after a removal
    assert info.gmcp_supports["Char"] == 2


def test_charset_choice_and_decoding():
    assert mud_protocols.choose_charset(["ISO-8859-1", "utf8"]) == "utf8"
    assert mud_protocols.choose_charset(["KOI8-R", "LATIN1"]) == "LATIN1"
    assert mud_protocols.choose_charset(["KOI8-R", "bogus"]) is None
    assert mud_protocols.decode_line(b"caf\xc3\xa9", None) == "café"
    assert mud_protocols.decode_line(b"caf\xe9", None) == "café"          # Windows-1252
    assert mud_protocols.decode_line(b"caf\xe9", "utf-8") == "caf\ufffd"  # agreed UTF-8
    assert mud_protocols.decode_line(b"caf\xe9", "iso8859-1") == "café"
    for junk in (b"\xff\xfe\xfd", b"\xc3", b"\xed\xa0\x80", bytes(range(256))):
        mud_protocols.decode_line(junk, None)
        mud_protocols.decode_line(junk, "utf-8")


def test_mssp_payload_formats_values():
    payload = mud_protocols.mssp_payload({"NAME": "X\x01Y", "PORT": 4000, "SSL": None,
                                          "CRAWL": ["a", "b"], "ANSI": True})
    assert mssp_decode(payload) == {"NAME": "XY", "PORT": "4000", "CRAWL": ["a", "b"], "ANSI": "1"}


def test_gmcp_core_supports_bookkeeping():
    info = mud_protocols.ClientInfo()
    info.gmcp_core("Core.Supports.Set", ["Char 1", "Room", "Bad x", 7, ""])
    info.gmcp_core("core.supports.add", ["IRE.Rift 1"])
    info.gmcp_core("Core.Supports.Remove", ["Room"])
    assert info.gmcp_supports == {"Char": 1, "Bad": 1, "IRE.Rift": 1}
    info.gmcp_core("Core.Hello", "not a dict")
    assert info.gmcp_hello is None


# --- the shipped world ------------------------------------------------------------------

def test_the_shipped_world_sends_char_and_room_data(make_driver):
    from conftest import SHIPPED_MUDLIB

    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    peer = TelnetPeer(driver.telnet_port)
    peer.wait_command(("WILL", GMCP))
    peer.send(iac(DO, GMCP) + sb(GMCP, b'Core.Hello {"client": "Mudlet", "version": "4.17"}')
              + sb(GMCP, b'Core.Supports.Set ["Char 1", "Room 1", "Comm.Channel 1"]'))
    peer.wait_text("What is your name? ")
    for line, until in (("gwen", "[y/n] "), ("y", "characters): "),
                        ("moorland-wind", "Type it again: "), ("moorland-wind", "> ")):
        peer.send_line(line)
        peer.wait_text(until)

    def gmcp(package):
        return [json.loads(c[2].split(b" ", 1)[1]) for c in peer.commands
                if c[:2] == ("SB", GMCP) and c[2].split(b" ", 1)[0] == package.encode()]

    peer.wait(lambda: gmcp("Room.Info"), "Room.Info")
    assert gmcp("Char.Name")[0]["name"] == "Gwen"
    vitals = gmcp("Char.Vitals")[-1]
    assert 0 < vitals["hp"] <= vitals["maxhp"] and 0 < vitals["mv"] <= vitals["maxmv"]
    # Once per room entry: the login put her in the square once.
    assert len(gmcp("Room.Info")) == 1, gmcp("Room.Info")
    room = gmcp("Room.Info")[0]
    # Mudlet's mapper wants numbers: for the room, and for where each exit leads.
    assert isinstance(room["num"], int) and room["area"] == "Ravenmoor"
    assert room["exits"] and all(isinstance(n, int) for n in room["exits"].values())
    direction = sorted(room["exits"])[0]
    mark = len(peer.text_bytes)
    peer.send_line(direction)
    peer.wait_text("> ", start=mark)
    assert len(gmcp("Room.Info")) == 2, gmcp("Room.Info")
    assert gmcp("Room.Info")[-1]["num"] == room["exits"][direction]
    # Walking costs stamina, and the gauge says so.
    assert min(v["mv"] for v in gmcp("Char.Vitals")) < vitals["mv"]
    # 'look' shows the room again; the client's map has it already.
    mark = len(peer.text_bytes)
    peer.send_line("look")
    peer.wait_text("> ", start=mark)
    assert len(gmcp("Room.Info")) == 2
    peer.send(sb(GMCP, b"Core.Ping"))
    peer.wait_command(("SB", GMCP, b"Core.Ping"))
    # A line on a channel, for the client's chat window too.
    peer.send_line("chat Evening, all.")
    peer.wait(lambda: gmcp("Comm.Channel.Text"), "Comm.Channel.Text")
    assert gmcp("Comm.Channel.Text") == [
        {"channel": "chat", "talker": "Gwen", "text": "[chat] Gwen: Evening, all."}]
    # A crawler meanwhile: the shipped master counts players, not connections.
    crawler = TelnetPeer(driver.telnet_port)
    crawler.send(iac(DO, MSSP))
    fields = mssp_decode(crawler.wait_sb(MSSP))
    assert fields["NAME"] == "Ravenmoor" and fields["PLAYERS"] == "1"
    assert fields["GMCP"] == "1" and fields["MCCP"] == "1" and fields["SSL"] == str(driver.tls_port)
    # The world colours its text for the clients that show colour (/std/colour).
    assert fields["ANSI"] == fields["XTERM 256 COLORS"] == fields["XTERM TRUE COLORS"] == "1"
    crawler.close()
    peer.close()


# --- configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("section, body, key", [
    ("mudlib", "  directory: {mudlib}\n  linkdead_timeout: -1\n", "mudlib.linkdead_timeout"),
    ("telnet", "  starttls: 'yes'\n", "telnet.starttls"),
    ("telnet", "  compression: 1\n", "telnet.compression"),
    ("telnet", "  gmcp: true\n", "telnet.gmcp: unknown key"),
    ("mssp", "  fields: [CONTACT]\n", "mssp.fields"),
    ("mssp", "  name: ''\n", "mssp.name"),
])
def test_client_settings_are_checked(tmp_path, section, body, key):
    from driver.config import ConfigError, load
    from conftest import SHIPPED_MUDLIB

    text = f"{section}:\n" + body.format(mudlib=SHIPPED_MUDLIB)
    if section != "mudlib":
        text = f"mudlib:\n  directory: {SHIPPED_MUDLIB}\n" + text
    config_file = tmp_path / "config.yaml"
    config_file.write_text("server:\n  tls_port: null\n" + text)
    with pytest.raises(ConfigError) as raised:
        load(config_file)
    assert str(raised.value).startswith(key), str(raised.value)
    assert "\n" not in str(raised.value)


def test_client_settings_defaults_and_values(tmp_path):
    from driver.config import load
    from conftest import SHIPPED_MUDLIB

    config_file = tmp_path / "config.yaml"
    config_file.write_text(f"server:\n  tls_port: null\nmudlib:\n  directory: {SHIPPED_MUDLIB}\n")
    config = load(config_file)
    assert (config.linkdead_timeout, config.telnet_compression, config.telnet_starttls) == \
        (600.0, True, False)
    assert (config.mssp_name, config.mssp_fields) == (None, ())
    config_file.write_text(
        f"server:\n  tls_port: null\nmudlib:\n  directory: {SHIPPED_MUDLIB}\n"
        "  linkdead_timeout: 0\ntelnet:\n  compression: false\n  starttls: true\n"
        "mssp:\n  name: Elsewhere\n  fields:\n    CONTACT: a@example.org\n    MINIMUM AGE: 13\n")
    config = load(config_file)
    assert (config.linkdead_timeout, config.telnet_compression, config.telnet_starttls) == \
        (0.0, False, True)
    assert config.mssp_name == "Elsewhere"
    assert dict(config.mssp_fields) == {"CONTACT": "a@example.org", "MINIMUM AGE": "13"}


def test_text_a_charset_lacks_is_transliterated():
    def encode(text, codec):
        return text.encode(codec, errors=mud_protocols.TEXT_ERRORS)
    assert encode("café ☕ naïve ﬁsh", "ascii") == b"cafe ? naive fish"
    assert encode("café ☕ Œuvre", "iso8859-1") == b"caf\xe9 ? ?uvre"  # Œ has no decomposition
    assert encode("café ☕", "utf-8") == "café ☕".encode()
