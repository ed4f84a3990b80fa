"""/npc/cat: a market cat that walks between Market Lane, the store and
the smithy on its heart beat."""

from driver.efuns import inherit


class Cat(inherit("/std/npc")):
    name = "The ginger cat"
    short = "a ginger cat"
    social_reply = "purrs and winds itself around {actor}'s legs."
    long = "Ginger, scarred about the ears, and entirely sure of itself."
    ids = ("cat", "ginger cat")
    shrug = "The cat looks at you as if you were a very stupid mouse."

    def speak(self, text):
        self.act(text)      # a cat does not talk

    chats = (
        "The ginger cat washes one paw with great care.",
        "The ginger cat stares at something you cannot see.",
    )
    beats_per_chat = 12
    beats_per_step = 8
    wander_within = ("/rooms/market", "/rooms/store", "/rooms/smithy")
