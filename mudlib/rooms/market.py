"""/rooms/market: Market Lane, along the inside of the town wall."""

from driver.efuns import inherit


class Market(inherit("/std/room")):
    short = "Market Lane"
    long = """
        A lane of trodden earth runs along the inside of the town wall,
        lined with empty trestles waiting for market day.  Across the way a
        painted sign shows a candle and a coil of rope: Hobb's general store
        is north.  Hammer blows ring from the smithy to the east, and the
        lane leads west back to the gate.
    """
    residents = ("/npc/cat",)
    exits = {
        "west": "/rooms/gate",
        "north": "/rooms/store",
        "east": "/rooms/smithy",
    }
    items = {
        "trestles": "Bare boards on legs, stained with the juice of old fruit.",
        "sign": "A candle and a coil of rope, in paint that was bright once.",
        "wall": "Grey stone, taller than three men, green with moss at its foot.",
    }
    ids = ("lane", "market", "market lane")
    outdoors = True
