"""/master of the apply-arity test mudlib: every apply written as an LPC
mudlib writes it, declaring fewer parameters than the driver passes.

Each apply logs one line, "ARITY <apply> ...", and acts on what it was
given, so a test sees both that it ran and that its answer counted:

    apply                           declares              does
    tls_configure(context, side)    context               offers ALPN "arity"
    disconnect(ob, how)             ob                    destructs ob
    telnet_neg(ob, cmd, opt, data)  ob, command, option   DO 200 to WILL 200
    privilege_violation(op, ...)    op                    allows only query_bans
    valid_exec(program, new, old)   program               allows /player only
    valid_snoop(snooper, snoopee)   snooper               allows
    valid_read(path, caller, efun)  path                  /alias.txt -> /data/note.txt
    valid_write(path, caller, efun) path                  /data/... only
    prepare_destruct(ob)            nothing               logs who destructs
    runtime_error(message, ...)     message               tells this_player()
    heart_beat_error(ob, error)     culprit               keeps the heart beat
    fallback_command(cmd, player)   command               answers "xyzzy ..."
"""

from driver.efuns import (
    TELNET_DO,
    TELNET_IAC,
    TELNET_WILL,
    MudObject,
    clone_object,
    debug_message,
    destruct,
    interactive,
    object_name,
    query_listen_ports,
    query_mud_port,
    send_telnet_neg,
    tell_object,
    this_player,
    tls_init_connection,
    write,
)

#: An option no driver handles, which this master takes for itself.
PRIVATE_OPTION = 200


def _name(ob):
    return object_name(ob) if ob is not None else "-"


class Master(MudObject):
    def connect(self):
        player = clone_object("/player")
        if query_mud_port(self) == query_listen_ports().tls:
            tls_init_connection()  # the driver has (result, ob) for logon; it takes neither
        return player

    def tls_configure(self, context):
        context.set_alpn_protocols(["arity"])
        debug_message(f"ARITY tls_configure {type(context).__name__}")

    def disconnect(self, ob):
        debug_message(f"ARITY disconnect {object_name(ob)}")
        destruct(ob)

    def telnet_neg(self, ob, command, option):
        debug_message(f"ARITY telnet_neg {object_name(ob)} {command} {option}")
        if command == TELNET_WILL and option == PRIVATE_OPTION:
            send_telnet_neg(ob, [TELNET_IAC, TELNET_DO, PRIVATE_OPTION])
            return True
        return False

    def privilege_violation(self, op):
        debug_message(f"ARITY privilege_violation {op}")
        return 1 if op == "query_bans" else -1

    def valid_exec(self, program):
        debug_message(f"ARITY valid_exec {program}")
        return program == "/player"

    def valid_snoop(self, snooper):
        debug_message(f"ARITY valid_snoop {_name(snooper)}")
        return True

    def valid_read(self, path):
        debug_message(f"ARITY valid_read {path}")
        return "/data/note.txt" if path == "/alias.txt" else True

    def valid_write(self, path):
        debug_message(f"ARITY valid_write {path}")
        return path.startswith("/data/")

    def prepare_destruct(self):
        debug_message(f"ARITY prepare_destruct this_player={_name(this_player())}")

    def runtime_error(self, message):
        player = this_player()
        debug_message(f"ARITY runtime_error {message}")
        if player is not None and interactive(player):
            tell_object(player, f"RUNTIME {message}\n")

    def heart_beat_error(self, culprit):
        debug_message(f"ARITY heart_beat_error {object_name(culprit)}")
        return 1  # keep it beating

    def fallback_command(self, command):
        if not command.startswith("xyzzy"):
            return 0
        debug_message(f"ARITY fallback_command {command}")
        write(f"FALLBACK {command}\n")
        return 1
