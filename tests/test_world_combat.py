"""Fighting in the shipped world, played over real sockets.

The moor has two creatures: a wild dog on the moor road, weak enough that
a newcomer always wins (8 health against 30, and a bite takes at most 2),
and the barrow-wight, aggressive and strong enough that a lone player
always dies (4 to 10 a blow, 85% of rounds, against 30 health).  With
those numbers a fight's outcome is certain; only how many rounds it takes
is left to chance, so every wait here is bounded by FIGHT_TIMEOUT, not a
round count.  Heart beats (and so rounds) come every HEART_BEAT seconds.

Where a test needs a fight that nobody wins (running away, link-death), it
plays a copy of the world whose dog has a thousand health points.
"""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest

from conftest import SHIPPED_MUDLIB, Client
from mudclient import DO, GMCP, TelnetPeer, iac, sb
from test_world import create_character, do, plain_player, quit_game
from test_world_play import (MSDP, MSDP_VAL, MSDP_VAR, log_in, msdp_request, new_character,
                             play)

HEART_BEAT = 0.2
# The longest fight here is some fifteen rounds; this leaves room for a busy machine.
FIGHT_TIMEOUT = 30.0


def heart_beat(interval: float = HEART_BEAT) -> str:
    return f"  heart_beat_interval: {interval}\n"


@pytest.fixture
def world(make_driver):
    return make_driver(mudlib=SHIPPED_MUDLIB, mudlib_extra=heart_beat())


@pytest.fixture
def patched_world(make_driver, tmp_path):
    """A driver on a copy of the shipped world with some of its text
    replaced: {file under mudlib/: [(old, new), ...]}."""
    def start(changes: dict[str, list[tuple[str, str]]]):
        mudlib = tmp_path / "mudlib"
        shutil.copytree(SHIPPED_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
        for path, replacements in changes.items():
            file = mudlib / path
            text = file.read_text()
            for old, new in replacements:
                assert text.count(old) == 1, f"{path} no longer has {old!r}"
                text = text.replace(old, new)
            file.write_text(text)
        return make_driver(mudlib=mudlib, mudlib_extra=heart_beat())
    return start


# A dog nobody kills in the time of a test: fights with it last until someone leaves.
STURDY_DOG = {"npc/dog.py": [("    max_health = 8\n", "    max_health = 1000\n")]}


def one_line(text: str) -> str:
    """Text as one line: the world wraps it to 80 columns."""
    return " ".join(text.split())


def read_any(client: Client, needles: tuple[str, ...], timeout: float = FIGHT_TIMEOUT) -> str:
    """Read until one of ``needles`` has arrived (since the last clear); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        text = one_line(client.text)
        for needle in needles:
            if needle in text:
                return needle
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"none of {needles!r} arrived; received:\n{client.text}")
        try:
            if not client.recv_some(remaining):
                raise AssertionError(f"connection closed waiting for {needles!r}:\n{client.text}")
        except TimeoutError:
            continue


def is_here(look: str, who: str) -> bool:
    """Whether the room's list of who is here names ``who`` (Tam may be
    walking by, and other players stand about)."""
    return re.search(rf"\b{who}\b[^.]* (is|are) here\.", one_line(look), re.I) is not None


def read_after(client: Client, marker: str, needle: str,
               timeout: float = FIGHT_TIMEOUT) -> str:
    """Read until ``needle`` has arrived after ``marker`` (which has)."""
    deadline = time.monotonic() + timeout
    while needle not in client.text[client.text.index(marker):]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {needle!r} after {marker!r}; received:\n{client.text}")
        try:
            if not client.recv_some(remaining):
                raise AssertionError(f"connection closed waiting for {needle!r}:\n{client.text}")
        except TimeoutError:
            continue
    return client.text


def walk(client: Client, *directions: str) -> str:
    text = ""
    for direction in directions:
        text = do(client, direction)
    return text


def to_the_road(client: Client) -> None:
    assert "The moor road" in walk(client, "south", "south")


def to_the_barrow(client: Client) -> str:
    """From the square to the barrow, where the wight is: what the player saw there."""
    walk(client, "south", "south", "south", "south")
    client.raw.clear()
    client.send_line("south")
    return client.read_until("The barrow mound")


# --- the weak creature -----------------------------------------------------------------

def test_killing_the_wild_dog_leaves_a_corpse_holding_its_coin(world):
    ann = plain_player(world)
    create_character(ann, "ann")            # the first character: a wizard, who may reset
    bob = plain_player(world)
    create_character(bob, "bob")
    to_the_road(ann)
    to_the_road(bob)
    assert is_here(do(ann, "look"), "a wild dog")
    assert "The wild dog looks like an easy fight. The wild dog is unhurt." in \
        one_line(do(ann, "consider dog"))
    assert "The wild dog carries a copper coin." in do(ann, "examine dog")

    bob.raw.clear()
    assert "You attack the wild dog!" in do(ann, "kill dog")
    bob.read_until("Ann attacks the wild dog!")
    text = ann.read_until("You killed the wild dog.", timeout=FIGHT_TIMEOUT)
    assert re.search(r"You (hit|miss) the wild dog", text), text
    assert "The wild dog yelps once, and lies still." in text
    bob.read_until("The wild dog yelps once, and lies still.", timeout=FIGHT_TIMEOUT)
    assert re.search(r"Ann (hits|misses) the wild dog", bob.text), bob.text
    world.wait_for_log(r"The wild dog \(/npc/dog#\d+\) was killed by Ann \(/std/player#\d+\) "
                       r"in /rooms/moor/road")

    look = one_line(do(ann, "look"))
    assert "You see the corpse of a wild dog here." in look and not is_here(look, "a wild dog")
    assert "There is no dog here." in do(ann, "kill dog")
    assert "It still holds a copper coin" in one_line(do(ann, "examine corpse"))
    assert "You can't take that." in do(ann, "get corpse")
    assert "The corpse of a wild dog holds no apple." in do(ann, "get apple from corpse")
    bob.raw.clear()
    assert "You take a copper coin from the corpse of a wild dog." in \
        do(ann, "get coin from corpse")
    bob.read_until("Ann takes a copper coin from the corpse of a wild dog.")
    assert "holds nothing you can take" in do(bob, "get all from corpse")
    assert "Nothing is left on it." in one_line(do(ann, "look at corpse"))
    assert "a copper coin" in do(ann, "inventory")
    assert "There is nothing here you can take." in do(bob, "get all")   # the body's own get

    do(ann, "reset here")                   # the road's resident comes back
    assert is_here(do(ann, "look"), "a wild dog")


def test_a_wielded_weapon_fights_in_place_of_fists_while_it_is_carried(world):
    cal = plain_player(world)
    create_character(cal, "cal")            # the first character: a wizard, who may clone
    assert "You wield nothing." in do(cal, "unwield")
    do(cal, "clone /obj/coin")
    assert "You cannot fight with a copper coin." in do(cal, "wield coin")
    assert "Wield what?  You carry no such thing." in do(cal, "wield axe")
    do(cal, "clone /obj/cudgel")
    assert "You wield an oak cudgel." in do(cal, "wield cudgel")
    assert "You wield an oak cudgel." in do(cal, "inventory")
    assert "wielding an oak cudgel" in do(cal, "score")
    to_the_road(cal)
    cal.raw.clear()
    do(cal, "kill dog")
    text = cal.read_until("You killed the wild dog.", timeout=FIGHT_TIMEOUT)
    assert re.search(r"You club the wild dog", text), text
    assert not re.search(r"You hit the wild dog", text), text
    # Let go of, it is wielded no more: nothing to undo.
    do(cal, "drop cudgel")
    assert "You wield" not in do(cal, "inventory")
    do(cal, "get cudgel")
    assert "You wield nothing." in do(cal, "unwield")
    # The barrow-wight's grave goods: a better blade.
    do(cal, "clone /obj/sword")
    assert "You wield a bronze sword." in do(cal, "wield sword")
    assert "You put away a bronze sword." in do(cal, "unwield")


def test_a_corpse_left_alone_crumbles_and_leaves_what_it_held_on_the_ground(patched_world):
    world = patched_world({"obj/corpse.py": [("DECAY_SECONDS = 300\n", "DECAY_SECONDS = 1\n")]})
    cid = plain_player(world)
    create_character(cid, "cid")
    to_the_road(cid)
    do(cid, "kill dog")
    cid.read_until("You killed the wild dog.", timeout=FIGHT_TIMEOUT)
    text = cid.read_until("crumbles into dust.", timeout=FIGHT_TIMEOUT)
    assert "The corpse of a wild dog crumbles into dust. A copper coin lies where it was." \
        in one_line(text)
    look = one_line(do(cid, "look"))
    assert "You see a copper coin here." in look and "corpse" not in look


# --- who cannot be fought ----------------------------------------------------------------

def test_townsfolk_refuse_and_players_never_fight_players(world):
    dee = plain_player(world)
    create_character(dee, "dee")
    eli = plain_player(world)
    create_character(eli, "eli")
    dee.read_until("Eli enters the game.")
    eli.raw.clear()
    assert "Eli is a fellow adventurer. Players do not fight each other in this world." in \
        one_line(do(dee, "kill eli"))
    assert "Eli is a fellow adventurer." in do(dee, "consider eli")
    assert "your own worst enemy" in do(dee, "attack dee")
    assert "You cannot fight that." in do(dee, "kill coin")
    assert "There is no dragon here." in do(dee, "kill dragon")
    assert "Attack whom?" in do(dee, "kill")
    assert "You are not fighting anyone." in do(dee, "flee")
    # What Eli reads up to the answer to her own command: no fight, no blow.
    seen = do(eli, "look")
    assert "Dee is here." in seen and not re.search(r"attack|hits|misses", seen), seen

    assert "Mags the landlady" in do(dee, "west")
    assert "Mags is not someone to pick a fight with." in do(dee, "kill mags")
    assert "Mags is not someone to pick a fight with." in do(dee, "consider landlady")
    walk(dee, "east", "south", "east")
    assert "Hobb the storekeeper" in do(dee, "north")
    assert "Hobb is not someone to pick a fight with." in do(dee, "kill hobb")
    score = one_line(do(dee, "score"))
    assert "Wimpy off." in score and "fighting" not in score


# --- the dangerous creature, and death ------------------------------------------------------

def test_the_wight_attacks_on_entry_and_the_dead_wake_in_the_tavern_without_their_things(world):
    ada = plain_player(world)
    create_character(ada, "ada")            # the first character: a wizard
    cara = plain_player(world)
    create_character(cara, "cara")
    assert "You take a copper coin." in do(cara, "get coin")

    assert is_here(to_the_barrow(cara), "a barrow-wight")
    cara.send_line("consider wight")
    cara.read_until("would tear you apart")
    cara.read_until("You wake", timeout=FIGHT_TIMEOUT)
    read_after(cara, "You wake", "You see a notice board here.")   # the tavern's look
    flat = one_line(cara.text)
    # She sees the room first; the wight comes at her after.
    assert flat.index("The barrow mound") < flat.index(
        "The barrow-wight rises from the dark of the doorway and reaches for you!")
    assert re.search(r"The barrow-wight claws you( hard| very hard)?\.", flat), flat
    assert flat.index("reaches for you") < flat.index("You die.")
    assert "You wake on a bench by the fire of the Crooked Lantern" in flat
    assert flat.index("You die.") < flat.rindex("The Crooked Lantern")
    match = world.wait_for_log(r"Cara \(/std/player#\d+\) was killed by the barrow-wight "
                               r"\((/npc/wight#\d+)\) in /rooms/moor/barrow")
    assert "You carry nothing." in do(cara, "inventory")
    assert re.search(r"Health\s+10/30", do(cara, "score"))
    assert "Mags the landlady" in do(cara, "look")
    saved = json.loads((world.directory / "data" / "players" / "cara.json").read_text())
    assert saved["room"] == "/rooms/tavern"

    # The wizard takes the wight away, so that Cara can go back for her things.
    assert "You destruct" in do(ada, f"destruct {match.group(1)}")
    walk(cara, "east")
    look = one_line(to_the_barrow(cara))
    assert "You see the corpse of Cara here." in look and "wight" not in look
    assert "You take a copper coin from the corpse of Cara." in \
        do(cara, "get all from corpse")
    # A reset brings the wight back, and it goes for whoever is there.
    cara.raw.clear()
    do(ada, "reset /rooms/moor/barrow")
    cara.read_until("reaches for you!", timeout=FIGHT_TIMEOUT)


def gmcp_vitals(peer: TelnetPeer) -> list[dict]:
    return [json.loads(c[2].split(b" ", 1)[1]) for c in peer.commands
            if c[:2] == ("SB", GMCP) and c[2].startswith(b"Char.Vitals ")]


def msdp_health(peer: TelnetPeer) -> list[int]:
    found = []
    for command in peer.commands:
        if command[:2] == ("SB", MSDP):
            match = re.search(re.escape(MSDP_VAR + b"HEALTH" + MSDP_VAL) + rb"(\d+)", command[2])
            if match:
                found.append(int(match.group(1)))
    return found


def test_the_clients_gauges_follow_the_fight_and_the_death(world):
    """GMCP Char.Vitals and MSDP HEALTH are sent as blows land, and again
    when the dead wake with a third of their health."""
    peer = TelnetPeer(world.telnet_port)
    new_character(peer, "Gwen")
    peer.wait_command(("WILL", GMCP))
    peer.send(iac(DO, GMCP) + sb(GMCP, b'Core.Supports.Set ["Char 1"]'))
    peer.wait_command(("WILL", MSDP))
    peer.send(iac(DO, MSDP) + msdp_request("REPORT", "HEALTH"))
    peer.wait(lambda: msdp_health(peer) == [30], "MSDP HEALTH 30")
    for direction in ("south", "south", "south", "south", "south"):
        play(peer, direction)
    peer.wait_text("You wake on a bench", timeout=FIGHT_TIMEOUT)

    def woke(values: list[int]) -> bool:
        """Down to 0, and then 10 (rest may add to it later)."""
        return 0 in values and 10 in values[values.index(0):]
    peer.wait(lambda: woke([v["hp"] for v in gmcp_vitals(peer)]) and woke(msdp_health(peer)),
              "the gauges at 0, then 10")
    hp = [v["hp"] for v in gmcp_vitals(peer)]
    # 27 after the bog, and the wight's first blow takes 4 to 10.
    assert any(17 <= value <= 23 for value in hp[:hp.index(0)]), hp
    peer.close()


# --- running away -----------------------------------------------------------------------

def test_flee_leaves_the_room_and_wimpy_flees_by_itself(patched_world):
    world = patched_world(STURDY_DOG)
    eve = plain_player(world)
    create_character(eve, "eve")
    to_the_road(eve)
    assert "You attack the wild dog!" in do(eve, "kill dog")
    assert "fighting the wild dog" in do(eve, "score")
    assert "You are fighting the wild dog already!" in do(eve, "kill dog")
    for _ in range(8):          # each try costs 10 stamina; the dog may cut her off
        text = one_line(do(eve, "flee"))
        if "You turn and run!" in text:
            break
        assert "cuts you off" in text, text
    else:
        raise AssertionError("eight tries to flee, and the dog cut her off every time")
    assert re.search(r"(The south gate|A crossroads on the moor)", text), text
    assert "The moor road" not in do(eve, "look")
    assert "You are not fighting anyone." in do(eve, "flee")
    assert "fighting" not in do(eve, "score")

    assert "Wimpy is off: you fight to the end." in do(eve, "wimpy")
    assert "from 0 to 90 percent" in do(eve, "wimpy 95")
    assert "from 0 to 90 percent" in do(eve, "wimpy lots")
    assert "Wimpy is 90%: you run from a fight when your health falls below 27 of 30." in \
        one_line(do(eve, "wimpy 90%"))
    assert "Wimpy 90%." in one_line(do(eve, "score"))
    back = "north" if "A crossroads on the moor" in text else "south"
    assert "The moor road" in do(eve, back)
    eve.raw.clear()
    eve.send_line("kill dog")
    text = eve.read_until("You turn and run!", timeout=FIGHT_TIMEOUT)
    flat = one_line(text)
    assert flat.index("Your courage fails you!") < flat.rindex("You turn and run!")
    assert "The wild dog bites you" in flat
    do(eve, "look")     # the flight's own output, up to its end
    assert "The moor road" not in do(eve, "look")
    quit_game(eve)

    again = plain_player(world)
    assert "Wimpy is 90%" in log_in(again, "eve") + do(again, "wimpy")
    assert "Wimpy is off" in do(again, "wimpy off")
    saved = json.loads((world.directory / "data" / "players" / "eve.json").read_text())
    assert saved["wimpy"] == 0


# --- a fight whose player goes away -------------------------------------------------------------

def test_link_death_or_quitting_ends_the_fight_and_nothing_calls_the_gone(patched_world):
    world = patched_world(STURDY_DOG)
    fay = plain_player(world)
    create_character(fay, "fay")
    gus = plain_player(world)
    create_character(gus, "gus")
    to_the_road(fay)
    to_the_road(gus)

    gus.raw.clear()
    do(fay, "kill dog")
    gus.read_until("Fay attacks the wild dog!")
    fay.close()                             # the link drops mid-fight
    world.wait_for_log(r"Fay lost the link")
    gus.read_until("The wild dog loses interest in Fay, who stands as still as stone.",
                   timeout=FIGHT_TIMEOUT)

    assert "You attack the wild dog!" in do(gus, "kill dog")
    quit_game(gus)                          # the body is destructed mid-fight
    world.wait_for_log(r"Gus quit")

    hal = plain_player(world)
    create_character(hal, "hal")
    to_the_road(hal)
    hal.raw.clear()
    do(hal, "kill dog")                     # rounds go on: the daemon's heart beat survived
    read_any(hal, ("You hit the wild dog", "You miss the wild dog"))
    read_any(hal, ("The wild dog bites you", "The wild dog misses you"))
    assert "Traceback" not in world.log
    assert "heart beat turned off" not in world.log
    assert is_here(do(hal, "look"), "Fay")     # the link-dead body, left in peace


# --- help ---------------------------------------------------------------------------------------

def test_help_lists_the_fighting_commands_and_explains_combat(world):
    ivy = plain_player(world)
    create_character(ivy, "ivy")
    index = one_line(do(ivy, "help"))
    assert "Fighting: kill consider flee wimpy" in index
    assert re.search(r"Topics \('help <topic>'\):.*\bcombat\b", index), index
    page = one_line(do(ivy, "help combat"))
    assert "Fighting" in page and "'get all from corpse'" in page and "wimpy 30" in page
    assert one_line(do(ivy, "help fight")) == page
    assert "Usage: kill <creature>" in do(ivy, "help kill")
    assert "(also: attack)" in do(ivy, "help kill")
    assert "how dangerous it looks to you" in one_line(do(ivy, "help consider"))
    assert "Running costs stamina" in one_line(do(ivy, "help flee"))
    assert "Usage: wimpy [percent|off]" in do(ivy, "help wimpy")
