"""/secure/login: the object that owns a connection until its player is
known.

The master hands every new connection to a clone of this program.  It
greets the player, asks for a name, checks the password of an existing
character or makes a new one, and then moves the connection into a body
(/std/player) and destroys itself.  Passwords are kept only as salted
scrypt hashes; this is the one place that hashes or checks them.
"""

import hashlib
import hmac
import secrets

from driver.efuns import (
    INPUT_NOECHO,
    INPUT_PROMPT,
    MudObject,
    call_other,
    call_out,
    clone_object,
    debug_message,
    destruct,
    exec,
    get_dir,
    inherit,
    input_to,
    interactive,
    load_object,
    query_host_name,
    query_ip_number,
    query_listen_ports,
    query_window_size,
    remove_call_out,
    remove_interactive,
    restore_object,
    save_object,
    tell_object,
    terminal_colour,
    time,
    tls_error,
    tls_query_connection_info,
    tls_query_connection_state,
    users,
    write,
)
from driver.efuns import metric_inc

# Columns of a window whose client never said (NAWS).
DEFAULT_WIDTH = 80

MASTER = "/master"
PLAYER = "/std/player"
NOTICES = "/secure/notices"

# Seconds a connection may sit at the login before we hang up, so idle or
# abandoned connections do not pile up.
LOGIN_TIMEOUT = 180
MAX_PASSWORD_TRIES = 3
MIN_PASSWORD_LENGTH = 6
MIN_NAME_LENGTH, MAX_NAME_LENGTH = 3, 16
# Names that would read as something other than a player in the game's text.
RESERVED_NAMES = frozenset({
    "Admin", "All", "Everyone", "Me", "Myself", "Nobody", "Self", "Someone",
    "Something", "You",
})

# scrypt cost: 16 MiB and a few tens of milliseconds per check, which makes
# guessing expensive without making logins feel slow.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1


def hash_password(password):
    """'scrypt$n$r$p$salt$hash'; the parameters travel with the hash so they
    can be raised later without breaking old characters."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt,
                            n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password, stored):
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, digest = bytes.fromhex(salt), bytes.fromhex(digest)
        candidate = hashlib.scrypt(password.encode("utf-8"), salt=salt,
                                   n=int(n), r=int(r), p=int(p),
                                   dklen=len(digest))
    except (AttributeError, ValueError):    # no hash, or a damaged one
        return False
    return hmac.compare_digest(candidate, digest)


class Login(MudObject):
    # The login reads and writes the same save file as the body it hands
    # over, so it saves exactly what a body saves.
    persistent = inherit(PLAYER).persistent

    def create(self):
        self._forget_character()
        # The name of the character this connection is making, if any; see
        # query_creating().
        self.creating = None
        self.tries = 0

    def _forget_character(self):
        for attr in self.persistent:
            setattr(self, attr, None)

    def query_creating(self):
        return self.creating

    def show(self, text):
        """Text to the connection, wrapped to its window (the login speaks
        before the client has said much: 80 columns until it does) and
        without colour markup, which the login does not use."""
        size = query_window_size(self)
        width = size[0] if size and size[0] >= 20 else DEFAULT_WIDTH
        write("\n".join(terminal_colour(line, {0: ""}, width, len(line) - len(line.lstrip(" ")))
                         for line in text.split("\n")))

    # -- the connection arrives ----------------------------------------------

    def logon(self, result=None, ob=None):
        """Called by the driver: with no arguments on the telnet port, with
        the outcome of the handshake on the TLS port."""
        if result is not None and result < 0:
            debug_message(f"TLS handshake with {query_ip_number(self)} failed: "
                          f"{tls_error(result)}", "warning")
            self._hang_up()
            return
        call_out("time_out", LOGIN_TIMEOUT)
        self.show(self._banner())
        if tls_query_connection_state(self) == 1:
            info = tls_query_connection_info(self)
            self.show(f"Your connection is encrypted ({info.prot}, {info.cipher}).\n\n")
        else:
            tls_port = query_listen_ports().tls
            if tls_port is not None:
                self.show("This connection is not encrypted.  For TLS, connect to "
                      f"{query_host_name()} port {tls_port}.\n\n")
        self.ask_name()

    def secured(self, info):
        """The master secured this connection with STARTTLS."""
        self.show(f"\nYour connection is now encrypted ({info.prot}, {info.cipher}).\n")
        if self.name is None and self.creating is None:
            self.show("What is your name? ")

    def _banner(self):
        # The operator's own banner (data/banner.txt), read at each login.
        custom = call_other(NOTICES, "query_banner")
        if custom:
            return f"\n{custom}\n"
        mud = load_object(MASTER).query_mud_name()
        # 48 columns: the banner goes out before the client has told its
        # window's width, so it fits a narrow one.
        rule = "~" * 48
        title = "  ".join(mud.upper())
        return (f"\n  {rule}\n"
                f"  {title:^48}\n"
                f"  {'lamplight, cobbles, and the wind off the moor':^48}\n"
                f"  {rule}\n\n")

    def time_out(self):
        tell_object(self, "\nTime is up.  Come back when you have made up "
                    "your mind.\n")
        self._hang_up()

    def _hang_up(self):
        # A failed handshake may mean the peer is already gone.
        if interactive(self):
            remove_interactive(self)
        destruct(self)

    # -- the name ------------------------------------------------------------

    def ask_name(self):
        input_to("get_name", INPUT_PROMPT, "What is your name? ")

    def get_name(self, line):
        name = line.strip()
        if not name:
            self.ask_name()
            return
        if not (MIN_NAME_LENGTH <= len(name) <= MAX_NAME_LENGTH
                and name.isascii() and name.isalpha()):
            self.show(f"A name here is {MIN_NAME_LENGTH} to {MAX_NAME_LENGTH} "
                  "letters, a to z, and nothing else.\n")
            self.ask_name()
            return
        name = name.capitalize()
        if name in RESERVED_NAMES:
            self.show("That name is not available.  Please choose another.\n")
            self.ask_name()
            return
        if restore_object(self, f"players/{name.lower()}"):
            self.tries = 0
            self.ask_password()
            return
        if self._creating_elsewhere(name):
            self.show(f"Someone is creating a character called {name} right now.  "
                  "Please choose another name.\n")
            self.ask_name()
            return
        self.creating = name
        input_to("confirm_name", INPUT_PROMPT,
                 f"There is no one called {name} here yet.  "
                 f"Create a new character called {name}? [y/n] ")

    def _creating_elsewhere(self, name):
        """Whether another connection is in the middle of making `name`, so
        two people cannot make the same character at once."""
        return any(ob is not self and call_other(ob, "query_creating") == name
                   for ob in users())

    def confirm_name(self, line):
        answer = line.strip().lower()
        if answer in ("y", "yes"):
            self.ask_new_password()
        elif answer in ("n", "no"):
            self.creating = None
            self.ask_name()
        else:
            input_to("confirm_name", INPUT_PROMPT, "Please answer y or n: ")

    # -- an existing character -----------------------------------------------

    def ask_password(self):
        input_to("get_password", INPUT_NOECHO | INPUT_PROMPT, "Password: ")

    def get_password(self, line):
        if check_password(line, self.password_hash):
            self._enter()
            return
        self.tries += 1
        metric_inc("logins_failed")
        debug_message(f"wrong password for {self.name} from "
                      f"{query_ip_number(self)} ({self.tries})", "warning")
        if self.tries >= MAX_PASSWORD_TRIES:
            self.show("Too many wrong passwords.  Goodbye.\n")
            self._hang_up()
            return
        self.show("Wrong password.\n")
        self.ask_password()

    # -- a new character -----------------------------------------------------

    def ask_new_password(self):
        input_to("get_new_password", INPUT_NOECHO | INPUT_PROMPT,
                 f"Choose a password (at least {MIN_PASSWORD_LENGTH} "
                 "characters): ")

    def get_new_password(self, line):
        if len(line) < MIN_PASSWORD_LENGTH:
            self.show("That password is too short.\n")
            self.ask_new_password()
            return
        # Only the hash is kept, even for the moment it takes to confirm.
        self.password_hash = hash_password(line)
        input_to("confirm_new_password", INPUT_NOECHO | INPUT_PROMPT,
                 "Type it again: ")

    def confirm_new_password(self, line):
        if not check_password(line, self.password_hash):
            self.password_hash = None
            self.show("The passwords do not match.  Let's try again.\n")
            self.ask_new_password()
            return
        self.name = self.creating
        self.creating = None
        self.created = time()
        # The first character ever made runs the game: it becomes an admin.
        self.level = "admin" if self._first_character() else "player"
        save_object(self, f"players/{self.name.lower()}")
        if self.level == "admin":
            debug_message(f"{self.name} is the first character: made an admin")
        debug_message(f"new character {self.name} created from "
                      f"{query_ip_number(self)}")
        self._enter()

    def _first_character(self):
        return not any(entry.endswith(".json")
                       for entry in get_dir("/data/players/"))

    # -- into the game -------------------------------------------------------

    def _enter(self):
        remove_call_out("time_out")
        old_body = load_object(MASTER).find_body(self.name)
        if old_body is not None and not interactive(old_body):
            self._reattach(old_body)
            return
        if old_body is not None:
            self._take_over(old_body)
            return
        body = clone_object(PLAYER)
        body.receive_character({attr: getattr(self, attr)
                                for attr in self.persistent})
        exec(body, self)
        destruct(self)
        body.enter_game()

    def _reattach(self, body):
        """The character's body is still in the world, link-dead: this
        connection (plain or TLS) becomes its link again."""
        exec(body, self)
        destruct(self)
        call_other(body, "reconnect")    # as the body: it cancels its own call_out

    def _take_over(self, body):
        """The character is already in the game on another connection (a
        second client, or a connection that froze without closing).  The
        newcomer knows the password, so the body is theirs: it keeps its
        place and state, and the old connection is closed."""
        tell_object(body, "Someone has logged in as you from another "
                    "connection.  This one is being closed.\n")
        debug_message(f"{self.name} taken over from {query_ip_number(body)} "
                      f"by {query_ip_number(self)}")
        # The old connection goes first: exec() only gives a connection to an
        # object that has none.  The body stays in the world meanwhile, and
        # a connection we close ourselves never makes the master treat the
        # body as link-dead.
        remove_interactive(body)
        exec(body, self)
        destruct(self)
        body.resume()
