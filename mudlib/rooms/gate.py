"""/rooms/gate: the south gate of the town, looking out over the moor."""

from driver.efuns import inherit


class Gate(inherit("/std/room")):
    short = "The south gate"
    long = """
        Two squat towers flank an archway in the town wall.  The heavy gates
        stand open, but a portcullis hangs ready above them, its iron teeth
        brown with rust.  Beyond the arch the road dwindles into the moor, a
        rolling sea of heather and mist where nothing moves but the wind.
        The street runs north, back to the square; the road goes south onto
        the moor, and a lane follows the wall east to the market.
    """
    exits = {
        "north": "/rooms/square",
        "south": "/rooms/moor/road",
        "east": "/rooms/market",
    }
    items = {
        "portcullis": """
            Nobody remembers the last time it came down.  The chains look as
            if they would snap if anyone tried.
        """,
        "moor": """
            Heather, bog and mist as far as you can see.  Far off, a single
            standing stone leans against the sky.
        """,
        "towers": "Squat, round and loopholed, their roofs missing a few slates.",
        "road": "It leaves the town and loses heart somewhere in the heather.",
    }
    ids = ("gate", "south gate")
    outdoors = True
