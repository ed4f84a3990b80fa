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

Each connection is announced in the log ("CONNECT /test_player#N ..."), so
a test can learn the name of the object behind the socket it just opened.
"""

import os

from driver.efuns import (
    clone_object,
    debug_message,
    destruct,
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
    def connect(self):
        mode = os.environ.get("TEST_TLS_MODE", "deferred")
        player = clone_object(PLAYER)
        name = object_name(player)
        tls_port = query_listen_ports().tls
        if tls_port is None or query_mud_port(this_object()) != tls_port:
            debug_message(f"CONNECT {name} port=telnet")
            return player
        if mode == "deferred":
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
