"""/daemon/combat: the fights, and the rules they follow.

'kill <creature>' asks this daemon to start a fight.  From then on the
fight runs in rounds, one on each of the daemon's heart beats, until one
side dies or the two are no longer in the same room (one walked out, fled,
quit or lost the link).  In a round each fighter strikes its opponent once:
a blow lands with the fighter's hit chance (percent) and takes between the
two numbers of its damage.  Creatures give their numbers (/std/monster's
query_combat); players fight with BARE_HANDS, or with the weapon they
wield (/std/weapon).  Whoever is attacked fights back, and when an
opponent goes, a fighter turns on anyone else here who is still attacking
it.

The daemon also owns what follows from fighting: 'consider', 'flee' and
wimpy (a player whose health falls below their wimpy share flees by
themselves), the corpse a death leaves (/obj/corpse, holding what the dead
carried), and a dead player's waking in the tavern with some health back.

Players never fight players, and the town's people refuse ('kill mags'):
only what answers query_can_be_attacked may be attacked.

Fighters are kept by object name, never by reference, and looked up again
each round: one destructed meanwhile (a player who quit, a creature a
wizard destructed, a creature killed earlier in the round) is no longer
found, and is never called.
"""

import math
import random

from driver.efuns import (MudObject, all_inventory, call_other, clone_object, debug_message,
                          environment, find_object, interactive, living, load_object,
                          move_object, object_name, present, set_heart_beat)

CORPSE = "/obj/corpse"
# Where a dead player wakes: indoors, by a fire, with Mags to look after them.
SAFE_ROOM = "/rooms/tavern"
# A dead player wakes with this share of their health (one part in three).
REVIVE_SHARE = 3

# A player's numbers in a fight: fists, boots and whatever comes to hand.
BARE_HANDS = {"hit": 75, "damage": (1, 5), "verb": ("hit", "hits")}
# However good the weapon, one blow in twenty misses.
MOST_HIT = 95

# Running away: what it costs in stamina, and how often (percent) the
# opponent cuts the runner off.
FLEE_STAMINA = 10
FLEE_FAILS = 20
# The highest wimpy a player may set (percent): above it, the first scratch
# would send them running.
MAX_WIMPY = 90

# How hard a blow was, from the share of the victim's health it took:
# under a tenth, under a quarter, more.
HARD, VERY_HARD = 10, 25

# 'consider': how many times longer it would take the creature to kill you
# than you to kill it, and what that looks like.
VERDICTS = (
    (4.0, "looks like an easy fight."),
    (1.5, "should not give you much trouble."),
    (0.67, "looks like a fair match for you."),
    (0.3, "looks stronger than you.  Think twice."),
    (0.0, "would tear you apart.  Walk away while you can."),
)

DEATH_TEXT = """%^WARNING%^You die.%^RESET%^
The world goes grey, then black, and for a long while there is nothing at all.
Then, slowly: warmth, woodsmoke and the smell of ale.  You wake on a bench by the fire of the Crooked Lantern, aching in every bone and cold to the marrow.  What you carried lies with your body, where you fell.
"""


def the(ob, start=False):
    """How a fighter is named in a sentence: "Alice", "the wild dog"; at
    the `start` of one, "The wild dog"."""
    name = call_other(ob, "query_name") or "something"
    if not start and name.startswith("The "):
        return "the " + name[4:]
    return name


def tell(ob, text):
    """`text` to `ob` if it is a player (creatures read nothing)."""
    call_other(ob, "tell", text + "\n")


def tell_room(room, text, exclude=()):
    if room is not None:
        call_other(room, "tell_here", text + "\n", exclude)


class Combat(MudObject):
    def create(self):
        # fighter's object name -> its opponent's, in the order fights began
        self.fights = {}

    # -- who fights whom -----------------------------------------------------

    def query_opponent(self, ob):
        """Whom `ob` is fighting now, or None."""
        target_name = self.fights.get(object_name(ob))
        opponent = find_object(target_name) if target_name else None
        if opponent is not None and self._can_fight(ob, opponent):
            return opponent
        return self._next_opponent(ob)

    def _can_fight(self, one, other):
        """Whether the two can go on fighting: both here, in one room, and
        neither a player whose link has dropped."""
        room = environment(one)
        return room is not None and environment(other) is room \
            and not self._link_dead(one) and not self._link_dead(other)

    def _link_dead(self, ob):
        return bool(call_other(ob, "query_is_player")) and not interactive(ob)

    def _next_opponent(self, ob):
        """Someone who is attacking `ob` and can still reach it, or None."""
        name = object_name(ob)
        for fighter_name, target_name in self.fights.items():
            if target_name == name:
                fighter = find_object(fighter_name)
                if fighter is not None and self._can_fight(ob, fighter):
                    return fighter
        return None

    def attack(self, attacker, victim, how="attacks {victim}!"):
        """`attacker` comes at `victim`.  The fight begins (or the attacker
        turns on a new opponent), and the victim fights back unless it is
        fighting someone else already.  `how` is what the room sees, after
        the attacker's name; "{victim}" is whom."""
        attacker_name, victim_name = object_name(attacker), object_name(victim)
        defending = self.query_opponent(victim)
        self.fights[attacker_name] = victim_name
        if defending is None:
            self.fights[victim_name] = attacker_name
        room = environment(attacker)
        if call_other(attacker, "query_is_player"):
            tell(attacker, f"%^COMBAT%^You attack {the(victim)}!%^RESET%^")
        tell(victim, f"%^WARNING%^{the(attacker, True)} {how.format(victim='you')}%^RESET%^")
        tell_room(room, f"{the(attacker, True)} {how.format(victim=the(victim))}",
                  (attacker, victim))
        set_heart_beat(self, 1)

    def stop(self, ob):
        """`ob` fights no more (it fled, died or is leaving the game): its
        opponents turn on whoever else attacks them here, or rest."""
        name = object_name(ob)
        self.fights.pop(name, None)
        for fighter_name in [fighter for fighter, target in self.fights.items()
                             if target == name]:
            del self.fights[fighter_name]
            fighter = find_object(fighter_name)
            other = self._next_opponent(fighter) if fighter is not None else None
            if other is not None:
                self.fights[fighter_name] = object_name(other)

    # -- rounds --------------------------------------------------------------

    def heart_beat(self):
        """One round: each fighter, in the order the fights began, strikes
        its opponent once."""
        for name in list(self.fights):
            target_name = self.fights.get(name)
            if target_name is None:
                continue    # this fight ended earlier in the round
            fighter = find_object(name)
            if fighter is None:
                del self.fights[name]   # quit, or destructed: never call it again
                continue
            if self._link_dead(fighter):
                self._lose_interest(fighter)
                continue
            opponent = find_object(target_name)
            if opponent is None or not self._can_fight(fighter, opponent):
                opponent = self._next_opponent(fighter)
                if opponent is None:
                    del self.fights[name]
                    continue
                self.fights[name] = object_name(opponent)
            self.strike(fighter, opponent)
        if not self.fights:
            set_heart_beat(self, 0)

    def _lose_interest(self, body):
        """A player's link dropped mid-fight: the body stands still, and
        whoever fought it stops."""
        name = object_name(body)
        foes = [find_object(fighter) for fighter, target in self.fights.items()
                if target == name]
        room = environment(body)
        for foe in foes:
            if foe is not None and environment(foe) is room:
                tell_room(room, f"{the(foe, True)} loses interest in {the(body)}, who "
                          "stands as still as stone.", (body,))
        self.stop(body)

    def _stats(self, ob):
        """A fighter's numbers: a creature's own; a player's, bare hands or
        the weapon they wield (its damage and verb, its bonus on their
        chance to hit)."""
        stats = call_other(ob, "query_combat")
        if stats:
            return stats
        weapon = call_other(ob, "query_wielded")
        if weapon is None:
            return BARE_HANDS
        numbers = call_other(weapon, "query_weapon")
        return {"hit": min(MOST_HIT, BARE_HANDS["hit"] + numbers["hit_bonus"]),
                "damage": numbers["damage"], "verb": numbers["verb"]}

    def strike(self, attacker, victim):
        """One blow, or a miss, and what everyone here sees of it."""
        stats = self._stats(attacker)
        room = environment(attacker)
        if random.randrange(100) >= stats["hit"]:
            tell(attacker, f"You miss {the(victim)}.")
            tell(victim, f"{the(attacker, True)} misses you.")
            tell_room(room, f"{the(attacker, True)} misses {the(victim)}.", (attacker, victim))
            return
        damage = random.randint(*stats["damage"])
        left = call_other(victim, "take_damage", damage)
        _, most = call_other(victim, "query_health")
        share = 100 * damage / max(1, most)
        how = "" if share < HARD else " hard" if share < VERY_HARD else " very hard"
        you_verb, verb = stats["verb"]
        tell(attacker, f"%^COMBAT%^You {you_verb} {the(victim)}{how}.%^RESET%^")
        tell(victim, f"%^WARNING%^{the(attacker, True)} {verb} you{how}.%^RESET%^")
        tell_room(room, f"{the(attacker, True)} {verb} {the(victim)}{how}.", (attacker, victim))
        if left <= 0:
            self.die(victim, attacker)
        else:
            self._check_wimpy(victim)

    # -- death ---------------------------------------------------------------

    def die(self, victim, killer):
        """`victim` is dead.  Its corpse keeps what it carried, where it fell;
        a creature is gone, a player wakes in the tavern."""
        room = environment(victim)
        self.stop(victim)
        corpse = clone_object(CORPSE)
        call_other(corpse, "set_remains", call_other(victim, "short_description"))
        for thing in all_inventory(victim):
            if not living(thing):
                move_object(thing, corpse)
        is_player = call_other(victim, "query_is_player")
        debug_message(f"{the(victim, True)} ({object_name(victim)}) was killed by "
                      f"{the(killer)} ({object_name(killer)}) in {object_name(room)}")
        if is_player:
            tell_room(room, f"{the(victim, True)} falls, and lies still.", (victim,))
        else:
            tell_room(room, call_other(victim, "query_death_message")
                      or f"{the(victim, True)} dies.")
            tell(killer, f"%^COMBAT%^You killed {the(victim)}.%^RESET%^")
        move_object(corpse, room)
        if is_player:
            self._wake(victim)
        else:
            call_other(victim, "die", killer)

    def _wake(self, body):
        """A dead player wakes in the safe room, with some health back."""
        tell(body, DEATH_TEXT)
        safe = load_object(SAFE_ROOM)
        move_object(body, safe)
        _, most = call_other(body, "query_health")
        call_other(body, "refresh", max(1, most // REVIVE_SHARE), 0)   # gauges follow
        tell_room(safe, f"{the(body, True)} stumbles in, pale as ash, and sinks down by "
                  "the fire.", (body,))
        call_other(body, "look_around")
        call_other(body, "save_character")

    # -- running away --------------------------------------------------------

    def _check_wimpy(self, ob):
        """A player below their wimpy share of health runs."""
        wimpy = call_other(ob, "query_wimpy") or 0
        health, most = call_other(ob, "query_health")
        if wimpy and health * 100 < wimpy * most:
            tell(ob, "%^WARNING%^Your courage fails you!%^RESET%^")
            self.flee(ob)

    def flee(self, ob):
        """`ob` runs from its fight through a random exit.  It costs
        FLEE_STAMINA, and the opponent may cut it off.  Returns whether
        `ob` got away."""
        opponent = self.query_opponent(ob)
        if opponent is None:
            tell(ob, "You are not fighting anyone.")
            return False
        if call_other(ob, "spend_stamina", FLEE_STAMINA) is False:
            tell(ob, "You are too tired to run!")
            return False
        room = environment(ob)
        if random.randrange(100) < FLEE_FAILS:
            tell(ob, f"You try to run, but {the(opponent)} cuts you off!")
            tell_room(room, f"{the(ob, True)} tries to run, but {the(opponent)} cuts "
                      "them off.", (ob,))
            return False
        exits = [direction for direction in call_other(room, "query_exits") or {}
                 if call_other(room, "is_direction", direction)]
        if not exits:
            tell(ob, "There is nowhere to run!")
            return False
        random.shuffle(exits)
        tell(ob, "You turn and run!")
        tell_room(room, f"{the(ob, True)} turns and runs!", (ob,))
        for direction in exits:
            call_other(ob, "cmd_go", direction)     # as if typed: the room's exit moves it
            if environment(ob) is not room:
                self.stop(ob)
                return True
        return False

    # -- the players' commands -------------------------------------------------

    def _target(self, player, word, doing):
        """What `player` names to `doing` ("attack", "consider"), if it is
        here and may be fought; else None, once the player has been told
        why not."""
        word = " ".join(word.lower().split())
        room = environment(player)
        ob = present(word, room) if word and room is not None else None
        if not word:
            tell(player, f"{doing.capitalize()} whom?")
        elif ob is None:
            tell(player, f"There is no {word} here.")
        elif ob is player:
            tell(player, "You are your own worst enemy, but not like that.")
        elif call_other(ob, "query_is_player"):
            tell(player, f"{the(ob, True)} is a fellow adventurer.  Players do not "
                 "fight each other in this world.")
        elif not living(ob):
            tell(player, "You cannot fight that.")
        elif not call_other(ob, "query_can_be_attacked"):
            tell(player, call_other(ob, "query_refuses_fight")
                 or f"{the(ob, True)} is not someone to pick a fight with.")
        else:
            return ob
        return None

    def kill(self, player, word):
        """'kill <creature>'."""
        ob = self._target(player, word, "attack")
        if ob is None:
            return
        if self.fights.get(object_name(player)) == object_name(ob) \
                and self.query_opponent(player) is ob:
            tell(player, f"You are fighting {the(ob)} already!")
            return
        self.attack(player, ob)

    def _rounds_to_kill(self, attacker, victim):
        """How many rounds `attacker` would take, on average, to kill `victim`."""
        stats = self._stats(attacker)
        low, high = stats["damage"]
        per_round = stats["hit"] / 100 * (low + high) / 2
        health, _ = call_other(victim, "query_health")
        return health / max(per_round, 0.01)

    def consider(self, player, word):
        """'consider <creature>': how dangerous it looks to `player`, as
        they are now."""
        ob = self._target(player, word, "consider")
        if ob is None:
            return
        odds = self._rounds_to_kill(ob, player) / max(self._rounds_to_kill(player, ob), 0.01)
        verdict = next(words for least, words in VERDICTS if odds >= least)
        looks = call_other(ob, "query_examine") or ""
        tell(player, f"{the(ob, True)} {verdict}  {looks}".rstrip())

    def wimpy(self, player, arg):
        """'wimpy [percent|off]': set it, or show it."""
        choice = arg.strip().lower().removesuffix("%")
        if choice:
            choice = "0" if choice == "off" else choice
            if not choice.isdigit() or int(choice) > MAX_WIMPY:
                tell(player, f"Wimpy is a share of your health, from 0 to {MAX_WIMPY} "
                     "percent: 'wimpy 30', or 'wimpy off'.")
                return
            call_other(player, "set_wimpy", int(choice))
        tell(player, self._describe_wimpy(player))

    def _describe_wimpy(self, player):
        wimpy = call_other(player, "query_wimpy") or 0
        if not wimpy:
            return "Wimpy is off: you fight to the end."
        _, most = call_other(player, "query_health")
        below = math.ceil(wimpy * most / 100)
        return (f"Wimpy is {wimpy}%: you run from a fight when your health falls "
                f"below {below} of {most}.")

    def score_line(self, player):
        """What 'score' shows of fighting: wimpy, the weapon in hand, and
        the fight going on."""
        wimpy = call_other(player, "query_wimpy") or 0
        line = f"  Wimpy    {f'{wimpy}%' if wimpy else 'off'}"
        weapon = call_other(player, "query_wielded")
        if weapon is not None:
            line += f"; wielding {call_other(weapon, 'short_description')}"
        opponent = self.query_opponent(player)
        if opponent is not None:
            line += f"; fighting {the(opponent)}"
        return line + "."
