"""/master: the master object, the first object the driver loads.

The master owns the game's dealings with the driver: it accepts every new
connection (and secures the ones that arrive on the TLS port), it clears
away the bodies of players whose link has dropped, and it sees everyone
saved when the game shuts down.  It also knows the game's name, who its
administrators are, and which players are in the game (and, from their save
files, what anyone may know of those who are not); and it finds the
commands that live in files of their own under /cmds/ (fallback_command).
"""

import json

from driver.efuns import (
    TELNET_WILL,
    TELOPT_MSDP,
    TELOPT_STARTTLS,
    MudObject,
    all_inventory,
    audit,
    call_other,
    clone_object,
    debug_message,
    destruct,
    driver_info,
    file_size,
    get_dir,
    interactive,
    living,
    load_object,
    move_object,
    object_name,
    objects,
    previous_object,
    query_ip_number,
    query_listen_ports,
    query_mud_port,
    read_file,
    remove_interactive,
    tell_object,
    tls_available,
    tls_error,
    tls_init_connection,
    tls_query_connection_info,
    tls_query_connection_state,
    this_interactive,
    this_player,
    users,
    write_file,
)

LOGIN = "/secure/login"
MSDP = "/daemon/msdp"
START_ROOM = "/rooms/square"
VOID_ROOM = "/rooms/void"
# Programs trusted with the connection and with files: the login, and us.
TRUSTED = ("/secure/", "/master")
# Commands in files of their own, one per verb: /cmds/time.py is 'time'.
COMMAND_DIR = "/cmds/"
# Socials: 'smile', 'wave alice'.
SOUL = "/daemon/soul"


class Master(MudObject):
    mud_name = "Ravenmoor"

    # Characters who are administrators from the start, besides those in
    # the configuration (mudlib.admins, --admin) and the first character
    # ever made.  Names as the game shows them: "Alice".
    admins = frozenset()

    # Set by notify_shutdown: from then on a connection that closes was
    # closed by the shutdown, not lost.
    shutting_down = False

    def query_mud_name(self):
        return self.mud_name

    def query_admin(self, name):
        return name in self.admins or name in driver_info("admins")

    def query_wizard(self, ob):
        """Whether `ob` (a body) belongs to a wizard."""
        return isinstance(ob, MudObject) and bool(call_other(ob, "query_wizard"))

    def find_player(self, name):
        """The body of the player called `name` (any case), or None."""
        name = name.lower()
        for ob in users():
            if call_other(ob, "query_is_player") and \
                    (call_other(ob, "query_name") or "").lower() == name:
                return ob
        return None

    def query_bodies(self):
        """Every player's body in the world, connected or link-dead, by name."""
        bodies = [ob for ob in objects() if call_other(ob, "query_is_player")
                  and call_other(ob, "query_name")
                  and (interactive(ob) or call_other(ob, "query_link_dead"))]
        return sorted(bodies, key=lambda ob: call_other(ob, "query_name"))

    def query_character(self, name):
        """What may be told of the character called `name` from its save
        file: its name, level, creation and last login, and the address of
        that login (for administrators' eyes); None if there is no such
        character.  Never the password hash: /data is for the master and
        administrators, and this is how the rest of the world asks."""
        record = self._character_record(name)
        if record is None:
            return None
        return {key: record.get(key) for key in
                ("name", "level", "created", "last_login", "last_login_from")}

    def _character_record(self, name):
        """The save file of the character `name`, whole, or None."""
        if not (isinstance(name, str) and name.isascii() and name.isalpha()):
            return None
        text = read_file(self._character_file(name))
        if text is None:
            return None
        try:
            record = json.loads(text)
        except ValueError:
            return None     # unreadable: the login reports it when they try
        return record if isinstance(record, dict) else None

    def _character_file(self, name):
        return f"/data/players/{name.lower()}.json"

    def query_ignores(self, name, other):
        """Whether the character `name` ignores the player called `other`
        ('ignore'), whether `name` is in the game or not."""
        body = self.find_body(name)
        if body is not None:
            return bool(call_other(body, "query_ignoring", other))
        record = self._character_record(name)
        ignoring = record.get("ignoring") if record else None
        return isinstance(ignoring, list) and other in ignoring

    def reset_password(self, name, password_hash):
        """An administrator's 'newpassword': the save file of `name` gets
        `password_hash`, and its next login must choose a new password.
        Only for a character not in the world, whose body would otherwise
        save over it.  None if done, else why not."""
        if not self._by_admin():
            return "only an administrator may"
        if self.find_body(name) is not None:
            return f"{name} is in the game"
        record = self._character_record(name)
        if record is None:
            return f"there is no character called {name}"
        record["password_hash"] = password_hash
        record["password_expired"] = True
        write_file(self._character_file(name),
                   json.dumps(record, indent=2, sort_keys=True) + "\n", 1)
        return None

    def find_body(self, name):
        """The body called `name`, connected or link-dead, or None."""
        body = self.find_player(name)
        if body is not None:
            return body
        name = name.lower()
        for ob in objects():
            if call_other(ob, "query_is_player") and call_other(ob, "query_link_dead") \
                    and (call_other(ob, "query_name") or "").lower() == name:
                return ob
        return None

    # -- applies ---------------------------------------------------------------

    def connect(self):
        """A new connection, bound to us for now.  Everyone starts at the
        login; on the TLS port the handshake comes first, and the driver
        calls the login's logon(result, ob) when it is over.  Web clients
        arrive secured already (the browser spoke wss:// from its first
        byte), so they go straight to the login, which greets them as it
        greets the TLS port's players: with their protocol and cipher."""
        ip = query_ip_number(self)
        ports = query_listen_ports()
        if query_mud_port(self) in (ports.web, ports.web_proxy):
            info = tls_query_connection_info(self)
            how = f"{info.prot}, {info.cipher}" if info else "through a reverse proxy"
            debug_message(f"web client from {ip} ({how})")
            return clone_object(LOGIN)
        tls_port = ports.tls
        if tls_port is not None and query_mud_port(self) == tls_port:
            if not tls_available():
                # The client will speak TLS at us; plain text would only be
                # noise to it, so there is nothing better to do than close.
                debug_message(f"TLS connection from {ip} refused: the driver "
                              "has no usable certificate", "warning")
                return None
            result = tls_init_connection()
            if result < 0:
                debug_message(f"TLS connection from {ip} refused: "
                              f"{tls_error(result)}", "warning")
                return None
        return clone_object(LOGIN)

    def disconnect(self, ob):
        """`ob` has lost its connection.  A player's body is saved and
        waits, link-dead, for its player to log in again (for
        mudlib.linkdead_timeout seconds); a half-finished login just goes
        away.  At shutdown nobody is link-dead: the driver closes every
        connection after notify_shutdown, and the body only says so."""
        if call_other(ob, "query_is_player"):
            if self.shutting_down:
                call_other(ob, "left_at_shutdown")
            else:
                call_other(ob, "link_dead")     # as the body: its call_out is its own
        else:
            destruct(ob)

    def fallback_command(self, command, player):
        """No action took `command`: a command file may.  A player's command
        is its body's (/std/player's table), its room's or a thing's nearby;
        a verb none of them knows is looked up in /cmds/, where each file is
        one command, as in many LP mudlibs: a new command is a new file,
        and every player has it at once.  Failing that, the verb may be a
        social (/daemon/soul)."""
        if not call_other(player, "query_is_player"):
            return False
        verb, _, arg = command.strip().partition(" ")
        path = self.query_command_file(verb)
        if path is None:
            # Not a command: perhaps a social ('smile', 'wave alice').
            return bool(call_other(SOUL, "perform", player, verb.lower(), arg.strip()))
        call_other(path, "main", player, arg.strip())
        return True

    def query_command_file(self, verb):
        """The program of the command file for `verb`, or None.  Only plain
        lower-case words name one: a typed line never reaches a path."""
        if not (verb.isascii() and verb.isalpha() and verb.islower()):
            return None
        path = COMMAND_DIR + verb
        return path if file_size(path + ".py") > 0 else None

    def query_command_files(self):
        """The verbs of every command file, sorted."""
        verbs = (name[:-3] for name in get_dir(COMMAND_DIR + "*.py"))
        return [verb for verb in verbs if self.query_command_file(verb)]

    def query_mssp(self):
        """What MUD listings learn about us (MSSP), on top of what the
        driver fills in: players in the game, not connections, and the
        colour the world sends (/std/colour renders its markup in 16
        colours, 256 and true colour, each to the clients that show it)."""
        players = sum(1 for ob in users() if call_other(ob, "query_is_player"))
        return {"PLAYERS": players, "GENRE": "Fantasy", "LANGUAGE": "English",
                "GAMEPLAY": "Social", "STATUS": "Alpha",
                "ANSI": 1, "XTERM 256 COLORS": 1, "XTERM TRUE COLORS": 1}

    def telnet_neg(self, ob, command, option, data):
        """Telnet negotiation the driver leaves to us.  A client on the
        plain port that agrees to START_TLS (offered when config.yaml's
        telnet.starttls is on) is secured at once, on the same connection.
        MSDP, which a body in the game offers, is /daemon/msdp's."""
        if option == TELOPT_STARTTLS and command == TELNET_WILL \
                and tls_available() and tls_query_connection_state(ob) == 0:
            tls_init_connection(ob, "starttls_done", self)
            return True
        if option == TELOPT_MSDP:
            return bool(call_other(MSDP, "negotiate", ob, command, data))
        return False

    def starttls_done(self, result, ob):
        if result < 0:
            # The client is in the middle of its handshake: nothing it sends
            # can be read as plaintext any more.
            debug_message(f"STARTTLS with {query_ip_number(ob)} failed: "
                          f"{tls_error(result)}", "warning")
            remove_interactive(ob)
            return
        info = tls_query_connection_info(ob)
        debug_message(f"STARTTLS with {query_ip_number(ob)}: {info.prot}, {info.cipher}")
        call_other(ob, "secured", info)

    # -- who may do what ------------------------------------------------------
    #
    # The driver asks these before privileged operations.  Wizards may do
    # them all; the login and the master itself may do what they need.

    def _trusted(self, ob):
        return ob is self or (isinstance(ob, MudObject)
                              and object_name(ob).startswith(TRUSTED))

    def _by_wizard(self):
        return self.query_wizard(this_interactive())

    def privilege_violation(self, operation, caller, *args):
        """shutdown, tls_refresh_certs, command on another object: 1 allows."""
        if self._trusted(caller) or self._by_wizard():
            return 1
        if operation == "command" and args and not interactive(args[0]):
            return 1    # world code may make its own creatures act
        return -1

    def valid_exec(self, program, new, old):
        return program.startswith(TRUSTED) or self._by_wizard()

    def valid_snoop(self, snooper, snoopee):
        if snoopee is None:
            return True     # anyone may stop snooping
        if call_other(snoopee, "query_level") == "admin" and \
                call_other(snooper, "query_level") != "admin":
            return False
        return self.query_wizard(snooper)

    def query_allow_shadow(self, victim):
        """shadow(victim), asked with the would-be shadow as previous_object():
        anything may be shadowed (a guild's powers on a player, a curse, a
        disguise) but the master and the trusted code, and an object whose
        query_prevent_shadow(shadower) says no."""
        if self._trusted(victim):
            return False
        return not call_other(victim, "query_prevent_shadow", previous_object())

    # Files.  The world is Python, and Python has no sandbox: whoever can
    # write a file the driver loads can do anything the driver's own user
    # can.  So writing is for administrators (and the trusted code), and
    # every write a player asks for is audited; wizards read the world's
    # code, but not /data, where characters keep their password hashes.

    def _by_admin(self):
        player = this_interactive()
        return self.query_wizard(player) and bool(call_other(player, "is_admin"))

    def valid_read(self, path, caller, efun):
        if self._trusted(caller) or self._by_admin():
            return True
        return self._by_wizard() and not (path == "/data" or path.startswith("/data/"))

    def valid_write(self, path, caller, efun):
        if self._trusted(caller):
            return True
        allowed = self._by_admin()
        if this_interactive() is not None:
            if allowed:
                audit("write", path, efun=efun)
            else:
                audit("write", path, "failed", efun=efun, why="administrators only")
        return allowed

    def make_path_absolute(self, name):
        """A file name typed in ed: from the wizard's directory ('cd')."""
        player = this_player()
        if player is not None and call_other(player, "query_is_player"):
            return call_other(player, "resolve_path", name)
        return name

    def get_ed_buffer_save_file_name(self, file):
        """Where ed keeps the unsaved buffer of a wizard whose connection
        dropped: /data/dead_ed/<name>/<the file's name>."""
        player = this_player()
        who = call_other(player, "query_name") if player is not None else None
        base = file.rsplit("/", 1)[-1] or "buffer"
        return f"/data/dead_ed/{(who or 'someone').lower()}/{base}"

    def prepare_destruct(self, ob):
        """Before `ob` is destructed: the players in it must not vanish
        with it, so they go to the square (or, if it is the square that
        goes, to the void)."""
        refuge = VOID_ROOM if object_name(ob) == START_ROOM else START_ROOM
        for body in all_inventory(ob):
            if living(body) or interactive(body):
                try:
                    move_object(body, load_object(refuge))
                except Exception as exc:    # a broken refuge: leave them be
                    debug_message(f"prepare_destruct: cannot move {object_name(body)} "
                                  f"to {refuge}: {exc}", "error")
                    return
                call_other(body, "tell", "The world shifts around you.\n")

    def runtime_error(self, message, where, traceback, player):
        """Something failed in world code.  The player is told briefly (a
        wizard sees the traceback too); every other wizard online gets one
        line, so builders notice their bugs."""
        if player is not None and interactive(player):
            tell_object(player, "Something went wrong; the error has been logged.\n")
            if self.query_wizard(player):
                tell_object(player, traceback + "\n")
        for ob in users():
            if ob is not player and self.query_wizard(ob):
                tell_object(ob, f"[error] {where}: {message}\n")

    def notify_shutdown(self):
        self.shutting_down = True
        # Save every body first, interactive or not, so the goodbye below
        # can tell each player the truth about their own save.
        failed = {}
        for ob in objects():
            if call_other(ob, "query_is_player"):
                try:
                    saved = ob.save_character()
                except Exception as exc:    # one bad save must not stop the rest
                    debug_message(f"saving {call_other(ob, 'query_name')} at "
                                  f"shutdown failed: {exc}", "error")
                    saved = False
                if not saved and call_other(ob, "query_name"):
                    failed[ob] = call_other(ob, "query_save_error") or "an error"
        for ob in users():
            if not call_other(ob, "query_is_player"):
                tell_object(ob, f"\n{self.mud_name} is shutting down now.  See you soon!\n")
                continue
            if ob in failed:
                saved = (f"Your character could NOT be saved ({failed[ob]}); "
                         "the game's operators have been told.")
            else:
                saved = "Your character has been saved."
            call_other(ob, "tell", f"\n{self.mud_name} is shutting down now.  "
                       f"{saved}  See you soon!\n")
        if failed:
            names = ", ".join(f"{call_other(ob, 'query_name')} ({why})"
                              for ob, why in failed.items())
            debug_message(f"shutdown: {len(failed)} character(s) could not be "
                          f"saved: {names}", "error")
        else:
            debug_message("shutdown: every player has been saved")
