"""/master of the test mudlib.

connect() hands every connection to a clone of /test_player.  On the TLS
port it secures the connection first, in the way the environment variable
TEST_TLS_MODE names:

    deferred       bare tls_init_connection(): the driver calls
                   logon(result, ob) when the handshake is over (default)
    callback-name  tls_init_connection(this_object(), "tls_done",
                   this_object(), "extra1", 2): tls_done runs instead of logon
    callback-path  the same with the master's path instead of the object
    callable       a bound method, with the extra argument "x"
    lambda         a lambda, with the extra argument "x"
    timeout        bare, with handshake_timeout=1
    bare-logon     bare, and the connection goes to a /bare_logon, whose
                   logon(self) declares no parameters (as LDMud mudlibs do)
    exec           on either port: bare tls_init_connection() on the TLS
                   port, then exec() hands the connection from the master
                   to the player, before connect() returns that player
    steal          on either port: the first connection gets a player; every
                   later one is returned that same, already connected, player

Each connection is announced in the log ("CONNECT /test_player#N ..."), so
a test can learn the name of the object behind the socket it just opened.
"""

import os

from driver.efuns import (
    clone_object,
    debug_message,
    destruct,
    exec_interactive,
    inherit,
    object_name,
    query_listen_ports,
    query_mud_port,
    this_object,
    tls_init_connection,
    tls_query_connection_state,
)

PLAYER = "/test_player"


class Master(inherit("/tls_callbacks")):
    first_player = None

    def connect(self):
        mode = os.environ.get("TEST_TLS_MODE", "deferred")
        player = clone_object("/bare_logon" if mode == "bare-logon" else PLAYER)
        name = object_name(player)
        tls_port = query_listen_ports().tls
        on_tls = tls_port is not None and query_mud_port(this_object()) == tls_port
        port = "tls" if on_tls else "telnet"
        if mode == "exec":
            result = tls_init_connection() if on_tls else None
            exec_interactive(player, this_object())
            debug_message(f"CONNECT {name} port={port} mode=exec result={result} "
                          f"state={tls_query_connection_state(player)}")
            return player
        if mode == "steal":
            if self.first_player is None:
                self.first_player = player
            else:
                destruct(player)
            debug_message(f"CONNECT {object_name(self.first_player)} port={port} mode=steal")
            return self.first_player
        if not on_tls:
            debug_message(f"CONNECT {name} port=telnet")
            return player
        if mode in ("deferred", "bare-logon"):
            result = tls_init_connection()
        elif mode == "callback-name":
            result = tls_init_connection(this_object(), "tls_done", this_object(), "extra1", 2)
        elif mode == "callback-path":
            result = tls_init_connection(this_object(), "tls_done", "/master", "extra1", 2)
        elif mode == "callable":
            result = tls_init_connection(this_object(), self.tls_done, "x")
        elif mode == "lambda":
            result = tls_init_connection(
                this_object(), lambda result, ob, *extra: self.tls_done(result, ob, *extra), "x")
        elif mode == "timeout":
            result = tls_init_connection(handshake_timeout=1)
        else:
            raise ValueError(f"unknown TEST_TLS_MODE {mode!r}")
        debug_message(f"CONNECT {name} port=tls mode={mode} result={result} "
                      f"state={tls_query_connection_state(this_object())}")
        return player

    def disconnect(self, ob):
        destruct(ob)
