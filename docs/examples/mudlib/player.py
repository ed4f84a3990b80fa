"""/player: a body with a TLS-aware logon and its own commands."""

from driver.efuns import (MudObject, add_action, enable_commands, environment, move_object,
                          notify_fail, remove_interactive, say, tls_error,
                          tls_query_connection_info, write)


class Player(MudObject):
    def logon(self, result=None, ob=None):
        if result is not None and result < 0:      # a failed TLS handshake
            write(f"TLS failed: {tls_error(result)}\n")
            remove_interactive(self)
            return
        info = tls_query_connection_info(self)
        write(f"Welcome!  Your link is {info.prot if info else 'not encrypted'}.\n")
        enable_commands()                           # we are this_player() now
        add_action("cmd_say", "say")
        add_action("cmd_say", "'", 2)               # AA_NOSPACE: 'hello
        add_action("cmd_quit", "quit")
        move_object(self, "/rooms/hall")            # the hall's init() adds its commands

    def cmd_say(self, arg):
        if not arg:
            return notify_fail("Say what?\n")
        say(f"Someone says: {arg}\n")
        write(f"You say: {arg}\n")
        return 1

    def cmd_quit(self, arg):
        write("Bye.\n")
        remove_interactive(self)
        return 1

    def look(self):
        write(environment(self).describe())
