"""/std/room: the base of every room in the world.

A room owns its description (a short title, a long paragraph, details a
player can look at), its exits, and the messages the room's occupants see
when someone arrives or leaves.  Rooms are blueprints, never cloned: a
room file sets the class attributes below and inherits the rest.

    class Square(inherit("/std/room")):
        short = "The town square"
        long = "..."
        exits = {"north": "/rooms/tower"}
        items = {"fountain": "..."}
"""

import textwrap

from driver.efuns import (
    MudObject,
    add_action,
    all_inventory,
    call_other,
    debug_message,
    living,
    load_object,
    move_object,
    object_name,
    query_verb,
    tell_room,
    this_player,
)

# Players' terminals are assumed 80 columns wide, the way MUDs always have.
WIDTH = 78

# Abbreviations a player may type for a direction.
DIRECTION_ALIASES = {
    "n": "north", "s": "south", "e": "east", "w": "west",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest",
    "u": "up", "d": "down",
}


def wrap(text):
    """Reflow a paragraph written across several source lines."""
    return textwrap.fill(" ".join(text.split()), WIDTH)


def _list_words(words):
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


class Room(MudObject):
    short = "A nondescript place"
    long = "There is nothing here worth describing."
    # direction -> path of the room it leads to
    exits = {}
    # noun -> description, for 'look <noun>'; several nouns may share a text
    items = {}
    # words present() and 'look' recognise for the room itself
    ids = ()

    def create(self):
        # Each room gets its own copies so one room changing its exits at
        # run time (a door, a collapsed bridge) never touches another.
        self.exits = dict(self.exits)
        self.items = dict(self.items)

    # -- exits are the room's commands -----------------------------------------

    def init(self):
        """Someone arrived: give them a command for every exit (and its
        abbreviation), the way LP rooms always have."""
        for direction in self.exits:
            add_action("cmd_exit", direction)
            for alias, full in DIRECTION_ALIASES.items():
                if full == direction:
                    add_action("cmd_exit", alias)

    def cmd_exit(self, arg):
        if arg:
            return 0    # 'north gate' is not a way out; let another action try
        who = this_player()
        direction, path = self.find_exit(query_verb())
        try:
            dest = load_object(path)
        except Exception as exc:    # a broken room is the builder's problem
            debug_message(f"exit {direction} of {object_name(self)} leads to "
                          f"{path}, which fails to load: {exc}", "warning")
            call_other(who, "tell", "A strange force blocks your way.\n")
            return 1
        self.announce_departure(who, direction)
        move_object(who, dest)
        dest.announce_arrival(who, self)
        call_other(who, "look_around")
        return 1

    # -- identity ------------------------------------------------------------

    def id(self, word):
        return word.lower() in self.ids

    def short_description(self):
        return self.short

    # -- exits ---------------------------------------------------------------

    def query_exits(self):
        return dict(self.exits)

    def is_direction(self, word):
        """Whether `word` names a direction at all, exit here or not."""
        return word in DIRECTION_ALIASES or word in DIRECTION_ALIASES.values()

    def find_exit(self, word):
        """(direction, path) for an exit, accepting abbreviations; or None."""
        direction = DIRECTION_ALIASES.get(word, word)
        path = self.exits.get(direction)
        return (direction, path) if path else None

    def direction_to(self, room):
        """Which of our exits leads to `room`, so arrivals can name it."""
        name = object_name(room)
        for direction, path in self.exits.items():
            if path == name:
                return direction
        return None

    # -- what a player sees --------------------------------------------------

    def describe(self, viewer):
        """Title, description, exits and who else is here."""
        lines = [self.short, wrap(self.long)]
        if self.exits:
            directions = list(self.exits)
            noun = "exit" if len(directions) == 1 else "exits"
            lines.append(f"Obvious {noun}: {_list_words(directions)}.")
        else:
            lines.append("There are no obvious exits.")
        things = [
            call_other(ob, "short_description") or object_name(ob)
            for ob in all_inventory(self)
            if ob is not viewer and not living(ob)
        ]
        if things:
            lines.append(f"You see {_list_words(things)} here.")
        others = [
            call_other(ob, "short_description") or object_name(ob)
            for ob in all_inventory(self)
            if ob is not viewer and living(ob)
        ]
        if len(others) == 1:
            lines.append(f"{others[0]} is here.")
        elif others:
            lines.append(f"{_list_words(others)} are here.")
        return "\n".join(lines) + "\n"

    def describe_item(self, noun):
        """The text for 'look <noun>', or None if the room has no such thing."""
        text = self.items.get(noun.lower())
        return wrap(text) + "\n" if text else None

    # -- comings and goings --------------------------------------------------

    def announce_departure(self, who, direction=None):
        name = call_other(who, "query_name") or "Something"
        where = f" {direction}" if direction else ""
        tell_room(self, f"{name} leaves{where}.\n", exclude=(who,))

    def announce_arrival(self, who, came_from=None):
        name = call_other(who, "query_name") or "Something"
        direction = self.direction_to(came_from) if came_from else None
        if direction in ("up", "down"):
            where = f" from {'above' if direction == 'up' else 'below'}"
        elif direction:
            where = f" from the {direction}"
        else:
            where = ""
        tell_room(self, f"{name} arrives{where}.\n", exclude=(who,))

