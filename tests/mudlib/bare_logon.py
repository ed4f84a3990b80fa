"""/bare_logon: a player object written as for LDMud, whose applies declare
only the parameters they use: logon() takes none, although on the TLS port
the driver has (result, ob) to give it."""

from driver.efuns import MudObject, debug_message, object_name, this_player, write


class BareLogon(MudObject):
    def logon(self):
        debug_message(f"BARE LOGON {object_name(self)}")
        write(f"BARE LOGON this_player={object_name(this_player())}\n")

    def process_input(self, line):
        write(f"BARE ECHO {line.strip()}\n")
