"""/std/player: the body a player walks around in.

A clone of this program owns one character once the login is done: its
saved state (the attributes in `persistent`), the commands its player can
type, and what happens when the player leaves, quits or loses the link.
/secure/login does the asking for names and passwords; a body only ever
exists for a player who has given the right one.
"""

from datetime import datetime, timezone

from driver.efuns import (
    EfunError,
    MudObject,
    call_other,
    debug_message,
    destruct,
    environment,
    interactive,
    load_object,
    move_object,
    object_name,
    present,
    query_host_name,
    query_idle,
    query_ip_number,
    query_listen_ports,
    remove_interactive,
    save_object,
    say,
    tell_object,
    tell_room,
    time,
    tls_query_connection_info,
    tls_query_connection_state,
    tls_refresh_certs,
    users,
)

START_ROOM = "/rooms/square"
MASTER = "/master"

# (verbs, method, usage, what it does), in the order 'help' lists them.
COMMANDS = (
    (("look", "l"), "cmd_look", "look [thing]",
     "look around, or at something or someone here"),
    (("go",), "cmd_go", "go <direction>",
     "walk through an exit, or just type it: north, n, up, u"),
    (("say",), "cmd_say", "say <text>",
     "speak to everyone in the room; 'text does the same"),
    (("tell",), "cmd_tell", "tell <player> <text>",
     "speak to one player, wherever they are"),
    (("who",), "cmd_who", "who", "list the players in the game"),
    (("tls",), "cmd_tls", "tls", "tell whether your connection is encrypted"),
    (("save",), "cmd_save", "save", "save your character"),
    (("help",), "cmd_help", "help", "this list"),
    (("quit",), "cmd_quit", "quit", "save and leave the game"),
)

# Commands only the game's administrators may use (see /master).
ADMIN_COMMANDS = (
    (("tlsreload",), "cmd_tlsreload", "tlsreload",
     "reload the TLS certificate and key from disk"),
)


def _verb_table(commands):
    return {verb: method for verbs, method, _, _ in commands for verb in verbs}


VERBS = _verb_table(COMMANDS)
ADMIN_VERBS = _verb_table(ADMIN_COMMANDS)


def clean(text):
    """Drop control characters from text a player sends to others, so
    nobody can clear someone else's screen or fake a line from the game."""
    return "".join(ch for ch in text if ch.isprintable()).strip()


def format_time(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime(
        "%a %d %b %Y, %H:%M UTC")


def format_idle(seconds):
    seconds = int(seconds)
    if seconds < 60:
        return ""
    if seconds < 3600:
        return f"idle {seconds // 60}m"
    return f"idle {seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Player(MudObject):
    # What save_object() writes to players/<name>.  /secure/login reads the
    # same file, so it takes this list from here.
    persistent = ("name", "password_hash", "room", "created", "last_login")

    def create(self):
        self.name = None
        self.password_hash = None
        self.room = START_ROOM
        self.created = 0
        self.last_login = 0

    # -- identity ------------------------------------------------------------

    def query_is_player(self):
        return True

    def query_name(self):
        return self.name

    def query_password_hash(self):
        return self.password_hash

    def id(self, word):
        return self.name is not None and word.lower() == self.name.lower()

    def short_description(self):
        return self.name

    def long_description(self):
        text = f"{self.name} is an adventurer, like yourself.\n"
        if not interactive(self):
            text += f"{self.name} stands very still, eyes unfocused.\n"
        elif query_idle(self) >= 300:
            text += f"{self.name} is lost in thought.\n"
        return text

    def tell(self, text):
        # tell_object, not write(): several of these methods run when the
        # command giver is someone else (the login, the master).
        tell_object(self, text)

    # -- the character and its save file -------------------------------------

    def save_path(self):
        return f"players/{self.name.lower()}"

    def receive_character(self, character):
        """Take over a character the login has read or made.  Values it does
        not have keep this body's defaults."""
        for attr in self.persistent:
            value = character.get(attr)
            if value is not None:
                setattr(self, attr, value)

    def save_character(self):
        if not self.name:
            return False
        room = environment(self)
        if room is not None:
            self.room = object_name(room)
        save_object(self, self.save_path())
        return True

    # -- entering and leaving the game ---------------------------------------

    def enter_game(self):
        """Called by /secure/login once the connection is ours."""
        mud = load_object(MASTER).query_mud_name()
        previous = self.last_login
        self.last_login = time()
        room = self._load_room(self.room)
        move_object(self, room)
        if previous:
            self.tell(f"Welcome back to {mud}, {self.name}.  "
                      f"You were last here on {format_time(previous)}.\n\n")
        else:
            self.tell(f"Welcome to {mud}, {self.name}.  "
                      "Type 'help' to see what you can do here.\n\n")
        tell_room(room, f"{self.name} enters the game.\n", exclude=(self,))
        self.cmd_look("")
        self.save_character()
        debug_message(f"{self.name} entered the game from "
                      f"{query_ip_number(self)}")

    def resume(self):
        """Called by /secure/login when a new connection takes this body
        over from an old one: the body never left the world."""
        room = environment(self)
        if room is not None:
            tell_room(room, f"{self.name} blinks and looks around, as if "
                      "waking from a dream.\n", exclude=(self,))
        self.tell("You take over your body, which was already in the game.\n\n")
        self.cmd_look("")
        debug_message(f"{self.name} reconnected from {query_ip_number(self)}")

    def link_dead(self):
        """The master calls this when our connection has gone.  A body
        without a player is no use to anyone: save it and take it away."""
        self.save_character()
        room = environment(self)
        if room is not None:
            tell_room(room, f"{self.name} fades slowly from view as the link "
                      "to this world breaks.\n", exclude=(self,))
        debug_message(f"{self.name} lost the link; saved and removed")
        destruct(self)

    def _load_room(self, path):
        """The room to put the body in: where it was, or the square if that
        room is gone or broken."""
        try:
            return load_object(path or START_ROOM)
        except Exception as exc:    # a broken room file must not lock anyone out
            debug_message(f"{self.name}: cannot load {path}: {exc}; "
                          f"using {START_ROOM}", "warning")
            return load_object(START_ROOM)

    # -- commands ------------------------------------------------------------

    def is_admin(self):
        return bool(load_object(MASTER).query_admin(self.name))

    def process_input(self, line):
        line = line.strip()
        if not line:
            return
        if line.startswith("'"):
            self.cmd_say(line[1:])
            return
        verb, _, arg = line.partition(" ")
        verb, arg = verb.lower(), arg.strip()
        method = VERBS.get(verb)
        if method is None and self.is_admin():
            method = ADMIN_VERBS.get(verb)
        if method is not None:
            getattr(self, method)(arg)
        elif arg or not self._walk(verb):
            # a bare word may be an exit: 'north', 'n', 'out'
            self.tell("What?\n")

    def cmd_look(self, arg):
        room = environment(self)
        if room is None:
            self.tell("You float in a grey void.  Something is wrong with the "
                      "world; try 'quit' and come back.\n")
            return
        target = arg.lower()
        if target.startswith("at "):
            target = target[3:].strip()
        if not target or call_other(room, "id", target):
            self.tell(room.describe(self))
            return
        if target in ("me", "myself", "self"):
            self.tell(f"You are {self.name}, as ready for adventure as ever.\n")
            return
        text = call_other(room, "describe_item", target)
        if text:
            self.tell(text)
            return
        ob = present(target, room)
        if ob is not None:
            self.tell(call_other(ob, "long_description")
                      or "You see nothing special.\n")
            return
        self.tell(f"You see no {target} here.\n")

    def cmd_go(self, arg):
        if not arg:
            self.tell("Go where?\n")
        elif not self._walk(arg.lower()):
            self.tell("You can't go that way.\n")

    def _walk(self, word):
        """Leave through the exit called `word`.  False if `word` is not a
        direction at all (the caller decides what to say), True once the
        player has been answered, even if the way was blocked."""
        room = environment(self)
        if room is None:
            return False
        found = room.find_exit(word)
        if found is None:
            if room.is_direction(word):
                self.tell("You can't go that way.\n")
                return True
            return False
        direction, path = found
        try:
            dest = load_object(path)
        except Exception as exc:    # a broken room is the builder's problem
            debug_message(f"exit {direction} of {object_name(room)} leads to "
                          f"{path}, which fails to load: {exc}", "warning")
            self.tell("A strange force blocks your way.\n")
            return True
        room.announce_departure(self, direction)
        move_object(self, dest)
        dest.announce_arrival(self, room)
        self.cmd_look("")
        return True

    def cmd_say(self, arg):
        text = clean(arg)
        if not text:
            self.tell("Say what?\n")
            return
        say(f"{self.name} says: {text}\n")
        self.tell(f"You say: {text}\n")

    def cmd_tell(self, arg):
        who, _, text = arg.partition(" ")
        text = clean(text)
        if not who or not text:
            self.tell("Tell whom what?  (tell <player> <text>)\n")
            return
        target = load_object(MASTER).find_player(who)
        if target is None:
            self.tell(f"There is no one called {who.capitalize()} in the game.\n")
        elif target is self:
            self.tell("You mutter something to yourself.\n")
        else:
            tell_object(target, f"{self.name} tells you: {text}\n")
            self.tell(f"You tell {target.query_name()}: {text}\n")

    def cmd_who(self, arg):
        players = sorted(
            (ob for ob in users() if call_other(ob, "query_is_player")),
            key=lambda ob: ob.query_name())
        mud = load_object(MASTER).query_mud_name()
        lines = [f"Adventurers in {mud}:"]
        for ob in players:
            link = "tls" if tls_query_connection_state(ob) == 1 else "telnet"
            lines.append(f"  {ob.query_name():<16} {link:<7} "
                         f"{format_idle(query_idle(ob))}".rstrip())
        count = len(players)
        lines.append(f"{count} player{'' if count == 1 else 's'} online.  "
                     "'tls' means the connection is encrypted.")
        self.tell("\n".join(lines) + "\n")

    def cmd_tls(self, arg):
        if tls_query_connection_state(self) == 1:
            info = tls_query_connection_info(self)
            bits = info.bits    # one of the fields after LDMud's five
            strength = f", {bits}-bit keys" if bits else ""
            self.tell(f"Your connection is encrypted: {info.prot}, "
                      f"cipher {info.cipher}{strength}.\n")
            return
        tls_port = query_listen_ports().tls
        if tls_port is None:
            self.tell("Your connection is not encrypted, and this game has no "
                      "TLS port to offer.\n")
            return
        host = query_host_name()
        self.tell(
            "Your connection is not encrypted: what you type, your password\n"
            "included, crosses the network as plain text.\n"
            f"This game also accepts TLS connections at {host} port {tls_port}.\n"
            "To use it:\n"
            f"  TinTin++   #ssl game {host} {tls_port}\n"
            f"  Mudlet     tick \"Secure\" in the connection profile and use "
            f"port {tls_port}\n"
            "  others     look for \"TLS\" or \"SSL\" in your client's "
            "connection settings\n")

    def cmd_save(self, arg):
        self.save_character()
        self.tell("Your character has been saved.\n")

    def cmd_help(self, arg):
        commands = COMMANDS + (ADMIN_COMMANDS if self.is_admin() else ())
        lines = ["Commands:"]
        for _, _, usage, text in commands:
            lines.append(f"  {usage:<22} {text}")
        self.tell("\n".join(lines) + "\n")

    def cmd_quit(self, arg):
        self.save_character()
        room = environment(self)
        if room is not None:
            tell_room(room, f"{self.name} leaves the game.\n", exclude=(self,))
        self.tell("Your character has been saved.  Farewell, and come back soon!\n")
        debug_message(f"{self.name} quit")
        remove_interactive(self)
        destruct(self)

    def cmd_tlsreload(self, arg):
        try:
            tls_refresh_certs()
        except EfunError as exc:
            self.tell(f"The certificates were not reloaded: {exc}\n")
            return
        debug_message(f"{self.name} reloaded the TLS certificates")
        self.tell("Certificates reloaded.  New connections use them; nobody "
                  "was disconnected.\n")
