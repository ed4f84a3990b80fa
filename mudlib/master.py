"""/master: the master object, the first object the driver loads.

The master owns the game's dealings with the driver: it accepts every new
connection (and secures the ones that arrive on the TLS port), it clears
away the bodies of players whose link has dropped, and it sees everyone
saved when the game shuts down.  It also knows the game's name, who its
administrators are, and which players are in the game.
"""

from driver.efuns import (
    MudObject,
    call_other,
    clone_object,
    debug_message,
    destruct,
    objects,
    query_ip_number,
    query_listen_ports,
    query_mud_port,
    tell_object,
    tls_available,
    tls_error,
    tls_init_connection,
    users,
)

LOGIN = "/secure/login"


class Master(MudObject):
    mud_name = "Ravenmoor"

    # Characters who may use the administrators' commands (tlsreload).
    # Names as the game shows them: "Alice".
    admins = frozenset()

    def query_mud_name(self):
        return self.mud_name

    def query_admin(self, name):
        return name in self.admins

    def find_player(self, name):
        """The body of the player called `name` (any case), or None."""
        name = name.lower()
        for ob in users():
            if call_other(ob, "query_is_player") and \
                    (call_other(ob, "query_name") or "").lower() == name:
                return ob
        return None

    # -- applies ---------------------------------------------------------------

    def connect(self):
        """A new connection, bound to us for now.  Everyone starts at the
        login; on the TLS port the handshake comes first, and the driver
        calls the login's logon(result, ob) when it is over."""
        ip = query_ip_number(self)
        tls_port = query_listen_ports().tls
        if tls_port is not None and query_mud_port(self) == tls_port:
            if not tls_available():
                # The client will speak TLS at us; plain text would only be
                # noise to it, so there is nothing better to do than close.
                debug_message(f"TLS connection from {ip} refused: the driver "
                              "has no usable certificate", "warning")
                return None
            result = tls_init_connection()
            if result < 0:
                debug_message(f"TLS connection from {ip} refused: "
                              f"{tls_error(result)}", "warning")
                return None
        return clone_object(LOGIN)

    def disconnect(self, ob):
        """`ob` has lost its connection.  A player's body is saved and
        leaves the world; a half-finished login just goes away."""
        if call_other(ob, "query_is_player"):
            ob.link_dead()
        else:
            destruct(ob)

    def notify_shutdown(self):
        # Save every body first, interactive or not, so nothing is lost and
        # the goodbye below tells the truth.
        for ob in objects():
            if call_other(ob, "query_is_player"):
                try:
                    ob.save_character()
                except Exception as exc:    # one bad save must not stop the rest
                    debug_message(f"saving {call_other(ob, 'query_name')} at "
                                  f"shutdown failed: {exc}", "error")
        for ob in users():
            saved = ("  Your character has been saved."
                     if call_other(ob, "query_is_player") else "")
            tell_object(ob, f"\n{self.mud_name} is shutting down now.{saved}  "
                        "See you soon!\n")
        debug_message("shutdown: every player has been saved")
