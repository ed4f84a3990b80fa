"""Admission at accept: site bans and connection limits, and the metrics.

A real driver, real sockets.  Linux routes all of 127.0.0.0/8 to loopback,
so a client bound to 127.0.0.2 is another address than one on 127.0.0.1:
one is refused while the other keeps playing.  A refusal is judged from
the client's side (one line then EOF on the plain port, EOF with no byte
at all on the TLS port) and from the log.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import EVENT_LOOPS, SHIPPED_MUDLIB, TIMEOUT, Client, start_driver
from test_config import assert_refused, run_driver, shipped_settings, write_settings
from test_world import Player, create_character, do

TOO_MANY = "Too many connections from your address; try again later."
BANNED = "Connections from your address are not accepted here."
FULL = "The game is full; try again later."


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT,
                                    source_address=(source, 0))


def plain(driver, source: str = "127.0.0.1", cls=Client) -> Client:
    return cls(connect(driver.telnet_port, source))


def tls(driver, certs, source: str = "127.0.0.1", cls=Client) -> Client:
    sock = connect(driver.tls_port, source)
    return cls(certs.client_context().wrap_socket(sock, server_hostname="localhost"))


def everything_until_eof(sock: socket.socket, timeout: float = TIMEOUT) -> bytes:
    """All the driver sends before it closes (it must close within the deadline)."""
    deadline = time.monotonic() + timeout
    received = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"the driver did not close; received {bytes(received)!r}"
        ready, _, _ = select.select([sock], [], [], remaining)
        if not ready:
            continue
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return bytes(received)
        if not data:
            return bytes(received)
        received += data


def assert_refused_plain(driver, line: str, source: str = "127.0.0.1") -> None:
    with connect(driver.telnet_port, source) as sock:
        assert everything_until_eof(sock) == (line + "\r\n").encode()


def assert_refused_tls(driver, certs, source: str = "127.0.0.1") -> None:
    """Closed before any TLS work: not one byte, the handshake never ends."""
    with connect(driver.tls_port, source) as sock:
        assert everything_until_eof(sock) == b""
    with connect(driver.tls_port, source) as sock:
        with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
            certs.client_context().wrap_socket(sock, server_hostname="localhost")


def no_limits() -> str:
    return "limits:\n  per_address: 0\n  new_per_second: 0\n  total: 0\n"


# --- site bans -----------------------------------------------------------------------------------

def test_an_admin_bans_a_site_it_is_refused_at_accept_on_both_ports_while_others_play(
        make_driver, certs):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, mudlib_extra="  admins: [alice]\n",
                         limits=no_limits())
    alice = plain(driver, "127.0.0.2", cls=Player)
    create_character(alice, "alice")
    # the admin's commands are listed, and explained
    assert "promote  ban  unban  bans" in do(alice, "help")
    assert "ban <site> [<time>] <why>" in do(alice, "help ban")

    answer = do(alice, "ban 127.0.0.1 testing the ban")
    assert "127.0.0.1/32 is banned, until unbanned." in answer
    driver.wait_for_log(r"site ban: 127\.0\.0\.1/32 by Alice \(testing the ban\)")

    mark = driver.log_mark()
    assert_refused_plain(driver, BANNED)
    assert_refused_tls(driver, certs)
    driver.wait_for_log(r"refused a connection from 127\.0\.0\.1 on port \d+: the site is "
                        r"banned \(127\.0\.0\.1/32: testing the ban\)", start=mark)

    # alice, from another address, plays on; bob on TLS from a third one gets in
    assert "The town square" in do(alice, "look")
    bob = tls(driver, certs, "127.0.0.3", cls=Player)
    bob.read_until("What is your name? ")

    listing = do(alice, "bans")
    assert "127.0.0.1/32" in listing and "by Alice" in listing and "testing the ban" in listing
    assert "Limits at connect:" in listing

    # a ban of a whole network, and one a player cannot make
    assert "127.0.0.0/8 is banned" in do(alice, "ban 127.0.0.0/8 1h everyone")
    assert_refused_plain(driver, BANNED, "127.0.0.4")
    assert "Ban lifted." in do(alice, "unban 127.0.0.0/8")
    assert "Not banned: bad argument 1 to ban_site" in do(alice, "ban 300.1.2.3 nonsense")

    assert "Ban lifted." in do(alice, "unban 127.0.0.1")
    carol = plain(driver)
    assert "What is your name? " in carol.read_until("What is your name? ")
    assert json.loads((driver.directory / "data" / "bans.json").read_text())["bans"] == []


def test_only_the_privileged_may_ban(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, mudlib_extra="  admins: [alice]\n",
                         limits=no_limits())
    alice = plain(driver, "127.0.0.2", cls=Player)
    create_character(alice, "alice")
    bob = plain(driver, "127.0.0.3", cls=Player)
    create_character(bob, "bob")
    assert "What?" in do(bob, "ban 127.0.0.2 revenge")
    assert "127.0.0.2/32" not in do(alice, "bans")


def seed_bans(data_dir, bans: list[dict]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "bans.json").write_text(json.dumps({"format": 1, "bans": bans}))


def test_bans_persist_across_a_restart_and_expired_ones_refuse_nobody(tmp_path, certs):
    directory = tmp_path / "game"
    directory.mkdir()
    now = time.time()
    seed_bans(directory / "data", [
        {"network": "127.0.0.5", "reason": "gone by now", "by": "Alice",
         "at": now - 7200, "expires": now - 3600},
        {"network": "::ffff:127.0.0.6", "reason": "for a day", "by": "Alice",
         "at": now, "expires": now + 86400},
    ])
    limits = "limits:\n  exempt: [127.0.0.0/8]\n"    # bans apply to the exempt too
    driver = start_driver(directory, certs, mudlib=SHIPPED_MUDLIB,
                          mudlib_extra="  admins: [alice]\n", limits=limits)
    try:
        assert "What is your name? " in plain(driver, "127.0.0.5").read_until("What is your name? ")
        assert_refused_plain(driver, BANNED, "127.0.0.6")   # an IPv4-mapped ban is the IPv4 one
        alice = plain(driver, "127.0.0.2", cls=Player)
        create_character(alice, "alice")
        listing = do(alice, "bans")
        assert "127.0.0.6/32" in listing and "127.0.0.5" not in listing
        assert "127.0.0.7/32 is banned" in do(alice, "ban 127.0.0.7 for good")
    finally:
        assert driver.stop() == 0
    saved = json.loads((directory / "data" / "bans.json").read_text())
    assert sorted(b["network"] for b in saved["bans"]) == ["127.0.0.6/32", "127.0.0.7/32"]

    driver = start_driver(directory, certs, mudlib=SHIPPED_MUDLIB, limits=limits)
    try:
        assert_refused_plain(driver, BANNED, "127.0.0.7")
        assert_refused_tls(driver, certs, "127.0.0.6")
        assert "What is your name? " in plain(driver).read_until("What is your name? ")
    finally:
        driver.stop()


def test_a_ban_file_the_driver_cannot_read_stops_it_in_one_line_and_is_left_alone(
        tmp_path, certs):
    data = tmp_path / "data"
    data.mkdir()
    (data / "bans.json").write_text("{not json")
    settings = shipped_settings(certs, data)
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), cwd=tmp_path)
    assert_refused(result, "bans.json", "ban list")
    assert (data / "bans.json").read_text() == "{not json"


# --- limits ---------------------------------------------------------------------------------

@pytest.mark.parametrize("event_loop", EVENT_LOOPS)
def test_the_per_address_limit_refuses_with_one_line_and_counts_closed_connections_out(
        make_driver, certs, event_loop):
    driver = make_driver(event_loop=event_loop,
                         limits="limits:\n  per_address: 3\n  new_per_second: 0\n")
    open_ones = []
    for _ in range(3):
        mark = driver.log_mark()
        open_ones.append(plain(driver))
        driver.wait_for_log(r"CONNECT /test_player#\d+ port=telnet", start=mark)
    mark = driver.log_mark()
    assert_refused_plain(driver, TOO_MANY)
    assert_refused_tls(driver, certs)
    driver.wait_for_log(r"refused a connection from 127\.0\.0\.1 on port \d+: the address has "
                        r"limits\.per_address connections open", start=mark)
    # another address is not affected; the refused ones never reached the master
    assert driver.log.count("CONNECT /test_player") == 3
    other = plain(driver, "127.0.0.2")
    driver.wait_for_log(r"CONNECT /test_player#\d+ port=telnet", start=mark)

    # one closes: room for one more
    open_ones.pop().close()
    driver.wait_for_log(r"127\.0\.0\.1:\d+ port \d+>: (closed by the peer|lost)", start=mark)
    again = tls(driver, certs)
    driver.wait_for_log(r"CONNECT /test_player#\d+ port=tls", start=mark)
    for client in (*open_ones, other, again):
        client.close()


def test_the_rate_limit_refuses_a_burst_and_logs_it_once(make_driver):
    driver = make_driver(limits="limits:\n  per_address: 0\n  new_per_second: 0.01\n"
                                "  burst: 3\n")
    for _ in range(3):
        mark = driver.log_mark()
        plain(driver).close()
        driver.wait_for_log(r"CONNECT /test_player#\d+ port=telnet", start=mark)
    mark = driver.log_mark()
    for _ in range(5):
        assert_refused_plain(driver, TOO_MANY)
    # someone else is let in (and their CONNECT line follows every refusal's)
    other = plain(driver, "127.0.0.2")
    driver.wait_for_log(r"CONNECT /test_player#\d+ port=telnet", start=mark)
    refusals = [line for line in driver.lines[mark:] if "refused a connection" in line]
    assert len(refusals) == 1, refusals
    assert "faster than limits.new_per_second" in refusals[0]
    other.close()


def test_the_total_cap_refuses_everyone_once_full(make_driver, certs):
    driver = make_driver(limits="limits:\n  total: 2\n  exempt: [127.0.0.0/8]\n")
    first = plain(driver)
    second = tls(driver, certs, "127.0.0.2")
    driver.wait_for_log(r"CONNECT .* port=tls")
    assert_refused_plain(driver, FULL, "127.0.0.3")
    assert_refused_tls(driver, certs, "127.0.0.3")
    mark = driver.log_mark()
    first.close()
    driver.wait_for_log(r"127\.0\.0\.1:\d+ port \d+>: (closed by the peer|lost)", start=mark)
    third = plain(driver, "127.0.0.3")
    driver.wait_for_log(r"CONNECT /test_player#\d+ port=telnet", start=mark)
    for client in (second, third):
        client.close()


@pytest.mark.parametrize("dotted, value, needles", [
    ("limits.per_address", -1, ("limits.per_address", "0 or more")),
    ("limits.new_per_second", "fast", ("limits.new_per_second", "number")),
    ("limits.exempt", ["localhost"], ("limits.exempt", "'localhost'", "network")),
    ("limits.ipv6_prefix", 129, ("limits.ipv6_prefix", "1 to 128")),
    ("metrics.port", 70000, ("metrics.port",)),
])
def test_a_bad_limit_or_metrics_setting_is_named_in_one_line(tmp_path, certs, dotted, value,
                                                              needles):
    settings = shipped_settings(certs, tmp_path / "data")
    section, key = dotted.split(".")
    settings.setdefault(section, {})[key] = value
    config = write_settings(tmp_path, settings)
    assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path), *needles)


def test_metrics_beyond_loopback_must_be_allowed(tmp_path, certs):
    settings = shipped_settings(certs, tmp_path / "data")
    settings["metrics"] = {"port": 9464, "host": "0.0.0.0"}
    config = write_settings(tmp_path, settings)
    assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path),
                   "metrics.host", "0.0.0.0", "allow_remote")
    settings["metrics"]["allow_remote"] = True
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


# --- metrics ------------------------------------------------------------------------------------

def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Every sample of the endpoint, as {(name, sorted labels): value}."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type").startswith("text/plain; version=")
        text = response.read().decode()
    finally:
        connection.close()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


SERIES = [
    "mud_players", "mud_tls_handshakes_total", "mud_tls_handshake_duration_seconds_count",
    "mud_command_duration_seconds_count", "mud_event_loop_lag_seconds_count",
    "mud_gc_pause_seconds_count", "mud_bytes_received_total", "mud_bytes_sent_total",
    "mud_output_discarded_bytes_total", "mud_logins_failed_total", "mud_logins_throttled_total",
    "mud_connections_refused_total", "mud_tls_certificate_expiry_timestamp_seconds",
    "mud_connections_open", "mud_site_bans",
]


def test_the_metrics_endpoint_speaks_prometheus_and_its_numbers_move(make_driver, certs):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, mudlib_extra="  admins: [alice]\n",
                         limits="limits:\n  per_address: 2\n  new_per_second: 0\n",
                         extra="metrics:\n  port: 0\n")
    port = int(driver.wait_for_log(r"metrics: http://127\.0\.0\.1:(\d+)/metrics").group(1))
    before = scrape(port)
    names = {name for name, _ in before}
    assert [s for s in SERIES if s not in names] == []
    assert value(before, "mud_players", port="telnet", tls="plain") == 0
    # the serving certificate's notAfter (trustme's leaf certificates)
    leaf = ssl._ssl._test_decode_cert(str(certs.fullchain))
    assert value(before, "mud_tls_certificate_expiry_timestamp_seconds",
                 certificate="default") == ssl.cert_time_to_seconds(leaf["notAfter"])

    alice = plain(driver, "127.0.0.2", cls=Player)
    create_character(alice, "alice")
    bob = tls(driver, certs, cls=Player)
    bob.read_until("What is your name? ")
    do(alice, "look")
    after = scrape(port)
    assert value(after, "mud_players", port="telnet", tls="plain") == 1
    assert value(after, "mud_players", port="tls", tls="secure") == 1
    assert value(after, "mud_tls_handshakes_total", result="ok", code="0") == \
        value(before, "mud_tls_handshakes_total", result="ok", code="0") + 1
    assert value(after, "mud_command_duration_seconds_count") >= 5   # name, y, passwords, look
    assert value(after, "mud_bytes_received_total") > value(before, "mud_bytes_received_total")
    assert value(after, "mud_bytes_sent_total") > value(before, "mud_bytes_sent_total")
    assert value(after, "mud_connections_open") == 2

    # plaintext at the TLS port: a failed handshake, counted with its duration
    mark = driver.log_mark()
    with connect(driver.tls_port, "127.0.0.3") as sock:
        sock.sendall(b"hello there\r\n\r\n")
        everything_until_eof(sock)
    driver.wait_for_log(r"closed by the driver|not speak TLS", start=mark)
    failed = scrape(port)
    assert value(failed, "mud_tls_handshakes_total", result="not_tls", code="-6") == \
        value(after, "mud_tls_handshakes_total", result="not_tls", code="-6") + 1
    assert value(failed, "mud_tls_handshake_duration_seconds_count", outcome="failed") == \
        value(after, "mud_tls_handshake_duration_seconds_count", outcome="failed") + 1

    # refusals by reason, a ban in the list, a failed login
    second = plain(driver)                                  # 127.0.0.1's second connection
    second.read_until("What is your name? ")
    assert_refused_plain(driver, TOO_MANY)
    do(alice, "ban 127.0.0.9 metrics")
    assert_refused_plain(driver, BANNED, "127.0.0.9")
    bob.command("alice", "Password: ")
    bob.command("not the password", "Wrong password.")
    refused = scrape(port)
    assert value(refused, "mud_connections_refused_total", reason="per_address") == 1
    assert value(refused, "mud_connections_refused_total", reason="ban") == 1
    assert value(refused, "mud_connections_refused_total", reason="rate") == 0
    assert value(refused, "mud_site_bans") == 1
    assert value(refused, "mud_logins_failed_total") == 1
    # the loop's lag is sampled by a timer: scrape until it has fired once
    deadline = time.monotonic() + TIMEOUT
    while value(scrape(port), "mud_event_loop_lag_seconds_count") == 0:
        assert time.monotonic() < deadline, "the event loop lag was never sampled"


def test_the_metrics_endpoint_answers_only_metrics(make_driver):
    driver = make_driver(extra="metrics:\n  port: 0\n")
    port = int(driver.wait_for_log(r"metrics: http://127\.0\.0\.1:(\d+)/metrics").group(1))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    connection.request("GET", "/secrets")
    assert connection.getresponse().status == 404
    connection.close()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    connection.request("POST", "/metrics", body=b"x")
    assert connection.getresponse().status == 405
    connection.close()
    # garbage is answered and closed, and the game goes on
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"\x16\x03\x01 nonsense\r\n\r\n")
        assert everything_until_eof(sock).startswith(b"HTTP/1.1 400")
    mark = driver.log_mark()
    plain(driver).close()
    driver.wait_for_log(r"CONNECT /test_player#\d+ port=telnet", start=mark)


def test_over_ipv6_a_ban_and_the_per_address_limit_refuse_at_accept(tmp_path, certs):
    """The driver on ::1; an IPv6 ban, and a /64 counted as one address."""
    def connect6(port: int) -> socket.socket:
        return socket.create_connection(("::1", port), timeout=TIMEOUT)

    directory = tmp_path / "limited"
    directory.mkdir()
    driver = start_driver(directory, certs, args=("--host", "::1"),
                          limits="limits:\n  per_address: 1\n  new_per_second: 0\n")
    try:
        first = Client(connect6(driver.telnet_port))
        driver.wait_for_log(r"CONNECT /test_player#\d+ port=telnet")
        with connect6(driver.telnet_port) as sock:
            assert everything_until_eof(sock) == (TOO_MANY + "\r\n").encode()
        driver.wait_for_log(r"refused a connection from ::1 on port \d+: the address has "
                            r"limits\.per_address connections open")
        first.close()
    finally:
        driver.stop()

    directory = tmp_path / "banned"
    directory.mkdir()
    seed_bans(directory / "data", [{"network": "::/64", "reason": "the whole /64", "by": "Alice",
                                    "at": time.time(), "expires": None}])
    driver = start_driver(directory, certs, args=("--host", "::1"))
    try:
        with connect6(driver.telnet_port) as sock:
            assert everything_until_eof(sock) == (BANNED + "\r\n").encode()
        with connect6(driver.tls_port) as sock:
            assert everything_until_eof(sock) == b""
        driver.wait_for_log(r"refused a connection from ::1 on port \d+: the site is banned "
                            r"\(::/64: the whole /64\)")
        assert "CONNECT" not in driver.log
    finally:
        driver.stop()
