"""/player of the client-protocol test mudlib: one line per answer.

    client                 CLIENT <json of what the client told the driver>
    echo <text>            ECHO <text>
    unicode                UNICODE café ☕
    say <text>             "<name> says: <text>" to every other connection
    partial <text>         <text> without a newline
    pieces                 "PIECES abc" written in four pieces
    half <text>            <text> without a newline, to every other connection
    gmcp <package> [json]  send_gmcp to me: GMCP SENT <result>
    password               input_to with INPUT_NOECHO: GOT <length>
    starttls               GO AHEAD, then tls_init_connection from the world side
    quit                   remove_interactive
"""

import json

from driver.efuns import (
    INPUT_NOECHO,
    INPUT_PROMPT,
    MudObject,
    debug_message,
    input_to,
    load_object,
    object_name,
    query_charset,
    query_client_name,
    query_gmcp_client,
    query_gmcp_supports,
    query_mccp,
    query_mtts,
    query_terminal_type,
    query_window_size,
    remove_interactive,
    send_gmcp,
    tell_object,
    this_object,
    tls_init_connection,
    tls_query_connection_state,
    users,
    write,
)


class Player(MudObject):
    def logon(self, *args):
        write(f"WELCOME {object_name(this_object())}\n")

    def receive_gmcp(self, package, data):
        debug_message(f"GMCP {object_name(self)} {package} {json.dumps(data)}")
        if package == "Core.Ping":
            send_gmcp(self, "Core.Ping")

    def process_input(self, line):
        verb, _, arg = line.partition(" ")
        me = this_object()
        if verb == "client":
            info = {
                "terminal": query_terminal_type(me), "client": query_client_name(me),
                "mtts": query_mtts(me), "window": query_window_size(me),
                "charset": query_charset(me), "mccp": query_mccp(me),
                "gmcp_supports": query_gmcp_supports(me), "gmcp_client": query_gmcp_client(me),
                "tls": tls_query_connection_state(me),
            }
            write("CLIENT " + json.dumps(info, sort_keys=True) + "\n")
        elif verb == "echo":
            write(f"ECHO {arg}\n")
        elif verb == "unicode":
            write("UNICODE café ☕\n")
        elif verb == "say":
            for ob in users():
                if ob is not me:
                    tell_object(ob, f"{object_name(me)} says: {arg}\n")
            write("SAID\n")
        elif verb == "partial":
            write(arg)
        elif verb == "pieces":
            for piece in ("PIECES ", "a", "b", "c\n"):
                write(piece)
        elif verb == "half":
            for ob in users():
                if ob is not me:
                    tell_object(ob, arg)
            write("HALVED\n")
        elif verb == "gmcp":
            package, _, data = arg.partition(" ")
            result = send_gmcp(me, package, json.loads(data) if data else None)
            write(f"GMCP SENT {result}\n")
        elif verb == "password":
            input_to("got_password", INPUT_NOECHO | INPUT_PROMPT, "Password: ")
        elif verb == "starttls":
            write("GO AHEAD\n")
            tls_init_connection(me, "starttls_done", load_object("/master"))
        elif verb == "quit":
            remove_interactive(me)
        else:
            write(f"WHAT {line!r}\n")

    def got_password(self, line):
        write(f"GOT {len(line)}\n")
