"""The driver's lean telnet writer against telnetlib3's own.

``MudTelnetWriter`` does not run ``TelnetWriter.__init__``: it makes most of
telnetlib3's per-connection state on first use (see driver/net/telnet.py, "a lean
writer").  These tests hold it to the stock writer, so that a telnetlib3
release that adds state or rewires a callback fails here and not in a
player's session.
"""

from __future__ import annotations

import asyncio

from telnetlib3.server import TelnetServer
from telnetlib3.stream_writer import TelnetWriter
from telnetlib3.telopt import CHARSET, DO, IAC, NAWS, SB, SE, TTYPE, WILL

from driver.net.telnet import _CALLBACK_TABLES, MudTelnetProtocol


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 4000)}.get(name, default)


def _connected(protocol_class, **kwargs):
    protocol = protocol_class(**kwargs)
    protocol.connection_made(RecordingTransport())
    return protocol


def _names(table: dict) -> dict:
    return {key: handler.__name__ for key, handler in table.items()}


def test_every_piece_of_stock_writer_state_exists_with_its_initial_value():
    async def check():
        stock = _connected(TelnetServer, encoding=False, timeout=0, compression=False).writer
        lean = _connected(MudTelnetProtocol, deliver_line=lambda line: True).writer
        assert type(stock) is TelnetWriter
        missing = [name for name in vars(stock) if not hasattr(lean, name)]
        assert not missing, f"telnetlib3 state the lean writer lacks: {missing}"
        for name, value in vars(stock).items():
            if name in _CALLBACK_TABLES or name in ("_transport", "_protocol", "_reader", "log"):
                continue
            mine = getattr(lean, name)
            if isinstance(value, dict) and name == "slctab":
                assert {k: (type(v), vars(v)) for k, v in mine.items()} \
                    == {k: (type(v), vars(v)) for k, v in value.items()}
            elif isinstance(value, (bool, str, int, type(None), set, list, dict)):
                assert mine == value, name
            else:
                assert type(mine) is type(value), name
    asyncio.run(check())


def test_callback_tables_bind_what_telnetlib3s_server_binds():
    async def check():
        stock = _connected(TelnetServer, encoding=False, timeout=0).writer
        lean = _connected(MudTelnetProtocol, deliver_line=lambda line: True).writer
        for table in _CALLBACK_TABLES:
            expected = _names(getattr(stock, table))
            if table == "_ext_send_callback":
                expected[CHARSET] = "choose_charset"  # the driver picks the charset itself
            assert _names(getattr(lean, table)) == expected, table
    asyncio.run(check())


def test_state_is_per_connection():
    async def check():
        one = _connected(MudTelnetProtocol, deliver_line=lambda line: True).writer
        two = _connected(MudTelnetProtocol, deliver_line=lambda line: True).writer
        one.rejected_do.add(b"\x99")
        assert two.rejected_do == set()
        assert one._ext_callback[NAWS].__self__ is one._protocol
        assert two._ext_callback[NAWS].__self__ is two._protocol
    asyncio.run(check())


def test_subnegotiation_reaches_the_protocol():
    """TTYPE and NAWS answers parsed by telnetlib3 land in ClientInfo."""
    async def check():
        protocol = _connected(MudTelnetProtocol, deliver_line=lambda line: True)
        protocol.begin_negotiation()
        assert IAC + DO + TTYPE in bytes(protocol._transport.written)
        protocol.feed(IAC + WILL + TTYPE + IAC + SB + TTYPE + b"\x00MUDLET" + IAC + SE
                      + IAC + SB + NAWS + b"\x00\x78\x00\x28" + IAC + SE)
        assert protocol.client.window_size == (120, 40)
        assert "MUDLET" in repr(vars(protocol.client))
    asyncio.run(check())


def test_a_closed_writer_lets_go_of_its_protocol():
    async def check():
        protocol = _connected(MudTelnetProtocol, deliver_line=lambda line: True)
        writer = protocol.writer
        writer._ext_callback  # made, holding bound methods of the protocol
        writer.close()
        assert writer._protocol is None and writer._transport is None
        for table in _CALLBACK_TABLES:
            assert getattr(writer, table) == {}, table
        writer.close()  # a second close does nothing
    asyncio.run(check())
