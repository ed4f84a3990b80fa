"""/secure/login: the object that owns a connection until its player is
known.

The master hands every new connection to a clone of this program.  It
greets the player, asks for a name, checks the password of an existing
character or makes a new one, and then moves the connection into a body
(/std/player) and destroys itself.  Passwords are kept only as salted
scrypt hashes, made and checked by the driver on its worker threads
(hash_password, check_password), so the game goes on for everyone else
while a password is being checked.

Wrong passwords are throttled here, with numbers from the configuration
(driver_info("login"), config.yaml's login section).  The blueprint,
/secure/login itself, keeps the record of failures for every clone: per
address and per character.  After `throttle_after` failures, each further
attempt waits `throttle_delay` seconds, doubled with every failure up to
`throttle_max_delay`, and only one password is checked at a time for that
address or character; an attempt that comes too early is refused unchecked.
After `lockout_after` failures nobody may try for `lockout_duration`
seconds; the lock-out ends by itself.  A right password clears the record.
"""

from driver.efuns import (
    INPUT_NOECHO,
    INPUT_PROMPT,
    EfunError,
    MudObject,
    WorkersBusy,
    call_other,
    call_out,
    check_password,
    clone_object,
    debug_message,
    destruct,
    driver_info,
    exec,
    get_dir,
    hash_password,
    inherit,
    input_to,
    interactive,
    load_object,
    metric_inc,
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

# Columns of a window whose client never said (NAWS).
DEFAULT_WIDTH = 80

MASTER = "/master"
PLAYER = "/std/player"
NOTICES = "/secure/notices"
LOGIN = "/secure/login"

# Seconds a connection may sit at the login before we hang up, so idle or
# abandoned connections do not pile up.
LOGIN_TIMEOUT = 180
MAX_PASSWORD_TRIES = 3
# Attempts refused unchecked (throttled) before this connection is closed.
MAX_REFUSED_TRIES = 5
MIN_PASSWORD_LENGTH = inherit(PLAYER).min_password_length
MIN_NAME_LENGTH, MAX_NAME_LENGTH = 3, 16
# Names that would read as something other than a player in the game's text.
RESERVED_NAMES = frozenset({
    "Admin", "All", "Everyone", "Me", "Myself", "Nobody", "Self", "Someone",
    "Something", "You",
})
# Failure records kept by the blueprint before the stale ones are swept.
MAX_FAILURE_RECORDS = 10000

BUSY_MESSAGE = ("The game is busy checking other passwords.  Please try again "
                "in a moment.\n")


def _seconds(value):
    value = int(value + 0.999)
    return f"{value} second{'' if value == 1 else 's'}"


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
        self.refused = 0
        # The blueprint's record of failed passwords (see the module's
        # docstring): key -> {"failures", "checking", "blocked", "until",
        # "generation", "last", "name"}, where a key is ("address", ip) or
        # ("character", name).
        self.failures = {}

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
        try:
            found = restore_object(self, f"players/{name.lower()}")
        except EfunError as exc:
            # The driver's log names the file; it is never written over:
            # the name cannot be created again while the file is there.
            self._forget_character()
            debug_message(f"{name} cannot log in from {query_ip_number(self)}: "
                          f"the character's save file is unreadable ({exc}); "
                          "it is kept as it is for the operators", "error")
            self.show("Your character file could not be read; the game's operators "
                       "have been told.  You may create a new name or try later.\n")
            self.ask_name()
            return
        if found:
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

    async def get_password(self, line):
        ip, name = query_ip_number(self), self.name
        keeper = load_object(LOGIN)     # the blueprint keeps the failures
        refusal = call_other(keeper, "refuse_attempt", ip, name)
        if refusal is not None:
            message, locked = refusal
            self.show(message)
            self.refused += 1
            if locked or self.refused >= MAX_REFUSED_TRIES:
                self.show("Goodbye.\n")
                self._hang_up()
                return
            self.ask_password()
            return
        try:
            checking = check_password(line, self.password_hash)
        except WorkersBusy:
            self.show(BUSY_MESSAGE)
            self.ask_password()
            return
        # Counted as a failure from now on, and forgiven if it was right: a
        # guesser who hangs up before the answer is not let off.
        call_other(keeper, "check_started", ip, name)
        right = None
        try:
            right = await checking
        finally:
            # Also when this login is destructed meanwhile (the player hung
            # up): the coroutine is closed at the await, right stays None.
            call_other(load_object(LOGIN), "check_ended", ip, name, right)
        if right:
            if self.password_expired:
                self.show("This was a one-time password from the game's "
                          "administrators.  Choose your own now.\n")
                self.ask_new_password()
                return
            self._enter()
            return
        self.tries += 1
        metric_inc("logins_failed")
        debug_message(f"wrong password for {name} from {ip} ({self.tries})", "warning")
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

    async def get_new_password(self, line):
        if len(line) < MIN_PASSWORD_LENGTH:
            self.show("That password is too short.\n")
            self.ask_new_password()
            return
        # Only the hash is kept, even for the moment it takes to confirm.
        try:
            self.password_hash = await hash_password(line)
        except WorkersBusy:
            self.show(BUSY_MESSAGE)
            self.ask_new_password()
            return
        input_to("confirm_new_password", INPUT_NOECHO | INPUT_PROMPT,
                 "Type it again: ")

    async def confirm_new_password(self, line):
        try:
            same = await check_password(line, self.password_hash)
        except WorkersBusy:
            self.show(BUSY_MESSAGE)
            input_to("confirm_new_password", INPUT_NOECHO | INPUT_PROMPT,
                     "Type it again: ")
            return
        if not same:
            self.password_hash = None
            self.show("The passwords do not match.  Let's try again.\n")
            self.ask_new_password()
            return
        if self.creating is None:
            self._replace_one_time_password()
            return
        self.name = self.creating
        self.creating = None
        self.created = time()
        self.level = "player"
        first = self._first_character()
        if first and driver_info("loopback_only"):
            # Only this machine can connect, so whoever made the first
            # character runs the game: a convenience for trying it out.
            self.level = "admin"
        try:
            save_object(self, f"players/{self.name.lower()}")
        except EfunError as exc:
            debug_message(f"new character {self.name} from {query_ip_number(self)} "
                          f"could not be saved: {exc}", "error")
            self.show("Your character could not be saved, so it was not created; "
                       "the game's operators have been told.  Please try again later.\n")
            self._hang_up()
            return
        if self.level == "admin":
            debug_message(f"{self.name} is the first character: made an admin")
            self.show("You are the first character in this world, so you are its "
                       "administrator: 'help' lists your commands.  (Only this machine "
                       "can connect to the game now; on a public server the first "
                       "administrator is named in config.yaml, mudlib.admins, or "
                       "with --admin.)\n")
        elif first and not load_object(MASTER).query_admin(self.name):
            debug_message(f"{self.name} is the first character, but not an "
                          "administrator: the game listens beyond this machine.  "
                          "Name the first administrator in config.yaml "
                          "(mudlib.admins) or with --admin NAME", "warning")
        debug_message(f"new character {self.name} created from "
                      f"{query_ip_number(self)}")
        self._enter()

    def _replace_one_time_password(self):
        """The character logged in with a one-time password ('newpassword')
        and has chosen its own: saved before it goes any further."""
        self.password_expired = False
        try:
            save_object(self, f"players/{self.name.lower()}")
        except EfunError as exc:
            debug_message(f"{self.name}'s new password could not be saved: {exc}", "error")
            self.show("Your new password could not be saved; the game's operators "
                      "have been told.  Please try again later.\n")
            self._hang_up()
            return
        debug_message(f"{self.name} replaced a one-time password")
        self.show("Your password has been changed.\n")
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

    # -- the record of failed passwords (the blueprint's) -------------------
    #
    # Clones call these on /secure/login with call_other.  Timing is done
    # with call_outs, so a wait of one second is one second, not a tick of
    # time().

    def _policy(self):
        return driver_info("login")

    def _record(self, key, name=None):
        policy = self._policy()
        record = self.failures.get(key)
        if record is not None and not record["blocked"] and not record["checking"] \
                and time() - record["last"] > policy.lockout_duration:
            del self.failures[key]      # quiet long enough: forgotten
            record = None
        if record is None:
            record = {"failures": 0, "checking": 0, "blocked": False, "until": 0,
                      "generation": 0, "last": time(), "name": name,
                      "locked": False}
            self.failures[key] = record
            if len(self.failures) > MAX_FAILURE_RECORDS:
                self._sweep(policy)
        if name is not None:
            record["name"] = name
        return record

    def _sweep(self, policy):
        now = time()
        for key, record in list(self.failures.items()):
            if not record["blocked"] and not record["checking"] \
                    and now - record["last"] > policy.lockout_duration:
                del self.failures[key]

    def _keys(self, ip, name):
        return (("address", ip or "unknown"), ("character", name))

    @staticmethod
    def _what(key):
        kind, value = key
        return "from your address" if kind == "address" else f"for {value}"

    def refuse_attempt(self, ip, name):
        """None if a password for `name` from `ip` may be checked now, else
        (message for the player, whether this is a lock-out)."""
        refusal = self._refusal(ip, name)
        if refusal is not None:
            metric_inc("logins_throttled")
        return refusal

    def _refusal(self, ip, name):
        policy = self._policy()
        for key in self._keys(ip, name):
            record = self._record(key, name)
            if record["blocked"]:
                left = max(1, record["until"] - time())
                state = "locked out" if record["locked"] else "throttled"
                # At debug level: a guesser can make these as fast as it
                # can type, and must not fill the log with them.
                debug_message(f"login refused: {ip} trying {name}: {key[0]} {key[1]} "
                              f"{state}, {_seconds(left)} left", "debug")
                if record["locked"]:
                    return (f"Too many wrong passwords have been tried {self._what(key)}.  "
                            f"Logins are refused for {_seconds(left)}.\n", True)
                return (f"Too many wrong passwords have been tried {self._what(key)}.  "
                        f"Please wait {_seconds(left)} and try again.\n", False)
            if policy.throttle_after and record["checking"] \
                    and record["failures"] >= policy.throttle_after:
                # Once throttled, one check at a time: each waits for the
                # outcome (and the delay) of the one before.
                debug_message(f"login refused: {ip} trying {name}: {key[0]} {key[1]} "
                              "throttled, a check is under way", "debug")
                return (f"Too many wrong passwords have been tried {self._what(key)}.  "
                        "Please wait a moment and try again.\n", False)
        return None

    def check_started(self, ip, name):
        """A password is being checked: it counts as a failure until it
        turns out right."""
        for key in self._keys(ip, name):
            record = self._record(key, name)
            record["failures"] += 1
            record["checking"] += 1
            record["last"] = time()

    def check_ended(self, ip, name, right):
        """The outcome: True, False, or None if the login went away before
        it knew (counted as wrong)."""
        policy = self._policy()
        for key in self._keys(ip, name):
            record = self._record(key, name)
            record["checking"] = max(0, record["checking"] - 1)
            if right:
                if not record["blocked"]:
                    del self.failures[key]
                continue
            if right is None:
                debug_message(f"login abandoned: {ip} trying {name} hung up while "
                              "the password was checked; counted as wrong")
            failures = record["failures"]
            if policy.lockout_after and failures >= policy.lockout_after:
                if not record["locked"]:
                    self._block(key, record, policy.lockout_duration, locked=True)
                    debug_message(f"login lock-out: {key[0]} {key[1]} after {failures} "
                                  f"wrong passwords (now {ip} trying {name}); refused "
                                  f"for {policy.lockout_duration:g} s", "warning")
            elif policy.throttle_after and failures >= policy.throttle_after:
                delay = min(policy.throttle_delay * 2 ** (failures - policy.throttle_after),
                            policy.throttle_max_delay)
                self._block(key, record, delay, locked=False)
                debug_message(f"login throttled: {key[0]} {key[1]} after {failures} "
                              f"wrong passwords (now {ip} trying {name}); next attempt "
                              f"in {delay:g} s", "warning")

    def _block(self, key, record, seconds, locked):
        record["blocked"], record["locked"] = True, locked
        record["until"] = time() + seconds
        record["generation"] += 1
        call_out("unblock", seconds, key, record["generation"])

    def unblock(self, key, generation):
        """The call_out that ends a wait or a lock-out."""
        record = self.failures.get(key)
        if record is None or record["generation"] != generation:
            return      # blocked again since, by a later failure
        record["blocked"] = False
        if record["locked"]:
            record["locked"] = False
            record["failures"] = 0
            debug_message(f"login lock-out of {key[0]} {key[1]} ended "
                          f"(last tried for {record['name']})")
        else:
            debug_message(f"login wait over: {key[0]} {key[1]} may try again "
                          f"(last tried for {record['name']})", "debug")
