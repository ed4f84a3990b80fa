"""Efuns about a player's client: its terminal, GMCP, raw telnet, link-death.

Re-exported by ``driver.efuns``; the mudlib imports them from there.  The
``query_*`` efuns take an object (default this_player()) and return None for
an object without a connection, as ``query_ip_number`` does.
"""

from __future__ import annotations

from typing import Any

from ..net import ansi as _ansi
from ..world.inputs import binding_of
from ..net.mud_protocols import (MTTS_256_COLORS, MTTS_ANSI, MTTS_MNES, MTTS_MOUSE_TRACKING,
                            MTTS_MSLP, MTTS_OSC_COLOR_PALETTE, MTTS_PROXY, MTTS_SCREEN_READER,
                            MTTS_SSL, MTTS_TRUECOLOR, MTTS_UTF8, MTTS_VT100)
from ..world.objects import EfunError, MudObject, check_alive
from ..world.objects import current_frame as _frame
from ..world.runtime import current as _runtime

__all__ = [
    "query_terminal_type", "query_client_name", "query_window_size", "query_mtts",
    "query_charset", "query_mccp", "query_gmcp_supports", "query_gmcp_client", "send_gmcp",
    "send_telnet_neg", "binary_message", "query_linkdead_timeout",
    "terminal_colour", "query_colour_depth",
    "MTTS_ANSI", "MTTS_VT100", "MTTS_UTF8", "MTTS_256_COLORS", "MTTS_MOUSE_TRACKING",
    "MTTS_OSC_COLOR_PALETTE", "MTTS_SCREEN_READER", "MTTS_PROXY", "MTTS_TRUECOLOR",
    "MTTS_MNES", "MTTS_MSLP", "MTTS_SSL",
    "TELNET_IAC", "TELNET_DONT", "TELNET_DO", "TELNET_WONT", "TELNET_WILL", "TELNET_SB",
    "TELNET_SE", "TELOPT_STARTTLS", "TELOPT_MSSP", "TELOPT_GMCP", "TELOPT_MSDP", "TELOPT_MXP",
]

# Telnet commands and a few options, as the master's telnet_neg() receives them.
TELNET_IAC, TELNET_DONT, TELNET_DO, TELNET_WONT, TELNET_WILL = 255, 254, 253, 252, 251
TELNET_SB, TELNET_SE = 250, 240
TELOPT_STARTTLS, TELOPT_MSDP, TELOPT_MSSP, TELOPT_MXP, TELOPT_GMCP = 46, 69, 70, 91, 201


def _telnet(ob: MudObject | None):
    """The telnet layer of ``ob``'s connection (default this_player()), or None."""
    if ob is None:
        ob = _frame().this_player
        if ob is None or ob._mud_destructed:
            return None
    binding = binding_of(check_alive(ob))
    if binding is None or binding.connection.telnet is None:
        return None
    return binding.connection.telnet


def query_terminal_type(ob: MudObject | None = None) -> str | None:
    """The terminal type the client gave (TTYPE): "XTERM-256COLOR", "ANSI"."""
    telnet = _telnet(ob)
    return telnet.client.terminal_type if telnet else None


def query_client_name(ob: MudObject | None = None) -> str | None:
    """The client's name, when it says (MTTS clients do: "MUDLET", "TINTIN++")."""
    telnet = _telnet(ob)
    return telnet.client.client_name if telnet else None


def query_window_size(ob: MudObject | None = None) -> tuple[int, int] | None:
    """(columns, rows) of the player's window (NAWS), or None if the client never said."""
    telnet = _telnet(ob)
    return telnet.client.window_size if telnet else None


def query_mtts(ob: MudObject | None = None) -> int | None:
    """The client's MTTS bits (``MTTS_*``), or None if it sent none.

    ``query_mtts(ob) & MTTS_SSL``: the client can connect with TLS.
    """
    telnet = _telnet(ob)
    return telnet.client.mtts if telnet else None


def query_charset(ob: MudObject | None = None) -> str | None:
    """The encoding of the connection: the one CHARSET agreed, else "UTF-8"."""
    telnet = _telnet(ob)
    if telnet is None:
        return None
    return telnet.client.charset or "UTF-8"


def query_mccp(ob: MudObject | None = None) -> bool:
    """Whether output to ``ob`` is compressed (MCCP2)."""
    telnet = _telnet(ob)
    return bool(telnet and telnet.compressing)


def query_gmcp_supports(ob: MudObject | None = None) -> dict[str, int] | None:
    """The GMCP packages the client asked for (Core.Supports), or None without GMCP."""
    telnet = _telnet(ob)
    if telnet is None or not telnet.gmcp_enabled:
        return None
    return dict(telnet.client.gmcp_supports)


def query_gmcp_client(ob: MudObject | None = None) -> dict | None:
    """The client's GMCP Core.Hello ({"client": ..., "version": ...}), or None."""
    telnet = _telnet(ob)
    hello = telnet.client.gmcp_hello if telnet else None
    return dict(hello) if hello is not None else None


def send_gmcp(ob: MudObject, package: str, data: Any = None) -> bool:
    """Send a GMCP message; False if ``ob`` has no connection or its client no GMCP.

    ``data`` must be JSON-serialisable (dict, list, str, number, bool or None).
    """
    if not isinstance(package, str) or not package or any(ch.isspace() for ch in package):
        raise EfunError(f"send_gmcp: bad argument 2: expected a package name such as "
                        f"'Char.Vitals', got {package!r}")
    telnet = _telnet(check_alive(ob))
    if telnet is None:
        return False
    try:
        return telnet.send_gmcp(package, data)
    except (TypeError, ValueError) as exc:
        raise EfunError(f"send_gmcp: bad argument 3: {exc}") from None


def _as_bytes(data: Any, efun: str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, int):  # bytes(5) would be five NULs, not an error
        raise EfunError(f"{efun}: expected bytes or a list of byte values, got {data!r}")
    try:
        return bytes(data)
    except (TypeError, ValueError):
        raise EfunError(f"{efun}: expected bytes or a list of byte values, got {data!r}") from None


def send_telnet_neg(ob: MudObject, data: bytes | list[int]) -> bool:
    """Send telnet negotiation to ``ob``'s client exactly as given (IAC not escaped).

    ``send_telnet_neg(ob, bytes([TELNET_IAC, TELNET_WILL, TELOPT_MXP]))``.
    Returns False if ``ob`` has no connection.
    """
    telnet = _telnet(check_alive(ob))
    if telnet is None:
        return False
    telnet.send_raw(_as_bytes(data, "send_telnet_neg"))
    return True


def binary_message(data: bytes | list[int], flags: int = 0) -> int:
    """Bytes to this_player() (LDMud).  IAC is doubled unless ``flags & 1``.

    Returns the number of bytes given, or -1 without a connection.
    """
    telnet = _telnet(None)
    payload = _as_bytes(data, "binary_message")
    if telnet is None:
        return -1
    if flags & 1:
        telnet.send_raw(payload)
    else:
        telnet.writer.write(payload)
    return len(payload)


def query_linkdead_timeout() -> float:
    """Seconds a character whose connection dropped stays in the world (config.yaml)."""
    return _runtime().config.linkdead_timeout


def terminal_colour(text: str, mapping: dict | Any = None, wrap: int = 0, indent: int = 0) -> str:
    """LDMud's terminal_colour: ``%^KEY%^`` markup expanded through ``mapping``
    (key 0: the default for keys it lacks), wrapped at ``wrap`` visible
    columns with continuation lines indented by ``indent``."""
    if not isinstance(text, str):
        raise EfunError(f"bad argument 1 to terminal_colour: expected a string, got {text!r}")
    if not (mapping is None or mapping == 0 or isinstance(mapping, dict) or callable(mapping)):
        raise EfunError("bad argument 2 to terminal_colour: expected a mapping, a callable "
                        f"or 0, got {mapping!r}")
    for number, value in ((3, wrap), (4, indent)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EfunError(f"bad argument {number} to terminal_colour: expected a "
                            f"number of columns, got {value!r}")
    return _ansi.terminal_colour(text, None if mapping == 0 else mapping, wrap, indent)


def query_colour_depth(ob: MudObject | None = None) -> int | None:
    """Colours ``ob``'s client announced (MTTS bits, else its terminal type):
    0, 16, 256 or 16777216 (truecolour); None without a connection."""
    telnet = _telnet(ob)
    if telnet is None:
        return None
    client = telnet.client
    return _ansi.colour_depth(client.mtts, client.terminal_type, client.client_name)
