"""/npc/tam: Old Tam the shepherd, who wanders the moor on his heart beat."""

from driver.efuns import inherit


class Tam(inherit("/std/npc")):
    name = "Tam"
    short = "Old Tam the shepherd"
    social_reply = "touches his cap to {actor}."
    long = """
        Bent as a thorn tree and about as talkative, Tam leans on a crook
        taller than he is.  His coat smells of sheep and peat smoke.
    """
    ids = ("tam", "shepherd", "old tam")
    greeting = "Aye, {name}.  Mind your feet."
    shrug = "Hm.  The moor doesn't care about that, and nor do I."
    answers = {
        "sheep": "Scattered from here to the barrow.  They come home when they're hungry.",
        "stone": "Hums at night, it does.  Put your hand on it after dark, if you dare.",
        "barrow": "South of the bog.  The old king's in there.  Leave him be.",
        "bog": "Keep to the tussocks.  Or don't, and learn.",
        "moor": "Forty miles of it, and every one wet.",
        "mags": "Good stew.  Sharp tongue.",
        "night": "The moor's different at night.  Listen to the stone.",
    }
    chats = (
        "Tam whistles to a sheep that ignores him.",
        "Tam leans on his crook and squints at the sky.",
        "Tam mutters something about the weather.",
    )
    beats_per_step = 10
    wander_within = ("/rooms/moor/",)
