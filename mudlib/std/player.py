"""/std/player: the body a player walks around in.

A clone of this program owns one character once the login is done: its
saved state (the attributes in `persistent`), the commands its player can
type, how text looks on its player's screen, and what happens when the
player leaves, quits or loses the link.  /secure/login does the asking for
names and passwords; a body only ever exists for a player who has given the
right one.

Everything the world says to a player comes through the body's `tell()`,
which renders the world's colour markup for the player's client (see
/std/colour) and wraps it to the width of the player's window.
"""

import inspect
import re
import secrets
from datetime import datetime, timezone

from driver.efuns import (
    AA_NOSPACE,
    GETDIR_NAMES,
    GETDIR_SIZES,
    INPUT_NOECHO,
    INPUT_PROMPT,
    MTTS_SSL,
    EfunError,
    MudObject,
    WorkersBusy,
    add_action,
    all_inventory,
    audit,
    call_other,
    call_out,
    check_password,
    clone_object,
    command,
    copy_file,
    debug_message,
    destruct,
    driver_info,
    ed,
    enable_commands,
    environment,
    file_size,
    find_object,
    get_dir,
    hash_password,
    input_to,
    interactive,
    living,
    load_object,
    mkdir,
    move_object,
    object_name,
    present,
    query_actions,
    query_client_name,
    query_colour_depth,
    query_gmcp_supports,
    query_host_name,
    query_idle,
    query_ip_number,
    query_linkdead_timeout,
    query_listen_ports,
    query_mtts,
    query_mud_port,
    query_verb,
    query_window_size,
    set_prompt,
    read_file,
    reload_object,
    rename,
    remove_action,
    remove_call_out,
    remove_interactive,
    rm,
    rmdir,
    save_object,
    send_gmcp,
    set_heart_beat,
    set_living_name,
    shutdown,
    snoop,
    tell_object,
    terminal_colour,
    time,
    tls_query_connection_info,
    tls_query_connection_state,
    tls_refresh_certs,
    users,
)
from driver.efuns import ban_site, query_bans, query_connection_limits, unban_site

START_ROOM = "/rooms/square"
MASTER = "/master"
COLOUR = "/std/colour"
GRAMMAR = "/std/grammar"
HELP = "/std/help"
SOUL = "/daemon/soul"
NOTICES = "/secure/notices"
SHUTDOWN_DAEMON = "/secure/shutdown_daemon"
CHANNELS = "/daemon/channels"
REPORTS = "/secure/reports"
MSDP = "/daemon/msdp"
MAIL = "/secure/mail"
COMBAT = "/daemon/combat"

# 'people' warns about a TLS certificate this close to expiry, as the
# driver's log does.
CERTIFICATE_WARNING_DAYS = 21


def connection_kind(ob):
    """How `ob` is connected, as 'who' shows it: "tls" (encrypted, whatever
    the port), "web" (a browser through the reverse proxy in front of the
    web port, which holds any TLS itself), or "telnet"."""
    if tls_query_connection_state(ob) == 1:
        return "tls"
    port = query_listen_ports().web_proxy
    return "web" if port is not None and query_mud_port(ob) == port else "telnet"


# How each MUD client connects with TLS, for 'tls': the name it gives the
# game (query_client_name, upper-cased), the name players know, the way.
TLS_HOW_TO = (
    ("TINTIN++", "TinTin++", "#ssl game {host} {port}"),
    ("KBTIN", "KBtin", "#sslsession game {host} {port}"),
    ("MUDLET", "Mudlet", 'tick "Secure" in the connection profile and use port {port}'),
    ("TINYFUGUE", "tf5", "/connect -x {host} {port}"),
    ("BLIGHTMUD", "Blightmud", "/connect {host} {port} true"),
)

# Columns of a window whose client never said (NAWS), as MUDs always assumed.
DEFAULT_WIDTH = 80
# Narrower than this, wrapping would do more harm than good.
MIN_WIDTH = 20

# Passwords: the shortest allowed (/secure/login takes it from here), and
# how many wrong ones 'password' accepts before it refuses for a while (a
# player who left their client logged in should not lose the character to
# whoever sits down at it).
MIN_PASSWORD_LENGTH = 6
PASSWORD_CHANGE_TRIES = 3
PASSWORD_CHANGE_LOCK = 600

# The most players one player may ignore ('ignore').
MAX_IGNORED = 50
# 'alias', 'prompt', 'title', 'describe': how much a player may set.
MAX_ALIASES = 50
MAX_ALIAS_NAME = 15
MAX_ALIAS_EXPANSION = 200
MAX_PROMPT = 60
MAX_TITLE = 40
MAX_DESCRIPTION = 300
# 'history': the commands a body remembers (not saved: a new login starts afresh).
HISTORY_LENGTH = 20
# The prompt for each line of a letter being written ('mail <player>').
LETTER_PROMPT = "] "
# Words an alias may not take: they must always work, so an alias can be undone.
UNALIASABLE = ("alias", "unalias")
# In an alias's expansion: $1 to $9, the words typed after it; $*, all of them.
ALIAS_ARGUMENT = re.compile(r"\$([1-9*])")
# In a prompt: what each %-letter shows.
PROMPT_FIELDS = {"h": "health", "H": "max_health", "s": "stamina", "S": "max_stamina",
                 "n": "name", "%": "percent"}
DEFAULT_PROMPT = "> "

MAX_HEALTH = 30
MAX_STAMINA = 100
# What a heart beat gives back: stamina every beat, health every few.
STAMINA_PER_BEAT = 4
BEATS_PER_HEALTH = 3

# The player's commands: (verbs, method, usage, group), in the order 'help'
# lists them.  Each command's help page is its method's docstring.
COMMANDS = (
    (("look", "l"), "cmd_look", "look [thing]", "Looking"),
    (("examine", "exa", "x"), "cmd_examine", "examine <thing>", "Looking"),
    (("exits",), "cmd_exits", "exits", "Looking"),
    (("go",), "cmd_go", "go <direction>", "Looking"),
    (("say",), "cmd_say", "say <text>", "Talking"),
    (("emote",), "cmd_emote", "emote <action>", "Talking"),
    (("whisper",), "cmd_whisper", "whisper <someone> <text>", "Talking"),
    (("tell",), "cmd_tell", "tell <player> <text>", "Talking"),
    (("reply",), "cmd_reply", "reply <text>", "Talking"),
    (("chat",), "cmd_chat", "chat [text|:action]", "Talking"),
    (("channels",), "cmd_channels", "channels [on|off <channel>]", "Talking"),
    (("ask",), "cmd_ask", "ask <someone> about <topic>", "Talking"),
    (("who",), "cmd_who", "who", "Talking"),
    (("uptime",), "cmd_uptime", "uptime", "Talking"),
    (("finger",), "cmd_finger", "finger <player>", "Talking"),
    (("mail",), "cmd_mail", "mail [<player> [<text>]|delete <n>|delete all]", "Talking"),
    (("ignore",), "cmd_ignore", "ignore [player]", "Talking"),
    (("unignore",), "cmd_unignore", "unignore <player>", "Talking"),
    (("get", "take"), "cmd_get", "get <thing>|all", "Things"),
    (("drop",), "cmd_drop", "drop <thing>|all", "Things"),
    (("give",), "cmd_give", "give <thing> to <someone>", "Things"),
    (("inventory", "i"), "cmd_inventory", "inventory", "Things"),
    (("kill", "attack"), "cmd_kill", "kill <creature>", "Fighting"),
    (("consider", "con"), "cmd_consider", "consider <creature>", "Fighting"),
    (("flee",), "cmd_flee", "flee", "Fighting"),
    (("wimpy",), "cmd_wimpy", "wimpy [percent|off]", "Fighting"),
    (("wield",), "cmd_wield", "wield <weapon>", "Fighting"),
    (("unwield",), "cmd_unwield", "unwield", "Fighting"),
    (("score",), "cmd_score", "score", "Yourself"),
    (("colour", "color"), "cmd_colour", "colour [on|off|auto]", "Yourself"),
    (("brief",), "cmd_brief", "brief [on|off]", "Yourself"),
    (("prompt",), "cmd_prompt", "prompt [<text>|default]", "Yourself"),
    (("alias",), "cmd_alias", "alias [<word> [<command>]]", "Yourself"),
    (("unalias",), "cmd_unalias", "unalias <word>", "Yourself"),
    (("title",), "cmd_title", "title [<text>|none]", "Yourself"),
    (("describe",), "cmd_describe", "describe [<text>|none]", "Yourself"),
    (("tls",), "cmd_tls", "tls", "Yourself"),
    (("password", "passwd"), "cmd_password", "password", "Yourself"),
    (("save",), "cmd_save", "save", "Yourself"),
    (("bug",), "cmd_report", "bug <what went wrong>", "Yourself"),
    (("typo",), "cmd_report", "typo <the mistake>", "Yourself"),
    (("idea",), "cmd_report", "idea <your idea>", "Yourself"),
    (("history",), "cmd_history", "history", "Yourself"),
    (("help",), "cmd_help", "help [command|topic]", "Yourself"),
    (("quit",), "cmd_quit", "quit", "Yourself"),
)

# Commands for wizards, who build and run the world (see /master).
WIZARD_COMMANDS = (
    (("update",), "cmd_update", "update <path>|here", "Wizards"),
    (("reset",), "cmd_reset", "reset here|<thing>|<object name>", "Wizards"),
    (("clone",), "cmd_clone", "clone <path>", "Wizards"),
    (("destruct",), "cmd_destruct", "destruct <thing>|<object name>", "Wizards"),
    (("goto",), "cmd_goto", "goto <player>|<room path>", "Wizards"),
    (("people",), "cmd_people", "people", "Wizards"),
    (("status",), "cmd_status", "status", "Wizards"),
    (("wiz",), "cmd_wiz", "wiz [text|:action]", "Wizards"),
    (("snoop",), "cmd_snoop", "snoop [player]", "Wizards"),
    (("shutdown",), "cmd_shutdown", "shutdown <minutes>|<n>s|now|cancel [reason]",
     "Wizards"),
    (("tlsreload",), "cmd_tlsreload", "tlsreload", "Wizards"),
    (("reports",), "cmd_reports", "reports [done <number>]", "Wizards"),
    (("pwd",), "cmd_pwd", "pwd", "Files"),
    (("cd",), "cmd_cd", "cd [directory]", "Files"),
    (("ls",), "cmd_ls", "ls [directory|pattern]", "Files"),
    (("more", "cat"), "cmd_more", "more <file>", "Files"),
    (("ed",), "cmd_ed", "ed [file]", "Files"),
    (("cp",), "cmd_cp", "cp <file> <new name>|<directory>", "Files"),
    (("mv",), "cmd_mv", "mv <file> <new name>|<directory>", "Files"),
    (("rm",), "cmd_rm", "rm <file>", "Files"),
    (("mkdir",), "cmd_mkdir", "mkdir <directory>", "Files"),
    (("rmdir",), "cmd_rmdir", "rmdir <directory>", "Files"),
)

# Commands only the game's administrators may use.
ADMIN_COMMANDS = (
    (("promote",), "cmd_promote", "promote <player>", "Admins"),
    (("ban",), "cmd_ban", "ban <site> [<time>] <why>", "Admins"),
    (("unban",), "cmd_unban", "unban <site>", "Admins"),
    (("bans",), "cmd_bans", "bans", "Admins"),
    (("newpassword",), "cmd_newpassword", "newpassword <player>", "Admins"),
    (("boot",), "cmd_boot", "boot <player> <why>", "Admins"),
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
    """Text a player sends to others, made harmless: no control characters
    (nobody can clear someone else's screen or fake a line from the game),
    and no colour markup (nobody can paint someone else's screen)."""
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    while "%^" in text:     # once is not enough: "%%^^" would leave "%%^"
        text = text.replace("%^", "%")
    return text


def format_time(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime(
        "%a %d %b %Y, %H:%M UTC")


def format_duration(seconds):
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_idle(seconds):
    return "" if seconds < 60 else f"idle {format_duration(seconds)}"


PASSWORD_BUSY = ("The game is busy checking other passwords.  Yours stays as "
                 "it was: try 'password' again in a moment.\n")


# A mapping for terminal_colour that keeps every key as it is: text wrapped
# with it keeps its markup, and the markup takes no width.
KEEP_MARKUP = {0: lambda key: f"%^{key}%^"}


class Player(MudObject):
    # A wizard's current directory ('cd'), where typed file names start.
    cwd = "/"

    # Attributes newer than some bodies in the world: 'update /std/player'
    # gives a body online its new class in place, without create(), so they
    # have defaults here.
    # The address of the last login, told at the next (as a shell's "Last
    # login" is, so a player notices someone else's).
    last_login_from = None
    # The players whose tells and channel lines this player does not want
    # ('ignore'), by name.
    ignoring = ()
    # An administrator gave this character a one-time password
    # ('newpassword'): the next login must choose a new one first.
    password_expired = False
    # 'password': wrong current passwords in a row, the time until which the
    # command refuses after too many, and the new hash until it is confirmed.
    password_misses = 0
    password_locked_until = 0
    new_password_hash = None
    # How the player likes the game: 'alias' (word -> command; replaced,
    # never changed in place, as this default is the class's), 'brief',
    # 'prompt' (None: the default), 'title' and 'describe'.
    aliases = {}
    brief = False
    prompt_format = None
    title = ""
    description = ""
    # A letter being written ('mail <player>'): (recipient, lines so far).
    letter_draft = None
    # 'history': the last HISTORY_LENGTH commands (replaced, never changed
    # in place), and how many there have been since the login, which
    # numbers them.
    history = ()
    history_count = 0

    # What save_object() writes to players/<name>.  /secure/login reads the
    # same file, so it takes this list from here.
    persistent = ("name", "password_hash", "room", "created", "last_login",
                  "last_login_from", "level", "colour", "health", "stamina",
                  "channels_off", "ignoring", "password_expired", "aliases", "brief",
                  "prompt_format", "title", "description", "wimpy")
    min_password_length = MIN_PASSWORD_LENGTH

    def create(self):
        self.name = None
        self.password_hash = None
        self.room = START_ROOM
        self.created = 0
        self.last_login = 0
        # "player", "wizard" or "admin" (a wizard who may also promote)
        self.level = "player"
        # "auto" (what the client announced), "on" or "off": the 'colour' command
        self.colour = "auto"
        self.health = MAX_HEALTH
        self.stamina = MAX_STAMINA
        # The channels this player has turned off ('channels off chat').
        self.channels_off = []
        # Who told this player something last ('reply' answers them).
        self.last_teller = None
        self.beats = 0
        # The class whose command table this body's actions were made from
        # (see add_commands and process_input).
        self.commands_class = None
        self.linkdead_since = None
        # Tells that arrived while the link was dead: (sender's name, text).
        self.pending_tells = []
        self.logged_in_at = time()

    # -- identity ------------------------------------------------------------

    def query_is_player(self):
        return True

    def query_name(self):
        return self.name

    def query_title(self):
        return self.title

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
        text = (f"{self.description}\n" if self.description
                else f"{self.name} is an adventurer, like yourself.\n")
        if not interactive(self):
            text += f"{self.name} stands very still, eyes unfocused.\n"
        elif query_idle(self) >= 300:
            text += f"{self.name} is lost in thought.\n"
        return text

    # -- what the player sees ------------------------------------------------

    def query_colour_depth(self):
        """Colours to send: what the client announced, unless the player
        said otherwise with 'colour on' or 'colour off'."""
        if self.colour == "off":
            return 0
        announced = query_colour_depth(self) or 0
        if self.colour == "on":
            return max(announced, 16)
        return announced

    def query_width(self):
        size = query_window_size(self)
        columns = size[0] if size else 0
        return max(columns, MIN_WIDTH) if columns else DEFAULT_WIDTH

    def render(self, text):
        """`text`, with the world's colour markup, as this player's client
        should get it: coloured as deep as it shows colour (or not at all),
        each line wrapped to the window; a line that starts indented keeps
        its indent on the lines it wraps onto."""
        mapping = load_object(COLOUR).query_map(self.query_colour_depth())
        width = self.query_width()
        lines = []
        for line in text.split("\n"):
            indent = len(line) - len(line.lstrip(" "))
            lines.append(terminal_colour(line, mapping, width, indent))
        return "\n".join(lines)

    def hanging(self, text, indent):
        """`text` wrapped to the window with a hanging `indent` deeper than
        its own, markup kept for render(): for lists whose entries run on."""
        return terminal_colour(text, KEEP_MARKUP, self.query_width(), indent)

    def tell(self, text):
        # tell_object, not write(): several of these methods run when the
        # command giver is someone else (the login, the master, a room).
        if interactive(self):
            tell_object(self, self.render(text))

    def clean_text(self, text):
        """What this player typed, made safe to show others (see clean())."""
        return clean(text)

    def tell_others(self, text):
        """`text` to everyone else in this body's room."""
        room = environment(self)
        if room is not None:
            call_other(room, "tell_here", text, (self,))

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
        previous, previous_from = self.last_login, self.last_login_from
        self.last_login = time()
        self.last_login_from = query_ip_number(self)
        self.logged_in_at = time()
        if load_object(MASTER).query_admin(self.name):
            self.level = "admin"    # named in the configuration (mudlib.admins, --admin)
        # call_other, not a plain call: the login is this_object() here, and
        # add_commands() must run as this body.
        call_other(self, "add_commands")
        if previous:
            where = f", from {previous_from}" if previous_from else ""
            self.tell(f"Welcome back to {mud}, {self.name}.  "
                      f"You were last here on {format_time(previous)}{where}.\n\n")
        else:
            self.tell(f"Welcome to {mud}, {self.name}.  "
                      "Type 'help' to see what you can do here.\n\n")
            if self.query_level() == "admin":
                self.tell("%^HEADING%^You are this world's administrator.%^RESET%^  "
                          "You were the first character ever made here, so you may "
                          "build and run the game: 'help' now lists the wizards' "
                          "commands, and 'promote <player>' makes others wizards.\n\n")
        self.show_notices()
        self.greet_client()
        self.apply_prompt()
        room = self._load_room(self.room)
        move_object(self, room)     # the room's init() sends Room.Info
        self.tell_others(f"{self.name} enters the game.\n")
        self.cmd_look("")
        self.save_character()
        self.check_vitals()
        debug_message(f"{self.name} entered the game from "
                      f"{query_ip_number(self)}")

    def resume(self):
        """Called by /secure/login when a new connection takes this body
        over from an old one: the body never left the world."""
        self.tell_others(f"{self.name} blinks and looks around, as if "
                         "waking from a dream.\n")
        self.tell("You take over your body, which was already in the game.\n\n")
        self.show_notices()
        self.greet_client()
        self.apply_prompt()
        self.gmcp_room(environment(self))
        self.cmd_look("")
        debug_message(f"{self.name} reconnected from {query_ip_number(self)}")

    def show_notices(self):
        """What a player is told on logging in: the operator's message of the
        day (data/motd.txt, read afresh each time by /secure/notices), and a
        shutdown that is counting down."""
        motd = call_other(NOTICES, "query_motd")
        if motd:
            self.tell(motd + "\n")
        letters = call_other(MAIL, "count_new", self.name)
        if letters:
            self.tell(f"You have {letters} new letter{'s' if letters > 1 else ''}: "
                      "'mail' reads them.\n\n")
        daemon = find_object(SHUTDOWN_DAEMON)
        countdown = call_other(daemon, "query_countdown") if daemon else None
        if countdown:
            left, reason, by = countdown
            because = f": {reason}" if reason else ""
            self.tell(f"%^WARNING%^[shutdown] {by} will shut the game down in "
                      f"{format_duration(left)}{because}.%^RESET%^\n\n")

    def link_dead(self):
        """The master calls this when our connection has gone.  The body is
        saved and stays where it is, link-dead, for the configured time
        (mudlib.linkdead_timeout), so a player whose link dropped can log
        in again and carry on; then it leaves the world."""
        call_other(MSDP, "forget", self)
        self.save_character()
        timeout = query_linkdead_timeout()
        if timeout <= 0:
            self.linkdead_expired()
            return
        self.linkdead_since = time()
        self.tell_others(f"{self.name} goes very still, staring at nothing, as "
                         "the link to this world breaks.\n")
        debug_message(f"{self.name} lost the link; link-dead for up to {timeout:g} s")
        call_out("linkdead_expired", timeout)

    def left_at_shutdown(self):
        """The master calls this instead of link_dead() for a connection the
        shutdown closed: the link did not fail, the game stopped.  The body
        is saved (again: the master saved everyone first) and waits for
        nobody."""
        self.save_character()
        debug_message(f"{self.name} was saved and disconnected by the shutdown")

    def query_link_dead(self):
        return not interactive(self)

    def query_linkdead_since(self):
        return self.linkdead_since

    def linkdead_expired(self):
        if interactive(self):
            return
        self.save_character()
        self.tell_others(f"{self.name} fades slowly from view.\n")
        self._undeliverable_tells()
        debug_message(f"{self.name} was link-dead too long; saved and removed")
        destruct(self)

    def reconnect(self):
        """Called by /secure/login when a player logs in to this link-dead
        body: the new connection, plain or TLS, is its link now."""
        remove_call_out("linkdead_expired")
        away = time() - (self.linkdead_since or time())
        self.linkdead_since = None
        self.tell_others(f"{self.name} stirs and looks around again.\n")
        self.tell("You were link-dead; your body waited for you where you left it.  "
                  "Welcome back.\n\n")
        self.show_notices()
        self._deliver_pending_tells()
        self.greet_client()
        self.apply_prompt()
        self.gmcp_room(environment(self))
        self.cmd_look("")
        self.check_vitals()
        debug_message(f"{self.name} reconnected to a link-dead body after {away} s "
                      f"from {query_ip_number(self)}")

    # -- tells that wait for a link-dead player ------------------------------

    def receive_tell(self, sender, text):
        """A tell for this body.  Delivered at once; while the link is dead,
        kept until the player comes back.  Returns whether it arrived now."""
        self.last_teller = sender.query_name()
        if interactive(self):
            self.tell(f"%^TELL%^{sender.query_name()} tells you: {text}%^RESET%^\n")
            return True
        self.pending_tells.append((sender.query_name(), text))
        return False

    def _deliver_pending_tells(self):
        if not self.pending_tells:
            return
        self.tell("While you were away:\n")
        for sender, text in self.pending_tells:
            self.tell(f"  %^TELL%^{sender} told you: {text}%^RESET%^\n")
        self.pending_tells = []

    def _undeliverable_tells(self):
        """The body is leaving the world with tells nobody read: their
        senders, if they are still here, are told so."""
        master = load_object(MASTER)
        for sender in sorted({sender for sender, _ in self.pending_tells}):
            body = master.find_player(sender)
            if body is not None:
                call_other(body, "tell", f"{self.name}'s link never came back; your "
                           "tell was not delivered.\n")
        self.pending_tells = []

    # -- health and stamina --------------------------------------------------

    def query_health(self):
        return self.health, MAX_HEALTH

    def query_stamina(self):
        return self.stamina, MAX_STAMINA

    def spend_stamina(self, amount):
        """A step costs stamina; False (and nothing spent) when too tired."""
        if self.stamina < amount:
            return False
        self.stamina -= amount
        self.check_vitals()
        return True

    def hurt(self, amount, message):
        """Lose health (never the last point: nothing here kills)."""
        self.health = max(1, self.health - amount)
        self.tell(message)
        self.check_vitals()

    def refresh(self, health, stamina):
        """Food and rest give health and stamina back."""
        self.health = min(MAX_HEALTH, self.health + health)
        self.stamina = min(MAX_STAMINA, self.stamina + stamina)
        self.check_vitals()

    def check_vitals(self):
        """Tell the client the gauges, and beat while anything is to regain."""
        self.gmcp_vitals()
        wants_beat = self.health < MAX_HEALTH or self.stamina < MAX_STAMINA
        set_heart_beat(self, 1 if wants_beat else 0)

    def heart_beat(self):
        if not interactive(self):
            return      # a link-dead body rests, but does not recover
        self.beats += 1
        self.stamina = min(MAX_STAMINA, self.stamina + STAMINA_PER_BEAT)
        if self.beats % BEATS_PER_HEALTH == 0:
            self.health = min(MAX_HEALTH, self.health + 1)
        self.check_vitals()

    # -- GMCP for clients that show maps and gauges --------------------------

    def receive_gmcp(self, package, data):
        if package == "Core.Ping":
            send_gmcp(self, "Core.Ping")
        elif package == "Char.Request":
            self.gmcp_status()
        elif package == "Room.Request":
            self.gmcp_room(environment(self))

    def greet_client(self):
        """A connection has just become this body's: GMCP's Char.Name and
        Char.Vitals for a client that asked for GMCP, and the offer of MSDP
        for one that speaks it."""
        call_other(MSDP, "offer", self)
        self.gmcp_status()

    def gmcp_status(self):
        """Char.Name and Char.Vitals, for clients that asked for GMCP."""
        send_gmcp(self, "Char.Name", {"name": self.name, "fullname": self.name})
        self.gmcp_vitals()

    def gmcp_vitals(self):
        send_gmcp(self, "Char.Vitals", {"hp": self.health, "maxhp": MAX_HEALTH,
                                        "mv": self.stamina, "maxmv": MAX_STAMINA})
        call_other(MSDP, "update", self)    # the same gauges, for MSDP's clients

    def gmcp_room(self, room):
        if room is not None:
            info = call_other(room, "query_gmcp_info")
            if info:
                send_gmcp(self, "Room.Info", info)
        call_other(MSDP, "update", self)

    def query_msdp_variables(self):
        """What MSDP (/daemon/msdp) shows of this body: its name, gauges and
        room, as strings, the exits as a table (direction -> room number)."""
        room = environment(self)
        info = (call_other(room, "query_gmcp_info") or {}) if room is not None else {}
        return {
            "CHARACTER_NAME": self.name or "",
            "SERVER_ID": load_object(MASTER).query_mud_name(),
            "HEALTH": str(self.health), "HEALTH_MAX": str(MAX_HEALTH),
            "MOVEMENT": str(self.stamina), "MOVEMENT_MAX": str(MAX_STAMINA),
            "ROOM_NAME": info.get("name", ""), "ROOM_VNUM": str(info.get("num", "")),
            "AREA_NAME": info.get("area", ""),
            "ROOM_EXITS": {direction: str(number)
                           for direction, number in info.get("exits", {}).items()},
        }

    def entered_room(self, room):
        """The room's init() calls this once each time the body walks in."""
        self.gmcp_room(room)

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

    def query_commands(self):
        """The (verbs, method, usage, group) of every command this body has."""
        return COMMANDS + (WIZARD_COMMANDS if self.query_wizard() else ()) \
            + (ADMIN_COMMANDS if self.is_admin() else ())

    def add_commands(self):
        """Make this body a living that can give commands, and give it its
        own: the player's, and a wizard's if it is one.  (Rooms and items
        add theirs in their init() when we meet them.)

        Actions are bound to verbs when add_action runs: new code for this
        file (a wizard's 'update /std/player') changes what a bound verb
        does, but binds no new verb.  So the body remembers which class its
        actions were made from, and process_input binds them again as soon
        as that class has been replaced."""
        enable_commands()       # also makes us this_player()
        set_living_name(self.name.lower())
        self._remove_own_actions()
        for verbs, _, _, _ in self.query_commands():
            for verb in verbs:
                add_action("_command", verb)
        add_action("_command", "'", AA_NOSPACE)   # 'text says text
        for verb in DIRECTIONS:
            add_action("cmd_no_exit", verb)
        self.commands_class = type(self)

    def _remove_own_actions(self):
        for verb, _, owner, _ in query_actions(self):
            if owner is self:
                remove_action(verb, self)

    def _command(self, arg):
        """Every command of the body comes here, by its verb."""
        verb = query_verb()
        if verb.startswith("'"):
            self.cmd_say(arg or "")     # AA_NOSPACE: all after the ' is the argument
            return 1
        method = ALL_VERBS.get(verb)
        if method is None or verb not in self._my_verbs():
            return 0
        getattr(self, method)(arg or "")
        return 1

    def _my_verbs(self):
        return {verb for verbs, _, _, _ in self.query_commands() for verb in verbs}

    def cmd_no_exit(self, arg):
        room = environment(self)
        if arg or (room is not None and call_other(room, "find_exit", query_verb())):
            return 0    # the room's exit (an older action) takes it
        self.tell("You can't go that way.\n")
        return 1

    def process_input(self, line):
        """Each line comes here first: '!' repeats the last command, '!3'
        the third in 'history', '!ch' the last that began with 'ch' (the
        history is the mudlib's business, not the driver's); then the
        player's aliases are expanded.  After new code for this body, its
        commands are bound again first (add_commands)."""
        if self.commands_class is not type(self):
            self.add_commands()
            debug_message(f"{self.name}: commands bound again after an update")
        typed = line.strip()
        line = typed
        if typed.startswith("!"):
            line = self._from_history(typed[1:].strip())
            if line is None:
                return 1
            self.tell(f"{line}\n")     # what is done again, as a shell shows it
        if line:
            self.history = [*self.history, line][-HISTORY_LENGTH:]
            self.history_count += 1
        expanded = self.expand_alias(line)
        if expanded is not None:
            return expanded
        return line if line != typed else None   # None: the driver parses it as typed

    def _from_history(self, which):
        """The earlier command '!<which>' names, or None (the player is told)."""
        history = self.history
        if not history:
            self.tell("No command to repeat.\n")
            return None
        if not which:
            return history[-1]
        if which.isdigit():
            number = int(which)
            first = self.history_count - len(history) + 1
            if first <= number <= self.history_count:
                return history[number - first]
            self.tell(f"There is no command {number} in your history ('history').\n")
            return None
        found = next((earlier for earlier in reversed(history)
                      if earlier.lower().startswith(which.lower())), None)
        if found is None:
            self.tell(f"No command in your history begins with '{clean(which)}'.\n")
        return found

    def expand_alias(self, line):
        """`line` with its first word's alias expanded, or None if it has
        none.  An expansion is not expanded again, so no alias can loop."""
        if not self.aliases:
            return None
        word, _, rest = line.partition(" ")
        expansion = self.aliases.get(word.lower())
        if expansion is None:
            return None
        rest = rest.strip()
        words = rest.split()
        used = []

        def argument(match):
            used.append(True)
            if match.group(1) == "*":
                return rest
            n = int(match.group(1))
            return words[n - 1] if n <= len(words) else ""

        expanded = ALIAS_ARGUMENT.sub(argument, expansion)
        if not used and rest:
            expanded += " " + rest
        return " ".join(expanded.split()) or None

    def look_around(self):
        """What a player sees on walking into a room: all of it, or with
        'brief' on, all but its description."""
        room = environment(self)
        if self.brief and room is not None:
            self.tell(call_other(room, "describe", self, True))
        else:
            self.cmd_look("")

    # -- looking -------------------------------------------------------------

    def _find_here(self, word):
        """Something the player names: carried, or in the room."""
        room = environment(self)
        return present(word, self) or (present(word, room) if room else None)

    def cmd_look(self, arg):
        """Look around the room you are in, or at something or someone here:
        'look fountain', 'look at Alice'.  'l' is short for it."""
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
        ob = self._find_here(target)
        if ob is not None:
            self.tell(call_other(ob, "long_description")
                      or "You see nothing special.\n")
            return
        self.tell(f"You see no {target} here.\n")

    def cmd_examine(self, arg):
        """Look closely at something: what 'look' shows, and more: who
        carries what, whether a thing can be taken.  'x' and 'exa' are
        short for it."""
        word = arg.lower().removeprefix("at ").strip()
        if not word:
            self.tell("Examine what?\n")
            return
        ob = self._find_here(word)
        if ob is None:
            room = environment(self)
            text = call_other(room, "describe_item", word) if room else None
            self.tell(text + "It is part of this place; it stays where it is.\n"
                      if text else f"You see no {word} here.\n")
            return
        text = call_other(ob, "long_description") or "You see nothing special.\n"
        grammar = load_object(GRAMMAR)
        if living(ob):
            carried = [thing for thing in all_inventory(ob) if not living(thing)]
            name = call_other(ob, "query_name") or "It"
            text += (f"{name} carries %^ITEM%^{grammar.list_things(carried)}%^RESET%^.\n"
                     if carried else f"{name} carries nothing.\n")
            extra = call_other(ob, "query_examine")
            if extra:
                text += extra
        elif environment(ob) is self:
            text += "You are carrying it.\n"
        elif call_other(ob, "get"):
            text += "You could pick it up.\n"
        else:
            text += "It is not something you could carry.\n"
        self.tell(text)

    def cmd_exits(self, arg):
        """List the ways out of this room, and where each one leads."""
        room = environment(self)
        exits = call_other(room, "query_exits") if room else None
        if not exits:
            self.tell("There are no obvious exits.\n")
            return
        lines = [f"%^HEADING%^Exits from {call_other(room, 'short_description')}:%^RESET%^"]
        width = max(len(direction) for direction in exits)
        for direction, path in exits.items():
            target = find_object(path)
            try:
                target = target or load_object(path)
                name = call_other(target, "short_description") or "somewhere"
            except Exception:   # a broken room shows as a mystery, not an error
                name = "somewhere strange"
            lines.append(f"  %^EXITS%^{direction:<{width}}%^RESET%^  {name}")
        self.tell("\n".join(lines) + "\n")

    def cmd_go(self, arg):
        """Walk through an exit: 'go north'.  Typing the direction alone does
        the same, and so does its first letter: north, n, up, u."""
        word = arg.lower()
        if not word:
            self.tell("Go where?\n")
        elif word in DIRECTIONS:
            command(word)   # the room's exits are its actions: 'go north' is 'north'
        else:
            self.tell("You can't go that way.\n")

    # -- talking -------------------------------------------------------------

    def cmd_say(self, arg):
        """Say something aloud to everyone in the room: 'say Hello!'.
        A quote does the same: 'Hello!"""
        text = clean(arg)
        if not text:
            self.tell("Say what?\n")
            return
        self.tell_others(f"%^SAY%^{self.name} says: {text}%^RESET%^\n")
        self.tell(f"%^SAY%^You say: {text}%^RESET%^\n")
        room = environment(self)
        for ob in all_inventory(room) if room else ():
            if ob is not self and living(ob) and not call_other(ob, "query_is_player"):
                call_other(ob, "hear_say", self, text)

    def cmd_emote(self, arg):
        """Show the room what you do: 'emote grins' shows everyone, you
        included, 'Aldric grins.'"""
        text = clean(arg)
        if not text:
            self.tell("Emote what?  (emote grins)\n")
            return
        line = f"%^EMOTE%^{self.name} {load_object(GRAMMAR).sentence(text)}%^RESET%^\n"
        self.tell_others(line)
        self.tell(line)

    def cmd_whisper(self, arg):
        """Say something to one person beside you, for their ears only:
        'whisper bob The key is under the mat'.  Everyone else here sees
        that you whispered, not what."""
        who, _, text = arg.partition(" ")
        text = clean(text)
        if not who or not text:
            self.tell("Whisper what to whom?  (whisper <someone> <text>)\n")
            return
        room = environment(self)
        target = present(who.lower(), room) if room is not None else None
        if target is None or target is self or not living(target):
            self.tell(f"There is no {clean(who)} here to whisper to.\n")
            return
        name = call_other(target, "query_name") or "someone"
        if call_other(target, "query_is_player") and \
                call_other(target, "query_ignoring", self.name):
            self.tell(f"{name} is not listening to you.\n")
            return
        call_other(target, "tell", f"%^TELL%^{self.name} whispers to you: {text}%^RESET%^\n")
        self.tell(f"%^TELL%^You whisper to {name}: {text}%^RESET%^\n")
        call_other(room, "tell_here", f"{self.name} whispers something to {name}.\n",
                   (self, target))

    def cmd_tell(self, arg):
        """Say something to one player, wherever they are: 'tell alice
        Meet me at the gate'.  A player whose link has dropped gets it when
        they come back."""
        who, _, text = arg.partition(" ")
        text = clean(text)
        if not who or not text:
            self.tell("Tell whom what?  (tell <player> <text>)\n")
            return
        target = load_object(MASTER).find_body(who)
        if target is None:
            self.tell(f"There is no one called {who.capitalize()} in the game.\n")
            return
        if target is self:
            self.tell("You mutter something to yourself.\n")
            return
        name = target.query_name()
        if call_other(target, "query_ignoring", self.name):
            self.tell(f"{name} is not listening to you.\n")
            return
        if call_other(target, "receive_tell", self, text):
            self.tell(f"%^TELL%^You tell {name}: {text}%^RESET%^\n")
        else:
            self.tell(f"{name} is link-dead; {name} will hear your tell on coming back.\n")

    def cmd_reply(self, arg):
        """Answer whoever told you something last: 'reply On my way.'"""
        if not self.last_teller:
            self.tell("Nobody has told you anything yet.\n")
            return
        if not clean(arg):
            self.tell(f"Reply what?  (reply <text>, to {self.last_teller})\n")
            return
        self.cmd_tell(f"{self.last_teller} {arg}")

    # -- channels ------------------------------------------------------------

    def query_listening(self, channel):
        """Whether this player hears `channel` (see 'channels')."""
        return channel not in self.channels_off

    def hear_channel(self, channel, talker, line):
        """A line on a channel this player listens to (from /daemon/channels)."""
        if self.query_ignoring(talker):
            return
        self.tell(f"%^CHANNEL%^[{channel}] {line}%^RESET%^\n")
        supports = query_gmcp_supports(self) or {}
        if "Comm" in supports or "Comm.Channel" in supports:
            # (IRE's package: a client's chat window or capture triggers)
            send_gmcp(self, "Comm.Channel.Text",
                      {"channel": channel, "talker": talker, "text": f"[{channel}] {line}"})

    def cmd_chat(self, arg):
        """Talk on the chat channel, which every player hears wherever they
        are: 'chat Anyone seen the ravens?'.  'chat :waves' shows what you
        do ('Alice waves.').  'chat' alone shows the last things said on it;
        'channels off chat' stops you hearing it."""
        self._use_channel("chat", arg)

    def cmd_wiz(self, arg):
        """Talk on the wizards' channel: 'wiz Updating the tavern now.'
        'wiz' alone shows the last things said on it."""
        self._use_channel("wiz", arg)

    def _use_channel(self, name, arg):
        channels = load_object(CHANNELS)
        if not channels.may_use(self, name):
            self.tell(f"Only wizards may use the {name} channel.\n")
            return
        text = clean(arg)
        if not text:
            self._show_history(channels, name)
            return
        if not self.query_listening(name):
            self.tell(f"You have the {name} channel off; 'channels on {name}' turns it "
                      "back on.\n")
            return
        if text.startswith(":") and not text[1:].strip():
            self.tell(f"Do what on the {name} channel?  ({name} :waves)\n")
            return
        if not channels.send(self, name, text):
            self.tell("You are talking too fast on the channels; wait a few "
                      "seconds.\n")

    def _show_history(self, channels, name):
        said = channels.query_history(name)
        if not said:
            self.tell(f"Nothing has been said on the {name} channel lately.\n")
            return
        lines = [f"%^HEADING%^Lately on [{name}]:%^RESET%^"]
        lines += [f"  {datetime.fromtimestamp(when, timezone.utc):%H:%M} "
                  f"%^CHANNEL%^{line}%^RESET%^" for when, line in said]
        self.tell("\n".join(lines) + "\n")

    def cmd_channels(self, arg):
        """List the channels you may use and whether you hear each;
        'channels off chat' stops you hearing one, 'channels on chat' brings
        it back.  Your choice is saved with your character."""
        channels = load_object(CHANNELS)
        mine = [name for name in channels.query_channels() if channels.may_use(self, name)]
        switch, _, name = arg.strip().lower().partition(" ")
        name = name.strip()
        if switch in ("on", "off"):
            if name not in mine:
                self.tell(f"There is no channel called '{name}' for you.  "
                          "('channels' lists yours.)\n")
            elif switch == "off" and name not in self.channels_off:
                self.channels_off = [*self.channels_off, name]
                self.tell(f"You no longer hear the {name} channel.\n")
            elif switch == "on" and name in self.channels_off:
                self.channels_off = [off for off in self.channels_off if off != name]
                self.tell(f"You hear the {name} channel again.\n")
            else:
                self.tell(f"The {name} channel is {switch} already.\n")
            return
        if arg.strip():
            self.tell("Usage: channels [on|off <channel>]\n")
            return
        lines = ["%^HEADING%^Channels:%^RESET%^"]
        for name in mine:
            who, what = channels.query_description(name)
            state = "on" if self.query_listening(name) else "off"
            heard = len(channels.query_listeners(name))
            lines.append(f"  %^COMMAND%^{name:<6}%^RESET%^ {state:<3}  {what} "
                         f"({who}; {heard} listening)")
        lines.append("Talk on one with its name: 'chat Hello!'.")
        self.tell("\n".join(lines) + "\n")

    def cmd_ask(self, arg):
        """Ask one of the world's people about something: 'ask mags about
        ale'.  They know about their own lives; try the names of places."""
        who, _, topic = arg.partition(" ")
        topic = topic.strip()
        if topic.lower().startswith("about "):
            topic = topic[6:].strip()
        if not who or not topic:
            self.tell("Ask whom about what?  (ask <someone> about <topic>)\n")
            return
        room = environment(self)
        ob = present(who.lower(), room) if room else None
        if ob is None or not living(ob):
            self.tell(f"There is no {who} here to ask.\n")
            return
        if call_other(ob, "query_is_player"):
            self.tell(f"{ob.query_name()} is a player: 'say' or 'tell' it.\n")
            return
        name = call_other(ob, "query_name") or "It"
        topic = clean(topic)
        self.tell(f"You ask {name} about {topic}.\n")
        self.tell_others(f"{self.name} asks {name} about {topic}.\n")
        if not call_other(ob, "answer", self, topic):
            self.tell(f"{name} does not seem to hear you.\n")

    def cmd_who(self, arg):
        """List the players in the game: how each is connected, and who is
        link-dead (their body waits in the world for them)."""
        bodies = load_object(MASTER).query_bodies()
        mud = load_object(MASTER).query_mud_name()
        lines = [f"%^HEADING%^Adventurers in {mud}:%^RESET%^"]
        online = dead = 0
        for ob in bodies:
            if interactive(ob):
                online += 1
                link = connection_kind(ob)
                state = format_idle(query_idle(ob))
            else:
                dead += 1
                link, state = "link-dead", ""
            title = call_other(ob, "query_title") or ""
            state = f"  ({state})" if state else ""
            lines.append(f"  {ob.query_name():<16} {link:<9} {title}{state}".rstrip())
        summary = f"{online} player{'' if online == 1 else 's'} online."
        if dead:
            summary += f"  {dead} link-dead."
        legend = "  'tls' means the connection is encrypted"
        if any(interactive(ob) and connection_kind(ob) == "web" for ob in bodies):
            legend += ("; 'web', a browser whose encryption, if any, is the web "
                       "proxy's")
        lines.append(summary + legend + ".")
        self.tell("\n".join(lines) + "\n")

    def cmd_uptime(self, arg):
        """How long the game has been running, and how many are playing."""
        up = driver_info("uptime")
        online = sum(1 for ob in load_object(MASTER).query_bodies() if interactive(ob))
        self.tell(f"{load_object(MASTER).query_mud_name()} has been running for "
                  f"{format_duration(up)}, since {format_time(time() - up)}.  "
                  f"{online} player{'' if online == 1 else 's'} "
                  f"{'is' if online == 1 else 'are'} in the game.\n")

    def cmd_mail(self, arg):
        """Letters, for players who are not in the game as well as those who
        are: 'mail bob Meet me at the gate tomorrow' leaves Bob a letter,
        which he hears of now or when he next logs in.  'mail bob' alone
        lets you write a longer one, line by line: a line with only '.'
        sends it, and '~q' throws it away.  'mail' alone shows yours, oldest
        first, the new ones marked; 'mail delete 2' throws away the second,
        'mail delete all' every one."""
        words = arg.split(None, 1)
        if not words:
            self._show_letters()
            return
        if words[0].lower() == "delete":
            which = words[1].strip().lower() if len(words) > 1 else ""
            if which != "all" and not which.isdigit():
                self.tell("Delete which letter?  (mail delete <number>|all)\n")
                return
            gone = call_other(MAIL, "delete", None if which == "all" else int(which))
            if not gone:
                self.tell("You have no such letter.\n")
            else:
                self.tell(f"{gone} letter{'s' if gone > 1 else ''} thrown away.\n")
            return
        record = self._character_named(words[0])
        if record is None:
            return
        if record["name"] == self.name:
            self.tell("A letter to yourself?  Try a notebook.\n")
            return
        text = clean(words[1]) if len(words) > 1 else ""
        if text:
            self._send_letter(record["name"], text)
            return
        why = call_other(MAIL, "refusal", self, record["name"])
        if why is not None:
            self.tell(f"You cannot write to {record['name']}: {why}.\n")
            return
        self.letter_draft = (record["name"], [])
        self.tell(f"Write your letter to {record['name']}.  A line with only '.' "
                  "sends it; '~q' throws it away.\n")
        input_to("_letter_line", INPUT_PROMPT, LETTER_PROMPT)

    def _letter_line(self, line):
        """The next line of the letter being written ('mail <player>')."""
        if self.letter_draft is None:
            return
        recipient, lines = self.letter_draft
        if line.strip() == "~q":
            self.letter_draft = None
            self.tell("Your letter is thrown away.\n")
            return
        if line.strip() == ".":
            self.letter_draft = None
            text = "\n".join(lines).strip("\n")
            if text:
                self._send_letter(recipient, text)
            else:
                self.tell("An empty letter: nothing sent.\n")
            return
        most_characters, most_lines = call_other(MAIL, "query_limits")
        text = clean(line)
        if len(lines) >= most_lines or len("\n".join([*lines, text])) > most_characters:
            self.tell(f"A letter is at most {most_lines} lines and {most_characters} "
                      "characters: that line does not fit.  '.' sends what you have "
                      "written.\n")
        else:
            lines.append(text)
        input_to("_letter_line", INPUT_PROMPT, LETTER_PROMPT)

    def _send_letter(self, recipient, text):
        why = call_other(MAIL, "send", self, recipient, text)
        if why is None:
            self.tell(f"Your letter to {recipient} is on its way.\n")
        elif "\n" in text:     # a long letter refused: given back, not lost
            self.tell(f"Your letter was not sent: {why}.  Here it is, so that it is "
                      f"not lost:\n{text}\n")
        else:
            self.tell(f"Your letter was not sent: {why}.\n")

    def _show_letters(self):
        letters = call_other(MAIL, "read_letters")
        if not letters:
            self.tell("You have no letters.\n")
            return
        lines = [f"%^HEADING%^Your letters ({len(letters)}):%^RESET%^"]
        for number, letter in enumerate(letters, 1):
            new = " (new)" if letter.get("new") else ""
            first, *more = str(letter.get("text") or "").split("\n")
            lines.append(self.hanging(
                f"  {number:>2}{new} from {letter.get('from')}, "
                f"{format_time(letter.get('at') or 0)}: {first}", 6))
            lines += [self.hanging(f"      {line}", 6) for line in more]
        self.tell("\n".join(lines) + "\n")

    def _character_named(self, name):
        """What the world may know of the character called `name` (the
        master's query_character), or None, and the player is told there is
        no one of that name."""
        # call_other, so the master reads /data as itself, not as this player.
        record = call_other(load_object(MASTER), "query_character", name)
        if record is None or not record.get("name"):
            self.tell(f"There is no one called {name.capitalize()} here.\n")
            return None
        return record

    def query_ignoring(self, name):
        """Whether this player ignores the player called `name`."""
        return isinstance(name, str) and name.capitalize() in self.ignoring

    def cmd_ignore(self, arg):
        """Stop hearing someone: 'ignore bob'.  You no longer get Bob's tells
        or letters (Bob is told you are not listening) nor see what Bob says
        on the channels.  What Bob says or does in a room you share still reaches
        you.  'ignore' alone lists whom you ignore; 'unignore bob' undoes it.
        Administrators cannot be ignored: they must be able to reach you."""
        name = arg.strip().capitalize()
        if not name:
            if self.ignoring:
                self.tell(f"You are ignoring {', '.join(self.ignoring)}.\n")
            else:
                self.tell("You are ignoring no one.\n")
            return
        record = self._character_named(name)
        if record is None:
            return
        name = record["name"]
        if name == self.name:
            self.tell("You cannot ignore yourself.\n")
        elif record.get("level") == "admin" or load_object(MASTER).query_admin(name):
            self.tell(f"{name} is an administrator, who must be able to reach you; you "
                      "cannot ignore them.\n")
        elif name in self.ignoring:
            self.tell(f"You are ignoring {name} already.\n")
        elif len(self.ignoring) >= MAX_IGNORED:
            self.tell(f"You ignore {MAX_IGNORED} players already; 'unignore' one first.\n")
        else:
            self.ignoring = [*self.ignoring, name]
            self.save_character()
            self.tell(f"You ignore {name} now: no more tells or letters from them, nor "
                      "their lines on the channels.\n")

    def cmd_unignore(self, arg):
        """Hear someone you ignored again: 'unignore bob'."""
        name = arg.strip().capitalize()
        if not name:
            self.tell("Unignore whom?  ('ignore' lists whom you ignore.)\n")
        elif name not in self.ignoring:
            self.tell(f"You are not ignoring {name}.\n")
        else:
            self.ignoring = [other for other in self.ignoring if other != name]
            self.save_character()
            self.tell(f"You hear {name} again.\n")

    def cmd_finger(self, arg):
        """Look someone up, in the game or not: who they are, since when they
        play, and whether they are here now (and how long idle or link-dead)
        or when they were last here.  Administrators also see the address
        of that last login."""
        name = arg.strip()
        if not name:
            self.tell("Finger whom?\n")
            return
        record = self._character_named(name)
        if record is None:
            return
        master = load_object(MASTER)
        name = record["name"]
        level = {"wizard": "a wizard", "admin": "a wizard and administrator"}.get(
            record.get("level"), "an adventurer")
        lines = [f"%^HEADING%^{name}%^RESET%^, {level}."]
        if record.get("created"):
            lines.append(f"  Playing since {format_time(record['created'])}.")
        body = master.find_body(name)
        if body is not None and interactive(body):
            idle = format_idle(query_idle(body))
            lines.append(f"  In the game now{f' ({idle})' if idle else ''}.")
        elif body is not None:
            since = call_other(body, "query_linkdead_since") or time()
            lines.append(f"  In the game, but link-dead for {format_duration(time() - since)}.")
        elif record.get("last_login"):
            lines.append(f"  Last here on {format_time(record['last_login'])}.")
        if self.query_level() == "admin" and record.get("last_login_from"):
            lines.append(f"  Last login from {record['last_login_from']}.")
        self.tell("\n".join(lines) + "\n")

    # -- things --------------------------------------------------------------

    def _takeable(self, ob):
        return ob is not self and not living(ob) and bool(call_other(ob, "get"))

    def cmd_get(self, arg):
        """Pick something up: 'get apple'.  'get all' takes everything here
        that can be carried.  'take' is the same."""
        room = environment(self)
        word = arg.lower()
        if not word or room is None:
            self.tell("Get what?\n")
            return
        if word == "all":
            things = [ob for ob in all_inventory(room) if self._takeable(ob)]
            if not things:
                self.tell("There is nothing here you can take.\n")
                return
        else:
            ob = present(word, room)
            if ob is None or ob is self:
                self.tell(f"There is no {word} here.\n")
                return
            if not self._takeable(ob):
                self.tell("You can't take that.\n")
                return
            things = [ob]
        listed = load_object(GRAMMAR).list_things(things)
        for ob in things:
            move_object(ob, self)
        self.tell(f"You take {listed}.\n")
        self.tell_others(f"{self.name} takes {listed}.\n")

    def cmd_drop(self, arg):
        """Put something down: 'drop coin'.  'drop all' puts down everything
        you carry that you can let go of."""
        room = environment(self)
        word = arg.lower()
        if not word:
            self.tell("Drop what?\n")
            return
        if word == "all":
            things = [ob for ob in all_inventory(self) if not call_other(ob, "drop")]
            if not things:
                self.tell("You carry nothing you can drop.\n")
                return
        else:
            ob = present(word, self)
            if ob is None:
                self.tell("You carry no such thing.\n")
                return
            if call_other(ob, "drop"):
                self.tell("You can't let go of it.\n")
                return
            things = [ob]
        listed = load_object(GRAMMAR).list_things(things)
        for ob in things:
            move_object(ob, room)
        self.tell(f"You drop {listed}.\n")
        self.tell_others(f"{self.name} drops {listed}.\n")

    def cmd_give(self, arg):
        """Give something you carry to someone here: 'give coin to alice'."""
        thing, sep, who = arg.lower().rpartition(" to ")
        if not sep or not thing.strip() or not who.strip():
            self.tell("Give what to whom?  (give <thing> to <someone>)\n")
            return
        ob = present(thing.strip(), self)
        if ob is None:
            self.tell(f"You carry no {thing.strip()}.\n")
            return
        room = environment(self)
        target = present(who.strip(), room) if room else None
        if target is None or not living(target):
            self.tell(f"There is no {who.strip()} here.\n")
            return
        if target is self:
            self.tell("You already have it.\n")
            return
        if call_other(ob, "drop"):
            self.tell("You can't let go of it.\n")
            return
        short = call_other(ob, "short_description") or "something"
        name = call_other(target, "query_name") or "someone"
        move_object(ob, target)
        self.tell(f"You give {short} to {name}.\n")
        call_other(target, "tell", f"{self.name} gives you {short}.\n")
        call_other(room, "tell_here", f"{self.name} gives {short} to {name}.\n",
                   (self, target))
        call_other(target, "given", self, ob)

    def cmd_inventory(self, arg):
        """List what you carry; alike things are counted together."""
        things = load_object(GRAMMAR).group(all_inventory(self))
        if not things:
            self.tell("You carry nothing.\n")
            return
        weapon = self.query_wielded()
        wielding = (f"You wield %^ITEM%^{call_other(weapon, 'short_description')}%^RESET%^.\n"
                    if weapon is not None else "")
        self.tell("You carry:\n" + "".join(f"  %^ITEM%^{thing}%^RESET%^\n" for thing in things)
                  + wielding)

    # -- yourself ------------------------------------------------------------

    def cmd_score(self, arg):
        """Show your character: level, health and stamina, what you carry,
        how long you have played, and how the game shows you text."""
        level = {"player": "adventurer", "wizard": "wizard",
                 "admin": "wizard and administrator"}[self.query_level()]
        carried = load_object(GRAMMAR).list_things(all_inventory(self)) or "nothing"
        depth = self.query_colour_depth()
        colours = {0: "no colour", 16: "16 colours", 256: "256 colours"}.get(
            depth, "true colour")
        lines = [
            f"%^HEADING%^{self.name}{' ' + self.title if self.title else ''}, "
            f"{level}%^RESET%^",
            f"  Health   {self.health:>3}/{MAX_HEALTH:<3}  Stamina  "
            f"{self.stamina:>3}/{MAX_STAMINA}",
            f"  Carrying {carried}",
            f"  In the game since {format_time(self.created or time())}; "
            f"on for {format_duration(time() - self.logged_in_at)} this time.",
            f"  Text: {colours} (colour {self.colour}), {self.query_width()} columns"
            f"{', brief' if self.brief else ''}.",
            call_other(COMBAT, "score_line", self),
        ]
        self.tell("\n".join(lines) + "\n")

    def cmd_colour(self, arg):
        """Colour on your screen: 'colour on', 'colour off', or 'colour auto'
        (the default: as much colour as your client says it shows, none if
        it says nothing).  Alone, it shows what you have now."""
        choice = arg.lower()
        if choice in ("on", "off", "auto"):
            self.colour = choice
            self.save_character()
        elif choice:
            self.tell("Colour on, off or auto?\n")
            return
        depth = self.query_colour_depth()
        announced = query_colour_depth(self) or 0
        said = f"{announced} colours" if announced else "no colour"
        if depth:
            self.tell(f"Colour is {self.colour}: your screen gets "
                      f"{'true colour' if depth > 256 else f'{depth} colours'} "
                      f"(your client said {said}).  "
                      "%^ROOM%^Rooms%^RESET%^, %^SAY%^speech%^RESET%^, "
                      "%^TELL%^tells%^RESET%^, %^EMOTE%^emotes%^RESET%^.\n")
        else:
            self.tell(f"Colour is {self.colour}: your screen gets no colour "
                      f"(your client said {said}).\n")

    def cmd_brief(self, arg):
        """Rooms as you walk into them: 'brief on' shows only each room's
        name, its exits and who and what is there; 'brief off' (the
        default) its whole description too.  'look' always shows it all."""
        choice = arg.lower()
        if choice in ("on", "off"):
            self.brief = choice == "on"
            self.save_character()
        elif choice:
            self.tell("Brief on or off?\n")
            return
        self.tell("Brief is on: walking shows each room's name, exits and who is "
                  "there; 'look' shows the rest.\n" if self.brief else
                  "Brief is off: walking shows each room's whole description.\n")

    def cmd_prompt(self, arg):
        """The prompt the game shows when it waits for your command.  In it,
        %h is your health and %H its most, %s your stamina and %S its most,
        %n your name, and %% a per cent sign: 'prompt [%h/%H hp %s/%S st] >'.
        'prompt default' gives back the usual '>'.  Alone, it shows yours."""
        text = clean(arg)
        if not text:
            shown = self.prompt_format or DEFAULT_PROMPT
            self.tell(f"Your prompt is '{shown.rstrip()}'"
                      + (f", which shows now as '{self.prompt_text().rstrip()}'"
                         if "%" in shown else "") + ".\n")
            return
        if text.lower() == "default":
            self.prompt_format = None
        elif len(text) > MAX_PROMPT:
            self.tell(f"A prompt may be at most {MAX_PROMPT} characters long.\n")
            return
        else:
            unknown = sorted({letter for letter in re.findall(r"%(.?)", text)
                              if letter not in PROMPT_FIELDS})
            if unknown:
                self.tell(f"'%{unknown[0]}' means nothing in a prompt: %h, %H, %s, %S, "
                          "%n and %% do.\n")
                return
            self.prompt_format = text + " "
        self.save_character()
        self.apply_prompt()
        self.tell("Prompt set.\n")

    def apply_prompt(self):
        """Give this body's connection its prompt: a fixed one as a string,
        one that shows health and the like as a method, which the driver
        calls each time it prints the prompt (so it is never out of date)."""
        if not interactive(self):
            return
        fmt = self.prompt_format or DEFAULT_PROMPT
        set_prompt(self.prompt_text if "%" in fmt else fmt, self)

    def prompt_text(self):
        """The prompt as it shows now: its %-letters filled in."""
        values = {"health": self.health, "max_health": MAX_HEALTH, "stamina": self.stamina,
                  "max_stamina": MAX_STAMINA, "name": self.name, "percent": "%"}
        return re.sub(r"%(.)", lambda m: str(values[PROMPT_FIELDS.get(m.group(1), "percent")]),
                      self.prompt_format or DEFAULT_PROMPT)

    def cmd_alias(self, arg):
        """Your own short words for commands.  'alias gs get sword from
        chest' makes 'gs' do that.  In the command, $1 to $9 are the words
        you type after the alias and $* all of them ('alias tb tell bob $*');
        with none, what you type after it is added at the end ('alias t
        tell': 't bob hello' tells Bob hello).  'alias' alone lists yours,
        'alias gs' shows one, 'unalias gs' forgets it.  An alias does not
        expand other aliases."""
        word, _, expansion = arg.partition(" ")
        word, expansion = word.lower(), clean(expansion)
        if not word:
            if not self.aliases:
                self.tell("You have no aliases.  'help alias' tells how to make one.\n")
                return
            lines = ["%^HEADING%^Your aliases:%^RESET%^"]
            lines += [self.hanging(f"  {name:<{MAX_ALIAS_NAME}} {command}",
                                   3 + MAX_ALIAS_NAME)
                      for name, command in sorted(self.aliases.items())]
            self.tell("\n".join(lines) + "\n")
            return
        if not expansion:
            command = self.aliases.get(word)
            self.tell(f"'{word}' does '{command}'.\n" if command
                      else f"You have no alias '{clean(word)}'.\n")
            return
        if word in UNALIASABLE:
            self.tell(f"'{word}' must always be itself: it cannot be an alias.\n")
        elif len(word) > MAX_ALIAS_NAME or not word.isprintable() or "$" in word:
            self.tell(f"An alias is one word of at most {MAX_ALIAS_NAME} letters.\n")
        elif len(expansion) > MAX_ALIAS_EXPANSION:
            self.tell(f"An alias's command may be at most {MAX_ALIAS_EXPANSION} "
                      "characters long.\n")
        elif word not in self.aliases and len(self.aliases) >= MAX_ALIASES:
            self.tell(f"You have {MAX_ALIASES} aliases already; 'unalias' one first.\n")
        else:
            self.aliases = {**self.aliases, word: expansion}
            self.save_character()
            self.tell(f"'{word}' now does '{expansion}'.\n")

    def cmd_unalias(self, arg):
        """Forget one of your aliases: 'unalias gs'."""
        word = arg.strip().lower()
        if word not in self.aliases:
            self.tell(f"You have no alias '{clean(word)}'.\n" if word
                      else "Unalias which?  'alias' lists yours.\n")
            return
        self.aliases = {name: command for name, command in self.aliases.items()
                        if name != word}
        self.save_character()
        self.tell(f"'{word}' is no longer an alias.\n")

    def cmd_title(self, arg):
        """Your title, shown after your name when people list who is in the
        game: 'title the Wanderer'.  'title none' takes it away; alone, it
        shows yours."""
        self._set_text("title", arg, MAX_TITLE,
                       lambda text: f"'who' shows you as {self.name} {text}.")

    def cmd_describe(self, arg):
        """How others see you when they look at you: 'describe A tall
        woman in a grey cloak, with a scar on her chin.'  'describe none'
        goes back to the plain one; alone, it shows yours."""
        self._set_text("description", arg, MAX_DESCRIPTION,
                       lambda text: f"Others see you as: {text}")

    def _set_text(self, attr, arg, limit, shown):
        """'title' and 'describe': a line of the player's own about them."""
        text = clean(arg)
        if text.lower() == "none":
            setattr(self, attr, "")
            self.save_character()
            self.tell(f"Your {attr} is gone.\n")
        elif len(text) > limit:
            self.tell(f"Your {attr} may be at most {limit} characters long.\n")
        elif text:
            setattr(self, attr, text)
            self.save_character()
            self.tell(shown(text) + "\n")
        elif getattr(self, attr):
            self.tell(shown(getattr(self, attr)) + "\n")
        else:
            self.tell(f"You have no {attr}.  'help {query_verb()}' tells how to "
                      "set one.\n")

    def cmd_tls(self, arg):
        """Tell whether your connection is encrypted, and if it is not, how
        to connect with TLS."""
        if connection_kind(self) == "web":
            self.tell("You play in a browser, through the web proxy in front of "
                      "this game.  The proxy, not the game, encrypts the "
                      "connection: if the page's address begins with https://, "
                      "what you type is encrypted on its way.\n")
            return
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
            "Your connection is not encrypted: what you type, your password "
            "included, crosses the network as plain text.\n"
            f"This game also accepts TLS connections at {host} port {tls_port}.\n")
        client = (query_client_name(self) or "").upper()
        for name, shown, how in TLS_HOW_TO:
            if client == name:   # the player's own client: its way alone
                self.tell(f"In {shown}: {how.format(host=host, port=tls_port)}\n")
                return
        ways = "".join(f"  {shown:<10} {how.format(host=host, port=tls_port)}\n"
                       for _, shown, how in TLS_HOW_TO)
        self.tell("To use it:\n" + ways + "  others     look for \"TLS\" or \"SSL\" "
                  "in your client's connection settings\n")

    def cmd_password(self, arg):
        """Change your password.  The game asks for the one you have, then
        for the new one twice; nothing you type is shown, and the game keeps
        only a hash of it.  Three wrong passwords in a row, and 'password'
        refuses for ten minutes."""
        wait = self.password_locked_until - time()
        if wait > 0:
            self.tell("Too many wrong passwords: 'password' works again in "
                      f"{format_duration(wait)}.\n")
            return
        # (The steps' names start with "_": call_other cannot reach them, so
        # no other object can try passwords through them.)
        input_to("_password_current", INPUT_NOECHO | INPUT_PROMPT, "Current password: ")

    async def _password_current(self, line):
        try:
            right = await check_password(line, self.password_hash)
        except WorkersBusy:
            self.tell(PASSWORD_BUSY)
            return
        if not right:
            self.password_misses += 1
            locked = self.password_misses >= PASSWORD_CHANGE_TRIES
            if locked:
                self.password_misses = 0
                self.password_locked_until = time() + PASSWORD_CHANGE_LOCK
            audit("password", self, "failed", why="wrong current password",
                  locked=locked)
            self.tell("That is not your password.  It stays as it was.\n")
            return
        self.password_misses = 0
        input_to("_password_new", INPUT_NOECHO | INPUT_PROMPT,
                 f"New password (at least {MIN_PASSWORD_LENGTH} characters): ")

    async def _password_new(self, line):
        if len(line) < MIN_PASSWORD_LENGTH:
            self.tell("That password is too short.  Yours stays as it was.\n")
            return
        try:
            self.new_password_hash = await hash_password(line)
        except WorkersBusy:
            self.tell(PASSWORD_BUSY)
            return
        input_to("_password_confirm", INPUT_NOECHO | INPUT_PROMPT, "Type it again: ")

    async def _password_confirm(self, line):
        new, self.new_password_hash = self.new_password_hash, None
        try:
            same = new is not None and await check_password(line, new)
        except WorkersBusy:
            self.tell(PASSWORD_BUSY)
            return
        if not same:
            self.tell("The passwords do not match.  Yours stays as it was.\n")
            return
        old, self.password_hash = self.password_hash, new
        if not self.save_character():
            self.password_hash = old    # what the file still holds
            audit("password", self, "failed", why=self.query_save_error())
            self.tell(f"Your new password could not be saved "
                      f"({self.query_save_error()}), so the old one stays.\n")
            return
        audit("password", self)
        self.tell("Your password has been changed.\n")

    def cmd_report(self, arg):
        """Tell the wizards about something: 'bug the door will not open',
        'typo "fountian" in the square', 'idea a well in the garden'.  The
        report says where you were, so say what, not where; the wizards
        online see it at once, the others when they next look."""
        kind = query_verb()
        text = clean(arg)
        if not text:
            self.tell(f"What do you want to report?  ({kind} <text>)\n")
            return
        room = environment(self)
        where = call_other(room, "short_description") if room is not None else "nowhere"
        filed = call_other(REPORTS, "file", self, kind, text,
                           object_name(room) if room is not None else None, where)
        if isinstance(filed, int):
            self.tell(f"Thank you: your {kind} report (number {filed}) is filed for "
                      "the wizards.\n")
        else:
            self.tell(f"Your {kind} report was not filed: {filed}.\n")

    def cmd_reports(self, arg):
        """The players' open reports of bugs, typos and ideas, oldest first,
        each with where it was made ('goto' takes you there); 'reports done
        12' closes number 12 once it is dealt with."""
        words = arg.split()
        if words[:1] == ["done"]:
            if len(words) != 2 or not words[1].isdigit():
                self.tell("Which report is done?  (reports done <number>)\n")
            elif call_other(REPORTS, "close", int(words[1])):
                self.tell(f"Report {words[1]} is closed.\n")
            else:
                self.tell(f"There is no open report number {words[1]}.\n")
            return
        if words:
            self.tell("Usage: reports [done <number>]\n")
            return
        reports = call_other(REPORTS, "query_open")
        if not reports:
            self.tell("There are no open reports.\n")
            return
        lines = [f"%^HEADING%^Open reports ({len(reports)}):%^RESET%^"]
        for report in reports:
            lines.append(self.hanging(
                f"  {report['number']:>3}  {report['kind']:<4}  {report['by']} in "
                f"{report['where']} ({report['room']}), {format_time(report['at'])}: "
                f"{report['text']}", 13))
        self.tell("\n".join(lines) + "\n")

    def cmd_save(self, arg):
        """Save your character now.  The game also saves it when you quit,
        when your link drops and when the game shuts down."""
        if self.save_character():
            self.tell("Your character has been saved.\n")
        else:
            self.tell(self.save_failed_message())

    # -- fighting ------------------------------------------------------------
    # /daemon/combat runs the fights and owns their rules; these are the
    # body's commands for them, and what the daemon asks of a fighter.

    # Below this share of its health (percent) the body runs from a fight by
    # itself ('wimpy'); 0: never.  Saved with the character, as colour is.
    wimpy = 0
    # The object name of the weapon in hand ('wield'), or None.  It is only
    # wielded while the body carries it: dropped, given, sold or left in a
    # corpse, it is not (query_wielded).
    wielded = None

    def cmd_kill(self, arg):
        """Attack a creature here: 'kill dog'.  The fight goes on by itself,
        a round at a time, until one of you dies or one of you leaves the
        room; whatever you attack fights back.  Only creatures can be
        fought: players never fight players, and the town's people will
        have none of it.  'help combat' tells more.  'attack' is the same."""
        call_other(COMBAT, "kill", self, arg)

    def cmd_consider(self, arg):
        """Size up a creature before you fight it: 'consider wight' tells
        how dangerous it looks to you as you are now (wounded, you are the
        weaker) and how hurt it is."""
        call_other(COMBAT, "consider", self, arg)

    def cmd_flee(self, arg):
        """Run from a fight, through an exit chosen at random.  Running
        costs stamina, and your opponent may cut you off: try again, if you
        live.  Too tired, and you cannot run at all.  'wimpy' makes you run
        by yourself when you are badly hurt."""
        call_other(COMBAT, "flee", self)

    def cmd_wimpy(self, arg):
        """Run from a fight by yourself when your health falls below a
        share of the most you can have: 'wimpy 30' runs below 30%, 'wimpy
        off' fights to the end.  Alone, it shows what you have.  Your
        choice is saved with your character, and 'score' shows it."""
        call_other(COMBAT, "wimpy", self, arg)

    def cmd_wield(self, arg):
        """Take a weapon in hand: 'wield cudgel'.  You fight with it, not
        your fists, until you 'unwield' it or let it go.  Hobb sells
        cudgels; better weapons are found."""
        word = arg.strip().lower()
        weapon = present(word, self) if word else None
        if weapon is None:
            self.tell("Wield what?  You carry no such thing.\n" if word else "Wield what?\n")
            return
        if not call_other(weapon, "query_weapon"):
            self.tell(f"You cannot fight with {call_other(weapon, 'short_description')}.\n")
            return
        held = call_other(weapon, "short_description")
        self.wielded = object_name(weapon)
        self.tell(f"You wield {held}.\n")
        self.tell_others(f"{self.name} wields {held}.\n")

    def cmd_unwield(self, arg):
        """Put away the weapon in your hand, and fight with your fists."""
        weapon = self.query_wielded()
        if weapon is None:
            self.tell("You wield nothing.\n")
            return
        self.wielded = None
        self.tell(f"You put away {call_other(weapon, 'short_description')}.\n")

    def query_wielded(self):
        """The weapon in this body's hand, or None: one it still carries."""
        weapon = find_object(self.wielded) if self.wielded else None
        if weapon is None or environment(weapon) is not self:
            self.wielded = None
            return None
        return weapon

    def query_wimpy(self):
        return self.wimpy

    def set_wimpy(self, percent):
        self.wimpy = percent
        self.save_character()

    def take_damage(self, amount):
        """A blow in a fight (/daemon/combat's): unlike hurt(), it may take
        the last point.  Returns the health left; at 0 the daemon has the
        body die, and it wakes in the tavern."""
        self.health = max(0, self.health - amount)
        self.check_vitals()     # GMCP Char.Vitals and MSDP HEALTH follow the fight
        return self.health

    # -- help, and leaving the game ------------------------------------------

    def cmd_help(self, arg):
        """'help' lists the commands you have; 'help <command>' explains one,
        and 'help <topic>' a subject: 'help tls', 'help colour'."""
        word = arg.lower().strip()
        if not word:
            self._help_index()
            return
        page = call_other(HELP, "query_topic", word)
        for verbs, method, usage, _ in self.query_commands():
            if word not in verbs:
                continue
            if page:    # a topic named after its command: the topic, then the usage
                self.tell(f"{page}Usage: %^COMMAND%^{usage}%^RESET%^ "
                          f"('help' for every command)\n")
                return
            self._help_page(verbs, usage, getattr(type(self), method).__doc__)
            return
        if page:
            self.tell(page)
            return
        program = self._command_file(word)
        if program is not None:     # a command in a file of its own: its docstring
            self._help_page((word,), program.usage, type(program).__doc__)
            return
        social = call_other(SOUL, "query_social", word)
        if social:
            self.tell(social)
            return
        self.tell(f"There is no help on '{clean(word)}'.  Type 'help' for the list.\n")

    def _help_page(self, verbs, usage, doc):
        text = inspect.cleandoc(doc or "")
        also = f"  (also: {', '.join(verbs[1:])})" if len(verbs) > 1 else ""
        self.tell(f"%^HEADING%^{verbs[0]}%^RESET%^{also}\n"
                  f"Usage: %^COMMAND%^{usage}%^RESET%^\n\n"
                  + " ".join(text.split()) + "\n")

    def _command_file(self, verb):
        """The command file (/cmds/<verb>, see /master's fallback_command)
        that does `verb`, loaded; None if there is none or it fails to load."""
        path = call_other(MASTER, "query_command_file", verb)
        if path is None:
            return None
        try:
            return load_object(path)
        except Exception as exc:    # a broken command must not break 'help'
            debug_message(f"help: {path} fails to load: {exc}", "warning")
            return None

    def _help_index(self):
        groups = {}
        for verbs, _, _, group in self.query_commands():
            groups.setdefault(group, []).append(verbs[0])
        for verb in call_other(MASTER, "query_command_files") or ():
            program = self._command_file(verb)
            if program is not None and verb not in ALL_VERBS:
                groups.setdefault(program.group, []).append(verb)
        label_width = max(len(group) for group in groups) + 2
        lines = ["%^HEADING%^Commands%^RESET%^ ('help <command>' tells more):"]
        for group, verbs in groups.items():
            label = f"{group}:".ljust(label_width)
            lines.append(self.hanging(f"  {label}{'  '.join(verbs)}", 2 + label_width))
        topics = "  ".join(call_other(HELP, "query_topics") or ())
        lines.append(self.hanging(f"%^HEADING%^Topics%^RESET%^ ('help <topic>'): {topics}",
                                  2))
        self.tell("\n".join(lines) + "\n")

    def cmd_history(self, arg):
        """The last commands you typed, numbered: '!' does the last again,
        '!12' the twelfth, '!ki' the last that began with 'ki'."""
        if not self.history:
            self.tell("You have typed no commands yet.\n")
            return
        first = self.history_count - len(self.history) + 1
        self.tell("".join(f"  {number:>3}  {line}\n"
                          for number, line in enumerate(self.history, first)))

    def cmd_quit(self, arg):
        """Save your character and leave the game."""
        call_other(MSDP, "forget", self)
        saved = self.save_character()
        self.tell_others(f"{self.name} leaves the game.\n")
        if saved:
            self.tell("Your character has been saved.  Farewell, and come back soon!\n")
        else:
            self.tell(self.save_failed_message() + "Farewell, and come back soon!\n")
        debug_message(f"{self.name} quit")
        remove_interactive(self)
        destruct(self)

    # -- wizards' commands ---------------------------------------------------

    def _find_thing(self, word):
        """An object a wizard names: here, carried, or by object name."""
        return self._find_here(word) or find_object(word)

    # Every wizard's command that changes the world or acts on a player
    # leaves one line in the audit log (the audit efun): what was done, to
    # what, and whether it worked ("failed", with why, when it did not).
    # What the driver already records itself is not recorded again: it
    # audits each snoop() (valid_snoop) and each shutdown() and
    # tls_refresh_certs() (privilege_violation).

    def cmd_update(self, arg):
        """Load a file's new code while everyone stays connected: 'update
        /rooms/garden', or 'update here' for the room you stand in, which is
        rebuilt around the people in it.  Players online get new commands of
        /std/player with their next line."""
        room = environment(self)
        path = arg.strip()
        if path in ("", "here"):
            if room is None:
                audit("update", None, "failed", why="no room here")
                self.tell("Update what?\n")
                return
            path = object_name(room)
        try:
            ob = reload_object(path)
        except EfunError as exc:
            audit("update", path, "failed", why=str(exc))
            self.tell(f"Update failed: {exc}\n")
            return
        audit("update", object_name(ob))
        debug_message(f"{self.name} updated {object_name(ob)}")
        self.tell(f"Updated {object_name(ob)}.\n")

    def cmd_reset(self, arg):
        """Reset something now, as the driver does about once an hour: a
        room puts back what it stocks and anyone who lives there and is
        gone.  'reset here' for the room you stand in, or name a thing here
        or any object by its object name ('reset /rooms/store')."""
        word = arg.strip()
        ob = environment(self) if word in ("", "here") else self._find_thing(word)
        if ob is None:
            audit("reset", word or None, "failed", why="not found")
            self.tell("Reset what?\n" if not word else f"There is no {word} here.\n")
            return
        call_other(ob, "reset")
        audit("reset", object_name(ob))
        self.tell(f"You reset {object_name(ob)}.\n")

    def cmd_clone(self, arg):
        """Make a new object from a file: 'clone /obj/apple'.  Things you
        could carry appear in your hands, others in the room."""
        path = arg.strip()
        if not path:
            audit("clone", None, "failed", why="no path")
            self.tell("Clone what?  (clone /obj/apple)\n")
            return
        try:
            ob = clone_object(path)
        except Exception as exc:
            audit("clone", path, "failed", why=str(exc) or type(exc).__name__)
            if not isinstance(exc, EfunError):
                raise   # an error in the world's code: the wizard sees its traceback
            self.tell(f"Clone failed: {exc}\n")
            return
        audit("clone", object_name(ob))
        carry = call_other(ob, "get") and not call_other(ob, "query_is_player")
        move_object(ob, self if carry else environment(self))
        thing = call_other(ob, "short_description") or object_name(ob)
        self.tell(f"You clone {thing} ({object_name(ob)}).\n")
        self.tell_others(f"{self.name} makes {thing} appear out of thin air.\n")

    def cmd_destruct(self, arg):
        """Destroy an object: one here or carried, by name, or any object by
        its object name ('/obj/coin#3')."""
        word = arg.strip()
        ob = self._find_thing(word) if word else None
        if ob is None:
            audit("destruct", word or None, "failed", why="not found")
            self.tell("Destruct what?\n" if not word else f"There is no {word} here.\n")
            return
        if ob is self:
            audit("destruct", self, "failed", why="oneself")
            self.tell("You would rather not.\n")
            return
        name = object_name(ob)
        destruct(ob)
        audit("destruct", name)
        self.tell(f"You destruct {name}.\n")

    def cmd_goto(self, arg):
        """Go anywhere at once: to a player (link-dead ones too), or to a
        room by its path: 'goto alice', 'goto /rooms/tower'."""
        where = arg.strip()
        if not where:
            audit("goto", None, "failed", why="nowhere given")
            self.tell("Go to whom, or where?\n")
            return
        body = load_object(MASTER).find_body(where)
        if body is not None:
            dest = environment(body)
        elif not where.startswith("/"):
            audit("goto", where, "failed", why="no such player")
            self.tell(f"There is no one called {where.capitalize()} in the game "
                      "(a room is named by its path: /rooms/square).\n")
            return
        else:
            try:
                dest = load_object(where)
            except Exception as exc:    # the reason goes to the log, not a path on disk
                audit("goto", where, "failed", why="room does not load")
                debug_message(f"{self.name}: goto {where}: {exc}", "warning")
                self.tell(f"There is no room {where} that will load.\n")
                return
        if dest is None:
            audit("goto", body, "failed", why="they are nowhere")
            self.tell("They are nowhere.\n")
            return
        audit("goto", object_name(dest), **({"player": body} if body is not None else {}))
        self.tell_others(f"{self.name} vanishes in a puff of smoke.\n")
        move_object(self, dest)
        self.tell_others(f"{self.name} appears in a puff of smoke.\n")
        self.cmd_look("")

    def cmd_status(self, arg):
        """How the game is running: how long it has been up, players and
        connections, commands a second, lag, objects and timers, memory,
        the password workers, and evaluations stopped by the time limit."""
        bodies = load_object(MASTER).query_bodies()
        online = sum(1 for ob in bodies if interactive(ob))
        lag, workers = driver_info("lag"), driver_info("workers")
        up = driver_info("uptime")
        lines = [
            f"%^HEADING%^{load_object(MASTER).query_mud_name()}, up "
            f"{format_duration(up)} (since {format_time(time() - up)})%^RESET%^",
            f"  Players   {online} in the game, {len(bodies) - online} link-dead; "
            f"{len(users())} connection{'' if len(users()) == 1 else 's'}",
            f"  Commands  {driver_info('load_average'):.1f} a second over the last minute; "
            f"{driver_info('commands'):,} since start",
            f"  Lag       {lag.last * 1000:.0f} ms now, {lag.average * 1000:.0f} ms on "
            f"average, {lag.max * 1000:.0f} ms at worst in the last minute",
            f"  Objects   {driver_info('objects'):,} ({driver_info('programs')} programs); "
            f"{driver_info('heart_beats')} heart beats, {driver_info('call_outs')} "
            "call_outs waiting",
            f"  Memory    {driver_info('memory') / 2**20:.1f} MiB resident",
            f"  Passwords {workers['threads']} worker threads: {workers['queued']} waiting, "
            f"{workers['completed']:,} checked, {workers['refused']} turned away busy",
        ]
        limit = driver_info("eval_time_limit")
        lines.append(f"  Limits    {driver_info('eval_timeouts')} evaluations stopped after "
                     f"{limit} s" if limit else "  Limits    no time limit on evaluations")
        self.tell("\n".join(lines) + "\n")

    def cmd_people(self, arg):
        """Every connection, with its address, port, TLS version, cipher and
        idle time; the link-dead, with how long they have been gone; and the
        TLS certificates, with the days each has left."""
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
        for ob in load_object(MASTER).query_bodies():
            if interactive(ob):
                continue
            since = call_other(ob, "query_linkdead_since") or time()
            lines.append(f"{ob.query_name():<16} link-dead for "
                         f"{format_duration(time() - since)}")
        lines += self._certificate_lines()
        self.tell("\n".join(lines) + "\n")

    def _certificate_lines(self):
        """The served TLS certificates as the driver's log describes them:
        names, issuer, expiry and days left; a warning from
        CERTIFICATE_WARNING_DAYS before expiry, as the log gives."""
        certificates = driver_info("certificates")
        if not certificates:
            return ["TLS: no certificate is served."]
        lines = ["%^HEADING%^TLS certificates%^RESET%^"]
        for cert in certificates:
            names = ", ".join(cert.names) or "no names"
            expires = datetime.fromtimestamp(cert.not_after, timezone.utc).strftime(
                "%d %b %Y")
            lines.append(self.hanging(f"  {cert.file}: {names}; issued by {cert.issuer}; "
                                      f"expires {expires}, {cert.days_left} days left", 4))
            if cert.days_left < 0:
                lines.append(f"  %^WARNING%^EXPIRED {-cert.days_left} days ago: renew it "
                             "now.%^RESET%^")
            elif cert.days_left <= CERTIFICATE_WARNING_DAYS:
                lines.append(f"  %^WARNING%^Expires in {cert.days_left} days: renew it "
                             "soon.%^RESET%^")
        return lines

    def cmd_snoop(self, arg):
        """See what a player sees and types: 'snoop alice'.  'snoop' alone
        stops."""
        if not arg:
            snoop(self)
            self.tell("You stop snooping.\n")
            return
        body = load_object(MASTER).find_player(arg)
        if body is None:
            # The driver audits every snoop(); this one never got that far.
            audit("snoop", arg.strip(), "failed", why="not in the game")
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
        """Stop the game, everyone saved, after a countdown that tells all
        the players: 'shutdown 10 <reason>' in ten minutes ('2m', '30s' and
        '1h' work too), 'shutdown cancel' calls it off, and 'shutdown now
        <reason>' stops the game at once, once you have said yes.  Alone,
        it shows the countdown that is running."""
        word, _, rest = arg.strip().partition(" ")
        reason = clean(rest)
        daemon = load_object(SHUTDOWN_DAEMON)
        if not word:
            countdown = call_other(daemon, "query_countdown")
            if countdown:
                left, why, by = countdown
                self.tell(f"The game shuts down in {format_duration(left)} "
                          f"(started by {by}{': ' + why if why else ''}).  "
                          "'shutdown cancel' stops it.\n")
            else:
                self.tell("No shutdown is counting down.  Usage: shutdown "
                          "<minutes>|<n>s|now|cancel [reason]\n")
            return
        if word.lower() == "cancel":
            refused = call_other(daemon, "cancel")
            if refused:
                self.tell(refused + "\n")
            return
        seconds = 0 if word.lower() == "now" else call_other(daemon, "parse_delay", word)
        if seconds is None:
            audit("shutdown", None, "failed", why="usage")
            self.tell(f"'{clean(word)}' is not a time.  Usage: shutdown <minutes>|<n>s|"
                      "now|cancel [reason]; 'shutdown 5' is in five minutes.\n")
            return
        if seconds == 0:
            input_to("confirm_shutdown", INPUT_PROMPT,
                     "Really shut the game down now? (y/n) ", reason)
            return
        refused = call_other(daemon, "start", seconds, reason)
        if refused:
            self.tell(refused + "\n")

    def confirm_shutdown(self, answer, reason):
        """The answer to 'shutdown now': only yes shuts the game down."""
        if answer.strip().lower() not in ("y", "yes"):
            audit("shutdown", None, "failed", why="not confirmed")
            self.tell("The game goes on.\n")
            return
        reason = reason or f"shut down by {self.name}"
        debug_message(f"{self.name} shuts the game down: {reason}")
        shutdown(reason)    # the driver audits it

    def cmd_tlsreload(self, arg):
        """Reload the TLS certificate and key from disk.  New connections use
        them; nobody is disconnected."""
        try:
            tls_refresh_certs()
        except EfunError as exc:
            self.tell(f"The certificates were not reloaded: {exc}\n")
            return
        debug_message(f"{self.name} reloaded the TLS certificates")
        self.tell("Certificates reloaded.  New connections use them; nobody "
                  "was disconnected.\n")

    # -- wizards' files -------------------------------------------------------
    # Paths a wizard types are read from the directory they are in ('cd');
    # /master's make_path_absolute does the same for names typed in ed.
    # What a wizard may read and write is /master's valid_read/valid_write.

    def resolve_path(self, name):
        """A path as the wizard typed it, made absolute: from the current
        directory, or from / if it starts with '/'; '.' and '..' are
        resolved ('..' at / stays at /)."""
        name = name.strip()
        if not name.startswith("/"):
            name = self.cwd.rstrip("/") + "/" + name
        parts = []
        for part in name.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        return "/" + "/".join(parts)

    def cmd_pwd(self, arg):
        """Show the directory you are in.  File names you type in 'ls',
        'more', 'ed', 'cd' and the other file commands start from there
        unless they start with '/'."""
        self.tell(f"{self.cwd}\n")

    def cmd_cd(self, arg):
        """Go to a directory: 'cd /rooms', 'cd moor', 'cd ..'; 'cd' alone
        goes back to /."""
        path = self.resolve_path(arg) if arg.strip() else "/"
        try:
            found = file_size(path)
        except EfunError as exc:
            self.tell(f"cd: {exc}\n")
            return
        if found != -2:
            self.tell(f"cd: {path} is not a directory.\n")
            return
        self.cwd = path
        self.tell(f"{path}\n")

    def cmd_ls(self, arg):
        """List a directory: 'ls', 'ls /rooms', 'ls /obj/*.py'.  Directories
        end in '/'."""
        path = self.resolve_path(arg) if arg.strip() else self.cwd
        try:
            is_dir = file_size(path) == -2
            listing = get_dir(path.rstrip("/") + "/" if is_dir else path,
                              GETDIR_NAMES | GETDIR_SIZES)
        except EfunError as exc:
            self.tell(f"ls: {exc}\n")
            return
        if not listing:
            self.tell(f"ls: nothing matches {path}.\n")
            return
        names = [name + "/" if size == -2 else name
                 for name, size in zip(listing[::2], listing[1::2])
                 if not name.startswith((".", "__"))]
        self.tell(self._columns(names) if names else f"ls: {path} is empty.\n")

    def _columns(self, words):
        """`words` in columns across the window, as ls does."""
        width = max(len(word) for word in words) + 2
        per_line = max(1, self.query_width() // width)
        rows = -(-len(words) // per_line)
        return "".join(
            "".join(words[row + rows * column].ljust(width)
                    for column in range(per_line) if row + rows * column < len(words)).rstrip()
            + "\n" for row in range(rows))

    def cmd_more(self, arg):
        """Read a file a screenful at a time: 'more /rooms/square.py'.  At
        the '--More--' prompt, Enter shows the next screenful and 'q' stops."""
        if not arg.strip():
            self.tell("More what?  (more /rooms/square.py)\n")
            return
        path = self.resolve_path(arg)
        try:
            text = read_file(path)
        except EfunError as exc:
            self.tell(f"more: {exc}\n")
            return
        if text is None:
            self.tell(f"more: there is no file {path}.\n")
            return
        self._page(text.splitlines(), 0, path)

    def _page(self, lines, start, path):
        """Show `lines` from `start`, one screen's worth; then ask for more."""
        size = query_window_size(self)
        rows = max(5, (size[1] if size and size[1] else 24) - 2)
        # File text is shown as it is: no colour markup, no wrapping.
        tell_object(self, "".join(line + "\n" for line in lines[start:start + rows]))
        start += rows
        if start < len(lines):
            input_to("_more_input", INPUT_PROMPT,
                     f"--More-- {path} ({100 * start // len(lines)}%) [Enter, q] ",
                     lines, start, path)

    def _more_input(self, answer, lines, start, path):
        if answer.strip().lower() not in ("q", "quit"):
            self._page(lines, start, path)

    def cmd_ed(self, arg):
        """Edit a file with ed, the line editor LP muds have always had:
        'ed /rooms/garden.py'.  In it, 'h' lists its commands, '1,$p'
        shows every line, 'a' adds lines after the current one (a line
        holding only '.' ends that), 'w' saves and 'q' leaves.  A line
        starting with '!' is a game command ('!say back soon').  After
        saving code, 'update' the file to run it.  Who may save what is
        /master's valid_write: the shipped world lets administrators write."""
        path = self.resolve_path(arg) if arg.strip() else None
        try:
            ed(path)
        except EfunError as exc:
            self.tell(f"{exc}\n")
            return
        audit("ed", path)

    def cmd_cp(self, arg):
        """Copy a file: 'cp garden.py garden2.py', or into a directory with
        its own name: 'cp garden.py /data/backup'.  It never copies over a
        file that exists ('rm' that one first)."""
        self._copy_or_move(arg, "cp", copy_file, "Copy", "copied")

    def cmd_mv(self, arg):
        """Move or rename a file or directory: 'mv draft.py garden.py', or
        into a directory: 'mv old.py /data/attic'.  It never replaces a
        file that exists.  Objects loaded from a file keep running its old
        code; 'update' the new name to load it from there."""
        self._copy_or_move(arg, "mv", rename, "Move", "moved")

    def _copy_or_move(self, arg, verb, efun, ask, done):
        words = arg.split()
        if len(words) != 2:
            self.tell(f"{ask} what, where to?  ({verb} <file> <new name>)\n")
            return
        source, destination = (self.resolve_path(word) for word in words)
        try:
            if file_size(source) == -1:
                self.tell(f"{verb}: there is no file {source}.\n")
                return
            target = destination
            if file_size(destination) == -2:
                target = destination.rstrip("/") + "/" + source.rsplit("/", 1)[-1]
            if file_size(target) != -1:
                self.tell(f"{verb}: {target} exists already; 'rm' it first.\n")
                return
            failed = efun(source, destination)
        except EfunError as exc:
            self.tell(f"{verb}: {exc}\n")
            return
        if failed:
            self.tell(f"{verb}: {source} could not be {done} to {target}.\n")
        else:
            self.tell(f"{source} {done} to {target}.\n")

    def cmd_rm(self, arg):
        """Remove a file: 'rm draft.py'.  (A directory: 'rmdir'.)"""
        self._file_change(arg, "rm", rm, "removed", "Remove which file?",
                          "is not a file, or could not be removed")

    def cmd_mkdir(self, arg):
        """Make a directory: 'mkdir /rooms/forest'."""
        self._file_change(arg, "mkdir", mkdir, "made", "Make which directory?",
                          "could not be made (it exists, or its parent does not)")

    def cmd_rmdir(self, arg):
        """Remove a directory, which must be empty: 'rmdir /rooms/forest'."""
        self._file_change(arg, "rmdir", rmdir, "removed", "Remove which directory?",
                          "is not an empty directory, or could not be removed")

    def _file_change(self, arg, verb, efun, done, ask, why_not):
        """'rm', 'mkdir', 'rmdir': one name, one efun, which answers 1 if it
        worked."""
        if not arg.strip():
            self.tell(f"{ask}  ({verb} <name>)\n")
            return
        path = self.resolve_path(arg)
        try:
            worked = efun(path)
        except EfunError as exc:
            self.tell(f"{verb}: {exc}\n")
            return
        self.tell(f"{path} {done}.\n" if worked else f"{verb}: {path} {why_not}.\n")

    def cmd_promote(self, arg):
        """Make a player a wizard: 'promote alice'.  They must be in the game."""
        body = load_object(MASTER).find_player(arg) if arg else None
        if body is None:
            audit("promote", arg.strip() or None, "failed", why="not in the game")
            self.tell("Promote whom?  They must be in the game.\n")
            return
        if body.query_wizard():
            audit("promote", body, "failed", why="a wizard already")
            self.tell(f"{body.query_name()} is a wizard already.\n")
            return
        body.set_level("wizard")
        body.save_character()
        audit("promote", body)
        body.tell(f"{self.name} has made you a wizard.  Type 'help'.\n")
        self.tell(f"{body.query_name()} is a wizard now.\n")

    def cmd_newpassword(self, arg):
        """Give a player who forgot their password a new one: 'newpassword
        bob'.  The game makes up a one-time password and shows it to you
        alone; give it to Bob yourself, away from the game.  At his next
        login Bob must choose a password of his own before anything else.
        Only for a character not in the game (one who is can use
        'password'); every reset is audited, the password never."""
        name = arg.strip().capitalize()
        if not name:
            self.tell("Give whom a new password?  (newpassword <player>)\n")
            return
        record = self._character_named(name)
        if record is None:
            return
        name = record["name"]
        if load_object(MASTER).find_body(name) is not None:
            self.tell(f"{name} is in the game: they can change it with 'password'.  "
                      "(A link-dead body leaves after a while; try then.)\n")
            return
        input_to("_newpassword_confirm", INPUT_PROMPT,
                 f"Give {name} a one-time password?  The present one stops working.  "
                 "[y/n] ", name)

    async def _newpassword_confirm(self, line, name):
        if line.strip().lower() not in ("y", "yes"):
            self.tell(f"{name}'s password stays as it was.\n")
            return
        temporary = secrets.token_urlsafe(9)
        try:
            password_hash = await hash_password(temporary)
        except WorkersBusy:
            self.tell(PASSWORD_BUSY)
            return
        why = call_other(load_object(MASTER), "reset_password", name, password_hash)
        if why is not None:
            audit("newpassword", name, "failed", why=why)
            self.tell(f"{name}'s password was not changed: {why}.\n")
            return
        audit("newpassword", name)
        self.tell(f"{name}'s one-time password is:  {temporary}\n"
                  f"Give it to {name} yourself, away from the game.  At the next "
                  "login it works once, and a password of their own must be chosen.\n")

    # -- site bans (the driver refuses banned sites at connect) -----------------

    DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

    def cmd_boot(self, arg):
        """Put a player out of the game at once: 'boot bob spamming the
        channels'.  Bob is told by whom and why, his character is saved,
        and he may log in again: 'ban' his site first to keep him out.  A
        link-dead body goes the same way.  Administrators cannot be
        booted; every boot is audited, with why."""
        words = arg.split(None, 1)
        if len(words) < 2 or not clean(words[1]):
            self.tell("Boot whom, and why?  (boot bob spamming the channels)\n")
            return
        name, why = words[0].capitalize(), clean(words[1])
        body = next((ob for ob in load_object(MASTER).query_bodies()
                     if call_other(ob, "query_name") == name), None)
        if body is None or body is self or call_other(body, "is_admin"):
            reason = ("not in the game" if body is None else "oneself" if body is self
                      else "an administrator")
            audit("boot", name, "failed", why=reason)
            self.tell(f"{name} is not in the game.\n" if body is None else
                      "'quit' is the way out for you.\n" if body is self else
                      "Administrators cannot be booted.\n")
            return
        audit("boot", body, why=why)
        body._leave_booted(self.name, why)     # (a plain call: no world object calls it)
        self.tell(f"{name} is out of the game.\n")

    def _leave_booted(self, by, why):
        """An administrator ('boot') puts this body out of the game: saved,
        told why, gone."""
        call_other(MSDP, "forget", self)
        self.save_character()
        self.tell(f"%^WARNING%^{by} has put you out of the game: {why}%^RESET%^\n")
        self.tell_others(f"{self.name} is gone, in a flash of light.\n")
        debug_message(f"{self.name} was booted by {by}: {why}")
        if interactive(self):
            remove_interactive(self)
        destruct(self)

    def cmd_ban(self, arg):
        """Refuse connections from a site: an address (198.51.100.7,
        2001:db8::7) or a network (198.51.100.0/24, 2001:db8::/48), for a
        time (30m, 12h, 7d, 2w) or until 'unban', with why:
        'ban 198.51.100.0/24 12h spam bots'.  The driver refuses the site
        when it connects, before any TLS; whoever is already in stays."""
        words = arg.split(None, 2)
        if len(words) < 2:
            self.tell("Ban what, and why?  ban 198.51.100.7 12h spamming\n")
            return
        site, expiry, reason = words[0], None, " ".join(words[1:])
        count, unit = words[1][:-1], words[1][-1:].lower()
        if count.isdigit() and unit in self.DURATION_UNITS:
            if len(words) < 3:
                self.tell("Why?  ban 198.51.100.7 12h spamming\n")
                return
            expiry, reason = int(count) * self.DURATION_UNITS[unit], words[2]
        try:
            ban = ban_site(site, clean(reason), expiry, by=self.name)
        except EfunError as exc:
            self.tell(f"Not banned: {exc}\n")
            return
        until = f"until {format_time(ban['expires'])}" if ban["expires"] else "until unbanned"
        self.tell(f"{ban['network']} is banned, {until}.  Players already connected "
                  "from there stay until they leave.\n")

    def cmd_unban(self, arg):
        """Lift a ban, written as 'bans' shows it: 'unban 198.51.100.0/24'."""
        if not arg.strip():
            self.tell("Unban what?  unban 198.51.100.7\n")
            return
        try:
            lifted = unban_site(arg.strip())
        except EfunError as exc:
            self.tell(f"Not unbanned: {exc}\n")
            return
        self.tell("Ban lifted.\n" if lifted else
                  f"{arg.strip()} is not banned (unban takes a ban exactly as 'bans' shows it).\n")

    def cmd_bans(self, arg):
        """The site bans in force, who made them and why; and the limits on
        connections (per address, per second, in all) with the counts now."""
        lines = ["Site bans:"]
        for ban in query_bans():
            until = format_time(ban["expires"]) if ban["expires"] else "unbanned"
            lines.append(f"  {ban['network']:<20} until {until}; by {ban['by']} on "
                         f"{format_time(ban['at'])}: {ban['reason']}")
        if len(lines) == 1:
            lines.append("  none")
        limits = query_connection_limits()

        def limit(value, text):
            return text.format(value) if value else "no limit"

        lines += [
            "Limits at connect:",
            f"  per address:  {limit(limits['per_address'], '{} connections at once')}; "
            f"{limit(limits['new_per_second'], '{:g} new a second')} "
            f"(bursts of {limits['burst']})",
            f"  in all:       {limit(limits['total'], '{} connections')}; "
            f"{limits['open']} open now, from {limits['addresses']} addresses",
            f"  exempt:       {', '.join(limits['exempt']) or 'none'}",
        ]
        self.tell("\n".join(lines) + "\n")
