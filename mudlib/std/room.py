"""/std/room: the base of every room in the world.

A room owns its description (a short title, a long paragraph, details a
player can look at), its exits, the area it belongs to, and the messages
the room's occupants see when someone arrives or leaves.  Rooms are
blueprints, never cloned: a room file sets the class attributes below and
inherits the rest.

    class Square(inherit("/std/room")):
        short = "The town square"
        long = "..."
        area = "Ravenmoor"
        outdoors = True
        exits = {"north": "/rooms/tower"}
        items = {"fountain": "..."}

Text for the people here goes through `tell_here()`, which hands it to
each of them (a player's body colours and wraps it for its own client);
the room's description is written unwrapped, with colour markup.

A room restocks itself when it is made and at every reset (the driver
calls `reset()` about once an hour, `mudlib.reset_interval`): `stock`
lists the things that lie here (program -> how many), made again when
players have taken them; `residents` the people and creatures who live
here, made again only if they are gone from the world altogether (one who
wandered off is still about).

        stock = {"/obj/coin": 2}
        residents = ("/npc/mags",)
"""

import zlib

from driver.efuns import (
    MudObject,
    add_action,
    all_inventory,
    call_other,
    clone_object,
    debug_message,
    find_object,
    interactive,
    living,
    load_name,
    load_object,
    move_object,
    object_name,
    query_verb,
    tell_object,
    this_player,
)

GRAMMAR = "/std/grammar"
CLOCK = "/daemon/clock"

# Abbreviations a player may type for a direction.
DIRECTION_ALIASES = {
    "n": "north", "s": "south", "e": "east", "w": "west",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest",
    "u": "up", "d": "down",
}


def paragraph(text):
    """A paragraph written across several source lines, as one line: each
    player's body wraps it to the width of that player's window."""
    return " ".join(text.split())


def room_number(path):
    """A room's number for client mappers (GMCP Room.Info wants a number):
    the same for a room every time the game runs."""
    return zlib.crc32(path.encode("utf-8")) & 0x7FFFFFFF


class Room(MudObject):
    short = "A nondescript place"
    long = "There is nothing here worth describing."
    # direction -> path of the room it leads to
    exits = {}
    # noun -> description, for 'look <noun>'; several nouns may share a text
    items = {}
    # words present() and 'look' recognise for the room itself
    ids = ()
    # the part of the world it is in (client mappers group rooms by area)
    area = "Ravenmoor"
    # under the sky: the time of day shows, and the weather is felt
    outdoors = False
    # stamina a step out of this room costs
    stamina_cost = 1
    # what lies here when the room is made and after each reset: program -> how many
    stock = {}
    # who lives here: made with the room, and again at a reset if gone from the world
    residents = ()

    def create(self):
        # Each room gets its own copies so one room changing its exits at
        # run time (a door, a collapsed bridge) never touches another.
        self.exits = dict(self.exits)
        self.items = dict(self.items)
        # resident's program -> its object name, to find it by (a destructed
        # one is no longer in the object table)
        self.resident_names = {}
        self.restock()

    def reset(self):
        self.restock()

    def restock(self):
        """Put back what `stock` and `residents` say belongs here."""
        for program, count in self.stock.items():
            have = sum(1 for ob in all_inventory(self) if load_name(ob) == program)
            for _ in range(count - have):
                move_object(clone_object(program), self)
        for program in self.residents:
            name = self.resident_names.get(program)
            if name is None or find_object(name) is None:
                resident = clone_object(program)
                self.resident_names[program] = object_name(resident)
                move_object(resident, self)

    # -- exits are the room's commands -----------------------------------------

    def init(self):
        """Someone arrived: give them a command for every exit (and its
        abbreviation), the way LP rooms always have, and tell them where
        they are (a player's client updates its map)."""
        for direction in self.exits:
            add_action("cmd_exit", direction)
            for alias, full in DIRECTION_ALIASES.items():
                if full == direction:
                    add_action("cmd_exit", alias)
        call_other(this_player(), "entered_room", self)

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
        if call_other(who, "spend_stamina", self.stamina_cost) is False:
            call_other(who, "tell", "You are too tired to go on.  Rest a while; "
                       "your strength comes back.\n")
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

    def query_area(self):
        return self.area

    def query_outdoors(self):
        return self.outdoors

    def query_number(self):
        return room_number(object_name(self))

    def query_gmcp_info(self):
        """GMCP Room.Info as IRE's mapper format has it: numbers for the room
        and for where each exit leads."""
        return {
            "num": self.query_number(),
            "name": self.short,
            "area": self.area,
            "environment": "outdoors" if self.outdoors else "indoors",
            "exits": {direction: room_number(path) for direction, path in self.exits.items()},
        }

    # -- talking to the people here ------------------------------------------

    def tell_here(self, text, exclude=()):
        """`text` to everyone here but `exclude`.  Bodies colour and wrap it
        for their own clients (their tell()); anything else that listens
        gets it through tell_object (an NPC's catch_tell)."""
        for ob in all_inventory(self):
            if ob in exclude:
                continue
            if call_other(ob, "query_is_player"):
                call_other(ob, "tell", text)
            elif living(ob) or interactive(ob):
                tell_object(ob, text)

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

    def long_description(self):
        """The room's paragraph; under the sky, with the time of day."""
        text = paragraph(self.long)
        if self.outdoors:
            sky = call_other(CLOCK, "query_sky")
            if sky:
                text += "  " + sky
        return text

    def describe(self, viewer, brief=False):
        """Title, description, exits and who else is here, in colour markup;
        `brief` leaves the description out (a player's 'brief on')."""
        grammar = load_object(GRAMMAR)
        lines = [f"%^ROOM%^{self.short}%^RESET%^"]
        if not brief:
            lines.append(self.long_description())
        if self.exits:
            directions = list(self.exits)
            noun = "exit" if len(directions) == 1 else "exits"
            lines.append(f"%^EXITS%^Obvious {noun}: {grammar.list_words(directions)}.%^RESET%^")
        else:
            lines.append("%^EXITS%^There are no obvious exits.%^RESET%^")
        things = [ob for ob in all_inventory(self) if ob is not viewer and not living(ob)]
        if things:
            lines.append(f"You see %^ITEM%^{grammar.list_things(things)}%^RESET%^ here.")
        others = [ob for ob in all_inventory(self) if ob is not viewer and living(ob)]
        if others:
            verb = "is" if len(others) == 1 else "are"
            listed = grammar.list_things(others)
            lines.append(f"%^LIVING%^{listed[:1].upper()}{listed[1:]}%^RESET%^ {verb} here.")
        return "\n".join(lines) + "\n"

    def describe_item(self, noun):
        """The text for 'look <noun>', or None if the room has no such thing."""
        text = self.items.get(noun.lower())
        return paragraph(text) + "\n" if text else None

    # -- comings and goings --------------------------------------------------

    def announce_departure(self, who, direction=None):
        name = call_other(who, "query_name") or "Something"
        where = f" {direction}" if direction else ""
        self.tell_here(f"{name} leaves{where}.\n", exclude=(who,))

    def announce_arrival(self, who, came_from=None):
        name = call_other(who, "query_name") or "Something"
        direction = self.direction_to(came_from) if came_from else None
        if direction in ("up", "down"):
            where = f" from {'above' if direction == 'up' else 'below'}"
        elif direction:
            where = f" from the {direction}"
        else:
            where = ""
        self.tell_here(f"{name} arrives{where}.\n", exclude=(who,))

