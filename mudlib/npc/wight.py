"""/npc/wight: the barrow-wight, the dead king's guard, who comes out of
the barrow's doorway at anyone who walks up to it.  Far too strong for a
lone adventurer ('consider wight'); the grave goods it carries are the
prize for a party that can take it down."""

from driver.efuns import inherit


class Wight(inherit("/std/monster")):
    name = "The barrow-wight"
    short = "a barrow-wight"
    long = """
        A tall shape of mist and old bone in the rags of a king's guard,
        with a rusted circlet on its brow.  Where its eyes should be, two
        pale lights burn, and the cold comes off it like a draught from an
        open grave.
    """
    ids = ("wight", "barrow-wight", "barrow wight", "shape")
    shrug = "The barrow-wight's answer is a whisper like wind in dead grass: mine... all mine..."
    chats = (
        "The barrow-wight whispers something in a tongue nobody has spoken for a thousand years.",
        "A cold breath sighs out of the barrow's doorway.",
    )
    beats_per_chat = 10
    social_reply = "turns its pale eyes on {actor}."
    max_health = 60
    hit_chance = 85
    damage = (4, 10)
    attack_verb = ("claw", "claws")
    aggressive = True
    attack_message = "rises from the dark of the doorway and reaches for {victim}!"
    death_message = "shrieks like a winter gale and falls apart into mist and bone."
    carries = {"/obj/coin": 6, "/obj/sword": 1}
