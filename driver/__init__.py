"""A MUD game driver in the tradition of LDMud, whose mudlib controls TLS.

Layers, each depending only on those below it:

    game.py                          start, listen, signals, shutdown
    efuns.py                         what the mudlib calls
    reload.py, files.py,             hot reload; file efuns; the master's
    permissions.py, errors.py        permission applies; who hears of errors
    commands.py, inputs.py,          actions, init() and parsing; input_to,
    heartbeat.py                     char mode, snoop; heart beats and lag
    runtime.py, interactive.py,      the driver's state; connections bound to
    objects.py, persistence.py       objects; the object model; saves
    evaluation.py                    the per-call evaluation limit (SIGALRM)
    connection.py                    one socket: TLS layer beneath telnet layer
    tls.py, tls_context.py, telnet.py  the TLS state machine and contexts;
                                     telnetlib3 fitted to a MUD
    config.py                        config.yaml and the command line
"""
