"""/rooms/store: Hobb's general store on Market Lane."""

from driver.efuns import clone_object, inherit, move_object


class Store(inherit("/std/room")):
    short = "Hobb's general store"
    long = """
        Shelves climb every wall to the ceiling, crammed with candles,
        coils of rope, sacks of salt and jars of nails sorted by size.  A
        counter worn pale by coins divides the shop, and behind it hangs a
        slate of prices nobody has wiped in years.  The door south opens
        onto Market Lane.
    """
    exits = {"south": "/rooms/market"}
    items = {
        "shelves": "Everything a household needs, and several things it doesn't.",
        "slate": "Rope, 4 copper.  Candles, 1 copper.  Credit, no.",
        "counter": "Polished by a thousand elbows and one very careful storekeeper.",
    }
    ids = ("store", "shop")

    def create(self):
        super().create()
        move_object(clone_object("/npc/hobb"), self)
