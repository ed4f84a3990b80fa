"""/master: accepts connections, and secures those on the TLS port."""

from driver.efuns import (MudObject, clone_object, debug_message, destruct, query_listen_ports,
                          query_mud_port, tls_available, tls_init_connection)


class Master(MudObject):
    def connect(self):
        if query_mud_port(self) == query_listen_ports().tls:
            if not tls_available():
                return None                 # the client speaks TLS; we cannot
            tls_init_connection()           # logon(result, ob) follows the handshake
        return clone_object("/player")

    def disconnect(self, ob, how):
        debug_message(f"{ob} {how}")
        destruct(ob)
