"""/player of the apply-arity test mudlib: one line per answer.

Its own applies and callbacks declare fewer parameters than the driver
passes (logon, receive_gmcp, a TLS callback, input_to handlers); its
commands make the driver call the master's applies.

    whoami                 WHOAMI <this object>
    secure                 GO AHEAD, then tls_init_connection(me, "secured", me, "extra")
    ask-bare               ASKED; the next line goes to answer_bare(), which takes nothing
    ask-line               ASKED; the next line goes to answer_line(line), extras dropped
    shutdown | bans        the privileged efun: SHUTDOWN/BANS ..., or REFUSED <why>
    exec                   moves the connection to a new /player: EXEC <new>
    snoop <object name>    SNOOP <result>
    write <path> <text>    WRITE <result>, or REFUSED <why>
    read <path>            READ <text>, or REFUSED <why>
    junk                   clones and destructs a /thing: JUNK <name> gone=<bool>
    tick                   clones a /ticker, whose first heart beat fails: TICKING <name>
    dial <port>            a /link net_connects to 127.0.0.1:<port>: DIALLING <name>
    fail                   raises ValueError("arity boom")
    bare [words]           an add_action whose function takes nothing: BARE ran
    later                  call_out("tock", 0, "surplus"), tock() takes nothing: TOCK ran
    anything else          left to the driver's parser (no actions: fallback_command)
"""

from driver.efuns import (
    EfunError,
    MudObject,
    add_action,
    call_out,
    call_other,
    clone_object,
    debug_message,
    destruct,
    enable_commands,
    exec_interactive,
    find_object,
    input_to,
    object_name,
    query_bans,
    read_file,
    send_gmcp,
    shutdown,
    snoop,
    tell_object,
    this_object,
    this_player,
    tls_init_connection,
    tls_query_connection_state,
    write,
    write_file,
)


class Player(MudObject):
    def create(self):
        enable_commands()  # living, so a line no action takes reaches fallback_command

    def bare_action(self):
        write("BARE ran\n")
        return 1

    def cmd_later(self, arg):
        call_out("tock", 0, "surplus")

    def tock(self):
        write("TOCK ran\n")

    def logon(self):
        me = this_object()
        add_action("bare_action", "bare")  # its own action: the driver's parser calls it
        debug_message(f"ARITY logon {object_name(me)} state={tls_query_connection_state(me)}")
        write(f"WELCOME {object_name(me)} state={tls_query_connection_state(me)}\n")

    def receive_gmcp(self, package):
        debug_message(f"ARITY receive_gmcp {object_name(self)} {package}")
        if package.startswith("Arity."):
            send_gmcp(self, "Arity.Heard", {"package": package})

    def secured(self):
        write(f"SECURED state={tls_query_connection_state(this_player())}\n")

    def answer_bare(self):
        write("ANSWER_BARE ran\n")

    def answer_line(self, line):
        write(f"ANSWER_LINE {line}\n")

    def process_input(self, line):
        verb, _, arg = line.strip().partition(" ")
        handler = getattr(self, "cmd_" + verb.replace("-", "_"), None)
        if handler is None:
            return None  # the driver parses it
        try:
            handler(arg)
        except EfunError as exc:
            write(f"REFUSED {exc}\n")
        return True

    def cmd_whoami(self, arg):
        write(f"WHOAMI {object_name(this_object())}\n")

    def cmd_secure(self, arg):
        write("GO AHEAD\n")
        tls_init_connection(this_object(), "secured", this_object(), "extra")

    def cmd_ask_bare(self, arg):
        write("ASKED\n")
        input_to("answer_bare", 0, "extra")

    def cmd_ask_line(self, arg):
        write("ASKED\n")
        input_to("answer_line", 0, "extra", "more")

    def cmd_shutdown(self, arg):
        shutdown("arity test")
        write("SHUTDOWN allowed\n")

    def cmd_bans(self, arg):
        write(f"BANS {len(query_bans())}\n")

    def cmd_exec(self, arg):
        new = clone_object("/player")
        exec_interactive(new, this_object())
        tell_object(new, f"EXEC {object_name(new)}\n")

    def cmd_snoop(self, arg):
        write(f"SNOOP {snoop(this_object(), find_object(arg))}\n")

    def cmd_write(self, arg):
        path, _, text = arg.partition(" ")
        write(f"WRITE {write_file(path, text, 1)}\n")

    def cmd_read(self, arg):
        write(f"READ {read_file(arg)}\n")

    def cmd_junk(self, arg):
        thing = clone_object("/thing")
        name = object_name(thing)
        destruct(thing)
        write(f"JUNK {name} gone={find_object(name) is None}\n")

    def cmd_tick(self, arg):
        write(f"TICKING {object_name(clone_object('/ticker'))}\n")

    def cmd_dial(self, arg):
        link = clone_object("/link")
        call_other(link, "dial", int(arg))
        write(f"DIALLING {object_name(link)}\n")

    def cmd_fail(self, arg):
        raise ValueError("arity boom")
