"""/npc/nell: Nell the water-carrier, who walks between the well yard and
the square on her heart beat, nods to whoever arrives where she is, and
never walks off while there is someone to talk to."""

import re

from driver.efuns import all_inventory, call_other, environment, inherit, interactive, present

# How a room announces an arrival (/std/room's announce_arrival): "Ann arrives
# from the south."  What an LPC NPC would take apart with sscanf().
ARRIVES = re.compile(r"(\w+) arrives\b")


class Nell(inherit("/std/npc")):
    name = "Nell"
    short = "Nell the water-carrier"
    long = """
        A wiry girl with a yoke across her shoulders and a wet hem.  She
        knows everyone's business, because everyone talks at the well.
    """
    ids = ("nell", "girl", "water-carrier", "carrier")
    answers = {                 # 'ask nell about <topic>': the first key found answers
        "well": "Deepest in the county, they say.  Never once run dry.",
        "water": "Fill a bucket at the well and drink.  It puts the legs back under you.",
        "mags": "She buys six buckets a day for the stew.  Pays on Fridays.",
        "gossip": "Hobb's cat ate the smith's supper.  You didn't hear it from me.",
    }
    shrug = "Couldn't say.  Ask me about the well, or the water."
    chats = ("Nell shifts the yoke on her shoulders.",
             "Nell hums a song about a drowned miller.")
    beats_per_chat = 10
    beats_per_step = 6          # a step every six heart beats...
    wander_within = ("/rooms/well", "/rooms/square")    # ...between these two rooms

    def wander(self, room):
        """/std/npc's wander, unless a player is here: Nell stays to talk."""
        if any(interactive(ob) for ob in all_inventory(room)):
            return
        super().wander(room)

    def catch_tell(self, text):
        """Everything said or done where she stands reaches her here (the
        room's tell_here sends it with tell_object): she nods to players
        who arrive."""
        match = ARRIVES.match(text)
        if match is None:
            return
        who = present(match.group(1).lower(), environment(self))
        if who is not None and call_other(who, "query_is_player"):
            self.act(f"Nell nods to {match.group(1)}.")
