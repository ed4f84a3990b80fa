"""``python -m bench telnet-parse``: what the telnet layer pays per byte of input.

A micro-benchmark of ``MudTelnetProtocol.feed``, the telnet layer's entry
point, in one process and one run: the same amount of player input as plain
text and as several kinds of input full of IAC bytes, fed in socket-sized
chunks.  It prints microseconds per byte for each and the ratio of each to
plain text.  A player (or an attacker) who sends telnet commands should cost
the driver about what one who sends text does; ``worst_ratio`` is the figure
to watch (bench/README.md).

The inputs, all the same size:

``plain``        lines of text, as players type them
``latin-1``      lines of Latin-1 text (``é``), no IAC
``escapes``      the same lines with ``ÿ`` (IAC IAC, byte 255 as data) for ``é``
``nop``          IAC NOP and nothing else
``naws``         window-size subnegotiations back to back (9 bytes each)
``mixed``        text lines with two IAC NOPs and a NAWS subnegotiation in each
``interleaved``  one byte of text between IAC NOPs: the worst mix of the two
``long-sb``      an unknown option's subnegotiation of 64 KiB, over and over
                 (the telnet layer drops each at its size limit)

Each is compared with the input without IAC that carries the same text:
``escapes`` with ``latin-1`` (a line holding a 255 byte is not UTF-8, and is
decoded as Windows-1252 as a Latin-1 player's line is), the rest with
``plain``.

``measure()`` is importable (a scenario that floods a live driver can report
the same figures beside its own).
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

IAC, SB, SE, NOP = 255, 250, 240, 241
NAWS = 31
#: A socket read's worth of plaintext (a TLS record holds at most 16 KiB).
CHUNK = 16384


def _naws(cols: int, rows: int) -> bytes:
    return bytes([IAC, SB, NAWS, cols >> 8, cols & 255, rows >> 8, rows & 255, IAC, SE])


def _repeat_to(unit: bytes, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


#: input -> the input without IAC it is measured against: the same text.
#: A 255 data byte (IAC IAC) is no UTF-8, so a line holding one is decoded
#: as Windows-1252, as a Latin-1 player's line is: ``escapes`` is set beside
#: ``latin-1``, text with accents and no IAC, so the ratio is the telnet
#: layer's and not the charset fallback's.
BASELINE = {"plain": "plain", "latin-1": "plain", "escapes": "latin-1", "nop": "plain",
            "naws": "plain", "mixed": "plain", "interleaved": "plain", "long-sb": "plain"}


#: The inputs without IAC (the baselines).
TEXT_ONLY = ("plain", "latin-1")


def inputs(size: int) -> dict[str, bytes]:
    """Each kind of input, about ``size`` bytes long (a whole number of units)."""
    line = b"say The lamps on the square are lit, and the wind is off the moor.\r\n"
    latin = b"say " + "é".encode("latin-1") * 30 + b"\r\n"
    escapes = b"say " + bytes([IAC, IAC]) * 30 + b"\r\n"
    mixed = (b"say The lamps " + bytes([IAC, NOP]) + b"on the square " + bytes([IAC, NOP])
             + b" are lit," + _naws(120, 40) + b" and the wind is off the moor.\r\n")
    # the worst case of text and commands: one text byte between two-byte commands
    interleaved = b"say " + b"x".join([bytes([IAC, NOP])] * 30) + b"\r\n"
    long_sb = bytes([IAC, SB, 99]) + b"x" * 65536 + bytes([IAC, SE])
    units = {"plain": line, "latin-1": latin, "escapes": escapes, "nop": bytes([IAC, NOP]),
             "naws": _naws(80, 24), "mixed": mixed, "interleaved": interleaved,
             "long-sb": long_sb}
    return {name: unit * max(1, size // len(unit)) for name, unit in units.items()}


class _DiscardingTransport(asyncio.Transport):
    """Where the telnet layer's answers go: nowhere (only input is measured)."""

    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 4000)}.get(name, default)


def _protocol(lines: list[int]):
    from driver.net.telnet import MudTelnetProtocol

    def deliver(line: str) -> bool:
        lines[0] += 1
        return True

    protocol = MudTelnetProtocol(deliver)
    protocol.connection_made(_DiscardingTransport())
    protocol.begin_negotiation()
    return protocol


def _time_feed(data: bytes) -> float:
    """Seconds to feed ``data`` to a fresh protocol, a chunk at a time."""
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    lines = [0]
    protocol = _protocol(lines)
    feed: Callable[[bytes], None] = protocol.feed
    started = time.perf_counter()
    for chunk in chunks:
        feed(chunk)
    elapsed = time.perf_counter() - started
    protocol.writer.close()
    return elapsed


def measure(size: int = 1 << 18, rounds: int = 25) -> dict:
    """µs per byte for each input, and each one's ratio to plain text.

    Each round feeds every input once, and each input's best round counts:
    on a machine shared with other work, a slow moment then spoils one
    round of every input rather than all the rounds of one; many short
    rounds (256 KiB) gave steadier ratios than a few long ones.
    """
    async def run() -> dict:
        data = inputs(size)
        best = {name: float("inf") for name in data}
        for _ in range(rounds):
            for name, chunk in data.items():
                best[name] = min(best[name], _time_feed(chunk))
        results = {name: {"bytes": len(data[name]), "us_per_byte": seconds * 1e6 / len(data[name]),
                          "mb_per_s": len(data[name]) / seconds / 1e6}
                   for name, seconds in best.items()}
        for name, entry in results.items():
            entry["baseline"] = BASELINE[name]
            entry["ratio"] = entry["us_per_byte"] / results[BASELINE[name]]["us_per_byte"]
        return {"inputs": results,
                "worst_ratio": max(entry["ratio"] for name, entry in results.items()
                                   if name not in TEXT_ONLY)}
    return asyncio.run(run())


def report(result: dict) -> str:
    rows = ["input         µs/byte     MB/s   ratio  (to)"]
    for name, entry in result["inputs"].items():
        rows.append(f"{name:<12} {entry['us_per_byte']:8.4f} {entry['mb_per_s']:8.1f} "
                    f"{entry['ratio']:7.2f}  ({entry['baseline']})")
    rows.append(f"worst ratio of input with IAC to the same text without: "
                f"{result['worst_ratio']:.2f}")
    return "\n".join(rows)
