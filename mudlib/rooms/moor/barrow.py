"""/rooms/moor/barrow: the old barrow mound beyond the bog, where the
barrow-wight (/npc/wight) keeps its watch and attacks whoever comes; a
reset brings it back after it is killed."""

from driver.efuns import inherit


class Barrow(inherit("/std/room")):
    short = "The barrow mound"
    long = """
        A long mound of turf rises from the mire, too regular to be natural.
        At one end a doorway of three great stones opens into darkness, and
        the air that breathes out of it is colder than the wind.  The bog
        lies north.
    """
    area = "The Moor"
    outdoors = True
    exits = {"north": "/rooms/moor/bog"}
    residents = ("/npc/wight",)
    items = {
        "doorway": "Two uprights and a lintel.  Something is carved on the lintel: a crown.",
        "darkness": "Something pale moves in there.  You decide not to go in.  Not today.",
    }
    ids = ("barrow", "mound")
