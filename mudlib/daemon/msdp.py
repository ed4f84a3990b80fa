"""/daemon/msdp: MSDP, the MUD Server Data Protocol, for the clients that speak it.

TinTin++, Mudlet, Blightmud and others read a character's gauges and the
room from MSDP (telnet option 69) to fill status bars and maps, as GMCP
does for Mudlet.  The driver leaves the option to the mudlib, as LDMud
does (the master's telnet_neg); this daemon speaks it:

* a body in the game offers it (IAC WILL MSDP), once per connection;
* the client's DO and DONT come back through the master, and then its
  requests (IAC SB MSDP ... IAC SE): LIST (COMMANDS, LISTS,
  REPORTABLE_VARIABLES, SENDABLE_VARIABLES, REPORTED_VARIABLES,
  CONFIGURABLE_VARIABLES), SEND, REPORT, UNREPORT and RESET;
* the body calls update() when what a variable shows may have changed
  (its gauges, the room it is in), and the variables its client asked to
  be reported are sent if they did change.

The variables are the body's (query_msdp_variables): CHARACTER_NAME,
HEALTH, HEALTH_MAX, MOVEMENT, MOVEMENT_MAX, ROOM_NAME, ROOM_VNUM, AREA_NAME
and ROOM_EXITS (a table: direction -> the room's number), and SERVER_ID.
A name the client sends that is none of these is ignored, as the protocol
says; what it sends is parsed without trusting it (the driver has already
capped a subnegotiation at 8 KiB).
"""

from driver.efuns import (TELNET_DO, TELNET_DONT, TELNET_IAC, TELNET_SB, TELNET_SE,
                          TELNET_WILL, TELOPT_MSDP, MudObject, call_other, object_name,
                          find_object, send_telnet_neg)

# MSDP's own bytes, inside IAC SB MSDP ... IAC SE.
VAR, VAL, TABLE_OPEN, TABLE_CLOSE, ARRAY_OPEN, ARRAY_CLOSE = 1, 2, 3, 4, 5, 6

COMMANDS = ("LIST", "REPORT", "RESET", "SEND", "UNREPORT")
LISTS = ("COMMANDS", "LISTS", "CONFIGURABLE_VARIABLES", "REPORTABLE_VARIABLES",
         "REPORTED_VARIABLES", "SENDABLE_VARIABLES")
VARIABLES = ("CHARACTER_NAME", "SERVER_ID", "HEALTH", "HEALTH_MAX", "MOVEMENT", "MOVEMENT_MAX",
             "ROOM_NAME", "ROOM_VNUM", "AREA_NAME", "ROOM_EXITS")


def encode(name, value):
    """VAR name VAL value, the value a string, a list (an MSDP array) or a
    dict (an MSDP table), nested as deep as they go."""
    return bytes([VAR]) + _text(name) + bytes([VAL]) + _value(value)


def _value(value):
    if isinstance(value, dict):
        return (bytes([TABLE_OPEN]) + b"".join(encode(key, item) for key, item in value.items())
                + bytes([TABLE_CLOSE]))
    if isinstance(value, (list, tuple)):
        return (bytes([ARRAY_OPEN]) + b"".join(bytes([VAL]) + _value(item) for item in value)
                + bytes([ARRAY_CLOSE]))
    return _text(value)


def _text(value):
    # The protocol's bytes (1 to 6) and IAC cannot appear in a name or value.
    data = str(value).encode("utf-8")
    return bytes(byte for byte in data if byte > ARRAY_CLOSE and byte != TELNET_IAC)


def decode(data):
    """The client's request as [(name, [values])]: a value is one string,
    or each string of an array.  Tables (which no request needs) and
    anything malformed are skipped."""
    pairs, position, size = [], 0, len(data)
    while position < size:
        if data[position] != VAR:
            position += 1
            continue
        name, position = _string(data, position + 1)
        values = []
        while position < size and data[position] == VAL:
            position += 1
            if position < size and data[position] == ARRAY_OPEN:
                position += 1
                while position < size and data[position] == VAL:
                    value, position = _string(data, position + 1)
                    values.append(value)
                if position < size and data[position] == ARRAY_CLOSE:
                    position += 1
            elif position < size and data[position] == TABLE_OPEN:
                while position < size and data[position] != TABLE_CLOSE:
                    position += 1
                position += 1
            else:
                value, position = _string(data, position)
                values.append(value)
        pairs.append((name, values))
    return pairs


def _string(data, position):
    end = position
    while end < len(data) and data[end] > ARRAY_CLOSE:
        end += 1
    return data[position:end].decode("utf-8", errors="replace"), end


class Msdp(MudObject):
    def create(self):
        # a body's object name -> {"reported": set of names, "sent": {name: value}}
        self.clients = {}

    def offer(self, body):
        """A connection has just become `body`'s: offer MSDP to its client
        (a new connection starts afresh)."""
        self.clients.pop(object_name(body), None)
        send_telnet_neg(body, bytes([TELNET_IAC, TELNET_WILL, TELOPT_MSDP]))

    def negotiate(self, body, command, data):
        """The master's telnet_neg for option MSDP; True if answered."""
        name = object_name(body)
        if command == TELNET_DO:
            if call_other(body, "query_msdp_variables") is None:
                return False    # not a body in the game: refused
            self.clients[name] = {"reported": set(), "sent": {}}
            return True
        if command == TELNET_DONT:
            self.clients.pop(name, None)
            return True
        if command == TELNET_SB and name in self.clients:
            self._request(body, self.clients[name], data)
            return True
        return False

    def update(self, body):
        """What `body`'s variables show may have changed: the reported ones
        that did are sent."""
        client = self.clients.get(object_name(body))
        if client is None or not client["reported"]:
            return
        values = call_other(body, "query_msdp_variables") or {}
        changed = {name: values[name] for name in sorted(client["reported"])
                   if name in values and client["sent"].get(name) != values[name]}
        self._send(body, client, changed)

    def forget(self, body):
        """`body` leaves the game, or its connection goes."""
        self.clients.pop(object_name(body), None)
        for name in [name for name in self.clients if find_object(name) is None]:
            del self.clients[name]

    def _request(self, body, client, data):
        values = call_other(body, "query_msdp_variables") or {}
        for command, arguments in decode(bytes(data)):
            if command == "LIST":
                for which in arguments:
                    self._send_list(body, client, which)
            elif command == "SEND":
                self._send(body, client, {name: values[name] for name in arguments
                                          if name in values}, remember=False)
            elif command == "REPORT":
                known = [name for name in arguments if name in VARIABLES]
                client["reported"].update(known)
                self._send(body, client, {name: values[name] for name in known
                                          if name in values})
            elif command == "UNREPORT":
                client["reported"].difference_update(arguments)
            elif command == "RESET" and "REPORTABLE_VARIABLES" in arguments:
                client["reported"].clear()

    def _send_list(self, body, client, which):
        lists = {"COMMANDS": COMMANDS, "LISTS": LISTS, "REPORTABLE_VARIABLES": VARIABLES,
                 "SENDABLE_VARIABLES": VARIABLES, "CONFIGURABLE_VARIABLES": (),
                 "REPORTED_VARIABLES": sorted(client["reported"])}
        if which in lists:
            self._send(body, client, {which: list(lists[which])}, remember=False)

    def _send(self, body, client, values, remember=True):
        if not values:
            return
        payload = b"".join(encode(name, value) for name, value in values.items())
        send_telnet_neg(body, bytes([TELNET_IAC, TELNET_SB, TELOPT_MSDP]) + payload
                        + bytes([TELNET_IAC, TELNET_SE]))
        if remember:
            client["sent"].update(values)
