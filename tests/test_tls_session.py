"""``driver.net.tls.TLSSession`` on its own: no sockets, no event loop.

The session under test is paired with a real client, an ``ssl.SSLObject``
over two ``ssl.MemoryBIO``s, and the tests carry bytes between the two by
hand.  Both ends run real OpenSSL handshakes and records, so what is tested
is real TLS; only the wire is a Python variable.
"""

from __future__ import annotations

import ssl
import warnings

import pytest

from driver.net import tls
from driver.net.tls import Received, TLSSession, TLSState, TLSStateError
from driver.net.tls_context import build_server_context


# --- the two ends -----------------------------------------------------------------

@pytest.fixture(scope="module")
def server_context(certs) -> ssl.SSLContext:
    """The driver's own server context (TLS 1.2+, its cipher policy)."""
    return build_server_context(certs.fullchain, certs.key)


@pytest.fixture(scope="module")
def client_context(certs) -> ssl.SSLContext:
    return certs.client_context()


class Peer:
    """The other end: a client ``SSLObject`` over memory BIOs."""

    def __init__(self, context: ssl.SSLContext, server_hostname: str | None = "localhost",
                 server_side: bool = False) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.ssl = context.wrap_bio(self.incoming, self.outgoing, server_side=server_side,
                                    server_hostname=None if server_side else server_hostname)
        self.handshake_done = False
        self.got_close_notify = False

    def step(self) -> bool:
        """Advance the handshake; True once it is complete."""
        if not self.handshake_done:
            try:
                self.ssl.do_handshake()
            except ssl.SSLWantReadError:
                return False
            self.handshake_done = True
        return True

    def feed(self, data: bytes) -> None:
        if data:
            self.incoming.write(data)

    def take(self) -> bytes:
        """What this end wants to put on the wire."""
        return self.outgoing.read()

    def write(self, plaintext: bytes) -> bytes:
        self.ssl.write(plaintext)
        return self.take()

    def read_all(self) -> bytes:
        """Decrypt everything fed so far; notes a close_notify."""
        out = bytearray()
        while True:
            try:
                chunk = self.ssl.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.got_close_notify = True
                break
            if not chunk:  # Python's way of reporting the other end's close_notify
                self.got_close_notify = True
                break
            out += chunk
        return bytes(out)

    def close_notify(self) -> bytes:
        """Send our close_notify (answering the other end's, if it came)."""
        try:
            self.ssl.unwrap()
        except ssl.SSLWantReadError:
            pass
        return self.take()


def handshake(session: TLSSession, server_context: ssl.SSLContext, peer: Peer) -> list[Received]:
    """Run a server-side handshake between ``session`` and a client ``peer``."""
    assert session.start(server_context, server_side=True) == b""  # a server waits for the hello
    results = []
    peer.step()
    for _ in range(10):
        received = session.receive(peer.take())
        results.append(received)
        peer.feed(received.to_send)
        peer.step()
        if received.outcome is not None:
            break
    else:
        raise AssertionError("the handshake did not finish in 10 round trips")
    return results


def active_pair(server_context, client_context) -> tuple[TLSSession, Peer]:
    session, peer = TLSSession(), Peer(client_context)
    results = handshake(session, server_context, peer)
    assert results[-1].outcome == tls.TLS_OK
    assert session.state is TLSState.ACTIVE
    assert peer.read_all() == b""  # takes in the session tickets
    return session, peer


def start_handshake(server_context) -> TLSSession:
    session = TLSSession()
    session.start(server_context, server_side=True)
    return session


def client_hello(context: ssl.SSLContext, server_hostname: str = "localhost") -> bytes:
    peer = Peer(context, server_hostname)
    peer.step()
    return peer.take()


# --- inactive: passthrough ------------------------------------------------------------

def test_a_new_session_is_inactive_and_passes_bytes_through():
    session = TLSSession()
    assert session.state is TLSState.INACTIVE
    assert session.state.efun_value == 0
    assert session.ssl_object is None
    # Even bytes that look like a TLS record are only bytes while inactive.
    record_like = b"\x16\x03\x01\x00\x05hello"
    assert session.receive(record_like) == Received(record_like, b"")
    assert session.receive(b"look\r\n") == Received(b"look\r\n", b"", None, None)
    assert session.send(b"\xff\xf9> ") == b"\xff\xf9> "
    assert session.peer_gone() is None


# --- the handshake ----------------------------------------------------------------

def test_handshake_succeeds_and_records_carry_both_ways(server_context, client_context):
    session, peer = TLSSession(), Peer(client_context)
    results = handshake(session, server_context, peer)
    assert [r.outcome for r in results] == [None, tls.TLS_OK]
    assert all(r.fatal is None for r in results)
    assert session.state is TLSState.ACTIVE and session.state.efun_value == 1
    assert session.ssl_object is not None
    assert session.ssl_object.version() == "TLSv1.3"
    assert session.requested_server_name == "localhost"  # SNI, remembered by the context

    wire = session.send(b"Hello, traveller.\r\n")
    assert wire and b"traveller" not in wire
    peer.feed(wire)
    assert peer.read_all() == b"Hello, traveller.\r\n"

    wire = peer.write(b"look\r\n")
    assert b"look" not in wire
    received = session.receive(wire)
    assert received.plaintext == b"look\r\n" and received.outcome is None and received.fatal is None


def test_handshaking_state_reports_minus_one(server_context):
    session = start_handshake(server_context)
    assert session.state is TLSState.HANDSHAKING
    assert session.state.efun_value == -1
    assert session.ssl_object is not None


def test_data_right_behind_the_clients_finished_is_delivered(server_context, client_context):
    session, peer = start_handshake(server_context), Peer(client_context)
    peer.step()
    first = session.receive(peer.take())
    peer.feed(first.to_send)
    assert peer.step()  # TLS 1.3: the client is done after one round trip
    finished_and_data = peer.take() + peer.write(b"alice\r\n")
    received = session.receive(finished_and_data)
    assert received.outcome == tls.TLS_OK
    assert received.plaintext == b"alice\r\n"


def test_the_handshake_survives_bytes_arriving_one_at_a_time(server_context, client_context):
    session, peer = start_handshake(server_context), Peer(client_context)
    peer.step()
    outcome = None
    for _ in range(10):
        for byte in peer.take():
            received = session.receive(bytes([byte]))
            peer.feed(received.to_send)
            if received.outcome is not None:
                outcome = received.outcome
        peer.step()
        if outcome is not None:
            break
    assert outcome == tls.TLS_OK
    assert session.state is TLSState.ACTIVE


def test_plaintext_written_during_the_handshake_is_held_then_sent_encrypted(
        server_context, client_context):
    session, peer = start_handshake(server_context), Peer(client_context)
    held = b"Welcome to the secret garden.\r\n"
    wire = bytearray()
    assert session.send(held) == b""  # nothing reaches the wire while handshaking
    peer.step()
    for _ in range(10):
        received = session.receive(peer.take())
        wire += received.to_send
        peer.feed(received.to_send)
        peer.step()
        if received.outcome is not None:
            break
        assert session.send(b"more: secret\r\n") == b""
    assert received.outcome == tls.TLS_OK
    assert b"secret" not in wire  # never in the clear
    assert peer.read_all() == held + b"more: secret\r\n"
    # Once sent, the held text is gone: nothing is sent twice.
    peer.feed(session.send(b"next\r\n"))
    assert peer.read_all() == b"next\r\n"


def test_held_plaintext_is_discarded_when_the_handshake_fails(server_context):
    session = start_handshake(server_context)
    assert session.send(b"Your password is swordfish\r\n") == b""
    received = session.receive(b"hello\r\n")
    assert received.outcome == tls.TLS_ERR_NOT_TLS
    assert b"swordfish" not in received.to_send
    assert session.state is TLSState.INACTIVE and session.ssl_object is None
    # The connection is plain again: only what is sent from now on goes out.
    assert session.send(b"Goodbye.\r\n") == b"Goodbye.\r\n"


def test_held_plaintext_is_discarded_when_the_handshake_times_out(server_context):
    session = start_handshake(server_context)
    session.send(b"secret\r\n")
    session.fail_handshake()
    assert session.state is TLSState.INACTIVE and session.ssl_object is None
    assert session.send(b"Too slow.\r\n") == b"Too slow.\r\n"


def test_held_plaintext_is_discarded_when_the_handshake_is_abandoned(server_context):
    session = start_handshake(server_context)
    session.send(b"secret\r\n")
    session.abandon()
    assert session.state is TLSState.INACTIVE and session.ssl_object is None
    assert session.send(b"plain\r\n") == b"plain\r\n"
    assert session.receive(b"look\r\n").plaintext == b"look\r\n"


def test_peer_gone_during_the_handshake(server_context):
    session = start_handshake(server_context)
    session.send(b"secret\r\n")
    assert session.peer_gone() == tls.TLS_ERR_PEER_CLOSED
    assert session.state is TLSState.INACTIVE
    assert session.send(b"x") == b"x"


def test_peer_gone_after_the_handshake_is_not_a_handshake_result(server_context, client_context):
    session, _ = active_pair(server_context, client_context)
    assert session.peer_gone() is None


# --- outcome codes ----------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"hello\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"\x00" * 32,
    b"\x16\x03\x01\xff\xff",  # a handshake record longer than TLS allows
], ids=["plaintext", "http", "zeros", "oversized-record"])
def test_plaintext_and_garbage_are_not_tls(server_context, data):
    session = start_handshake(server_context)
    received = session.receive(data)
    assert received.outcome == tls.TLS_ERR_NOT_TLS
    assert received.plaintext == b""  # nothing of it reaches the telnet layer
    assert session.state is TLSState.INACTIVE


def test_a_malformed_handshake_message_gets_the_librarys_reason(server_context):
    session = start_handshake(server_context)
    received = session.receive(b"\x16\x03\x01\x00\x04\x01\x00\x00\x00")  # empty ClientHello
    assert received.outcome is not None and received.outcome < 0
    assert received.outcome != tls.TLS_OK
    assert received.to_send.startswith(b"\x15\x03")  # an alert tells the peer why
    assert session.state is TLSState.INACTIVE
    text = tls.describe(received.outcome)
    assert "unknown" not in text and "handshake" in text


def test_an_old_protocol_version_is_refused_with_its_own_code(server_context):
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    old.set_ciphers("DEFAULT@SECLEVEL=0")
    with warnings.catch_warnings():  # the point is to use what Python deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        hello = client_hello(old)
    except ssl.SSLError as exc:
        pytest.skip(f"this OpenSSL cannot offer TLS 1.1 at all: {exc}")
    session = start_handshake(server_context)
    received = session.receive(hello)
    assert received.outcome == tls.TLS_ERR_PROTOCOL_VERSION
    assert received.to_send.startswith(b"\x15")  # protocol_version alert
    assert "TLS 1.2" in tls.describe(received.outcome)


def test_no_shared_cipher_has_its_own_code(server_context):
    weak = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    weak.check_hostname = False
    weak.verify_mode = ssl.CERT_NONE
    weak.maximum_version = ssl.TLSVersion.TLSv1_2
    weak.set_ciphers("AES128-SHA")  # static RSA key exchange, no forward secrecy
    session = start_handshake(server_context)
    assert session.receive(client_hello(weak)).outcome == tls.TLS_ERR_NO_SHARED_CIPHER


def test_a_client_that_distrusts_us_aborts_with_an_alert_we_can_name(server_context):
    stranger = ssl.create_default_context()  # the system store: it does not know our test CA
    session, peer = start_handshake(server_context), Peer(stranger)
    peer.step()
    first = session.receive(peer.take())
    peer.feed(first.to_send)
    with pytest.raises(ssl.SSLCertVerificationError):
        peer.step()
    received = session.receive(peer.take())
    assert received.outcome is not None and received.outcome < 0
    assert "unknown ca" in tls.describe(received.outcome)
    # The same reason keeps the same code.
    again, other = start_handshake(server_context), Peer(stranger)
    other.step()
    other.feed(again.receive(other.take()).to_send)
    with pytest.raises(ssl.SSLCertVerificationError):
        other.step()
    assert again.receive(other.take()).outcome == received.outcome


def test_a_client_side_handshake_sends_sni_and_checks_the_host_name(certs, client_context):
    """A connection the driver opened does a client handshake with SNI."""
    server_context = build_server_context(certs.fullchain, certs.key)
    names_asked_for = []
    server_context.sni_callback = lambda _ssl, name, _context: names_asked_for.append(name)
    server = Peer(server_context, server_side=True)
    session = TLSSession()
    hello = session.start(client_context, server_side=False, server_hostname="localhost")
    assert hello.startswith(b"\x16\x03")  # the ClientHello goes out at once
    server.feed(hello)
    server.step()
    received = session.receive(server.take())
    assert received.outcome == tls.TLS_OK
    server.feed(received.to_send)
    assert server.step()
    assert names_asked_for == ["localhost"]
    assert session.ssl_object.server_hostname == "localhost"

    wrong_name = TLSSession()
    other = Peer(build_server_context(certs.fullchain, certs.key), server_side=True)
    other.feed(wrong_name.start(client_context, server_side=False, server_hostname="example.org"))
    other.step()
    received = wrong_name.receive(other.take())
    assert received.outcome is not None and received.outcome < 0
    assert "certificate" in tls.describe(received.outcome)
    assert wrong_name.state is TLSState.INACTIVE


# --- illegal transitions -----------------------------------------------------------

def test_shut_down_while_inactive_raises():
    session = TLSSession()
    with pytest.raises(TLSStateError):
        session.shut_down()
    assert session.state is TLSState.INACTIVE


def test_start_twice_raises_and_keeps_the_running_handshake(server_context):
    session = start_handshake(server_context)
    running = session.ssl_object
    with pytest.raises(TLSStateError):
        session.start(server_context, server_side=True)
    assert session.state is TLSState.HANDSHAKING
    assert session.ssl_object is running


def test_start_while_active_raises(server_context, client_context):
    session, _ = active_pair(server_context, client_context)
    with pytest.raises(TLSStateError):
        session.start(server_context, server_side=True)
    assert session.state is TLSState.ACTIVE


@pytest.mark.parametrize("operation", ["fail_handshake", "abandon"])
def test_handshake_only_operations_raise_when_no_handshake_runs(
        server_context, client_context, operation):
    with pytest.raises(TLSStateError):
        getattr(TLSSession(), operation)()
    session, _ = active_pair(server_context, client_context)
    with pytest.raises(TLSStateError):
        getattr(session, operation)()
    assert session.state is TLSState.ACTIVE


def test_shut_down_while_handshaking_raises(server_context):
    session = start_handshake(server_context)
    with pytest.raises(TLSStateError):
        session.shut_down()
    assert session.state is TLSState.HANDSHAKING


def test_shut_down_twice_raises(server_context, client_context):
    session, _ = active_pair(server_context, client_context)
    session.shut_down()
    with pytest.raises(TLSStateError):
        session.shut_down()
    assert session.state is TLSState.SHUTTING_DOWN


# --- shutting down ----------------------------------------------------------------

def test_shut_down_sends_close_notify_and_output_goes_plain(server_context, client_context):
    session, peer = active_pair(server_context, client_context)
    close_notify = session.shut_down()
    assert close_notify and b"\x00" * 8 not in close_notify
    assert session.state is TLSState.SHUTTING_DOWN
    assert session.state.efun_value == 0  # no longer counts as secure
    peer.feed(close_notify)
    assert peer.read_all() == b""
    assert peer.got_close_notify
    assert session.send(b"in the clear\r\n") == b"in the clear\r\n"


def test_data_the_peer_sent_before_seeing_close_notify_is_delivered(server_context, client_context):
    session, peer = active_pair(server_context, client_context)
    in_flight = peer.write(b"say one\r\n") + peer.write(b"say two\r\n")
    close_notify = session.shut_down()
    received = session.receive(in_flight)
    assert received.plaintext == b"say one\r\nsay two\r\n"
    assert received.fatal is None
    assert session.state is TLSState.SHUTTING_DOWN  # still waiting for the peer's close_notify

    peer.feed(close_notify)
    peer.read_all()
    received = session.receive(peer.close_notify())
    assert received.plaintext == b""
    assert session.state is TLSState.INACTIVE and session.ssl_object is None
    assert session.receive(b"look\r\n") == Received(b"look\r\n", b"")


def test_bytes_after_the_peers_close_notify_in_the_same_chunk_are_plaintext(
        server_context, client_context):
    session, peer = active_pair(server_context, client_context)
    in_flight = peer.write(b"say last words\r\n")
    peer.feed(session.shut_down())
    peer.read_all()
    assert peer.got_close_notify
    chunk = in_flight + peer.close_notify() + b"look\r\n\xff\xfd\x01"
    received = session.receive(chunk)
    assert received.plaintext == b"say last words\r\nlook\r\n\xff\xfd\x01"
    assert received.fatal is None
    assert session.state is TLSState.INACTIVE


def test_shutdown_framing_copes_with_bytes_arriving_one_at_a_time(server_context, client_context):
    session, peer = active_pair(server_context, client_context)
    in_flight = peer.write(b"say slowly\r\n")
    peer.feed(session.shut_down())
    peer.read_all()
    chunk = in_flight + peer.close_notify() + b"look\r\n"
    plaintext = bytearray()
    for byte in chunk:
        received = session.receive(bytes([byte]))
        assert received.fatal is None
        plaintext += received.plaintext
    assert bytes(plaintext) == b"say slowly\r\nlook\r\n"
    assert session.state is TLSState.INACTIVE


def test_a_peer_that_drops_tls_without_close_notify_is_handed_up_as_plaintext(
        server_context, client_context):
    session, peer = active_pair(server_context, client_context)
    in_flight = peer.write(b"say bye\r\n")
    session.shut_down()
    received = session.receive(in_flight + b"look\r\n")
    assert received.plaintext == b"say bye\r\nlook\r\n"
    assert received.fatal is None
    assert session.state is TLSState.INACTIVE and session.ssl_object is None


def test_a_short_plain_line_after_dropping_tls_is_not_held_back(server_context, client_context):
    """A three-byte command ("n\\r\\n") cannot be a TLS record: its first byte
    already says so, and the player should not wait for more input."""
    session, _ = active_pair(server_context, client_context)
    session.shut_down()
    received = session.receive(b"n\r\n")
    assert received.plaintext == b"n\r\n"
    assert session.state is TLSState.INACTIVE


def test_peer_close_notify_alone_while_active_is_answered_and_ends_the_stream(
        server_context, client_context):
    session, peer = active_pair(server_context, client_context)
    received = session.receive(peer.close_notify())
    assert received.plaintext == b"" and received.fatal is None
    assert received.closed, "the peer's close_notify went unnoticed"
    assert session.state is TLSState.CLOSED
    assert received.to_send  # our close_notify
    peer.feed(received.to_send)
    peer.ssl.unwrap()


def test_plaintext_never_follows_a_close_notify_the_mudlib_did_not_ask_for(
        server_context, client_context):
    """The peer's close_notify while ACTIVE ends the stream: what it sent
    before is delivered, what follows it is never read as plaintext, and
    nothing written afterwards leaves in the clear."""
    session, peer = active_pair(server_context, client_context)
    received = session.receive(peer.write(b"quit\r\n") + peer.close_notify() + b"plain\r\n")
    assert received.plaintext == b"quit\r\n"
    assert received.closed and received.fatal is None
    assert session.state is TLSState.CLOSED and session.ssl_object is None
    assert received.to_send  # our own close_notify, in answer
    peer.feed(received.to_send)
    peer.ssl.unwrap()  # completes at once: the peer's close_notify arrived
    assert session.send(b"a private tell\r\n") == b""
    later = session.receive(b"look\r\n")
    assert later.plaintext == b"" and later.closed


def test_a_corrupt_record_while_active_is_fatal(server_context, client_context):
    session, _ = active_pair(server_context, client_context)
    received = session.receive(b"\x17\x03\x03\x00\x20" + b"\x00" * 32)  # fails its MAC
    assert received.fatal
    assert session.state is TLSState.INACTIVE


# --- describe (tls_error) ----------------------------------------------------------

ALL_CODES = [tls.TLS_OK, tls.TLS_ERR_HANDSHAKE, tls.TLS_ERR_PEER_CLOSED, tls.TLS_ERR_TIMEOUT,
             tls.TLS_ERR_NO_CERTIFICATE, tls.TLS_ERR_PROTOCOL_VERSION, tls.TLS_ERR_NOT_TLS,
             tls.TLS_ERR_NO_SHARED_CIPHER, tls.TLS_ERR_CERTIFICATE, tls.TLS_ERR_NOT_CONNECTED]


def test_every_code_has_its_own_readable_description():
    texts = [tls.describe(code) for code in ALL_CODES]
    for code, text in zip(ALL_CODES, texts):
        assert isinstance(text, str) and len(text) > 10, code
        assert "unknown" not in text.lower(), (code, text)
        assert "error:0" not in text and "lib(" not in text, (code, text)  # no OpenSSL codes
    assert len(set(texts)) == len(texts)
    assert "timed out" in tls.describe(tls.TLS_ERR_TIMEOUT)
    assert "no certificate" in tls.describe(tls.TLS_ERR_NO_CERTIFICATE)


def test_an_unknown_code_is_described_not_raised():
    text = tls.describe(-99999)
    assert "unknown" in text and "-99999" in text
    assert "unknown" in tls.describe(42)


@pytest.mark.parametrize("value", ["-1", None, -1.0, True, [0]])
def test_a_non_integer_is_described_not_raised(value):
    text = tls.describe(value)
    assert isinstance(text, str)
    assert "not a TLS result code" in text


# --- a new handshake asked for before the old session has finished closing -----

def test_start_while_shutting_down_waits_for_the_peers_close_notify(server_context, client_context):
    session, peer = active_pair(server_context, client_context)
    peer.feed(session.shut_down())
    assert session.state is TLSState.SHUTTING_DOWN and session.state.efun_value == 0

    assert session.start(server_context, server_side=True) == b""
    assert session.state is TLSState.RESTARTING and session.state.efun_value == -1
    assert session.send(b"for the new session only") == b""  # held, never in the clear

    # The peer answers our close_notify and sends a new ClientHello in the same write.
    assert peer.read_all() == b"" and peer.got_close_notify
    goodbye = peer.close_notify()
    second = Peer(client_context)
    second.step()
    received = session.receive(goodbye + second.take())
    assert session.state is TLSState.HANDSHAKING
    assert received.plaintext == b"" and received.outcome is None
    second.feed(received.to_send)
    for _ in range(10):
        second.step()
        received = session.receive(second.take())
        second.feed(received.to_send)
        if received.outcome is not None:
            break
    assert received.outcome == tls.TLS_OK and session.state is TLSState.ACTIVE
    assert second.read_all() == b"for the new session only"


def test_deinit_while_restarting_cancels_only_the_new_handshake(server_context, client_context):
    session, peer = active_pair(server_context, client_context)
    peer.feed(session.shut_down())
    session.start(server_context, server_side=True)
    session.send(b"dropped")
    session.abandon()
    assert session.state is TLSState.SHUTTING_DOWN
    peer.read_all()
    received = session.receive(peer.close_notify() + b"plain again\r\n")
    assert session.state is TLSState.INACTIVE
    assert received.plaintext == b"plain again\r\n"
    assert session.send(b"out") == b"out"
