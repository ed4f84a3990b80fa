"""A MUD game driver in the tradition of LDMud, whose mudlib controls TLS.

Layers, each depending only on those below it:

    game.py                          start, listen, signals, shutdown
    efuns.py, client_efuns.py        what the mudlib calls (client_efuns: terminal,
                                     GMCP, raw telnet, link-death)
    reload.py, files.py,             hot reload; file efuns; the master's
    permissions.py, errors.py        permission applies; who hears of errors
    commands.py, inputs.py,          actions, init() and parsing; input_to,
    heartbeat.py                     char mode, snoop; heart beats and lag
    runtime.py, interactive.py,      the driver's state; connections bound to
    objects.py, persistence.py       objects; the object model; saves
    client_applies.py                client negotiation to the mudlib: telnet_neg,
                                     receive_gmcp, query_mssp
    evaluation.py                    the per-call evaluation limit (SIGALRM)
    connection.py                    one socket: TLS layer beneath telnet layer
    tls.py, tls_context.py,          the TLS state machine and contexts, and
    openssl_native.py, telnet.py     what only OpenSSL itself can do; telnetlib3
                                     fitted to a MUD
    mud_protocols.py, starttls.py    what clients say (MTTS, NAWS, CHARSET, GMCP,
                                     MSSP); telnet START_TLS
    config.py                        config.yaml and the command line
"""
