"""/rooms/moor/hut: the shepherd's hut, the one dry place on the moor."""

from driver.efuns import inherit


class Hut(inherit("/std/room")):
    short = "The shepherd's hut"
    long = """
        One room of turf and stone, low enough that you stoop.  A peat fire
        smoulders in a ring of stones, filling the hut with a sweet brown
        smoke, and a bed of bracken lies against the far wall.  A crook
        leans by the door, which opens east onto the moor.
    """
    area = "The Moor"
    exits = {"east": "/rooms/moor/crossroads"}
    items = {
        "fire": "Peat burns slow and smoky.  It will still be going in a week.",
        "bracken": "A bed of sorts.  It crackles.",
    }
    ids = ("hut",)
