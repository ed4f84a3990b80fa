"""/npc/hobb: Hobb, who keeps the general store and watches the market."""

from driver.efuns import inherit


class Hobb(inherit("/std/npc")):
    name = "Hobb"
    short = "Hobb the storekeeper"
    social_reply = "nods to {actor} over the counter."
    long = """
        A narrow man in a leather apron, with ink on his fingers and a
        pencil behind one ear.  He counts everything twice.
    """
    ids = ("hobb", "storekeeper", "shopkeeper")
    greeting = "Good day, {name}.  Look all you like; touching costs extra."
    shrug = "Not something I stock, I'm afraid."
    answers = {
        "store": "Rope, candles, salt, nails.  All honestly priced, more or less.",
        "rope": "Best hemp.  You'll want it on the moor.",
        "coins": "Copper's copper.  Bring me enough of it and we'll talk.",
        "smith": "Bera works the forge next door.  Loud, but honest.",
        "market": "Tuesdays, when the carts come up from the valley.",
    }
    chats = (
        "Hobb counts a drawer of nails, frowns, and counts them again.",
        "Hobb writes something in a ledger.",
    )
