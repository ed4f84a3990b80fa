"""/master of the fairness test mudlib.

Every connection gets a clone of /player; on the TLS port it is secured
first.  Disconnects are logged with how they happened, and so is every
privilege question (allowed for players who typed `wiz`).  Negotiations
the driver does not handle itself are counted (``negotiations``) and
refused.  ``connect()`` counts its calls (``connects``), and takes
``slow_connect`` seconds of CPU when a player set that (``slow``): a world
whose logins are expensive.
"""

import time

from driver.efuns import (MudObject, clone_object, debug_message, destruct, object_name,
                          query_listen_ports, query_mud_port, this_interactive,
                          tls_init_connection)


class Master(MudObject):
    #: telnet negotiations passed to telnet_neg() so far, from every player
    negotiations = 0
    #: connect() calls so far
    connects = 0
    #: seconds each connect() spends computing (0: none)
    slow_connect = 0.0

    def connect(self):
        self.connects += 1
        self.compute(self.slow_connect)
        if query_listen_ports().tls is not None and query_mud_port(self) == query_listen_ports().tls:
            tls_init_connection()
        return clone_object("/player")

    def compute(self, seconds):
        """Hold the driver for ``seconds`` of CPU, as heavy world code would."""
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            pass

    def disconnect(self, ob, how):
        debug_message(f"DISCONNECT {object_name(ob)} how={how}")
        destruct(ob)

    def privilege_violation(self, operation, caller, *args):
        player = this_interactive()
        allowed = bool(getattr(player, "wizard", False))
        debug_message(f"PRIVILEGE {operation} allowed={allowed}")
        return 1 if allowed else -1

    def telnet_neg(self, ob, command, option, data):
        self.negotiations += 1
        return 0  # the driver refuses the option
