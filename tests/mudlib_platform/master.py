"""/master of the platform test mudlib.

Every connection gets a clone of /player (on the TLS port after a
handshake).  The permission applies allow privileged efuns to players who
typed `wiz` (their `wizard` attribute), to /secure/ objects and to the
master; every decision is logged, so tests can check that it was asked.
"""

from driver.efuns import (MudObject, call_other, clone_object, debug_message, destruct,
                          interactive, object_name, previous_object, query_listen_ports,
                          query_mud_port, tell_object, this_interactive, tls_init_connection,
                          users)


def wizard(ob):
    return isinstance(ob, MudObject) and getattr(ob, "wizard", False)


def trusted(ob):
    return isinstance(ob, MudObject) and object_name(ob).startswith(("/secure/", "/master"))


class Master(MudObject):
    def connect(self):
        if query_listen_ports().tls is not None and query_mud_port(self) == query_listen_ports().tls:
            tls_init_connection()
        return clone_object("/player")

    def disconnect(self, ob, how=None):
        destruct(ob)

    # -- permissions -------------------------------------------------------

    def privilege_violation(self, operation, caller, *args):
        allowed = trusted(caller) or wizard(this_interactive())
        debug_message(f"PRIVILEGE {operation} caller={object_name(caller)} allowed={allowed}")
        return 1 if allowed else -1

    def valid_exec(self, program, new, old):
        return wizard(this_interactive()) or program.startswith("/secure/")

    def valid_snoop(self, snooper, snoopee):
        return wizard(snooper)

    def valid_read(self, path, caller, efun):
        return trusted(caller) or wizard(this_interactive()) or path.startswith("/data/public/")

    def valid_write(self, path, caller, efun):
        return trusted(caller) or wizard(this_interactive())

    def query_allow_shadow(self, victim):
        """Shadows are allowed, except of an object whose
        query_prevent_shadow(shadower) says no (LDMud's usual convention)."""
        return not call_other(victim, "query_prevent_shadow", previous_object())

    def prepare_destruct(self, ob):
        debug_message(f"PREPARE_DESTRUCT {object_name(ob)}")

    # -- commands and errors -------------------------------------------------

    def heart_beat_error(self, culprit, error):
        debug_message(f"HEART_BEAT_ERROR {object_name(culprit)} {error}")
        return getattr(culprit, "mode", None) == "flaky"

    def fallback_command(self, command, player):
        if command.startswith("fallback"):
            tell_object(player, f"FALLBACK {command}\n")
            return 1
        return 0

    def runtime_error(self, message, where, traceback, player):
        if player is not None and interactive(player):
            tell_object(player, f"RUNTIME-ERROR {message}\n")
        for ob in users():
            if ob is not player and wizard(ob):
                tell_object(ob, f"[error] {where}: {message}\n")
