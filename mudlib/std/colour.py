"""/std/colour: the world's colour markup, and how each terminal shows it.

The mudlib writes every coloured text once, with `%^KEY%^` markup
(terminal_colour's, as in LP mudlibs), and this object owns what the keys
mean: a palette of colours given as RGB, rendered for each colour depth a
client can announce (query_colour_depth):

    16        the nearest of the 16 ANSI colours (ESC[31m ...)
    256       the nearest of xterm's 256 (ESC[38;5;nm)
    16777216  the colour itself (ESC[38;2;r;g;bm)
    0         nothing at all: every key expands to ""

Keys are of two kinds: colour names for builders (RED, BOLD, RESET, ...)
and the roles text plays (ROOM for a room's title, SAY, TELL, ...), so a
role's colour can change in one place.  A key this object does not know
expands to nothing (the mapping's default key 0), never to garbage.

    tell_object(player, terminal_colour(text, call_other("/std/colour",
                "query_map", depth)))
"""

from driver.efuns import MudObject

ESC = "\x1b["
RESET = ESC + "0m"

# xterm's default 16 colours, in ANSI order: their SGR codes are 30-37 and
# 90-97 (bright).
ANSI_16 = (
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
    (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
    (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
)

# Colour names a builder may use: ANSI's eight and their bright versions.
NAMED = {
    "BLACK": ANSI_16[0], "RED": ANSI_16[1], "GREEN": ANSI_16[2], "YELLOW": ANSI_16[3],
    "BLUE": ANSI_16[4], "MAGENTA": ANSI_16[5], "CYAN": ANSI_16[6], "WHITE": ANSI_16[7],
    "GREY": ANSI_16[8], "B_RED": ANSI_16[9], "B_GREEN": ANSI_16[10],
    "B_YELLOW": ANSI_16[11], "B_BLUE": ANSI_16[12], "B_MAGENTA": ANSI_16[13],
    "B_CYAN": ANSI_16[14], "B_WHITE": ANSI_16[15],
}

# What text is, and the colour it is shown in.  On 16 colours each lands on
# the nearest ANSI colour; these are chosen so that speech, tells and emotes
# still differ there.
ROLES = {
    "ROOM": (230, 180, 80),       # a room's title: lamplight amber
    "EXITS": (60, 200, 200),      # "Obvious exits: ..."
    "ITEM": (200, 200, 60),       # things lying about
    "LIVING": (90, 220, 90),      # people and creatures here
    "SAY": (250, 250, 120),       # what is said aloud
    "TELL": (220, 90, 220),       # what is told to one player
    "EMOTE": (100, 180, 255),     # what someone does
    "NPC": (255, 170, 90),        # what the world's people say
    "HEADING": (255, 215, 0),     # titles of help pages and lists
    "COMMAND": (120, 220, 255),   # a command the player can type
    "WARNING": (255, 80, 80),     # something went wrong
    "WEATHER": (170, 170, 200),   # the sky changing
    "CHANNEL": (120, 230, 160),   # a line on a chat channel
    "COMBAT": (255, 150, 50),     # a blow you strike in a fight (blows you take are WARNING)
}

# Attributes that are not colours: the same on every colour terminal.
ATTRIBUTES = {"RESET": RESET, "BOLD": ESC + "1m", "UNDERLINE": ESC + "4m",
              "ITALIC": ESC + "3m"}

TRUECOLOUR = 16_777_216


def nearest_16(rgb):
    """The SGR code of the ANSI colour closest to `rgb`."""
    index = min(range(16), key=lambda i: _distance(ANSI_16[i], rgb))
    return 30 + index if index < 8 else 90 + index - 8


# The levels of xterm's 6x6x6 colour cube (indices 16-231).
CUBE = (0, 95, 135, 175, 215, 255)


def nearest_256(rgb):
    """The xterm-256 index closest to `rgb`: the colour cube or the grey ramp."""
    cube = tuple(min(range(6), key=lambda i: abs(CUBE[i] - c)) for c in rgb)
    cube_index = 16 + 36 * cube[0] + 6 * cube[1] + cube[2]
    cube_rgb = tuple(CUBE[i] for i in cube)
    grey_level = min(23, max(0, round((sum(rgb) / 3 - 8) / 10)))
    grey_rgb = (8 + 10 * grey_level,) * 3
    if _distance(grey_rgb, rgb) < _distance(cube_rgb, rgb):
        return 232 + grey_level
    return cube_index


def _distance(a, b):
    return sum((x - y) ** 2 for x, y in zip(a, b))


def foreground(rgb, depth):
    """The escape sequence for text in colour `rgb` on a terminal of `depth`."""
    if depth >= TRUECOLOUR:
        return f"{ESC}38;2;{rgb[0]};{rgb[1]};{rgb[2]}m"
    if depth >= 256:
        return f"{ESC}38;5;{nearest_256(rgb)}m"
    if depth >= 16:
        return f"{ESC}{nearest_16(rgb)}m"
    return ""


class Colour(MudObject):
    def create(self):
        self.maps = {}

    def query_map(self, depth):
        """The terminal_colour mapping for a terminal of `depth` colours
        (0, 16, 256 or 16777216); the same mapping object each time."""
        depth = 0 if not depth else TRUECOLOUR if depth >= TRUECOLOUR else \
            256 if depth >= 256 else 16
        if depth not in self.maps:
            self.maps[depth] = self._build(depth)
        return self.maps[depth]

    def _build(self, depth):
        mapping = {0: ""}     # unknown keys, and every key without colour, vanish
        if not depth:
            return mapping
        for name, rgb in {**NAMED, **ROLES}.items():
            mapping[name] = foreground(rgb, depth)
        mapping.update(ATTRIBUTES)
        return mapping

    def query_keys(self):
        """Every key the markup knows, for the 'colour' command's sample."""
        return sorted({*NAMED, *ROLES, *ATTRIBUTES})

    def query_roles(self):
        return sorted(ROLES)
