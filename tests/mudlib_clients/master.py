"""/master of the client-protocol test mudlib.

Every connection gets a clone of /player (secured first on the TLS port).  The master's telnet_neg() logs
each call ("TELNET_NEG <ob> <command> <option> <data hex>"), upgrades a
client that says WILL START_TLS (unless TEST_STARTTLS=refuse), answers
WILL MXP itself with DO MXP, and leaves everything else to the driver.
"""

import os

from driver.efuns import (
    TELNET_DO,
    TELNET_IAC,
    TELNET_WILL,
    TELOPT_MXP,
    TELOPT_STARTTLS,
    MudObject,
    clone_object,
    debug_message,
    destruct,
    object_name,
    query_listen_ports,
    query_mud_port,
    send_telnet_neg,
    tell_object,
    tls_error,
    tls_init_connection,
    tls_query_connection_state,
)


class Master(MudObject):
    def query_mud_name(self):
        return "Client Test World"

    def connect(self):
        player = clone_object("/player")
        debug_message(f"CONNECT {object_name(player)}")
        if query_mud_port(self) == query_listen_ports().tls:
            tls_init_connection()  # logon(result, ob) follows the handshake
        return player

    def disconnect(self, ob):
        destruct(ob)

    def telnet_neg(self, ob, command, option, data):
        debug_message(f"TELNET_NEG {object_name(ob)} {command} {option} {data.hex() or '-'}")
        if option == TELOPT_STARTTLS and command == TELNET_WILL:
            if os.environ.get("TEST_STARTTLS") == "refuse":
                return False
            result = tls_init_connection(ob, "starttls_done", self)
            debug_message(f"STARTTLS {object_name(ob)} init={result} "
                          f"state={tls_query_connection_state(ob)}")
            return True
        if option == TELOPT_MXP and command == TELNET_WILL:
            send_telnet_neg(ob, bytes([TELNET_IAC, TELNET_DO, TELOPT_MXP]))
            return True
        return False

    def starttls_done(self, result, ob):
        debug_message(f"STARTTLS DONE {object_name(ob)} result={result} "
                      f"state={tls_query_connection_state(ob)}")
        tell_object(ob, f"SECURED result={result} ({tls_error(result)})\n")

    def query_mssp(self):
        return {"GENRE": "Testing", "CONTACT": "nobody@example.org", "CODEBASE": None,
                "PLAYERS": 42}
