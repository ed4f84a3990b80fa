"""A MUD game driver in the tradition of LDMud, whose mudlib controls TLS.

The packages are the layers; each depends only on those below it, and
``make lint`` (import-linter, contracts in pyproject.toml) checks it:

    game.py            start, listen, signals, shutdown: builds the rest
    devcerts.py        development certificates (``make certs``)
    efuns/             the mudlib's API, a facade that nothing in the driver
                       imports: objects, players, tls, files, system, client
    world/             the game's machinery, top floor first:
      reload, files, errors,     hot reload; file efuns' checks; who hears of
      interactive, timers,       errors; connections bound to objects and the
      resets                     login sequence; call_outs and heart beats;
                                 when objects' reset() is called
      permissions, commands,     the master's permission applies; actions,
      client_applies, workers    init() and parsing; telnet_neg/GMCP/MSSP
                                 applies; slow work on worker threads
      coroutines, messages,      async world code; the one text path (write,
      persistence                say, catch_tell); save files
      inputs, runtime, turns,    input_to, char mode, snoop; the running driver;
      audit                      whose input runs next (fair turns, command
                                 rates); the audit log of privileged actions
      objects                    the object table, programs, the call stack
      evaluation, passwords      the per-call evaluation limit; password hashes
    net/               bytes on a socket, nothing about the game:
      connection                 one socket: TLS beneath (WebSocket beneath)
                                 telnet beneath lines
      telnet, tls, tls_context,  telnetlib3 fitted to a MUD; the sans-I/O TLS
      websocket                  session; contexts, certificates, SNI, reload;
                                 the web port's HTTP and WebSocket, sans I/O
                                 (its page: web_client/)
      mud_protocols, starttls,   MTTS, NAWS, CHARSET, GMCP, MSSP; telnet
      openssl_native,            START_TLS; what only OpenSSL itself can do;
      telnet_input, ansi,        the client's bytes split into text and commands;
      admission                  LP colour markup and wrapping; site bans and
                                 connection limits, at accept
    metrics.py         the Prometheus series and their HTTP endpoint
    collector.py       what the cyclic garbage collector's full passes rescan
    config.py          config.yaml and the command line (imports nothing here)
"""
