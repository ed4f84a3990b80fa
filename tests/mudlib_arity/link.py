"""/link: an outgoing connection whose logon() takes nothing, although
the driver has -1 for it when the connection fails."""

from driver.efuns import MudObject, debug_message, interactive, net_connect, object_name


class Link(MudObject):
    def dial(self, port):
        net_connect("127.0.0.1", port)

    def logon(self):
        debug_message(f"ARITY link logon {object_name(self)} interactive={int(interactive(self))}")
