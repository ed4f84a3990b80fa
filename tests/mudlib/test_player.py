"""/test_player: the object that owns every test connection.

logon() and each command write single machine-readable lines, so tests can
drive the TLS efuns from the world side and check what they returned.  An
efun error is printed as "ERROR <message>"; any other exception is left to
the driver (that is what the `raise` command is for).

Commands (one per line):

    echo <text>              ECHO <text>
    log <text>               "LOG <text>" in the driver's log, then LOGGED <text>
    whoami                   WHOAMI <object name>
    state                    STATE <tls_query_connection_state(this_player())>
    state-of <object name>   STATE-OF <name> <state of that object>
    info                     INFO <json of tls_query_connection_info()>
    cert, cert1, cert2       CERT <json of tls_check_certificate(me, 0/1/2)>
    available                AVAILABLE <tls_available()>
    error <code>             TLSERROR <code> <tls_error(code)>
    refresh                  REFRESH OK, or the error
    raise                    an exception the driver must contain
    deinit                   DEINIT before (encrypted), tls_deinit_connection,
                             DEINIT after state=<n> (plaintext)
    deinit-init              tls_deinit_connection, then at once
                             tls_init_connection; "REINIT ..." in the log
    starttls <form> [secs]   GO AHEAD, then tls_init_connection in one form
                             (with handshake_timeout=secs if given):
                             bare, name, path, callable, lambda, self,
                             missing (a method fob does not define),
                             raise (the callback raises), short (a
                             callback declaring only the result); then (held while
                             the handshake runs) INIT returned=<n> ...
    starttls-twice           GO AHEAD, init, init again: ERROR ... (held)
    starttls-destructed <f>  GO AHEAD, init with a callback on a clone
                             (f = name or callable), destruct the clone
    starttls-exec            GO AHEAD, init, exec() to a fresh clone
    starttls-then <how>      GO AHEAD, init with a callback on /test_helper,
                             then, still handshaking, "THEN <how> <me>" in the
                             log and: destruct (this player) or remove
                             (remove_interactive)
    starttls-abandon         GO AHEAD, init, text that must never be sent,
                             tls_deinit_connection on the next turn
    write-during-handshake   GO AHEAD, init, HELD TEXT 1/2 (arrive encrypted)
    init-again               tls_init_connection(me): the result or ERROR
    noninteractive           every TLS efun on a non-interactive clone
    badargs                  tls_init_connection with bad arguments 2 and 3
    binary <flags> <hex>     binary_message(bytes.fromhex(hex), flags), then
                             BINARY returned=<n>
    quit                     remove_interactive
"""

import json

from driver.efuns import (
    EfunError,
    TLS_CIPHER,
    TLS_COMP,
    TLS_INFO_MAX,
    TLS_KX,
    TLS_MAC,
    TLS_PROT,
    binary_message,
    call_out,
    clone_object,
    debug_message,
    destruct,
    exec,
    find_object,
    inherit,
    load_object,
    object_name,
    remove_interactive,
    set_prompt,
    tell_object,
    this_interactive,
    this_object,
    this_player,
    tls_available,
    tls_check_certificate,
    tls_deinit_connection,
    tls_error,
    tls_init_connection,
    tls_query_connection_info,
    tls_query_connection_state,
    tls_refresh_certs,
    write,
)

HELPER = "/test_helper"
PLAYER = "/test_player"


class TestPlayer(inherit("/tls_callbacks")):
    # -- the connection arrives ----------------------------------------------

    def logon(self, *args):
        me = this_object()
        line = (f"LOGON args={self.show(args)!r} me={object_name(me)} "
                f"this_player={self.show(this_player())} "
                f"this_interactive={self.show(this_interactive())} "
                f"state={tls_query_connection_state(me)}")
        debug_message(line)
        # A failed handshake leaves a plaintext connection; the test mudlib
        # keeps it, so tests can see the outcome and that nothing broke.
        write(line + "\n")

    def process_input(self, line):
        verb, _, arg = line.strip().partition(" ")
        method = getattr(self, "cmd_" + verb.replace("-", "_"), None)
        if method is None:
            write(f"UNKNOWN {verb}\n")
            return
        try:
            method(arg.strip())
        except EfunError as exc:
            write(f"ERROR {exc}\n")

    # -- plain commands --------------------------------------------------------

    def cmd_echo(self, arg):
        write(f"ECHO {arg}\n")

    def cmd_log(self, arg):
        debug_message(f"LOG {arg}")
        write(f"LOGGED {arg}\n")

    def cmd_whoami(self, arg):
        write(f"WHOAMI {object_name(this_player())}\n")

    def cmd_state(self, arg):
        write(f"STATE {tls_query_connection_state(this_player())}\n")

    def cmd_state_of(self, arg):
        ob = find_object(arg)
        if ob is None:
            write(f"ERROR no object {arg}\n")
            return
        write(f"STATE-OF {arg} {tls_query_connection_state(ob)}\n")

    def cmd_info(self, arg):
        info = tls_query_connection_info(this_player())
        if info is None:
            write("INFO null\n")
            return
        report = {
            "indexed": [info[TLS_CIPHER], info[TLS_COMP], info[TLS_KX], info[TLS_MAC],
                        info[TLS_PROT]],
            "cipher": info.cipher,
            "prot": info.prot,
            "length": len(info),
            "info_max": TLS_INFO_MAX,
            "sni": getattr(info, "sni", None),
        }
        write("INFO " + json.dumps(report) + "\n")

    def _cert(self, extra):
        report = tls_check_certificate(this_player(), extra)
        write("CERT " + json.dumps(report) + "\n")

    def cmd_cert(self, arg):
        self._cert(0)

    def cmd_cert1(self, arg):
        self._cert(1)

    def cmd_cert2(self, arg):
        self._cert(2)

    def cmd_available(self, arg):
        write(f"AVAILABLE {tls_available()!r}\n")

    def cmd_error(self, arg):
        try:
            code = int(arg)
        except ValueError:
            code = arg
        write(f"TLSERROR {arg} {tls_error(code)}\n")

    def cmd_refresh(self, arg):
        tls_refresh_certs()
        write("REFRESH OK\n")

    def cmd_raise(self, arg):
        raise RuntimeError("deliberate failure in a command")

    def cmd_quit(self, arg):
        write("BYE\n")
        remove_interactive(this_player())

    # -- leaving TLS -----------------------------------------------------------

    def cmd_deinit(self, arg):
        me = this_player()
        write("DEINIT before\n")
        tls_deinit_connection(me)
        write(f"DEINIT after state={tls_query_connection_state(me)}\n")

    def cmd_deinit_init(self, arg):
        # Leave TLS and at once ask for it again, before the client answered
        # our close_notify.  The outcome goes to the log (the socket is busy).
        me = this_player()
        tls_deinit_connection(me)
        state = tls_query_connection_state(me)
        try:
            outcome = f"returned={tls_init_connection(me)}"
        except EfunError as exc:
            outcome = f"ERROR {exc}"
        debug_message(f"REINIT state={state} {outcome}")

    # -- starting TLS ----------------------------------------------------------

    def _go_ahead(self):
        write("GO AHEAD\n")

    def cmd_starttls(self, arg):
        me = this_player()
        helper = load_object(HELPER)
        form, _, timeout = arg.partition(" ")
        options = {"handshake_timeout": float(timeout)} if timeout else {}
        self._go_ahead()
        if form == "bare":
            result = tls_init_connection(me, **options)
        elif form == "name":
            result = tls_init_connection(me, "tls_done", helper, "a", 1, **options)
        elif form == "path":
            result = tls_init_connection(me, "tls_done", HELPER, "b", 2, **options)
        elif form == "callable":
            result = tls_init_connection(me, helper.tls_done, "c", 3, **options)
        elif form == "lambda":
            result = tls_init_connection(
                me, lambda result, ob, *extra: helper.tls_done(result, ob, *extra), "d", 4,
                **options)
        elif form == "self":
            result = tls_init_connection(me, "tls_done", me, "e", **options)
        elif form == "missing":
            result = tls_init_connection(me, "no_such_method", helper, "f", **options)
        elif form == "raise":
            result = tls_init_connection(me, "tls_raise", helper, "g", **options)
        elif form == "short":
            result = tls_init_connection(me, "tls_short", helper, "h", **options)
        else:
            write(f"ERROR unknown form {form!r}\n")
            return
        # Written while the handshake runs: held, then sent encrypted.
        write(f"INIT returned={result} state={tls_query_connection_state(me)} "
              f"this_player={self.show(this_player())}\n")

    def cmd_starttls_twice(self, arg):
        me = this_player()
        self._go_ahead()
        first = tls_init_connection(me, "tls_done", load_object(HELPER), "twice")
        try:
            tls_init_connection(me)
        except EfunError as exc:
            write(f"ERROR {exc}\n")
        write(f"INIT returned={first} state={tls_query_connection_state(me)}\n")

    def cmd_starttls_destructed(self, form):
        me = this_player()
        victim = clone_object(HELPER)
        self._go_ahead()
        if form == "callable":
            result = tls_init_connection(me, victim.tls_done, "gone")
        else:
            result = tls_init_connection(me, "tls_done", victim, "gone")
        destruct(victim)
        write(f"INIT returned={result} destructed={self.show(victim)}\n")

    def cmd_starttls_exec(self, arg):
        old = this_player()
        new = clone_object(PLAYER)
        self._go_ahead()
        result = tls_init_connection(old, "tls_done", load_object(HELPER), "exec")
        exec(new, old)
        # this_player() is still the old object, which has no connection now.
        tell_object(new, f"EXEC old={object_name(old)} new={object_name(new)} "
                    f"old_state={tls_query_connection_state(old)} "
                    f"new_state={tls_query_connection_state(new)} returned={result}\n")

    def cmd_starttls_then(self, how):
        me = this_player()
        self._go_ahead()
        tls_init_connection(me, "tls_done", load_object(HELPER), how)
        debug_message(f"THEN {how} {object_name(me)} state={tls_query_connection_state(me)}")
        if how == "destruct":
            destruct(me)
        elif how == "remove":
            remove_interactive(me)

    def cmd_starttls_abandon(self, arg):
        me = this_player()
        self._go_ahead()
        tls_init_connection(me, "tls_done", load_object(HELPER), "abandoned")
        write("NEVER SENT\n")  # held; discarded when the handshake is abandoned
        call_out("abandon_handshake", 0)

    def abandon_handshake(self):
        me = this_player()
        before = tls_query_connection_state(me)
        tls_deinit_connection(me)
        write(f"ABANDONED before={before} after={tls_query_connection_state(me)}\n")

    def cmd_write_during_handshake(self, arg):
        me = this_player()
        self._go_ahead()
        tls_init_connection(me, load_object(HELPER).tls_done, "held")
        write("HELD TEXT 1\n")
        write(f"HELD TEXT 2 state={tls_query_connection_state(me)}\n")

    def cmd_init_again(self, arg):
        write(f"INIT returned={tls_init_connection(this_player())}\n")

    # -- error paths -----------------------------------------------------------

    def cmd_noninteractive(self, arg):
        ob = clone_object(HELPER)
        attempts = (
            ("init", lambda: tls_init_connection(ob)),
            ("deinit", lambda: tls_deinit_connection(ob)),
            ("cert", lambda: tls_check_certificate(ob)),
            ("state", lambda: tls_query_connection_state(ob)),
            ("info", lambda: tls_query_connection_info(ob)),
        )
        for what, attempt in attempts:
            try:
                write(f"NONINTERACTIVE {what} returned {attempt()!r}\n")
            except EfunError as exc:
                write(f"NONINTERACTIVE {what} ERROR {exc}\n")
        destruct(ob)

    def cmd_badargs(self, arg):
        me = this_player()
        attempts = (
            ("fun", lambda: tls_init_connection(me, 42)),
            ("fob", lambda: tls_init_connection(me, "tls_done", "/no/such/object")),
            ("timeout", lambda: tls_init_connection(me, handshake_timeout=-1)),
        )
        for what, attempt in attempts:
            try:
                write(f"BADARGS {what} returned {attempt()!r}\n")
            except EfunError as exc:
                write(f"BADARGS {what} ERROR {exc}\n")
        write(f"BADARGS state={tls_query_connection_state(me)}\n")

    # -- prompts -----------------------------------------------------------------

    def cmd_prompt(self, kind):
        """'prompt counting': a callable prompt that counts its calls, '[1]> ',
        '[2]> ', ...; 'prompt silent': one that returns None; 'prompt failing':
        one that raises; 'prompt plain': a string again."""
        self.prompts_printed = 0
        prompt = {"counting": self._counting_prompt, "silent": lambda: None,
                  "failing": self._failing_prompt, "plain": "> "}[kind]
        old = set_prompt(prompt)
        # (The old prompt without its space, so only real prompts end in "> ".)
        write(f"PROMPT {kind} old={old.rstrip() if isinstance(old, str) else 'callable'}\n")

    def _counting_prompt(self):
        self.prompts_printed += 1
        return f"[{self.prompts_printed}]> "

    def _failing_prompt(self):
        raise RuntimeError("this prompt is broken")

    # -- raw bytes -------------------------------------------------------------

    def cmd_binary(self, arg):
        flags, _, data = arg.partition(" ")
        write(f"BINARY returned={binary_message(bytes.fromhex(data), int(flags))}\n")
