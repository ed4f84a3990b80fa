"""/std/npc: the base of the world's people and creatures.

An NPC is a living clone: it stands in rooms, answers `ask <npc> about
<topic>`, hears what is said near it (`hear_say`), and lives on its heart
beat: now and then it says something, and one that wanders walks to a
neighbouring room of its own area.  A file sets the class attributes:

    class Mags(inherit("/std/npc")):
        name = "Mags"
        short = "Mags the landlady"
        ids = ("mags", "landlady")
        answers = {"ale": "Brewed out back, and strong.", ...}
        chats = ("Mags wipes the bar.",)

An NPC cannot be fought: 'kill mags' is refused with `refuses_fight`.
Creatures that fight inherit /std/monster, which builds on this.
"""

import random

from driver.efuns import (MudObject, all_inventory, call_other, enable_commands, environment,
                          load_object, move_object, object_name, set_heart_beat, interactive)

GREETINGS = ("hello", "hi", "hail", "greetings", "evening", "morning", "good day")
# Socials done at a creature that it answers (its social_reply).
FRIENDLY_SOCIALS = ("smile", "grin", "wave", "nod", "bow", "curtsey", "greet", "wink",
                    "hug", "pat", "thank", "cheer")


class Npc(MudObject):
    name = "Someone"
    short = "someone"
    long = "An ordinary sort of person."
    ids = ()
    # topic word -> what the NPC says about it
    answers = {}
    # said when asked about anything else
    shrug = "I wouldn't know about that."
    # said to someone who greets it aloud (None: it ignores greetings)
    greeting = None
    # things it says or does now and then, when a player is there to see
    chats = ()
    # heart beats between chats, and between steps (0: it stays put)
    beats_per_chat = 15
    beats_per_step = 0
    # the rooms it may walk into, by path prefix ("/rooms/moor/")
    wander_within = ()
    # what it does back when someone is friendly to it ('smile mags'),
    # after its name; "{actor}" is who was.  None: it takes no notice.
    social_reply = "nods to {actor}."
    # whether 'kill' may start a fight with it (/std/monster says yes), and
    # what a player who tries is told when it may not; "{name}" is its name
    can_be_attacked = False
    refuses_fight = "{name} is not someone to pick a fight with."

    def create(self):
        enable_commands()       # a living: rooms' init() runs for it, and it can walk
        self.beats = 0
        set_heart_beat(self, 1)

    # -- identity -----------------------------------------------------------

    def id(self, word):
        return word.lower() in self.ids or word.lower() == self.name.lower()

    def query_name(self):
        return self.name

    def short_description(self):
        return self.short

    def long_description(self):
        return " ".join(self.long.split()) + "\n"

    def get(self):
        return False    # people are not picked up

    def query_can_be_attacked(self):
        return self.can_be_attacked

    def query_refuses_fight(self):
        """What a player who tries to attack it is told, if it cannot be."""
        return self.refuses_fight.format(name=self.name)

    # -- talking ------------------------------------------------------------

    def speak(self, text):
        room = environment(self)
        if room is not None:
            call_other(room, "tell_here", f"%^NPC%^{self.name} says: {text}%^RESET%^\n")

    def act(self, text):
        room = environment(self)
        if room is not None:
            call_other(room, "tell_here", f"%^NPC%^{text}%^RESET%^\n")

    def social_done(self, actor, verb):
        """`actor` did the social `verb` at this creature (/daemon/soul)."""
        if verb in FRIENDLY_SOCIALS and self.social_reply:
            who = call_other(actor, "query_name")
            self.act(f"{self.name} {self.social_reply.format(actor=who)}")

    def answer(self, asker, topic):
        """`asker` asks about `topic`: the NPC answers aloud.  Returns true."""
        words = topic.lower().replace("?", " ").split()
        for key, reply in self.answers.items():
            if key in words or key == topic.lower():
                self.speak(reply)
                return True
        self.speak(self.shrug)
        return True

    def hear_say(self, speaker, text):
        """Something was said aloud here."""
        lowered = text.lower()
        if self.greeting and any(lowered.startswith(word) for word in GREETINGS):
            self.speak(self.greeting.format(name=call_other(speaker, "query_name")))

    def given(self, giver, thing):
        """Someone gave us `thing`; by default it is handed back."""
        self.act(f"{self.name} looks puzzled and hands it back.")
        move_object(thing, giver)

    # -- life on the heart beat ---------------------------------------------

    def heart_beat(self):
        self.beats += 1
        room = environment(self)
        if room is None:
            return
        watched = any(interactive(ob) for ob in all_inventory(room))
        if watched and self.chats and self.beats % self.beats_per_chat == 0:
            self.act(random.choice(self.chats))
        if self.beats_per_step and self.beats % self.beats_per_step == 0:
            self.wander(room)

    def wander(self, room):
        exits = [(direction, path) for direction, path
                 in (call_other(room, "query_exits") or {}).items()
                 if path.startswith(self.wander_within)]
        if not exits:
            return
        direction, path = random.choice(exits)
        try:
            dest = load_object(path)
        except Exception:   # a broken room is not worth the walk
            return
        call_other(room, "announce_departure", self, direction)
        move_object(self, dest)
        call_other(dest, "announce_arrival", self, room)

    def query_home_area(self):
        room = environment(self)
        return object_name(room) if room else None
