"""/rooms/moor/road: the road south from the town gate, onto the moor,
where a wild dog (/npc/dog) lives; a reset brings another after one is
killed."""

from driver.efuns import inherit


class Road(inherit("/std/room")):
    short = "The moor road"
    long = """
        The road leaves the town gate behind and runs south between banks
        of heather, its ruts full of brown water.  Behind you the wall of
        Ravenmoor stands black against the sky; ahead the road fades toward
        a crossroads where a leaning post marks the way.
    """
    area = "The Moor"
    outdoors = True
    exits = {"north": "/rooms/gate", "south": "/rooms/moor/crossroads"}
    residents = ("/npc/dog",)
    items = {
        "heather": "Purple and brown, springy underfoot, wet always.",
        "ruts": "Cut by generations of carts.  The water in them is cold.",
    }
    ids = ("road", "moor road")
