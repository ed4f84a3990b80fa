"""/rooms/loft: the loft above the Crooked Lantern."""

from driver.efuns import inherit


class Loft(inherit("/std/room")):
    short = "The tavern loft"
    long = """
        Under the slope of the roof, straw pallets lie in a row for
        travellers too tired or too poor for a proper bed.  The chimney of
        the hearth below runs up through the middle, warm to the touch, and
        the smell of stew rises through the floorboards.  The stair leads
        back down to the taproom.
    """
    exits = {"down": "/rooms/tavern"}
    items = {
        "pallets": "Straw in sacking.  Some of it moves.",
        "chimney": "Warm brick.  Someone has scratched a tally of days into it.",
    }
    ids = ("loft",)
