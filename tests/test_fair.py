"""No player can freeze, starve, flood or unencrypt anyone else.

Against a real driver over real sockets: a flood of commands from one
client while another player is served; a client that never reads while
the game writes to it without end; command rates and the efuns that set
them; a TLS client that sends close_notify on its own and then plaintext;
a fatal TLS error in the same segment as the client's Finished; TCP
keepalive as the kernel sees it.
"""

from __future__ import annotations

import re
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import EVENT_LOOPS, TIMEOUT, Client, strip_telnet
from test_admission import scrape, value

from driver.net.connection import PARSE_PER_TURN

FAIR_MUDLIB = Path(__file__).resolve().parent / "mudlib_fair"
MARKER = "*** output discarded: your client is not reading ***"
TOO_FAST = "You are typing faster than the game can follow; your commands wait their turn."
IAC, WILL = 255, 251
UNHANDLED_OPTION = 200  # no telnet option the driver handles itself: the master is asked


def connections(**keys) -> str:
    return "connections:\n" + "".join(f"  {key}: {value}\n" for key, value in keys.items())


def login(client: Client) -> str:
    """Wait for the greeting; returns the player's living name (player<N>)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        match = re.search(r"LOGON /player#(\d+)\r\n", client.text)
        if match:
            return f"player{match.group(1)}"
        assert time.monotonic() < deadline, f"no LOGON; received:\n{client.text}"
        try:
            client.recv_some(deadline - time.monotonic())
        except (socket.timeout, TimeoutError):
            pass


def reply(client: Client, line: str, prefix: str, timeout: float = TIMEOUT) -> str:
    """Send ``line``; return the first line of text starting with ``prefix`` after it."""
    client.raw.clear()
    client.send_line(line)
    pattern = re.compile(rf"^{re.escape(prefix)}.*$", re.MULTILINE)
    deadline = time.monotonic() + timeout
    while True:
        match = pattern.search(client.text)
        if match:
            return match.group(0).rstrip("\r")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no reply starting with {prefix!r}; received:\n{client.text[-2000:]}")
        try:
            if not client.recv_some(remaining):
                raise AssertionError(f"closed before {prefix!r}; received:\n{client.text[-2000:]}")
        except (socket.timeout, TimeoutError):
            continue


def two_lines(client: Client, write: bytes, pattern: re.Pattern) -> tuple[int, int]:
    """Send ``write`` (two lines, say); the numbers ``pattern`` finds in the
    first two replies it matches."""
    client.raw.clear()
    client.sock.sendall(write)
    deadline = time.monotonic() + TIMEOUT
    while len(pattern.findall(client.text)) < 2:
        assert time.monotonic() < deadline, \
            f"no two replies matching {pattern.pattern!r}; received:\n{client.text}"
        try:
            client.recv_some(deadline - time.monotonic())
        except (socket.timeout, TimeoutError):
            pass
    first, second = (int(n) for n in pattern.findall(client.text)[:2])
    return first, second


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Drain(threading.Thread):
    """Reads a socket to its end in the background, keeping the text."""

    def __init__(self, sock: socket.socket, until: bytes) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.until = until
        self.data = bytearray()
        self.done = threading.Event()

    def run(self) -> None:
        self.sock.settimeout(TIMEOUT * 6)
        try:
            while self.until not in self.data[-4096:]:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    break
                self.data += chunk
        except OSError:
            pass
        self.done.set()

    @property
    def text(self) -> str:
        return strip_telnet(bytes(self.data)).decode("utf-8", "replace")


def start_flood(client: Client, line: bytes, total: int, reply: str) -> Drain:
    """``total`` copies of ``line`` in one write; returns the Drain reading
    the replies (``reply`` and a count each) once the hundredth has come."""
    drain = Drain(client.sock, f"{reply} {total}\r\n".encode())
    drain.start()
    client.sock.sendall(line * total)
    deadline = time.monotonic() + TIMEOUT
    while f"{reply} 100\r" not in drain.text:  # the flood is running
        assert time.monotonic() < deadline, "the flood never started"
        time.sleep(0.01)
    return drain


def assert_keepalive_idle(driver, player: Client, idle: int) -> None:
    """The kernel keeps a keepalive timer of ``idle`` seconds on the driver's
    side of ``player``'s connection (once everything sent is acknowledged)."""
    client_port = player.sock.getsockname()[1]
    deadline = time.monotonic() + TIMEOUT
    while True:
        timer = kernel_timer(driver.telnet_port, client_port)
        assert timer is not None, "the driver's socket is not in /proc/net/tcp"
        if timer[0] == 2:
            break
        assert time.monotonic() < deadline, f"no keepalive timer: {timer}"
        time.sleep(0.05)
    ticks_per_second = 100  # USER_HZ, as /proc reports it
    # The system default (7200 s) would be sixty times more.
    assert (idle - 30) * ticks_per_second < timer[1] <= idle * ticks_per_second, timer


# --- fair turns -----------------------------------------------------------------------------

@pytest.mark.timeout(180)
def test_a_flood_of_commands_does_not_starve_an_honest_tls_player(make_driver, certs):
    """40,000 looks in one write: the honest player's commands each run
    while the flood is still pending, and every look runs, in order."""
    driver = make_driver(mudlib=FAIR_MUDLIB, extra=connections(commands_per_second="null"))
    honest = Client.tls(driver.tls_port, certs.client_context())
    login(honest)
    attacker = Client.plain(driver.telnet_port)
    login(attacker)
    total = 40_000
    drain = start_flood(attacker, b"look\r\n", total, "LOOK")

    seen = []
    for number in range(20):
        line = reply(honest, f"echo {number}", f"ECHO {number} ")
        seen.append(int(line.rsplit("looks=", 1)[1]))
    # Each honest command ran while the attacker's looks were still waiting.
    print("honest replies ran at looks", seen)
    assert max(seen) < total, seen

    assert drain.done.wait(150), "the flood's replies stopped"
    looks = [int(n) for n in re.findall(r"LOOK (\d+)\r\n", drain.text)]
    assert looks == list(range(1, total + 1))


@pytest.mark.timeout(180)
def test_a_line_run_as_it_arrives_is_still_its_players_one_line_of_the_turn(make_driver):
    """A line from a player with nothing waiting runs as soon as it is read;
    a second line from the same write waits for a later turn, behind the
    line of every other player with input waiting."""
    driver = make_driver(mudlib=FAIR_MUDLIB, extra=connections(commands_per_second="null"))
    flooder = Client.plain(driver.telnet_port)
    login(flooder)
    typist = Client.plain(driver.telnet_port)
    login(typist)
    total = 20_000
    drain = start_flood(flooder, b"turn flood\r\n", total, "TURN flood")

    rounds, gaps = 25, []
    for _ in range(rounds):
        first, second = two_lines(typist, b"turn typed\r\nturn typed\r\n",
                                  re.compile(r"TURN typed (\d+)\r\n"))
        gaps.append(second - first)
    print("turn lines run between the typist's two lines of a write:", gaps)
    # Every line run so far, less the typist's, was the flooder's: it still had more.
    assert second - 2 * rounds < total, "the flood ran out before the typist finished"
    # The flooder had a line waiting every turn: it ran before the typist's second.
    assert min(gaps) >= 2, gaps
    assert drain.done.wait(150), "the flood's replies stopped"


@pytest.mark.timeout(180)
def test_a_negotiation_flood_is_parsed_a_bounded_piece_per_turn(make_driver):
    """128 KiB of telnet negotiations in one write, with no line among them:
    each turn parses at most ``PARSE_PER_TURN`` bytes of it, so between a
    typist's two lines of one write (a turn apart) the flood moves on by at
    most two pieces, however long it is."""
    driver = make_driver(mudlib=FAIR_MUDLIB, extra=connections(commands_per_second="null"))
    flooder = Client.plain(driver.telnet_port)
    login(flooder)
    typist = Client.plain(driver.telnet_port)
    login(typist)
    total = 128 * 1024 // 3
    drain = Drain(flooder.sock, b"ECHO flooded")  # the driver refuses each one: IAC DONT
    drain.start()
    flood = bytes([IAC, WILL, UNHANDLED_OPTION]) * total + b"echo flooded\r\n"
    # (From a thread: the driver reads as it parses, so the write may block.)
    threading.Thread(target=flooder.sock.sendall, args=(flood,), daemon=True).start()

    gaps = []
    while True:
        first, second = two_lines(typist, b"negs\r\nnegs\r\n", re.compile(r"NEGS (\d+)\r\n"))
        if second >= total:
            break
        if first > 0:
            gaps.append(second - first)
    print("negotiations parsed between the typist's two lines of a write:", gaps)
    assert gaps, "the flood was parsed before the typist's lines could run beside it"
    assert max(gaps) <= 2 * (PARSE_PER_TURN // 3 + 1), gaps
    assert len(gaps) >= 5, f"the typist saw too little of the flood to tell: {gaps}"
    assert drain.done.wait(TIMEOUT * 6), "the flooder's line after the flood never ran"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("event_loop", EVENT_LOOPS)
def test_a_crowd_of_new_connections_is_opened_between_players_commands(make_driver, event_loop):
    """Twenty connections waiting to be accepted at once, to a world whose
    connect() takes 25 ms: they are opened a few per pass of the event
    loop, and a player's command read meanwhile runs before the last of
    them is opened, rather than after half a second of everyone else's
    logins.  None is lost, nor is what each sent before it was opened.
    (uvloop accepts one connection a pass of its loop, so there the crowd
    never queues, and only that nothing is lost is tested.)"""
    driver = make_driver(mudlib=FAIR_MUDLIB, event_loop=event_loop,
                         limits="limits:\n  exempt: [127.0.0.0/8]\n")
    player = Client.plain(driver.telnet_port)
    login(player)
    assert reply(player, "slow 25", "SLOW") == "SLOW 25"
    # While the driver computes, the crowd's connections complete in the
    # kernel, to be accepted together when it is done.
    player.send_line("busy 500")
    driver.wait_for_log(r"BUSY 500")
    crowd = [socket.create_connection(("127.0.0.1", driver.telnet_port), timeout=TIMEOUT)
             for _ in range(20)]
    try:
        for number, sock in enumerate(crowd):   # typed ahead of the greeting
            sock.sendall(f"echo early{number}\r\n".encode())
        player.read_until("BUSY DONE")
        greeted: dict[socket.socket, bytes] = {sock: b"" for sock in crowd}

        def read_crowd(until: float) -> None:
            readable, _, _ = select.select(list(greeted), [], [],
                                           max(0.0, until - time.monotonic()))
            for sock in readable:
                greeted[sock] += sock.recv(65536)

        deadline = time.monotonic() + TIMEOUT
        while not any(b"LOGON" in data for data in greeted.values()):
            assert time.monotonic() < deadline, "no connection of the crowd was opened"
            read_crowd(deadline)
        # The logins have begun: a command now runs between them.
        opened = int(reply(player, "connects", "CONNECTS").split()[1]) - 1
        print("connections of the crowd opened before the player's command ran:", opened)
        if event_loop == "asyncio":
            assert opened < len(crowd), "the player's command waited for every login"

        deadline = time.monotonic() + TIMEOUT
        while not all(f"ECHO early{number} ".encode() in greeted[sock]
                      for number, sock in enumerate(crowd)):
            assert time.monotonic() < deadline, \
                f"{sum(b'ECHO early' in d for d in greeted.values())} of {len(crowd)} answered"
            read_crowd(deadline)
        for sock in crowd:
            assert greeted[sock].index(b"LOGON") < greeted[sock].index(b"ECHO early")
        assert reply(player, "connects", "CONNECTS") == f"CONNECTS {1 + len(crowd)}"
    finally:
        for sock in crowd:
            sock.close()


def test_input_to_follows_the_queue(make_driver):
    driver = make_driver(mudlib=FAIR_MUDLIB)
    player = Client.plain(driver.telnet_port)
    login(player)
    player.raw.clear()
    player.sock.sendall(b"ask\r\nmy answer\r\nlook\r\n")
    text = player.read_until("LOOK 1")
    assert text.index("ASKED") < text.index("ANSWER my answer") < text.index("LOOK 1")


def test_a_player_over_the_command_rate_is_told_once_and_loses_nothing(make_driver):
    driver = make_driver(mudlib=FAIR_MUDLIB,
                         extra=connections(commands_per_second=20, command_burst=2))
    player = Client.plain(driver.telnet_port)
    login(player)
    assert reply(player, "getrate", "GETRATE") == "GETRATE 20"
    assert reply(player, "rate 4", "RATE").startswith("RATE ERROR")  # not a wizard
    driver.wait_for_log(r"PRIVILEGE set_max_commands allowed=False")
    assert reply(player, "getrate", "GETRATE") == "GETRATE 20"
    assert reply(player, "wiz", "WIZ") == "WIZ"
    assert reply(player, "rate 4", "RATE") == "RATE OK"
    assert reply(player, "getrate", "GETRATE") == "GETRATE 4"

    player.raw.clear()
    player.sock.sendall(b"look\r\n" * 12)
    text = player.read_until("LOOK 12", timeout=TIMEOUT * 2)
    assert text.count(TOO_FAST) == 1
    assert text.index(TOO_FAST) < text.index("LOOK 12")  # told while the rest waited
    assert re.findall(r"LOOK (\d+)", text) == [str(n) for n in range(1, 13)]

    assert reply(player, "rate -5", "RATE") == "RATE OK"
    assert reply(player, "getrate", "GETRATE") == "GETRATE -1"
    player.raw.clear()
    player.sock.sendall(b"look\r\n" * 30)
    assert TOO_FAST not in player.read_until("LOOK 42")


# --- output to a client that does not read --------------------------------------------------

def not_reading_client(port: int) -> socket.socket:
    """A client with a small receive window, so the driver's buffers fill soon."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    return sock


@pytest.mark.parametrize("port, event_loop",
                         [("telnet", "asyncio"), ("tls", "asyncio"), ("tls", "uvloop")])
def test_a_client_that_never_reads_costs_at_most_its_output_buffer(make_driver, certs, port,
                                                                     event_loop):
    cap = 256 * 1024
    driver = make_driver(mudlib=FAIR_MUDLIB, event_loop=event_loop,
                         extra=connections(output_buffer=cap) + "metrics:\n  port: 0\n")
    metrics_port = int(driver.wait_for_log(r"metrics: http://[^:]+:(\d+)/metrics").group(1))
    honest = Client.plain(driver.telnet_port)
    login(honest)
    if port == "tls":
        context = certs.client_context()
        sleeper = Client(context.wrap_socket(not_reading_client(driver.tls_port),
                                             server_hostname="localhost"))
    else:
        sleeper = Client(not_reading_client(driver.telnet_port))
    name = login(sleeper)
    before = rss_kib(driver.process.pid)

    for _ in range(40):  # 40 MiB for a client that reads none of it
        assert reply(honest, f"flood-to {name} 1024", "FLOODED") == "FLOODED"
    assert reply(honest, "echo still served", "ECHO still served")
    grown = rss_kib(driver.process.pid) - before
    print(f"{port}: driver RSS grew {grown} KiB while 40 MiB were written to a client not reading")
    assert grown < cap // 1024 + 6 * 1024, f"the driver grew {grown} KiB"
    # What was thrown away is counted for the operator.
    discarded = value(scrape(metrics_port), "mud_output_discarded_bytes_total")
    assert discarded > 30 * 2**20, discarded

    # It reads again: what was kept, one marker for what was not, and it plays on.
    # (Bytes, not text: megabytes are waiting in the kernel's buffers.)
    sleeper.send_line("echo awake")
    sleeper.read_until(b"ECHO awake", timeout=TIMEOUT * 3)
    assert sleeper.raw.count(MARKER.encode()) == 1
    assert sleeper.raw.index(MARKER.encode()) < sleeper.raw.index(b"ECHO awake")


@pytest.mark.parametrize("event_loop", EVENT_LOOPS)
def test_a_client_that_reads_nothing_for_the_send_timeout_is_dropped(make_driver, event_loop):
    driver = make_driver(mudlib=FAIR_MUDLIB, event_loop=event_loop,
                         extra=connections(output_buffer=65536, send_timeout=2))
    honest = Client.plain(driver.telnet_port)
    login(honest)
    sleeper = Client(not_reading_client(driver.telnet_port))
    name = login(sleeper)
    mark = driver.log_mark()
    for _ in range(8):
        reply(honest, f"flood-to {name} 1024", "FLOODED")
    driver.wait_for_log(r"DISCONNECT /player#\d+ how=not reading", start=mark, timeout=TIMEOUT * 2)
    assert reply(honest, "echo after", "ECHO after")


# --- TLS ends where the mudlib says ---------------------------------------------------------

def test_close_notify_from_the_client_closes_and_plaintext_after_it_never_runs(
        make_driver, certs):
    driver = make_driver(mudlib=FAIR_MUDLIB)
    player = Client.tls(driver.tls_port, certs.client_context())
    name = login(player)
    other = Client.plain(driver.telnet_port)
    login(other)
    mark = driver.log_mark()
    plain = player.sock.unwrap()  # close_notify; returns once ours arrives
    try:
        plain.sendall(b"log PLAINTEXT-RAN\r\n")
    except OSError:
        pass  # already closed: as it should be
    player.sock = plain
    assert player.wait_closed() == b""  # nothing, not even a plaintext prompt
    driver.wait_for_log(rf"DISCONNECT /player#{name[6:]} how=peer closed TLS", start=mark)
    assert reply(other, "log marker", "LOGGED")
    driver.wait_for_log(r"LOG marker", start=mark)
    assert "PLAINTEXT-RAN" not in "\n".join(driver.lines[mark:])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_openssl_s_client_closing_its_input_ends_the_connection(make_driver, certs):
    """s_client sends close_notify when its input ends: the driver answers
    and closes, as OpenSSL's own s_server does."""
    driver = make_driver(mudlib=FAIR_MUDLIB)
    client = subprocess.Popen(
        ["openssl", "s_client", "-no_ign_eof", "-CAfile", str(certs.ca_file),
         "-connect", f"127.0.0.1:{driver.tls_port}", "-servername", "localhost"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        mark = driver.log_mark()
        out, _ = client.communicate(b"", timeout=TIMEOUT)  # end of input: close_notify
        driver.wait_for_log(r"DISCONNECT /player#\d+ how=peer closed TLS", start=mark)
        assert b"CONNECTED" in out and client.returncode == 0
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(TIMEOUT)


class MemoryTLSClient:
    """A TLS client over a plain socket, whose bytes on the wire we choose."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")

    def handshake_held(self) -> bytes:
        """Run the handshake; returns the client's last flight, not yet sent."""
        while True:
            try:
                self.tls.do_handshake()
                return self.outgoing.read()
            except ssl.SSLWantReadError:
                self.sock.sendall(self.outgoing.read())
                data = self.sock.recv(1 << 16)
                assert data, "the server closed during the handshake"
                self.incoming.write(data)

    def read_to_end(self) -> bytes:
        got = bytearray()
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except ConnectionResetError:
                break
            if not data:
                break
            got += data
        return bytes(got)


def test_plaintext_in_the_same_segment_as_close_notify_never_runs(make_driver, certs):
    driver = make_driver(mudlib=FAIR_MUDLIB)
    client = MemoryTLSClient(driver.tls_port, certs.client_context())
    client.sock.sendall(client.handshake_held())
    mark = driver.log_mark()
    client.tls.write(b"log BEFORE\r\n")
    try:
        client.tls.unwrap()
    except ssl.SSLWantReadError:
        pass  # close_notify written; the server's is awaited
    client.sock.sendall(client.outgoing.read() + b"log PLAINTEXT-RAN\r\n")
    client.read_to_end()
    driver.wait_for_log(r"DISCONNECT /player#\d+ how=peer closed TLS", start=mark)
    assert "PLAINTEXT-RAN" not in "\n".join(driver.lines[mark:])


def test_a_fatal_record_right_behind_the_clients_finished_gets_its_alert(make_driver, certs):
    driver = make_driver(mudlib=FAIR_MUDLIB)
    client = MemoryTLSClient(driver.tls_port, certs.client_context())
    finished = client.handshake_held()
    corrupt = b"\x17\x03\x03\x00\x20" + b"\x00" * 32  # application data that fails its MAC
    client.sock.sendall(finished + corrupt)  # one segment, one read
    client.incoming.write(client.read_to_end())
    client.incoming.write_eof()
    with pytest.raises(ssl.SSLError) as raised:
        while True:
            if not client.tls.read(1 << 16):
                break
    assert "ALERT" in (raised.value.reason or ""), raised.value


# --- keepalive ------------------------------------------------------------------------------

def kernel_timer(local_port: int, remote_port: int) -> tuple[int, int] | None:
    """(timer kind, clock ticks left) of a TCP socket, from /proc/net/tcp."""
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == local_port and int(remote.split(":")[1], 16) == remote_port:
            kind, left = fields[5].split(":")
            return int(kind, 16), int(left, 16)
    return None


@pytest.mark.parametrize("event_loop", EVENT_LOOPS)
def test_tcp_keepalive_uses_the_configured_idle_time(make_driver, event_loop):
    """Set on the listening socket, inherited by the accepted one; uvloop's
    stand-in socket passes it on too."""
    idle = 120
    driver = make_driver(mudlib=FAIR_MUDLIB, event_loop=event_loop,
                         extra=connections(keepalive_idle=idle))
    player = Client.plain(driver.telnet_port)
    login(player)
    assert_keepalive_idle(driver, player, idle)
    assert "TCP keepalive not tuned" not in driver.log


# --- configuration ----------------------------------------------------------------------------

@pytest.mark.parametrize("line, error", [
    ("output_buffer: 100", "connections.output_buffer: expected a number of bytes, at least 4096, got 100"),
    ("commands_per_second: 0", "connections.commands_per_second: expected a whole number of at "
                               "least 1, or null for no limit, got 0"),
    ("send_timeout: soon", "connections.send_timeout: expected a number of seconds, 0 or more, got 'soon'"),
    ("keepalive_idle: -1", "connections.keepalive_idle: expected a whole number of at least 1, got -1"),
    ("burst: 3", "connections.burst: unknown key"),
])
def test_bad_connection_limits_are_one_line_errors(tmp_path, line, error):
    from driver.config import ConfigError, load
    config = tmp_path / "config.yaml"
    config.write_text(f"server:\n  tls_port: null\nmudlib:\n  directory: {FAIR_MUDLIB}\n"
                      f"connections:\n  {line}\n")
    with pytest.raises(ConfigError) as raised:
        load(config)
    assert str(raised.value).startswith(error)


def test_connection_limits_default_and_null_means_no_limit(tmp_path):
    from driver.config import load
    config = tmp_path / "config.yaml"
    config.write_text(f"server:\n  tls_port: null\nmudlib:\n  directory: {FAIR_MUDLIB}\n")
    limits = load(config).connections
    assert (limits.commands_per_second, limits.output_buffer, limits.keepalive_idle) == (20, 262144, 300)
    config.write_text(config.read_text() + "connections:\n  commands_per_second: null\n")
    assert load(config).connections.commands_per_second is None
