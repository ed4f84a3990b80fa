"""/rooms/moor/bog: the bog south of the crossroads.  Walking in costs
health: the room's init() hurts whoever arrives."""

from driver.efuns import call_other, inherit, this_player


class Bog(inherit("/std/room")):
    short = "The bog"
    long = """
        Black water lies between tussocks of sedge, and every step sinks.
        Bubbles rise where nothing should be breathing.  Far to the south a
        green mound humps out of the mire; the firmer ground of the
        crossroads is north.
    """
    area = "The Moor"
    outdoors = True
    stamina_cost = 5
    exits = {"north": "/rooms/moor/crossroads", "south": "/rooms/moor/barrow"}
    items = {
        "tussocks": "Islands of grass.  Some of them hold your weight.",
        "water": "Black and cold, and deeper than it looks.",
        "mound": "A long green hump: the barrow.",
    }
    ids = ("bog", "mire")

    def init(self):
        super().init()
        call_other(this_player(), "hurt", 3,
                   "The bog sucks at your boots; you wrench free, bruised and soaked.\n")
