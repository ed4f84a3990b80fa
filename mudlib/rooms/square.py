"""/rooms/square: the town square of Ravenmoor, where every player starts."""

from driver.efuns import inherit


class Square(inherit("/std/room")):
    short = "The town square"
    long = """
        Cobbles worn smooth by centuries of boots spread out around an old
        stone fountain, its basin green with moss.  Lamps on iron posts hold
        back the dusk.  To the west, warm light and laughter spill from the
        door of the Crooked Lantern; eastward a low gate opens on a walled
        garden.  The grey bulk of the watchtower rises to the north, and the
        road runs south to the town gate.
    """
    stock = {"/obj/coin": 1}
    exits = {
        "north": "/rooms/tower",
        "south": "/rooms/gate",
        "east": "/rooms/garden",
        "west": "/rooms/tavern",
    }
    items = {
        "fountain": """
            A raven carved in weathered stone stands on the fountain's rim,
            water trickling from its open beak.  Someone has left a copper
            coin on its head for luck.
        """,
        "basin": "Moss, cold water, and the glint of coins at the bottom.",
        "raven": """
            The stone raven has one eye chipped away, which gives it a
            knowing, lopsided look.
        """,
        "lamps": """
            The lamplighter has been round already: every lamp burns with a
            steady yellow flame.
        """,
        "cobbles": "Grey, rounded, and slippery when it rains, which is often.",
    }
    ids = ("square", "town square")
    outdoors = True
