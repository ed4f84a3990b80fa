"""Admission: whether a new connection may stay, decided when it is accepted.

This module owns the question asked once per connection, in
``Connection.connection_made``, before the TLS session or the telnet layer
does anything: no handshake is started, no telnet offer is sent, the master
is not asked.  A refused connection costs the driver one accept and one
small write.  In order:

1. **Site bans** (``BanList``): addresses and networks, IPv4 and IPv6,
   each with a reason, who banned it, when, and an optional expiry.  The
   mudlib decides who is banned (the ``ban_site`` efuns, the shipped
   world's ``ban`` command); the driver keeps the list in the data
   directory (``bans.json``, replaced atomically) and enforces it.
2. **The total cap**: connections in all (``limits.total``).
3. **Per address**: connections open at once from one address
   (``limits.per_address``).
4. **Rate per address**: a token bucket per address, refilled at
   ``limits.new_per_second`` up to ``limits.burst`` tokens; each new
   connection takes one.

The per-address limits count an IPv6 address by its ``/ipv6_prefix``
network (one household, one /64), and an IPv4-mapped IPv6 address
(``::ffff:192.0.2.7``, as a dual-stack socket reports it) as the IPv4
address it is.  Networks in ``limits.exempt`` skip the per-address limits
but not bans or the total.

Behind a reverse proxy every player arrives from the proxy's address.  On
a port where a trusted proxy names the player (``web.proxy_port``, with
``X-Forwarded-For``), a connection from a trusted proxy passes bans and the
total at accept but is not counted against the proxy's address
(``FORWARDED``): once the proxy has named the player, the connection is
admitted again as the player's (``readmit``), and bans and the per-address
limits judge the player, not the proxy.  A connection the proxy names no
one for is readmitted as the proxy's own.

A refused client on a plain port reads one line saying why, then the
connection closes; on the TLS port it is closed without a byte (the client
is waiting for a ServerHello; plaintext there would be noise, and the
driver must never send plaintext where TLS is spoken).  Refusals are
logged at most once per ``LOG_INTERVAL`` per reason, with the count of
those left out, so a flood cannot fill the log.

The memory kept per address is bounded: an address's bucket is dropped
once it is full again and the address has no connection open, so the
table holds only addresses active in the last ``burst / rate`` seconds.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Union

from .. import metrics
from ..config import LimitsConfig

log = logging.getLogger("driver.admission")

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

#: seconds between two log lines about refusals of one kind
LOG_INTERVAL = 10.0

#: the ticket of a connection the per-address limits do not count (exempt, not IP)
UNLIMITED = object()
#: the ticket of a trusted proxy's connection, not counted until it is
#: readmitted as the player's it forwards (or, naming no one, as the proxy's)
FORWARDED = object()

#: why a connection was refused: the ``reason`` label of mud_connections_refused_total
BANNED, TOTAL, PER_ADDRESS, RATE = "ban", "total", "per_address", "rate"

_TOO_MANY = "Too many connections from your address; try again later.\r\n"
#: the line a plain-port client reads before the driver closes
REFUSAL_LINES = {
    BANNED: "Connections from your address are not accepted here.\r\n",
    TOTAL: "The game is full; try again later.\r\n",
    PER_ADDRESS: _TOO_MANY,
    RATE: _TOO_MANY,
}


#: addresses remembered by ``parse_address`` and ``Admission``'s exemption
#: memo: a player who reconnects is parsed once (``ipaddress`` takes some
#: twenty Python calls per address), and a flood of new addresses costs
#: at most this many entries
ADDRESS_MEMO = 4096


@functools.lru_cache(maxsize=ADDRESS_MEMO)
def parse_address(text: str) -> Address | None:
    """A peer address as the socket gives it; None if it is not IP (a Unix socket)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_network(text) -> Network:
    """``"192.0.2.7"``, ``"198.51.100.0/24"``, ``"2001:db8::/32"``: a network.

    Host bits are forgiven (``192.0.2.7/24`` is ``192.0.2.0/24``); an
    IPv4-mapped IPv6 address means the IPv4 address.  ``ValueError`` with
    a sentence for anything else.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected an address or network such as 192.0.2.7 or "
                         f"198.51.100.0/24, got {text!r}")
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an address or network such as 192.0.2.7, "
                         f"198.51.100.0/24 or 2001:db8::/32") from None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 \
            and network.network_address.ipv4_mapped is not None:
        network = ipaddress.ip_network(
            f"{network.network_address.ipv4_mapped}/{network.prefixlen - 96}")
    return network


# --- site bans ------------------------------------------------------------------------------

class BanFileError(Exception):
    """The ban file cannot be read or written; one line says why."""


@dataclasses.dataclass(frozen=True)
class Ban:
    network: str          # canonical: "198.51.100.0/24", "192.0.2.7/32"
    reason: str
    by: str               # who banned it (the mudlib says: a character's name, an object)
    at: float             # seconds since the epoch
    expires: float | None  # seconds since the epoch; None: until unbanned

    def expired(self, now: float) -> bool:
        return self.expires is not None and self.expires <= now

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class BanList:
    """The site bans, kept in memory for the accept path and in a JSON file.

    Every change is written at once, to a temporary file in the same
    directory that then replaces the old one (``os.replace``), so the file
    is always either the old list or the new one, never half of each.  A
    change that cannot be written is undone and reported: the list in
    force is always the list on disk.
    """

    FORMAT = 1

    def __init__(self, path: Path) -> None:
        self.path = path
        self._bans: dict[str, Ban] = {}
        self._index: list[tuple[int, int, int, dict[int, Ban]]] = []

    def __len__(self) -> int:
        return len(self._bans)

    def load(self) -> None:
        """Read the file (none yet: no bans).  ``BanFileError`` if it is unusable;
        the file is then left as it is, for the operator to mend."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._set({})
            return
        except OSError as exc:
            raise BanFileError(f"{self.path}: cannot read the ban list ({exc.strerror})") from None
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("bans"), list):
                raise ValueError("expected {\"format\": 1, \"bans\": [...]}")
            bans = {}
            for entry in data["bans"]:
                ban = Ban(network=str(parse_network(entry["network"])),
                          reason=str(entry.get("reason", "")), by=str(entry.get("by", "")),
                          at=float(entry.get("at", 0)),
                          expires=None if entry.get("expires") is None else float(entry["expires"]))
                bans[ban.network] = ban
        except (ValueError, TypeError, KeyError) as exc:
            raise BanFileError(f"{self.path}: not a ban list the driver can read ({exc}); "
                               "mend or remove it") from None
        self._set(bans)

    def _set(self, bans: dict[str, Ban]) -> None:
        """Index the bans for ``match``: one table per IP version and prefix
        length, keyed by the network's leading bits.  An address is then
        looked up once per prefix length in use (a handful), not compared
        with every ban: thousands of bans cost an accept no more than a few."""
        self._bans = bans
        index: dict[tuple[int, int], dict[int, Ban]] = {}
        for ban in bans.values():
            network = parse_network(ban.network)
            shift = network.max_prefixlen - network.prefixlen
            index.setdefault((network.version, network.prefixlen), {})[
                int(network.network_address) >> shift] = ban
        # Longest prefixes first: the most specific ban is the one reported.
        self._index = sorted(((version, prefixlen, 32 if version == 4 else 128, table)
                              for (version, prefixlen), table in index.items()),
                             key=lambda entry: -entry[1])

    def _save(self, bans: dict[str, Ban]) -> None:
        data = {"format": self.FORMAT, "bans": [b.as_dict() for b in bans.values()]}
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".bans-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise BanFileError(f"{self.path}: cannot save the ban list ({exc.strerror or exc})") from None

    def _change(self, bans: dict[str, Ban]) -> None:
        self._save(bans)   # first: if it fails, nothing changes
        self._set(bans)

    def add(self, network: str, reason: str, by: str, expires_in: float | None,
            now: float | None = None) -> Ban:
        """Ban ``network`` (replacing a ban of the same network).  ``ValueError``
        for a bad network, ``BanFileError`` if it cannot be saved."""
        now = time.time() if now is None else now
        canonical = str(parse_network(network))
        ban = Ban(canonical, reason, by, now, None if expires_in is None else now + expires_in)
        bans = {k: b for k, b in self._bans.items() if not b.expired(now)}
        bans[canonical] = ban
        self._change(bans)
        return ban

    def remove(self, network: str, now: float | None = None) -> Ban | None:
        """Lift the ban of exactly ``network``; the ban lifted, or None."""
        now = time.time() if now is None else now
        canonical = str(parse_network(network))
        ban = self._bans.get(canonical)
        if ban is None:
            return None
        self._change({k: b for k, b in self._bans.items()
                      if k != canonical and not b.expired(now)})
        return ban

    def active(self, now: float | None = None) -> list[Ban]:
        """The bans in force, oldest first.  Expired ones are forgotten here
        (and in the file, if it can be written; if not, they stay there
        harmlessly: an expired ban never refuses anyone)."""
        now = time.time() if now is None else now
        live = {k: b for k, b in self._bans.items() if not b.expired(now)}
        if len(live) != len(self._bans):
            try:
                self._change(live)
            except BanFileError as exc:
                log.warning("expired bans stay in the file for now: %s", exc)
        return sorted(live.values(), key=lambda b: b.at)

    def in_force(self, now: float | None = None) -> int:
        """How many bans are in force (without touching the file)."""
        now = time.time() if now is None else now
        return sum(1 for ban in self._bans.values() if not ban.expired(now))

    def match(self, address: Address, now: float) -> Ban | None:
        """The ban in force that covers ``address``, or None."""
        version, bits = address.version, int(address)
        for ban_version, prefixlen, width, table in self._index:
            if ban_version == version:
                ban = table.get(bits >> (width - prefixlen))
                if ban is not None and not ban.expired(now):
                    return ban
        return None


# --- the limits -------------------------------------------------------------------------------

class _Bucket:
    """One address's token bucket and its open connections."""

    __slots__ = ("tokens", "updated", "open")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.updated = now
        self.open = 0


class Admission:
    """The gate every incoming connection passes in ``connection_made``."""

    def __init__(self, limits: LimitsConfig, bans: BanList,
                 clock=time.monotonic, wall_clock=time.time) -> None:
        self.limits = limits
        self.bans = bans
        self._exempt = tuple(parse_network(n) for n in limits.exempt)
        #: peer, as the socket names it -> whether it is in an exempt network
        #: (``_exempt`` never changes; keyed by the text, whose hash is C's,
        #: where an address object's is ``hash(hex(int(...)))`` in Python)
        self._exempt_memo: dict[str, bool] = {}
        self._clock = clock
        self._wall_clock = wall_clock
        self._buckets: dict[object, _Bucket] = {}
        #: connections admitted and not yet closed
        self.open = 0
        #: ports on which a refusal is said in words (set by the game: the plain ones)
        self.plain_ports: set[int] = set()
        #: ports where trusted reverse proxies connect for players, and the
        #: proxies (set by the game: ``web.proxy_port``, ``web.trusted_proxies``)
        self.proxy_ports: set[int] = set()
        self.proxies: tuple[Network, ...] = ()
        self._last_sweep = clock()
        self._log_state: dict[str, tuple[float, int]] = {}

    def _key(self, address: Address) -> object:
        if isinstance(address, ipaddress.IPv6Address) and self.limits.ipv6_prefix < 128:
            return ipaddress.IPv6Network((int(address) >> (128 - self.limits.ipv6_prefix)
                                          << (128 - self.limits.ipv6_prefix),
                                          self.limits.ipv6_prefix))
        return address

    def _is_exempt(self, peer: str, address: Address) -> bool:
        memo = self._exempt_memo
        exempt = memo.get(peer)
        if exempt is None:
            if len(memo) >= ADDRESS_MEMO:
                memo.clear()
            exempt = memo[peer] = any(address in network for network in self._exempt)
        return exempt

    def admit(self, peer: str, port: int) -> tuple[object, str | None]:
        """Whether a connection from ``peer`` (as the socket names it) on
        ``port`` may stay: ``(ticket, None)``, the ticket to hand back to
        ``release`` when it closes; or ``(None, reason)``, the reason it is
        refused (``BANNED``, ``TOTAL``, ``PER_ADDRESS``, ``RATE``)."""
        return self._admit(peer, port, proxied=port in self.proxy_ports)

    def _admit(self, peer: str, port: int, proxied: bool) -> tuple[object, str | None]:
        address = parse_address(peer)
        limits = self.limits
        if address is not None and self.bans:
            ban = self.bans.match(address, self._wall_clock())
            if ban is not None:
                return None, self._refuse(BANNED, peer, port, f"{ban.network}: {ban.reason}")
        if limits.total and self.open >= limits.total:
            return None, self._refuse(TOTAL, peer, port)
        if address is None or (self._exempt and self._is_exempt(peer, address)):
            self.open += 1
            return UNLIMITED, None
        if proxied and any(address in network for network in self.proxies):
            self.open += 1
            return FORWARDED, None
        now = self._clock()
        key = self._key(address)
        bucket = self._buckets.get(key)
        burst = float(max(limits.burst, 1))
        if bucket is None:
            self._sweep(now)
            bucket = self._buckets[key] = _Bucket(burst, now)
        if limits.per_address and bucket.open >= limits.per_address:
            return None, self._refuse(PER_ADDRESS, peer, port)
        if limits.new_per_second:
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * limits.new_per_second)
            bucket.updated = now
            if bucket.tokens < 1.0:
                return None, self._refuse(RATE, peer, port)
            bucket.tokens -= 1.0
        bucket.open += 1
        self.open += 1
        return key, None

    def release(self, ticket: object) -> None:
        """An admitted connection has closed."""
        self.open -= 1
        if ticket is not UNLIMITED and ticket is not FORWARDED:
            bucket = self._buckets.get(ticket)
            if bucket is not None:
                bucket.open -= 1

    def readmit(self, ticket: object, peer: str, port: int) -> tuple[object, str | None]:
        """The connection admitted with ``ticket`` turns out to be ``peer``'s
        (a trusted reverse proxy named the player, or named no one and
        ``peer`` is the proxy): the bans and limits are asked again, about
        ``peer``, in the proxy's place.  Returns the ticket the connection
        holds now and None; or, if ``peer`` is refused, the old ticket,
        still held, and the reason."""
        self.release(ticket)
        new, refusal = self._admit(peer, port, proxied=False)
        if refusal is None:
            return new, None
        self.open += 1  # the old ticket is held again
        if ticket is not UNLIMITED and ticket is not FORWARDED:
            bucket = self._buckets.get(ticket)
            if bucket is not None:
                bucket.open += 1
        return ticket, refusal

    def refusal_line(self, reason: str, port: int) -> bytes | None:
        """What a refused client reads: one line on a plain port, nothing on TLS."""
        return REFUSAL_LINES[reason].encode("ascii") if port in self.plain_ports else None

    def addresses(self) -> int:
        """Addresses with a connection open (for the ``limits`` report)."""
        return sum(1 for bucket in self._buckets.values() if bucket.open)

    def _sweep(self, now: float) -> None:
        """Forget addresses with nothing open whose bucket has refilled:
        they would start afresh anyway.  At most once a second, when a new
        address arrives, so the table stays the size of recent activity."""
        if now - self._last_sweep < 1.0:
            return
        self._last_sweep = now
        rate, burst = self.limits.new_per_second, float(max(self.limits.burst, 1))
        refill = burst / rate if rate else 0.0
        stale = [key for key, bucket in self._buckets.items()
                 if not bucket.open and now - bucket.updated >= refill]
        for key in stale:
            del self._buckets[key]

    def _refuse(self, reason: str, peer: str, port: int, detail: str = "") -> str:
        metrics.connections_refused(reason)
        now = self._clock()
        last, left_out = self._log_state.get(reason, (float("-inf"), 0))
        if now - last < LOG_INTERVAL:
            self._log_state[reason] = (last, left_out + 1)
            return reason
        self._log_state[reason] = (now, 0)
        more = f" ({left_out} more refused for this reason since the last line)" if left_out else ""
        log.warning("refused a connection from %s on port %s: %s%s%s", peer, port,
                    _DESCRIPTIONS[reason], f" ({detail})" if detail else "", more)
        return reason


_DESCRIPTIONS = {
    BANNED: "the site is banned",
    TOTAL: "the game has limits.total connections",
    PER_ADDRESS: "the address has limits.per_address connections open",
    RATE: "the address opens connections faster than limits.new_per_second",
}
