"""/rooms/smithy: the smithy at the end of Market Lane."""

from driver.efuns import inherit


class Smithy(inherit("/std/room")):
    short = "The smithy"
    long = """
        Heat rolls out of a forge glowing like an angry eye.  Tongs, hammers
        and half-made horseshoes hang from hooks on the soot-black walls,
        and an anvil squats in the middle of the floor.  Nobody is working
        it just now.  The lane lies back to the west.
    """
    stock = {"/obj/coin": 2}
    exits = {"west": "/rooms/market"}
    items = {
        "forge": "Banked coals, still fierce enough to warm your face from here.",
        "anvil": "Scarred by ten thousand blows.  It rings faintly when you touch it.",
        "horseshoes": "Half-made, and none of them a pair.",
    }
    ids = ("smithy", "forge")
