"""/rooms/tower: the foot of the old watchtower, north of the square."""

from driver.efuns import inherit


class Tower(inherit("/std/room")):
    short = "The foot of the watchtower"
    long = """
        The watchtower is the oldest thing in Ravenmoor, older than the wall
        and the square, its stones black with age.  Inside, the ground floor
        is a bare round chamber, cold even in summer, where a stone stair
        spirals up into darkness.  Ravens mutter somewhere overhead.  The
        doorway south leads back to the square.
    """
    exits = {
        "south": "/rooms/square",
        "up": "/rooms/tower_top",
    }
    items = {
        "stair": """
            The steps are hollowed in the middle by countless feet.  There is
            no rail.
        """,
        "stairs": "Worn, narrow and steep.  They wind up out of sight.",
        "stones": "Black, cold, and fitted without mortar.",
    }
    ids = ("tower", "watchtower", "chamber")
