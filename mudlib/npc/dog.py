"""/npc/dog: a wild dog on the moor road, the first thing on the moor a
newcomer can fight.  It never starts a fight, and it is no match for
anyone: 'consider dog' says so."""

from driver.efuns import inherit


class Dog(inherit("/std/monster")):
    name = "The wild dog"
    short = "a wild dog"
    long = """
        A rangy grey dog gone wild on the moor, all ribs and yellow teeth.
        A rag of a leather collar still hangs round its neck, and a copper
        coin is stitched to it, the way farm dogs wear one for luck.
    """
    ids = ("dog", "wild dog", "grey dog")
    shrug = "The wild dog only growls."
    chats = (
        "The wild dog noses along the ditch, hackles up.",
        "The wild dog watches you with yellow eyes.",
        "The wild dog scratches at a flea.",
    )
    beats_per_chat = 12
    social_reply = "bares its teeth at {actor}."
    max_health = 8
    hit_chance = 50
    damage = (1, 2)
    attack_verb = ("bite", "bites")
    death_message = "yelps once, and lies still."
    carries = {"/obj/coin": 1}
