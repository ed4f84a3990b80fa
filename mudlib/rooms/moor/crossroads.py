"""/rooms/moor/crossroads: where the moor's paths meet."""

from driver.efuns import inherit


class Crossroads(inherit("/std/room")):
    short = "A crossroads on the moor"
    long = """
        Four ways meet at a fingerpost that leans as if tired of pointing.
        North lies the road back to town; west a track leads to a low
        shepherd's hut with a smoking chimney; east, on a rise, stands a
        single great stone; and south the ground sinks into the bog.
    """
    area = "The Moor"
    outdoors = True
    stamina_cost = 2
    residents = ("/npc/tam",)
    exits = {
        "north": "/rooms/moor/road",
        "west": "/rooms/moor/hut",
        "east": "/rooms/moor/stone",
        "south": "/rooms/moor/bog",
    }
    items = {
        "fingerpost": "RAVENMOOR, says one arm.  The others have weathered blank.",
        "post": "RAVENMOOR, says one arm.  The others have weathered blank.",
    }
    ids = ("crossroads",)
