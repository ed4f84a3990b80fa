"""/npc/mags: Mags, who keeps the Crooked Lantern.  She stays behind her
bar, greets whoever greets her, and knows the town's gossip."""

from driver.efuns import call_other, inherit


class Mags(inherit("/std/npc")):
    name = "Mags"
    short = "Mags the landlady"
    social_reply = "smiles back at {actor} and goes on wiping the bar."
    long = """
        A broad, red-armed woman with a voice that carries over any crowd.
        She keeps one eye on the door and the other on the ale.
    """
    ids = ("mags", "landlady", "woman")
    greeting = "Evening, {name}.  Sit where you like; mind the crooked lantern."
    shrug = "Couldn't tell you, love.  Ask old Tam out on the moor, he knows odd things."
    answers = {
        "ale": "Brewed out back, and stronger than it tastes.  Pay before you sing.",
        "lantern": "Crooked when the place opened, crooked when it falls down.  Leave it be.",
        "tam": "The shepherd.  Walks the moor all day with his sheep; comes in for the stew.",
        "moor": "South through the gate.  Keep to the road and stay out of the bog.",
        "bog": "Folk go in to the knee and come out a stone lighter.  Don't.",
        "stone": "The standing stone?  Older than the town.  Tam says it hums at night.",
        "board": "The notice board's by the door.  'read board', and 'post' your own.",
        "ravens": "They live on the watchtower.  Best-fed birds in the county.",
        "stew": "Mutton and barley.  Same as yesterday, same as tomorrow.",
        "hobb": "Hobb keeps the store on Market Lane.  Tight with his coppers.",
    }
    chats = (
        "Mags wipes down the bar with a rag that has seen better decades.",
        "Mags stirs the great pot over the hearth.",
        "Mags straightens a stool, then glares at the lantern as if daring it to move.",
    )

    def given(self, giver, thing):
        if call_other(thing, "id", "coin"):
            self.speak("Much obliged.  That's your ale paid for.")
            return
        super().given(giver, thing)
