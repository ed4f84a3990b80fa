"""/std/player: the body a player walks around in.

A clone of this program owns one character once the login is done: its
saved state (the attributes in `persistent`), the commands its player can
type, and what happens when the player leaves, quits or loses the link.
/secure/login does the asking for names and passwords; a body only ever
exists for a player who has given the right one.
"""

from datetime import datetime, timezone

from driver.efuns import (
    AA_NOSPACE,
    MTTS_SSL,
    EfunError,
    MudObject,
    add_action,
    all_inventory,
    call_other,
    call_out,
    clone_object,
    command,
    debug_message,
    destruct,
    enable_commands,
    environment,
    find_object,
    interactive,
    load_object,
    move_object,
    object_name,
    present,
    query_host_name,
    query_idle,
    query_ip_number,
    query_linkdead_timeout,
    query_listen_ports,
    query_mtts,
    query_mud_port,
    query_verb,
    reload_object,
    remove_call_out,
    remove_interactive,
    save_object,
    say,
    send_gmcp,
    set_living_name,
    shutdown,
    snoop,
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
    (("emote",), "cmd_emote", "emote <action>",
     "show the room what you do: emote grins"),
    (("get", "take"), "cmd_get", "get <thing>", "pick something up"),
    (("drop",), "cmd_drop", "drop <thing>", "put something down"),
    (("inventory", "i"), "cmd_inventory", "inventory", "list what you carry"),
    (("tell",), "cmd_tell", "tell <player> <text>",
     "speak to one player, wherever they are"),
    (("who",), "cmd_who", "who", "list the players in the game"),
    (("tls",), "cmd_tls", "tls", "tell whether your connection is encrypted"),
    (("save",), "cmd_save", "save", "save your character"),
    (("help",), "cmd_help", "help", "this list"),
    (("quit",), "cmd_quit", "quit", "save and leave the game"),
)

# Commands for wizards, who build and run the world (see /master).
WIZARD_COMMANDS = (
    (("update",), "cmd_update", "update <path>|here",
     "load a file's new code; a room is rebuilt around the people in it"),
    (("clone",), "cmd_clone", "clone <path>", "make a new object from a file"),
    (("destruct",), "cmd_destruct", "destruct <thing>|<object name>",
     "destroy an object"),
    (("goto",), "cmd_goto", "goto <player>|<room path>", "go anywhere at once"),
    (("people",), "cmd_people", "people",
     "every connection: address, port, TLS, cipher, idle time"),
    (("snoop",), "cmd_snoop", "snoop [player]",
     "see what a player sees and types; alone, stop"),
    (("shutdown",), "cmd_shutdown", "shutdown [reason]", "save everyone and stop the game"),
    (("tlsreload",), "cmd_tlsreload", "tlsreload",
     "reload the TLS certificate and key from disk"),
)

# Commands only the game's administrators may use.
ADMIN_COMMANDS = (
    (("promote",), "cmd_promote", "promote <player>", "make a player a wizard"),
)

# Every direction a player may type; without an exit that way the room's
# actions do not take it, and the body says so.
DIRECTIONS = ("north", "south", "east", "west", "northeast", "northwest",
              "southeast", "southwest", "up", "down", "n", "s", "e", "w",
              "ne", "nw", "se", "sw", "u", "d")


def _verb_table(commands):
    return {verb: method for verbs, method, _, _ in commands for verb in verbs}


VERBS = _verb_table(COMMANDS)
WIZARD_VERBS = _verb_table(WIZARD_COMMANDS)
ADMIN_VERBS = _verb_table(ADMIN_COMMANDS)
ALL_VERBS = {**VERBS, **WIZARD_VERBS, **ADMIN_VERBS}
LEVELS = ("player", "wizard", "admin")


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
    persistent = ("name", "password_hash", "room", "created", "last_login", "level")

    def create(self):
        self.name = None
        self.password_hash = None
        self.room = START_ROOM
        self.created = 0
        self.last_login = 0
        # "player", "wizard" or "admin" (a wizard who may also promote)
        self.level = "player"
        self.last_command = None

    # -- identity ------------------------------------------------------------

    def query_is_player(self):
        return True

    def query_name(self):
        return self.name

    def query_password_hash(self):
        return self.password_hash

    def query_level(self):
        return self.level if self.level in LEVELS else "player"

    def query_wizard(self):
        return self.query_level() in ("wizard", "admin")

    def set_level(self, level):
        if level not in LEVELS:
            raise ValueError(f"no such level {level!r}")
        self.level = level
        call_other(self, "add_commands")    # a new wizard gets the new commands at once

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
        """Save; True if it worked.  If not, the log says why and
        query_save_error() tells the player (never "saved" then)."""
        if not self.name:
            return False
        room = environment(self)
        if room is not None:
            self.room = object_name(room)
        try:
            save_object(self, self.save_path())
        except EfunError as exc:
            self.save_error = str(exc).split(": ")[-1]
            debug_message(f"saving {self.name} failed: {exc}", "error")
            return False
        self.save_error = None
        return True

    def query_save_error(self):
        """Why the last save failed, for the player's eyes, or None."""
        return getattr(self, "save_error", None)

    def save_failed_message(self):
        return (f"Your character could NOT be saved ({self.query_save_error()}); "
                "the game's operators have been told.  What you did since the "
                "last save may be lost.\n")

    # -- entering and leaving the game ---------------------------------------

    def enter_game(self):
        """Called by /secure/login once the connection is ours."""
        mud = load_object(MASTER).query_mud_name()
        previous = self.last_login
        self.last_login = time()
        if load_object(MASTER).query_admin(self.name):
            self.level = "admin"    # named in the configuration (mudlib.admins, --admin)
        # call_other, not a plain call: the login is this_object() here, and
        # add_commands() must run as this body.
        call_other(self, "add_commands")
        room = self._load_room(self.room)
        move_object(self, room)
        if previous:
            self.tell(f"Welcome back to {mud}, {self.name}.  "
                      f"You were last here on {format_time(previous)}.\n\n")
        else:
            self.tell(f"Welcome to {mud}, {self.name}.  "
                      "Type 'help' to see what you can do here.\n\n")
        tell_room(room, f"{self.name} enters the game.\n", exclude=(self,))
        self.gmcp_status()
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
        """The master calls this when our connection has gone.  The body is
        saved and stays where it is, link-dead, for the configured time
        (mudlib.linkdead_timeout), so a player whose link dropped can log
        in again and carry on; then it leaves the world."""
        self.save_character()
        timeout = query_linkdead_timeout()
        if timeout <= 0:
            self.linkdead_expired()
            return
        self.linkdead_since = time()
        room = environment(self)
        if room is not None:
            tell_room(room, f"{self.name} goes very still, staring at nothing, as "
                      "the link to this world breaks.\n", exclude=(self,))
        debug_message(f"{self.name} lost the link; link-dead for up to {timeout:g} s")
        call_out("linkdead_expired", timeout)

    def query_link_dead(self):
        return not interactive(self)

    def linkdead_expired(self):
        if interactive(self):
            return
        self.save_character()
        room = environment(self)
        if room is not None:
            tell_room(room, f"{self.name} fades slowly from view.\n", exclude=(self,))
        debug_message(f"{self.name} was link-dead too long; saved and removed")
        destruct(self)

    def reconnect(self):
        """Called by /secure/login when a player logs in to this link-dead
        body: the new connection, plain or TLS, is its link now."""
        remove_call_out("linkdead_expired")
        away = time() - getattr(self, "linkdead_since", time())
        room = environment(self)
        if room is not None:
            tell_room(room, f"{self.name} stirs and looks around again.\n", exclude=(self,))
        self.tell("You were link-dead; your body waited for you where you left it.  "
                  "Welcome back.\n\n")
        self.gmcp_status()
        self.cmd_look("")
        debug_message(f"{self.name} reconnected to a link-dead body after {away} s "
                      f"from {query_ip_number(self)}")

    # -- GMCP for clients that show maps and gauges --------------------------

    def receive_gmcp(self, package, data):
        if package == "Core.Ping":
            send_gmcp(self, "Core.Ping")
        elif package in ("Char.Request", "Room.Request"):
            self.gmcp_status()

    def gmcp_status(self):
        """Char.Name, Char.Vitals and Room.Info, for clients that asked for GMCP."""
        send_gmcp(self, "Char.Name", {"name": self.name, "fullname": self.name})
        send_gmcp(self, "Char.Vitals", {"hp": 100, "maxhp": 100, "mp": 100, "maxmp": 100})
        self.gmcp_room(environment(self))

    def gmcp_room(self, room):
        if room is None:
            return
        exits = call_other(room, "query_exits") or {}
        send_gmcp(self, "Room.Info", {
            "num": object_name(room),
            "name": call_other(room, "short_description") or "",
            "area": load_object(MASTER).query_mud_name(),
            "exits": {direction: path for direction, path in exits.items()},
        })

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
        return self.query_level() == "admin" or \
            bool(load_object(MASTER).query_admin(self.name))

    def add_commands(self):
        """Make this body a living that can give commands, and give it its
        own: the player's, and a wizard's if it is one.  (Rooms and items
        add theirs in their init() when we meet them.)"""
        enable_commands()       # also makes us this_player()
        set_living_name(self.name.lower())
        for verb in VERBS:
            add_action("_command", verb)
        add_action("_command", "'", AA_NOSPACE)   # 'text says text
        if self.query_wizard():
            for verb in WIZARD_VERBS:
                add_action("_command", verb)
        if self.is_admin():
            for verb in ADMIN_VERBS:
                add_action("_command", verb)
        for verb in DIRECTIONS:
            add_action("cmd_no_exit", verb)

    def _command(self, arg):
        """Every command of the body comes here, by its verb."""
        verb = query_verb()
        if verb.startswith("'"):
            self.cmd_say(arg or "")     # AA_NOSPACE: all after the ' is the argument
            return 1
        getattr(self, ALL_VERBS[verb])(arg or "")
        return 1

    def cmd_no_exit(self, arg):
        if arg:
            return 0
        self.tell("You can't go that way.\n")
        return 1

    def process_input(self, line):
        """Each line comes here first: '!' repeats the last command (the
        history is the mudlib's business, not the driver's)."""
        line = line.strip()
        if line == "!":
            if not self.last_command:
                self.tell("No command to repeat.\n")
                return 1
            return self.last_command
        if line:
            self.last_command = line
        return None     # the driver parses the line into a command

    def look_around(self):
        self.cmd_look("")

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
            self.gmcp_room(room)
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
        word = arg.lower()
        if not word:
            self.tell("Go where?\n")
        elif word in DIRECTIONS:
            command(word)   # the room's exits are its actions: 'go north' is 'north'
        else:
            self.tell("You can't go that way.\n")

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
        if (query_mtts(self) or 0) & MTTS_SSL:
            self.tell("Your client says it can speak TLS (MTTS).\n")
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
        if self.save_character():
            self.tell("Your character has been saved.\n")
        else:
            self.tell(self.save_failed_message())

    def cmd_help(self, arg):
        commands = COMMANDS + (WIZARD_COMMANDS if self.query_wizard() else ()) \
            + (ADMIN_COMMANDS if self.is_admin() else ())
        lines = ["Commands:"]
        for _, _, usage, text in commands:
            lines.append(f"  {usage:<22} {text}")
        self.tell("\n".join(lines) + "\n")

    def cmd_quit(self, arg):
        saved = self.save_character()
        room = environment(self)
        if room is not None:
            tell_room(room, f"{self.name} leaves the game.\n", exclude=(self,))
        if saved:
            self.tell("Your character has been saved.  Farewell, and come back soon!\n")
        else:
            self.tell(self.save_failed_message() + "Farewell, and come back soon!\n")
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

    # -- things --------------------------------------------------------------

    def cmd_emote(self, arg):
        text = clean(arg)
        if not text:
            self.tell("Emote what?  (emote grins)\n")
            return
        if text[-1] not in ".!?\"'":
            text += "."
        say(f"{self.name} {text}\n")
        self.tell(f"You emote: {self.name} {text}\n")

    def cmd_get(self, arg):
        room = environment(self)
        word = arg.lower()
        if not word or room is None:
            self.tell("Get what?\n")
            return
        ob = present(word, room)
        if ob is None or ob is self:
            self.tell(f"There is no {word} here.\n")
            return
        if call_other(ob, "query_is_player") or not call_other(ob, "get"):
            self.tell("You can't take that.\n")
            return
        move_object(ob, self)
        thing = call_other(ob, "short_description") or "something"
        self.tell(f"You take {thing}.\n")
        say(f"{self.name} takes {thing}.\n")

    def cmd_drop(self, arg):
        room = environment(self)
        word = arg.lower()
        ob = present(word, self) if word else None
        if ob is None:
            self.tell("You carry no such thing.\n" if word else "Drop what?\n")
            return
        if call_other(ob, "drop"):
            self.tell("You can't let go of it.\n")
            return
        move_object(ob, room)
        thing = call_other(ob, "short_description") or "something"
        self.tell(f"You drop {thing}.\n")
        say(f"{self.name} drops {thing}.\n")

    def cmd_inventory(self, arg):
        things = [call_other(ob, "short_description") or object_name(ob)
                  for ob in all_inventory(self)]
        if not things:
            self.tell("You carry nothing.\n")
            return
        self.tell("You carry:\n" + "".join(f"  {thing}\n" for thing in things))

    # -- wizards' commands ---------------------------------------------------

    def _find_thing(self, word):
        """An object a wizard names: here, carried, or by object name."""
        room = environment(self)
        return (present(word, self) or (present(word, room) if room else None)
                or find_object(word))

    def cmd_update(self, arg):
        room = environment(self)
        path = arg.strip()
        if path in ("", "here"):
            if room is None:
                self.tell("Update what?\n")
                return
            path = object_name(room)
        try:
            ob = reload_object(path)
        except EfunError as exc:
            self.tell(f"Update failed: {exc}\n")
            return
        debug_message(f"{self.name} updated {object_name(ob)}")
        self.tell(f"Updated {object_name(ob)}.\n")

    def cmd_clone(self, arg):
        if not arg:
            self.tell("Clone what?  (clone /obj/apple)\n")
            return
        try:
            ob = clone_object(arg)
        except EfunError as exc:
            self.tell(f"Clone failed: {exc}\n")
            return
        carry = call_other(ob, "get") and not call_other(ob, "query_is_player")
        move_object(ob, self if carry else environment(self))
        thing = call_other(ob, "short_description") or object_name(ob)
        self.tell(f"You clone {thing} ({object_name(ob)}).\n")
        say(f"{self.name} makes {thing} appear out of thin air.\n")

    def cmd_destruct(self, arg):
        ob = self._find_thing(arg.strip()) if arg.strip() else None
        if ob is None:
            self.tell("Destruct what?\n" if not arg else f"There is no {arg} here.\n")
            return
        if ob is self:
            self.tell("You would rather not.\n")
            return
        name = object_name(ob)
        destruct(ob)
        self.tell(f"You destruct {name}.\n")

    def cmd_goto(self, arg):
        where = arg.strip()
        if not where:
            self.tell("Go to whom, or where?\n")
            return
        body = load_object(MASTER).find_player(where)
        try:
            dest = environment(body) if body is not None else load_object(where)
        except EfunError as exc:
            self.tell(f"You cannot go there: {exc}\n")
            return
        if dest is None:
            self.tell("They are nowhere.\n")
            return
        room = environment(self)
        if room is not None:
            tell_room(room, f"{self.name} vanishes in a puff of smoke.\n", exclude=(self,))
        move_object(self, dest)
        tell_room(dest, f"{self.name} appears in a puff of smoke.\n", exclude=(self,))
        self.cmd_look("")

    def cmd_people(self, arg):
        lines = [f"{'who':<16} {'address':<16} {'port':>5}  {'link':<9} "
                 f"{'cipher':<24} idle"]
        for ob in sorted(users(), key=lambda u: call_other(u, "query_name") or ""):
            name = call_other(ob, "query_name") or f"({object_name(ob)})"
            state = tls_query_connection_state(ob)
            link = {1: "tls", 0: "telnet", -1: "handshake"}.get(state, "?")
            info = tls_query_connection_info(ob)
            cipher = info.cipher if info is not None else "-"
            if info is not None:
                link = info.prot
            lines.append(f"{name:<16} {query_ip_number(ob) or '-':<16} "
                         f"{query_mud_port(ob) or 0:>5}  {link:<9} {cipher:<24} "
                         f"{int(query_idle(ob))}s")
        self.tell("\n".join(lines) + "\n")

    def cmd_snoop(self, arg):
        if not arg:
            snoop(self)
            self.tell("You stop snooping.\n")
            return
        body = load_object(MASTER).find_player(arg)
        if body is None:
            self.tell(f"There is no one called {arg.capitalize()} in the game.\n")
            return
        try:
            done = snoop(self, body)
        except EfunError as exc:
            self.tell(f"You cannot snoop {body.query_name()}: {exc}\n")
            return
        self.tell(f"You are snooping {body.query_name()}.\n" if done
                  else "Someone else is snooping them already.\n")

    def cmd_shutdown(self, arg):
        reason = clean(arg) or f"shut down by {self.name}"
        debug_message(f"{self.name} shuts the game down: {reason}")
        shutdown(reason)

    def cmd_promote(self, arg):
        body = load_object(MASTER).find_player(arg) if arg else None
        if body is None:
            self.tell("Promote whom?  They must be in the game.\n")
            return
        if body.query_wizard():
            self.tell(f"{body.query_name()} is a wizard already.\n")
            return
        body.set_level("wizard")
        body.save_character()
        tell_object(body, f"{self.name} has made you a wizard.  Type 'help'.\n")
        self.tell(f"{body.query_name()} is a wizard now.\n")
