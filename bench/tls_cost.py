"""``python -m bench tls-cost``: the server's side of one TLS handshake, full and resumed.

A micro-benchmark of OpenSSL through Python's ``ssl`` module, in one
process, no network: a server ``SSLObject`` and a client ``SSLObject``, each
over two memory BIOs (as the driver and the bench's clients run theirs),
hand each other their flights until both are done; then the client sends a
line and the server answers with a greeting, as in scenario 1.  Only the
server's calls are timed: creating its ``SSLObject`` (``SSL_new``), every
handshake step, reading the line, writing the greeting, and freeing it.
A *resumed* handshake offers the session ticket of the client's previous
connection of the same configuration, as scenario 1's resumed variants do.

Server configurations, each with the bench's certificates (trustme, EC P-256
or RSA-2048, leaf only):

``driver``          ``build_server_context``: the driver's own context
                    (one TLS 1.3 ticket, the SNI callback, its ciphers)
``driver-2``        the same with OpenSSL's default of two TLS 1.3 tickets
``python``          a bare ``SSLContext`` with the certificate, as the
                    asyncio baseline has it (two tickets, no callback)
``python-1``        the same with one ticket
``python-store``    ``python`` with the system's trust store loaded, as
                    ``openssl s_server`` has it by default: a leaf without
                    its chain makes OpenSSL build the chain on every full
                    handshake, which searches the store's directory

Configurations and modes take turns (a round does every one of them), so a
busy moment on a shared machine spoils one round of each rather than all of
one; the first round warms up and is not counted.  Each figure is the
median over the counted handshakes.  bench/README.md, "Why resumption gains
little here", says what the figures show.
"""

from __future__ import annotations

import ssl
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

GREETING = b"Welcome to the bench.\r\n"
LINE = b"hello, bench\n"
READ_SIZE = 4096

#: name -> (certificate kind, highest TLS version, server configuration)
CASES = {
    "tls13-ec driver": ("ec", ssl.TLSVersion.TLSv1_3, "driver"),
    "tls13-ec driver-2": ("ec", ssl.TLSVersion.TLSv1_3, "driver-2"),
    "tls13-ec python": ("ec", ssl.TLSVersion.TLSv1_3, "python"),
    "tls13-ec python-1": ("ec", ssl.TLSVersion.TLSv1_3, "python-1"),
    "tls13-ec python-store": ("ec", ssl.TLSVersion.TLSv1_3, "python-store"),
    "tls12-ec driver": ("ec", ssl.TLSVersion.TLSv1_2, "driver"),
    "tls13-rsa driver": ("rsa", ssl.TLSVersion.TLSv1_3, "driver"),
    "tls12-rsa driver": ("rsa", ssl.TLSVersion.TLSv1_2, "driver"),
}


def server_context(kind: str, certificate: Path, key: Path) -> ssl.SSLContext:
    if kind.startswith("driver"):
        from driver.net.tls_context import build_server_context

        context = build_server_context(certificate, key)
        if kind == "driver-2":
            context.num_tickets = 2
        return context
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    if kind == "python-1":
        context.num_tickets = 1
    if kind == "python-store":
        context.load_default_certs()
    return context


def client_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = version
    return context


def _step(method) -> bool:
    """Run an OpenSSL step; False when it waits for the other side's bytes."""
    try:
        method()
    except ssl.SSLWantReadError:
        return False
    return True


def one_connection(server: ssl.SSLContext, client: ssl.SSLContext,
                   session: ssl.SSLSession | None) -> tuple[float, ssl.SSLObject]:
    """One connection; returns the server's seconds and the client's SSLObject."""
    clock = time.perf_counter
    to_server, from_server = ssl.MemoryBIO(), ssl.MemoryBIO()
    to_client, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    spent = 0.0
    started = clock()
    theirs = server.wrap_bio(to_server, from_server, server_side=True)
    spent += clock() - started
    ours = client.wrap_bio(to_client, from_client, server_side=False,
                           server_hostname="localhost", session=session)
    server_done = client_done = False
    while not (server_done and client_done):
        if not client_done:
            client_done = _step(ours.do_handshake)
            to_server.write(from_client.read())
        if not server_done:
            started = clock()
            server_done = _step(theirs.do_handshake)
            flight = from_server.read()
            spent += clock() - started
            to_client.write(flight)
    ours.write(LINE)
    to_server.write(from_client.read())
    started = clock()
    _step(partial(theirs.read, READ_SIZE))  # no closure: `theirs` is deleted below
    theirs.write(GREETING)
    flight = from_server.read()
    spent += clock() - started
    to_client.write(flight)  # in TLS 1.3 the tickets arrive with the greeting
    _step(partial(ours.read, READ_SIZE))
    started = clock()
    del theirs  # SSL_free
    spent += clock() - started
    return spent, ours


def measure(rounds: int = 8, per_round: int = 100, cases: tuple[str, ...] = tuple(CASES)) -> dict:
    """Median server µs per handshake, full and resumed, for each case."""
    from .scenarios import make_certificates

    with tempfile.TemporaryDirectory(prefix="bench-tls-cost-") as directory:
        certs = make_certificates(Path(directory))
        prepared = {}
        for name in cases:
            cert_kind, version, kind = CASES[name]
            files = certs[cert_kind]
            prepared[name] = (server_context(kind, files.fullchain, files.key),
                              client_context(version))
    times: dict[tuple[str, str], list[float]] = {(n, m): [] for n in cases
                                                 for m in ("full", "resumed")}
    resumed_count = {name: 0 for name in cases}
    sessions: dict[str, ssl.SSLSession | None] = {name: None for name in cases}
    for round_ in range(rounds + 1):
        for name, (server, client) in prepared.items():
            for mode in ("full", "resumed"):
                for _ in range(per_round):
                    offered = sessions[name] if mode == "resumed" else None
                    spent, ours = one_connection(server, client, offered)
                    if mode == "resumed":
                        sessions[name] = ours.session
                        if round_:
                            resumed_count[name] += ours.session_reused
                    if round_:  # round 0 warms up
                        times[(name, mode)].append(spent)
    result = {}
    for name in cases:
        full = statistics.median(times[(name, "full")]) * 1e6
        resumed = statistics.median(times[(name, "resumed")]) * 1e6
        result[name] = {"full_us": full, "resumed_us": resumed, "full_over_resumed": full / resumed,
                        "resumed_fraction": resumed_count[name] / (rounds * per_round)}
    return {"rounds": rounds, "per_round": per_round, "openssl": ssl.OPENSSL_VERSION,
            "cases": result}


def report(result: dict) -> str:
    lines = [f"{result['openssl']}; server µs per handshake, median of "
             f"{result['rounds']} × {result['per_round']} each",
             f"{'case':24} {'full':>8} {'resumed':>8} {'full ÷ resumed':>15} {'reused':>7}"]
    for name, figures in result["cases"].items():
        lines.append(f"{name:24} {figures['full_us']:8.0f} {figures['resumed_us']:8.0f} "
                     f"{figures['full_over_resumed']:14.2f}× {figures['resumed_fraction']:7.0%}")
    return "\n".join(lines)
