"""/std/monster: the base of the creatures that can be fought.

A monster is an NPC (/std/npc: it chats, may wander, answers `ask`) that
'kill' may attack.  /daemon/combat runs the fight and asks the monster for
its numbers; the monster keeps its own health, fights back, comes at
players who walk in if it is `aggressive`, and leaves a corpse when it
dies (the daemon makes it, with what the monster carried).  A file sets
the class attributes:

    class Dog(inherit("/std/monster")):
        name = "The wild dog"
        short = "a wild dog"
        ids = ("dog", "wild dog")
        max_health = 8
        hit_chance = 50             # percent of rounds in which it lands a blow
        damage = (1, 2)             # a blow takes this much health, at random
        attack_verb = ("bite", "bites")
        carries = {"/obj/coin": 1}  # made with it: its corpse holds them

The room it lives in lists it in `residents`, so a reset brings another
after one is killed.
"""

from driver.efuns import (call_other, clone_object, destruct, environment,
                          find_object, inherit, interactive, move_object, object_name,
                          this_player)

COMBAT = "/daemon/combat"

# How a wounded creature looks, from the share of its health left (percent).
CONDITIONS = ((100, "is unhurt"), (75, "has a few scratches"), (50, "is wounded"),
              (25, "is badly wounded"), (0, "is close to death"))


def condition(health, max_health):
    """'is wounded' and the like, for `health` out of `max_health`."""
    share = 100 * health // max(1, max_health)
    for least, words in CONDITIONS:
        if share >= least:
            return words
    return CONDITIONS[-1][1]


class Monster(inherit("/std/npc")):
    can_be_attacked = True
    max_health = 10
    hit_chance = 50
    damage = (1, 3)
    # what its blows are called: (as "you" would say it, as others say it)
    attack_verb = ("hit", "hits")
    # attacks a player who walks in (at its next heart beat, so the player
    # sees the room first)
    aggressive = False
    # what it does when it comes at someone, after its name; "{victim}" is whom
    attack_message = "attacks {victim}!"
    # what the room sees when it dies, after its name
    death_message = "dies."
    # program -> how many: what it carries from the start (its corpse's loot)
    carries = {}
    # heart beats between each point of health it gets back, out of a fight
    beats_per_heal = 5
    # what it does when asked about anything: a creature does not talk
    shrug = "It does not answer."
    social_reply = None

    def create(self):
        super().create()
        self.health = self.max_health
        # The object names of players who walked in, to be attacked at the
        # next heart beat if they are still here (names: one who quits in
        # between is gone from the object table, and never called).
        self.noticed = []
        for program, count in self.carries.items():
            for _ in range(count):
                move_object(clone_object(program), self)

    # -- what /daemon/combat asks ----------------------------------------------

    def query_health(self):
        return self.health, self.max_health

    def query_combat(self):
        """Its numbers for a fight (see /daemon/combat)."""
        return {"hit": self.hit_chance, "damage": tuple(self.damage),
                "verb": tuple(self.attack_verb)}

    def query_death_message(self):
        return f"{self.name} {self.death_message}"

    def take_damage(self, amount):
        """A blow landed: lose `amount` health.  Returns the health left
        (at 0 the daemon has it die)."""
        self.health = max(0, self.health - amount)
        return self.health

    def die(self, killer):
        """Its corpse holds what it carried (the daemon saw to that); the
        creature itself is gone, until its room's reset makes another."""
        destruct(self)

    def query_examine(self):
        """What 'examine' adds: how hurt it looks."""
        return f"{self.name} {condition(self.health, self.max_health)}.\n"

    def speak(self, text):
        self.act(text)      # a creature does not talk

    # -- life on the heart beat ---------------------------------------------

    def init(self):
        """Someone came near: an aggressive creature marks a player, to
        attack at its next heart beat."""
        who = this_player()
        if self.aggressive and who is not self and interactive(who) \
                and call_other(who, "query_is_player"):
            self.noticed.append(object_name(who))

    def heart_beat(self):
        fighting = call_other(COMBAT, "query_opponent", self) is not None
        if not fighting:
            super().heart_beat()    # chatter and wandering: not in the middle of a fight
            if self.beats_per_heal and self.beats % self.beats_per_heal == 0:
                self.heal(1)
            if environment(self) is not None:
                self.attack_noticed()
        self.noticed = []

    def heal(self, amount):
        self.health = min(self.max_health, self.health + amount)

    def attack_noticed(self):
        """Come at the first player who walked in and is still here, still
        connected."""
        room = environment(self)
        for name in self.noticed:
            victim = find_object(name)
            if victim is not None and environment(victim) is room and interactive(victim):
                call_other(COMBAT, "attack", self, victim, self.attack_message)
                return
