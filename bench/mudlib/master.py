"""/master of the benchmark world: the least a master can do.

Every connection gets a /player clone; on the TLS port the handshake comes
first, and the driver calls the player's logon(result, ob) when it is over.
When the link drops the clone goes away, as a login would.  Nothing is
hashed, saved or looked up, so what the benchmark measures is the driver:
its TLS layer, its telnet layer and its way into the mudlib.
"""

from driver.efuns import (MudObject, clone_object, destruct, query_listen_ports,
                          query_mud_port, tls_init_connection)


class Master(MudObject):
    def connect(self):
        if query_mud_port(self) == query_listen_ports().tls:
            tls_init_connection()
        return clone_object("/player")

    def disconnect(self, ob):
        destruct(ob)
