"""What MUD clients negotiate, passed on to the mudlib.

``ClientApplies`` is part of ``interactive.Interactives`` (the connection
events the driver handles): the telnet layer reports negotiation it does not
handle itself, GMCP messages, MSSP requests and prompts cut off by later
text, and this module turns them into applies:

* master ``telnet_neg(ob, command, option, data)``: negotiation for an
  option the driver does not handle (LDMud's H_TELNET_NEG), and the client's
  answer to ``DO START_TLS``.  Returns true if it answered the client (with
  ``send_telnet_neg``); otherwise the driver refuses the option.
* ``receive_gmcp(package, data)`` on the connection's object: a GMCP
  message from the client (``Core.Hello`` and ``Core.Supports.*`` are also
  recorded by the driver, for ``query_gmcp_supports``).
* master ``query_mssp()``: a mapping that adds to or overrides the MSSP
  fields the driver fills in from config.yaml and its own state.

It also decides what each connection is offered (``telnet_policy``).
"""

from __future__ import annotations

import logging
from typing import Any

from . import objects, runtime
from ..net.mud_protocols import CODEBASE
from ..net.telnet import TelnetPolicy

log = logging.getLogger("driver.interactive")


def _runtime():
    return runtime._current


class ClientApplies:
    """Mixed into ``Interactives`` (which provides ``table``, ``master_path``, ``users``)."""

    def _master(self):
        return self.table.find(self.master_path)

    def telnet_policy(self, connection) -> TelnetPolicy:
        rt = _runtime()
        if rt is None or not connection.incoming:
            return TelnetPolicy()
        config = rt.config
        starttls = (config.telnet_starttls and connection.local_port == rt.telnet_port
                    and rt.credentials.available)
        # Never MCCP inside a WebSocket: the web client does not inflate, and
        # the stream is encrypted (by the driver, or by the proxy in front).
        compression = config.telnet_compression and connection.web is None
        return TelnetPolicy(compression=compression, starttls=starttls)

    def telnet_negotiation(self, connection, command: int, option: int, data: bytes) -> bool:
        binding = connection.binding
        owner = binding.owner if binding is not None else None
        master = self._master()
        hook = getattr(master, "telnet_neg", None)
        if owner is None or owner._mud_destructed or not callable(hook):
            return False
        result = objects.run(master, hook, owner, command, option, bytes(data),
                             this_player=owner, this_interactive=owner,
                             what=f"{master._mud_name}->telnet_neg()")
        return bool(result)

    def gmcp_received(self, connection, package: str, data: Any) -> None:
        binding = connection.binding
        owner = binding.owner if binding is not None else None
        if owner is None or owner._mud_destructed:
            return
        receive = getattr(owner, "receive_gmcp", None)
        if callable(receive):
            objects.run(owner, receive, package, data, this_player=owner, this_interactive=owner,
                        what=f"{owner._mud_name}->receive_gmcp()")

    def mssp_variables(self, connection) -> dict[str, Any]:
        rt = _runtime()
        if rt is None:
            return {}
        config = rt.config
        master = self._master()
        name = config.mssp_name
        if name is None:
            query = getattr(master, "query_mud_name", None)
            name = objects.run(master, query, this_player=None, this_interactive=None) \
                if callable(query) else None
        variables: dict[str, Any] = {
            "NAME": name or "MUD",
            "PLAYERS": len(self.users()),
            "UPTIME": int(rt.started_at),
            "CODEBASE": CODEBASE,
            "HOSTNAME": config.hostname,
            "PORT": rt.telnet_port,
            # the protocols the driver speaks itself
            "GMCP": 1, "MCCP": int(config.telnet_compression), "UTF-8": 1, "ANSI": 0,
            "MSDP": 0, "MXP": 0, "MSP": 0,
        }
        if rt.tls_port is not None:
            variables["TLS"] = variables["SSL"] = rt.tls_port
        if rt.web_port is not None:
            # Where a player without a MUD client can play: the web client.
            variables["WEBSITE"] = variables["WEBCLIENT"] = \
                f"https://{config.hostname}:{rt.web_port}/"
        variables.update(config.mssp_fields)
        query = getattr(master, "query_mssp", None)
        if callable(query):
            extra = objects.run(master, query, this_player=None, this_interactive=None,
                                what=f"{master._mud_name}->query_mssp()")
            if isinstance(extra, dict):
                variables.update({str(k): v for k, v in extra.items()})
        return {k: v for k, v in variables.items() if v is not None}
