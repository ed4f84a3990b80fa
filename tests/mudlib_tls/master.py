"""Test master for the TLS features beyond LDMud's.

Secures the TLS port with a bare tls_init_connection() (so logon(result, ob)
is deferred), reports disconnects with how they happened, and has a
tls_configure() hook whose behaviour a player command switches at run time.
"""

import ssl

from driver.efuns import (MudObject, clone_object, debug_message, object_name,
                          query_listen_ports, query_mud_port, tls_init_connection)


class Master(MudObject):
    hook_mode = "none"  # "none", "alpn", "raise", "tls13"
    hook_calls = 0

    def tls_configure(self, context, side):
        self.hook_calls += 1
        debug_message(f"TLS_CONFIGURE side={side} mode={self.hook_mode}")
        if self.hook_mode == "raise":
            raise RuntimeError("the hook refuses")
        if self.hook_mode == "alpn":
            context.set_alpn_protocols(["mud"])
        if self.hook_mode == "tls13" and side == "server":
            context.minimum_version = ssl.TLSVersion.TLSv1_3

    def connect(self):
        if query_mud_port(self) == query_listen_ports().tls:
            tls_init_connection()
        return clone_object("/player")

    def disconnect(self, ob, how):
        debug_message(f"DISCONNECT {object_name(ob)} how={how}")
