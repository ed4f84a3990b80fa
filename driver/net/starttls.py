"""STARTTLS on the plain port: the telnet START_TLS option (46).

The option comes from the Internet-Draft "Telnet START-TLS Option"
(draft-altman-telnet-starttls).  The exchange, on a plain connection:

    server  IAC DO START_TLS
    client  IAC WILL START_TLS
    server  IAC SB START_TLS FOLLOWS IAC SE
    client  IAC SB START_TLS FOLLOWS IAC SE, then at once its ClientHello

The driver offers it (``telnet.starttls`` in config.yaml) and parses it; the
mudlib decides: the client's WILL reaches the master's ``telnet_neg`` apply,
and a ``tls_init_connection`` on a connection whose client agreed sends the
server's FOLLOWS instead of starting the handshake at once.  The handshake
then begins at exactly the byte after the client's FOLLOWS ... SE, even
when the ClientHello shares a read with it: the connection finds
where the telnet bytes end (``FollowsScanner``), and the telnet layer
confirms that the sequence it parsed there really was the client's FOLLOWS.

Telnet options agreed before the upgrade stay in force after it.
"""

from __future__ import annotations

START_TLS = 46
FOLLOWS = 1

IAC, SB, SE = 255, 250, 240

#: The client's (and the server's) "the handshake follows".
FOLLOWS_SEQUENCE = bytes([IAC, SB, START_TLS, FOLLOWS, IAC, SE])


class FollowsScanner:
    """Finds where the client's FOLLOWS sequence ends, even split across reads.

    The connection asks ``end_within`` before giving bytes to the telnet
    layer and reports what it gave with ``fed``; a sequence whose first
    bytes came in an earlier read is recognised by its remaining ones.
    """

    __slots__ = ("partial",)

    def __init__(self) -> None:
        #: the start of a FOLLOWS sequence at the end of what was fed so far
        self.partial = b""

    def end_within(self, data: bytes, start: int, end: int) -> int:
        """The index just past a FOLLOWS sequence ending in ``data[start:end]``, or -1."""
        if self.partial:
            rest = FOLLOWS_SEQUENCE[len(self.partial):]
            if start + len(rest) <= end and data.startswith(rest, start):
                return start + len(rest)
        at = data.find(FOLLOWS_SEQUENCE, start, end)
        return -1 if at < 0 else at + len(FOLLOWS_SEQUENCE)

    def fed(self, chunk: bytes) -> None:
        seen = self.partial + chunk[-(len(FOLLOWS_SEQUENCE) - 1):]
        for size in range(min(len(seen), len(FOLLOWS_SEQUENCE) - 1), 0, -1):
            if seen.endswith(FOLLOWS_SEQUENCE[:size]):
                self.partial = FOLLOWS_SEQUENCE[:size]
                return
        self.partial = b""
