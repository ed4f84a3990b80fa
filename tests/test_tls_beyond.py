"""TLS beyond LDMud: SNI, outgoing client handshakes, the configure hook,
protocol limits, rekeying, awaitable handshakes, closes and session resumption.

Every test runs a real driver (tests/mudlib_tls) over loopback with real TLS
clients; see tests/mudlib_tls/player.py for the commands.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import trustme

from conftest import TIMEOUT, Client, fullchain_pem, write_leaf

TLS_MUDLIB = Path(__file__).resolve().parent / "mudlib_tls"


def line_after(client: Client, prefix: str) -> str:
    """The first complete line that starts with ``prefix``."""
    client.read_until(prefix)
    while True:
        text = client.text
        start = text.index(prefix)
        end = text.find("\n", start)
        if end >= 0:
            return text[start:end].rstrip("\r")
        client.recv_some()


def run(client: Client, command: str, prefix: str) -> str:
    client.raw.clear()
    client.send_line(command)
    return line_after(client, prefix)


def tls_player(driver, context: ssl.SSLContext, server_hostname: str = "localhost") -> Client:
    client = Client.tls(driver.tls_port, context, server_hostname)
    client.read_until("LOGON")
    return client


@pytest.fixture(scope="module")
def sni_certs(tmp_path_factory, certs):
    """Two more certificates from the test CA, for SNI names."""
    directory = tmp_path_factory.mktemp("sni")
    files = {}
    for label, names in (("alt", ["alt.example.org"]), ("games", ["*.games.example.org"])):
        leaf = certs.ca.issue_cert(*names)
        files[label] = write_leaf(leaf, directory / f"{label}.pem", directory / f"{label}-key.pem")
    return files


def sni_config(files) -> str:
    (alt_cert, alt_key), (games_cert, games_key) = files["alt"], files["games"]
    return ("  sni:\n"
            f"    - names: [alt.example.org]\n      certificate: {alt_cert}\n      key: {alt_key}\n"
            f"    - names: ['*.games.example.org']\n      certificate: {games_cert}\n"
            f"      key: {games_key}\n")


def peer_names(client: Client) -> list[str]:
    return [value for kind, value in client.sock.getpeercert()["subjectAltName"]]


# --- SNI ---------------------------------------------------------------------------

def test_sni_picks_the_certificate_for_the_name_asked(make_driver, certs, sni_certs):
    driver = make_driver(mudlib=TLS_MUDLIB, tls_extra=sni_config(sni_certs))
    context = certs.client_context()

    alt = tls_player(driver, context, "alt.example.org")
    assert peer_names(alt) == ["alt.example.org"]
    assert "sni=alt.example.org" in run(alt, "info", "INFO ")

    games = tls_player(driver, context, "dragons.games.example.org")
    assert peer_names(games) == ["*.games.example.org"]
    assert "sni=dragons.games.example.org" in run(games, "info", "INFO ")

    default = tls_player(driver, context, "localhost")
    assert "localhost" in peer_names(default)


def test_an_unknown_sni_name_gets_the_default_certificate(make_driver, certs, sni_certs):
    driver = make_driver(mudlib=TLS_MUDLIB, tls_extra=sni_config(sni_certs))
    context = certs.client_context(check_hostname=False)
    # A wildcard covers one label only: a.b.games.example.org is not covered.
    for name in ("nope.example.org", "a.b.games.example.org"):
        client = tls_player(driver, context, name)
        assert "localhost" in peer_names(client)
        assert f"sni={name}" in run(client, "info", "INFO ")


def test_refresh_reloads_every_sni_certificate_and_keeps_them_on_error(
        make_driver, certs, sni_certs, tmp_path):
    files = {label: tuple(shutil.copy(path, tmp_path / path.name) for path in pair)
             for label, pair in sni_certs.items()}
    files = {label: (Path(a), Path(b)) for label, (a, b) in files.items()}
    driver = make_driver(mudlib=TLS_MUDLIB, tls_extra=sni_config(files))
    context = certs.client_context()
    player = tls_player(driver, context, "localhost")
    before = tls_player(driver, context, "alt.example.org").sock.getpeercert()["serialNumber"]

    renewed = certs.ca.issue_cert("alt.example.org")
    alt_cert, alt_key = files["alt"]
    write_leaf(renewed, alt_cert, alt_key)
    assert run(player, "refresh", "REFRESH") == "REFRESH OK"
    after = tls_player(driver, context, "alt.example.org").sock.getpeercert()["serialNumber"]
    assert after != before

    games_cert, _ = files["games"]
    games_cert.write_text("not a certificate\n")
    error = run(player, "refresh", "ERROR")
    assert str(games_cert) in error and "no PEM certificate" in error
    still = tls_player(driver, context, "x.games.example.org")
    assert peer_names(still) == ["*.games.example.org"]


def test_renewed_certificate_files_are_picked_up_without_a_signal(make_driver, certs, tmp_path):
    """certbot renews; the driver notices within tls.reload_check_interval.
    A broken renewal keeps the old certificate and is reported once."""
    served = SimpleNamespace(fullchain=Path(shutil.copy(certs.fullchain, tmp_path / "full.pem")),
                             key=Path(shutil.copy(certs.key, tmp_path / "key.pem")),
                             ca_file=certs.ca_file)
    driver = make_driver(mudlib=TLS_MUDLIB, certs_=served,
                         tls_extra="  reload_check_interval: 0.1\n")
    context = certs.client_context()

    def serial() -> str:
        return tls_player(driver, context).sock.getpeercert()["serialNumber"]

    def renew(cert: bytes, key: bytes) -> None:
        # As certbot does it: new files, then one atomic switch each.
        for target, data in ((served.key, key), (served.fullchain, cert)):
            fresh = target.with_suffix(".new")
            fresh.write_bytes(data)
            fresh.replace(target)

    before = serial()
    mark = driver.log_mark()
    renewed = certs.ca.issue_cert("localhost", "127.0.0.1")
    renew(fullchain_pem(renewed), renewed.private_key_pem.bytes())
    driver.wait_for_log(r"certificate files changed: TLS certificates reloaded", start=mark)
    after = serial()
    assert after != before

    mark = driver.log_mark()
    other = certs.ca.issue_cert("localhost", "127.0.0.1")  # a key that does not match
    renew(fullchain_pem(renewed), other.private_key_pem.bytes())
    driver.wait_for_log(r"certificate files changed: certificate reload failed, the previous "
                        r"certificate stays in force: key .*key\.pem: does not match", start=mark)
    assert serial() == after
    renew(fullchain_pem(other), other.private_key_pem.bytes())
    driver.wait_for_log(r"certificate files changed: TLS certificates reloaded", start=mark)
    assert serial() not in (before, after)
    failures = re.findall(r"certificate reload failed", "\n".join(driver.lines[mark:]))
    assert len(failures) == 1, failures  # checked every 0.1 s, reported once


# --- outgoing connections ------------------------------------------------------------

@pytest.fixture
def link_driver(make_driver, certs):
    return make_driver(mudlib=TLS_MUDLIB, tls_extra=f"  client_trust_file: {certs.ca_file}\n")


def test_net_connect_and_a_client_handshake_to_our_own_tls_port(link_driver, certs):
    player = Client.plain(link_driver.telnet_port)
    player.read_until("LOGON")
    player.send_line(f"link 127.0.0.1 {link_driver.tls_port} localhost")
    report = line_after(player, "LINK TLS")
    assert report.startswith("LINK TLS result=0 extra=extra")
    assert " verify=0 " in report
    # subjectAltName in LDMud's layout; IP addresses filled in (LDMud leaves zeros).
    assert " san=dNSName:localhost,iPAddress:127.0.0.1,iPAddress:::1 " in report, report
    assert "prot=TLSv1.3" in report and "sni=localhost" in report
    # The remote end (the same driver's TLS port) greets the link after its handshake.
    assert "LINK> LOGON /player#" in player.read_until("LINK> LOGON")


def test_a_wrong_host_name_fails_verification_unless_the_mudlib_opts_out(link_driver):
    player = Client.plain(link_driver.telnet_port)
    player.read_until("LOGON")
    player.send_line(f"link 127.0.0.1 {link_driver.tls_port} wrong.example.org")
    report = line_after(player, "LINK TLS")
    result = int(re.search(r"result=(-?\d+)", report).group(1))
    assert result < 0
    assert "could not be verified" in report and "wrong.example.org" in report

    player.raw.clear()
    player.send_line(f"link 127.0.0.1 {link_driver.tls_port} wrong.example.org noverify")
    report = line_after(player, "LINK TLS")
    assert report.startswith("LINK TLS result=0")
    # OpenSSL's verdict all the same (nothing checked it): not 0
    assert int(re.search(r" verify=(\d+) ", report).group(1)) != 0, report


def test_net_connect_to_a_closed_port_calls_logon_minus_one(link_driver):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    player = Client.plain(link_driver.telnet_port)
    player.read_until("LOGON")
    player.send_line(f"link 127.0.0.1 {closed_port}")
    assert "LINK FAILED" in player.read_until("LINK FAILED")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed (make tools)")
def test_client_handshake_against_openssl_s_server(link_driver, certs, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(certs.fullchain),
         "-key", str(certs.key), "-naccept", "1", "-servername", "localhost",
         "-cert2", str(certs.fullchain), "-key2", str(certs.key)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        ready = threading.Event()
        output: list[bytes] = []

        def watch() -> None:
            for line in server.stdout:
                output.append(line)
                if b"ACCEPT" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=watch, daemon=True).start()
        assert ready.wait(TIMEOUT), b"".join(output)
        player = Client.plain(link_driver.telnet_port)
        player.read_until("LOGON")
        player.send_line(f"link 127.0.0.1 {port} localhost")
        report = line_after(player, "LINK TLS")
        assert report.startswith("LINK TLS result=0") and " verify=0 " in report
        server.stdin.write(b"hello from s_server\n")
        server.stdin.flush()
        assert "LINK> hello from s_server" in player.read_until("LINK> hello")
    finally:
        server.kill()
        server.wait(TIMEOUT)


# --- the configure hook and protocol limits ------------------------------------------

def test_the_configure_hook_can_set_alpn_and_a_raising_hook_keeps_the_old_context(
        make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB)
    driver.wait_for_log(r"TLS_CONFIGURE side=server mode=none")
    player = tls_player(driver, certs.client_context())
    assert run(player, "hook alpn", "HOOK") == "HOOK alpn"
    assert run(player, "refresh", "REFRESH") == "REFRESH OK"

    offer = certs.client_context()
    offer.set_alpn_protocols(["mud", "http/1.1"])
    with_alpn = tls_player(driver, offer)
    assert with_alpn.sock.selected_alpn_protocol() == "mud"
    assert "alpn=mud" in run(with_alpn, "info", "INFO ")

    assert run(player, "hook raise", "HOOK") == "HOOK raise"
    error = run(player, "refresh", "ERROR")
    assert "tls_configure() failed" in error and "the hook refuses" in error
    assert "previous certificate stays in force" in error
    still = tls_player(driver, offer)  # the ALPN context is still the one in force
    assert still.sock.selected_alpn_protocol() == "mud"


def test_minimum_version_from_config_refuses_older_clients(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB, tls_extra="  minimum_version: TLSv1.3\n")
    old = certs.client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
    with pytest.raises(ssl.SSLError):
        Client.tls(driver.tls_port, old)
    assert "prot=TLSv1.3" in run(tls_player(driver, certs.client_context()), "info", "INFO ")


# --- rekeying -------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed (make tools)")
def test_rekey_sends_a_tls13_key_update(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB)
    client = subprocess.Popen(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{driver.tls_port}", "-CAfile",
         str(certs.ca_file), "-servername", "localhost", "-msg", "-ign_eof"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = bytearray()
    changed = threading.Condition()

    def watch() -> None:
        for line in client.stdout:
            with changed:
                seen.extend(line)
                changed.notify_all()

    def wait_for(needle: bytes, after: int = 0) -> int:
        with changed:
            assert changed.wait_for(lambda: needle in seen[after:], TIMEOUT), bytes(seen[-2000:])
            return seen.index(needle, after)

    threading.Thread(target=watch, daemon=True).start()
    try:
        mark = wait_for(b"LOGON")
        assert b"KeyUpdate" not in seen
        client.stdin.write(b"rekey\n")
        client.stdin.flush()
        found = wait_for(b"KeyUpdate", mark)
        wait_for(b"REKEY OK", mark)
        client.stdin.write(b"echo still secure\n")
        client.stdin.flush()
        wait_for(b"ECHO still secure", found)
    finally:
        client.kill()
        client.wait(TIMEOUT)


def test_rekey_on_tls12_is_refused_with_the_reason(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB)
    player = tls_player(driver, certs.client_context(maximum_version=ssl.TLSVersion.TLSv1_2))
    error = run(player, "rekey", "ERROR")
    assert "TLS 1.3" in error and "renegotiation is disabled" in error
    assert run(player, "echo fine", "ECHO") == "ECHO fine"


# --- awaitable handshakes --------------------------------------------------------------

def test_a_coroutine_awaits_the_handshake_it_started(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB)
    plain = Client.plain(driver.telnet_port)
    plain.read_until("LOGON")
    plain.send_line("upgrade")
    plain.read_until("GO AHEAD\r\n")
    secure = Client(certs.client_context().wrap_socket(plain.sock, server_hostname="localhost"))
    report = line_after(secure, "AWAITED")
    assert report.startswith("AWAITED result=0 state=1 this_player=/player#")


def test_awaiting_something_else_is_an_error_inside_the_coroutine(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB)
    plain = Client.plain(driver.telnet_port)
    plain.read_until("LOGON")
    assert "can await only the driver's awaitables" in run(plain, "await-junk", "AWAIT REFUSED")


# --- closes --------------------------------------------------------------------------------

def test_quit_sends_close_notify_and_disconnect_says_the_driver_closed_it(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB)
    context = certs.client_context()
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", driver.tls_port), TIMEOUT),
                               server_hostname="localhost", suppress_ragged_eofs=False)
    player = Client(sock)
    player.read_until("LOGON")
    mark = driver.log_mark()
    player.send_line("quit")
    player.read_until("BYE")
    assert player.wait_closed() is not None  # b"" from recv: a close_notify, not a ragged EOF
    driver.wait_for_log(r"DISCONNECT /player#\d+ how=closed by the driver", start=mark)


def test_a_clean_close_and_a_vanished_peer_are_told_apart(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB)
    context = certs.client_context()

    clean = tls_player(driver, context)
    name = re.search(r"LOGON (/player#\d+)", clean.text).group(1)
    clean.read_until(b"\xff\xf9")  # the prompt: nothing more is coming
    mark = driver.log_mark()
    clean.sock.unwrap().close()  # close_notify, then FIN
    driver.wait_for_log(rf"DISCONNECT {name} how=peer closed TLS", start=mark)

    vanishing = tls_player(driver, context)
    name = re.search(r"LOGON (/player#\d+)", vanishing.text).group(1)
    mark = driver.log_mark()
    raw = vanishing.sock
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    raw.close()  # a reset, no close_notify
    driver.wait_for_log(rf"DISCONNECT {name} how=lost", start=mark)


# --- session resumption -------------------------------------------------------------------

def resumed_connection(driver, context: ssl.SSLContext, session) -> tuple[Client, str]:
    sock = socket.create_connection(("127.0.0.1", driver.tls_port), timeout=TIMEOUT)
    client = Client(context.wrap_socket(sock, server_hostname="localhost", session=session))
    client.read_until("LOGON")
    return client, run(client, "info", "INFO ")


def test_session_tickets_resume_and_survive_a_certificate_reload(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB)
    context = certs.client_context()
    first = tls_player(driver, context)
    assert "resumed=False" in run(first, "info", "INFO ")  # reading it also takes in the tickets
    session = first.sock.session

    second, info = resumed_connection(driver, context, session)
    assert "resumed=True" in info and second.sock.session_reused

    assert run(first, "refresh", "REFRESH") == "REFRESH OK"
    third, info = resumed_connection(driver, context, second.sock.session)
    assert "resumed=True" in info


def test_session_tickets_survive_a_reload_that_changes_the_trust_file(make_driver, certs,
                                                                      tmp_path):
    """A fresh context (a new CA in the trust file, say) takes over the old
    one's ticket keys; the tls_configure hook runs once per context."""
    trust = Path(shutil.copy(certs.ca_file, tmp_path / "trust.pem"))
    served = SimpleNamespace(fullchain=certs.fullchain, key=certs.key, ca_file=trust)
    driver = make_driver(mudlib=TLS_MUDLIB, certs_=served)
    context = certs.client_context()
    first = tls_player(driver, context)
    run(first, "info", "INFO ")  # reading it also takes in the ticket
    mark = driver.log_mark()
    another_ca = trustme.CA(organization_name="Second CA")
    trust.write_bytes(trust.read_bytes() + another_ca.cert_pem.bytes())
    assert run(first, "refresh", "REFRESH") == "REFRESH OK"
    _client, info = resumed_connection(driver, context, first.sock.session)
    assert "resumed=True" in info
    after = "\n".join(driver.lines[mark:])
    assert "will not resume" not in after
    assert after.count("TLS_CONFIGURE side=server") == 1  # one context, one call


def test_session_tickets_can_be_turned_off(make_driver, certs):
    driver = make_driver(mudlib=TLS_MUDLIB, tls_extra="  session_tickets: false\n")
    context = certs.client_context()
    first = tls_player(driver, context)
    run(first, "info", "INFO ")
    _client, info = resumed_connection(driver, context, first.sock.session)
    assert "resumed=False" in info
