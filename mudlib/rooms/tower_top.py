"""/rooms/tower_top: the windy top of the watchtower.

The ravens here live on the room's heart beat: it runs while somebody is
up here to hear them and stops when the platform is empty."""

from driver.efuns import all_inventory, inherit, interactive, set_heart_beat, this_player

RAVEN_NOISES = (
    "A raven croaks, loud and sudden, right beside your ear.\n",
    "The ravens shuffle along the parapet, muttering.\n",
    "A raven lifts off, circles once in the wind, and lands again.\n",
)
# Heart beats between two raven noises.
BEATS_PER_NOISE = 3


class TowerTop(inherit("/std/room")):
    short = "The top of the watchtower"
    long = """
        Wind tears at you as you step out onto the platform at the top of
        the tower.  A waist-high parapet runs around the edge, its merlons
        white with the droppings of the ravens that roost here and eye you
        without fear.  Below, the roofs of Ravenmoor huddle around the
        square; beyond the wall the moor stretches grey and endless to the
        horizon.  The stair leads back down.
    """
    exits = {
        "down": "/rooms/tower",
    }
    items = {
        "ravens": """
            A dozen of them, black and glossy, watching you with the bright
            patience of creatures who have seen many visitors come and go.
        """,
        "parapet": "Chest-high stone, cold and rough.  Do not lean too far.",
        "roofs": "Slate and thatch, chimneys smoking.  The fountain glints in the square.",
        "moor": "From up here you can see the standing stone, and a second one you never noticed.",
    }
    ids = ("tower", "top", "platform")
    outdoors = True

    def create(self):
        super().create()
        self.beats = 0
        self.noises = 0

    def init(self):
        super().init()
        if interactive(this_player()):
            set_heart_beat(self, 1)

    def heart_beat(self):
        if not any(interactive(ob) for ob in all_inventory(self)):
            set_heart_beat(self, 0)     # nobody to hear them: save the effort
            return
        self.beats += 1
        if self.beats % BEATS_PER_NOISE == 0:
            self.tell_here(RAVEN_NOISES[self.noises % len(RAVEN_NOISES)])
            self.noises += 1
