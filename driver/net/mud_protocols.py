"""What a MUD client tells the driver about itself, and the MUD protocols.

This module knows the wire formats and meanings of the MUD community's
telnet extensions, and nothing about sockets or the mudlib:

* TTYPE with MTTS (the third terminal type a MUD client sends, "MTTS <n>",
  is a bit field of what it supports, bit 2048 meaning TLS);
* NAWS (window size) and CHARSET (which encoding the connection uses);
* GMCP (option 201): the client's ``Core.Hello`` and ``Core.Supports.*``;
* MSSP (option 70): the server status a MUD crawler asks for.

``ClientInfo`` gathers all of it for one connection; the telnet layer fills
it in as negotiation answers arrive, and the efuns read it.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import unicodedata
from typing import Any

from telnetlib3.mud import mssp_encode

#: The driver's name in MSSP's CODEBASE.
CODEBASE = "pymud-tls-driver 0.1.0"

# --- MTTS ------------------------------------------------------------------------

MTTS_ANSI = 1
MTTS_VT100 = 2
MTTS_UTF8 = 4
MTTS_256_COLORS = 8
MTTS_MOUSE_TRACKING = 16
MTTS_OSC_COLOR_PALETTE = 32
MTTS_SCREEN_READER = 64
MTTS_PROXY = 128
MTTS_TRUECOLOR = 256
MTTS_MNES = 512
MTTS_MSLP = 1024
MTTS_SSL = 2048  # the client can speak TLS

_MTTS = re.compile(r"^MTTS\s+(\d{1,9})$", re.IGNORECASE)


def parse_mtts(ttype: str) -> int | None:
    """The bits of an "MTTS <n>" terminal type, or None if it is not one."""
    match = _MTTS.match(ttype.strip())
    return int(match.group(1)) if match else None


# --- CHARSET ---------------------------------------------------------------------

#: What the driver offers in a CHARSET REQUEST.
OFFERED_CHARSETS = ("UTF-8",)

#: Encodings the driver accepts when a client offers no UTF-8: single-byte
#: and ASCII-compatible, so commands stay readable whatever happens.
_FALLBACK_CHARSETS = ("iso8859-1", "cp1252", "iso8859-15", "ascii")


#: Clients that show only 7-bit text and negotiate no charset, by their
#: first TTYPE answer: text to them is transliterated to ASCII ("café" ->
#: "cafe"), where UTF-8 would show as "cafC)".
ASCII_CLIENTS = frozenset({"TINYFUGUE"})

#: The error handler text to a client is encoded with (``transliterate``).
TEXT_ERRORS = "mud-transliterate"


def transliterate(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a character the client's charset lacks becomes
    its letters without accents ("é" -> "e", "ﬁ" -> "fi"), or "?"."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    replacement = []
    for char in error.object[error.start:error.end]:
        plain = "".join(c for c in unicodedata.normalize("NFKD", char)
                        if not unicodedata.combining(c))
        try:
            plain.encode(error.encoding)
        except UnicodeEncodeError:
            plain = ""
        replacement.append(plain or "?")
    return "".join(replacement), error.end


codecs.register_error(TEXT_ERRORS, transliterate)


def codec_name(charset: str) -> str | None:
    """Python's name for a charset a client names, or None if unknown."""
    name = charset.strip().strip("\"'")
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def choose_charset(offers: list[str]) -> str | None:
    """From a client's CHARSET REQUEST: UTF-8 if offered, else a safe single-byte one."""
    usable = [(offer, codec_name(offer)) for offer in offers]
    for offer, codec in usable:
        if codec == "utf-8":
            return offer
    for offer, codec in usable:
        if codec in _FALLBACK_CHARSETS:
            return offer
    return None


def decode_line(raw: bytes, codec: str | None) -> str:
    """A line from the client as text.  Never raises.

    With a negotiated charset, that charset (undecodable bytes become
    U+FFFD).  Without one, UTF-8, and for a line that is not valid UTF-8,
    Windows-1252: clients that negotiate nothing and are not UTF-8 are
    almost always Latin-1 or Windows ones.
    """
    if codec is not None and codec != "utf-8":
        return raw.decode(codec, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if codec == "utf-8":
            return raw.decode("utf-8", errors="replace")
        return raw.decode("cp1252", errors="replace")


# --- what one client told us --------------------------------------------------------

#: What a client may make the driver keep about it, whatever it sends: TTYPE
#: answers (MTTS needs three; a client repeats its last when it has no more)
#: and GMCP modules it supports (real clients name a few dozen at most), each
#: name at most this long.  Answers past these are ignored, so a client
#: repeating them costs the driver time, never memory.
MAX_TTYPES = 8
MAX_GMCP_MODULES = 100
MAX_GMCP_MODULE_NAME = 64


@dataclasses.dataclass
class ClientInfo:
    """Everything negotiation revealed about the client of one connection."""

    #: every TTYPE answer, in order
    ttypes: list[str] = dataclasses.field(default_factory=list)
    #: the client's name (the first TTYPE answer of an MTTS client: "MUDLET")
    client_name: str | None = None
    #: the terminal type ("XTERM-256COLOR", "ANSI")
    terminal_type: str | None = None
    #: the MTTS bits, if the client sent them
    mtts: int | None = None
    #: (columns, rows) from NAWS, if the client sent them
    window_size: tuple[int, int] | None = None
    #: the charset agreed with CHARSET, as the client named it
    charset: str | None = None
    #: Python's codec for ``charset``
    codec: str | None = None
    #: GMCP Core.Hello: {"client": ..., "version": ...}
    gmcp_hello: dict | None = None
    #: GMCP Core.Supports: {"Char": 1, "Room": 1}
    gmcp_supports: dict[str, int] = dataclasses.field(default_factory=dict)
    #: the codec for text to the client: the agreed charset, else UTF-8, or
    #: ASCII for a client known to show nothing else (kept up to date by
    #: ``add_ttype`` and ``set_charset``: it is read for every write)
    text_codec: str = "utf-8"

    def add_ttype(self, ttype: str) -> None:
        if len(self.ttypes) >= MAX_TTYPES:
            return
        self.ttypes.append(ttype)
        self._choose_text_codec()
        bits = parse_mtts(ttype)
        if bits is not None:
            self.mtts = bits
            # An MTTS client says: name, terminal, "MTTS <n>".
            if len(self.ttypes) >= 3:
                self.client_name = self.ttypes[0]
                self.terminal_type = self.ttypes[1]
            return
        if self.mtts is not None:
            return
        if len(self.ttypes) == 1:
            self.terminal_type = ttype
        elif len(self.ttypes) == 2 and ttype != self.ttypes[0]:
            # A second, different answer: the first named the client.
            self.client_name = self.ttypes[0]
            self.terminal_type = ttype

    def set_charset(self, charset: str) -> None:
        self.charset = charset
        self.codec = codec_name(charset)
        self._choose_text_codec()

    def _choose_text_codec(self) -> None:
        if self.codec is not None:
            self.text_codec = self.codec
        elif self.ttypes and self.ttypes[0].upper() in ASCII_CLIENTS:
            self.text_codec = "ascii"
        else:
            self.text_codec = "utf-8"

    def gmcp_core(self, package: str, data: Any) -> None:
        """Record Core.Hello and Core.Supports.Set/Add/Remove."""
        name = package.lower()
        if name == "core.hello" and isinstance(data, dict):
            self.gmcp_hello = {str(k): v for k, v in data.items()}
        elif name in ("core.supports.set", "core.supports.add", "core.supports.remove") \
                and isinstance(data, list):
            if name == "core.supports.set":
                self.gmcp_supports = {}
            for entry in data:
                if not isinstance(entry, str) or not entry.strip():
                    continue
                module, _, version = entry.strip().partition(" ")
                if name == "core.supports.remove":
                    self.gmcp_supports.pop(module, None)
                    continue
                if len(module) > MAX_GMCP_MODULE_NAME or (
                        module not in self.gmcp_supports
                        and len(self.gmcp_supports) >= MAX_GMCP_MODULES):
                    continue
                try:
                    self.gmcp_supports[module] = int(version) if version else 1
                except ValueError:
                    self.gmcp_supports[module] = 1


# --- MSSP ------------------------------------------------------------------------


def mssp_payload(variables: dict[str, Any]) -> bytes:
    """MSSP variables (str, number or list values) as the bytes between SB 70 and SE."""
    clean: dict[str, str | list[str]] = {}
    for key, value in variables.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            clean[str(key)] = [_mssp_text(item) for item in value]
        else:
            clean[str(key)] = _mssp_text(value)
    return mssp_encode(clean)


def _mssp_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    # MSSP_VAR (1), MSSP_VAL (2) and NUL cannot appear inside a value (and
    # UTF-8 never produces IAC).
    return "".join(ch for ch in str(value) if ch not in "\x00\x01\x02")
