"""/rooms/moor/stone: the standing stone on its rise.  At night it hums
(it asks the clock, /daemon/clock, what time it is)."""

from driver.efuns import call_other, inherit

CLOCK = "/daemon/clock"


class Stone(inherit("/std/room")):
    short = "The standing stone"
    long = """
        On the crown of a rise a single stone stands three times the height
        of a man, grey and furred with lichen, leaning a little toward the
        town as if listening.  The wind is always louder here.  The path
        runs back down west to the crossroads.
    """
    area = "The Moor"
    outdoors = True
    exits = {"west": "/rooms/moor/crossroads"}
    items = {
        "lichen": "Yellow and grey, in rings like a map of somewhere else.",
    }
    ids = ("stone", "standing stone", "rise")

    def describe_item(self, noun):
        if noun.lower() in ("stone", "standing stone"):
            if call_other(CLOCK, "query_is_night"):
                return "The stone is humming, very low; you feel it in your teeth.\n"
            return "Cold, rough and silent.  Older than anything you know.\n"
        return super().describe_item(noun)
