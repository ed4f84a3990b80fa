"""The efuns: everything a mudlib may call, in one module.

``from driver.efuns import tls_init_connection, write, ...``: the mudlib needs
nothing else from the driver and never sees asyncio, sockets or ``ssl``.
Each efun is a thin layer that checks its arguments (raising ``EfunError``
with LDMud's meaning) and hands the work to the object table, the
interactives or a connection.  The TLS efuns follow
``docs/efuns.md`` (the reference mudlib authors rely on).
"""

from __future__ import annotations

import logging
import time as _time
from typing import Any, Callable

from ..world import commands as _commands
from ..world import inputs as _inputs
from ..world import objects as _objects
from ..world import permissions as _permissions
from ..world import persistence as _persistence
from ..world import reload as _reload
from ..net import tls as _tls
from ..world.inputs import INPUT_CHARMODE, INPUT_NOECHO, INPUT_PROMPT, InputHandler, binding_of
from ..world.interactive import TLSCallback
from ..world.messages import deliver as _deliver
from ..world.objects import EfunError, MudObject, check_alive
from ..world.runtime import current as _runtime
from ..world.coroutines import DriverAwaitable
from ..net.openssl_native import KeyUpdateUnavailable
from ..net.tls_context import (CertificateError, ConnectionInfo, connection_info,
                          peer_certificate_report)

__all__ = [
    # objects
    "MudObject", "EfunError", "inherit", "load_object", "clone_object", "find_object",
    "destruct", "object_name", "this_object", "this_player", "this_interactive",
    "previous_object", "call_other", "environment", "move_object", "all_inventory",
    "present", "objects",
    # players and connections
    "write", "tell_object", "say", "tell_room", "users", "interactive", "exec",
    "remove_interactive", "input_to", "set_prompt", "query_ip_number", "query_mud_port",
    "query_listen_ports", "query_host_name", "query_idle", "INPUT_NOECHO",
    "INPUT_CHARMODE", "INPUT_PROMPT",
    # driver
    "debug_message", "time", "call_out", "remove_call_out", "find_call_out",
    "save_object", "restore_object", "shutdown",
    # TLS
    "tls_init_connection", "tls_query_connection_state", "tls_error",
    "tls_deinit_connection", "tls_query_connection_info", "tls_available",
    "tls_check_certificate", "tls_refresh_certs", "tls_handshake", "tls_rekey",
    "net_connect", "TLS_CIPHER", "TLS_COMP", "TLS_KX",
    "TLS_MAC", "TLS_PROT", "TLS_INFO_MAX", "TLSInfo",
    "TLS_OK", "TLS_ERR_HANDSHAKE", "TLS_ERR_PEER_CLOSED", "TLS_ERR_TIMEOUT",
    "TLS_ERR_NO_CERTIFICATE", "TLS_ERR_PROTOCOL_VERSION", "TLS_ERR_NOT_TLS",
    "TLS_ERR_NO_SHARED_CIPHER", "TLS_ERR_CERTIFICATE", "TLS_ERR_NOT_CONNECTED",
] + [
    # the LP platform: objects, commands, input, time, reload, files, admin
    "deep_inventory", "update_program", "reload_object",
    "enable_commands", "disable_commands", "living", "set_living_name", "find_living",
    "find_player", "add_action", "remove_action", "query_actions", "query_verb",
    "notify_fail", "query_notify_fail", "command", "AA_VERB", "AA_SHORT", "AA_NOSPACE",
    "AA_IMM_ARGS",
    "remove_input_to", "find_input_to", "input_to_info", "snoop", "query_snoop",
    "query_once_interactive",
    "set_heart_beat", "query_heart_beat", "heart_beat_info", "call_out_info",
    "query_load_average", "driver_info", "EvaluationTimeout",
    "save_value", "restore_value",
    "read_file", "write_file", "file_size", "get_dir", "rm", "mkdir", "rmdir",
    "GETDIR_NAMES", "GETDIR_SIZES", "GETDIR_DATES",
]

# The player's client: terminal, GMCP, raw telnet, link-death.
from .client import *  # noqa: E402,F401,F403
from .client import __all__ as _client_efuns  # noqa: E402

__all__ += _client_efuns

_mudlib_log = logging.getLogger("mudlib")

# --- objects ----------------------------------------------------------------------


def inherit(path: str) -> type:
    """The class of the program at ``path``, to derive from: ``class X(inherit("/std/room"))``."""
    return _runtime().table.program(path).cls


def load_object(path: str) -> MudObject:
    return _runtime().table.load(path)


def clone_object(path: str | MudObject) -> MudObject:
    if isinstance(path, MudObject):
        path = path._mud_program.path
    return _runtime().table.clone(path)


def find_object(path: str) -> MudObject | None:
    return _runtime().table.find(path)


def destruct(ob: MudObject) -> None:
    """Remove ``ob``; the master's ``prepare_destruct(ob)`` runs first."""
    if isinstance(ob, MudObject) and ob._mud_destructed:
        return
    check_alive(ob)
    if ob is not _permissions.master():
        _permissions.ask_master("prepare_destruct", ob)
    _runtime().table.destruct(ob)


def object_name(ob: MudObject | None = None) -> str:
    return check_alive(this_object() if ob is None else ob)._mud_name


def this_object() -> MudObject | None:
    return _objects.current_frame().this_object


def this_player() -> MudObject | None:
    return _objects.current_frame().this_player


def this_interactive() -> MudObject | None:
    return _objects.current_frame().this_interactive


def previous_object() -> MudObject | None:
    return _objects.current_frame().caller


def call_other(ob: MudObject | str, fun: str, *args: Any) -> Any:
    """Call ``ob.fun(*args)`` as LP does: ``ob`` becomes this_object, the caller previous_object.

    Returns None if the object does not define ``fun``.
    """
    if isinstance(ob, str):
        ob = load_object(ob)
    check_alive(ob)
    method = getattr(ob, fun, None) if isinstance(fun, str) and not fun.startswith("_") else None
    if not callable(method):
        return None
    return _objects.call_in_frame(ob, method, *args)


def environment(ob: MudObject | None = None) -> MudObject | None:
    return check_alive(this_object() if ob is None else ob)._mud_environment


def move_object(ob: MudObject, dest: MudObject | str) -> None:
    if isinstance(dest, str):
        dest = load_object(dest)
    _commands.move(check_alive(ob), check_alive(dest, "destination"), _runtime().table)


def all_inventory(ob: MudObject | None = None) -> list[MudObject]:
    return list(check_alive(this_object() if ob is None else ob)._mud_inventory)


def present(name: str | MudObject, env: MudObject | None = None) -> MudObject | None:
    """An object in ``env`` that answers to ``name`` via its ``id()``; ``"coin 2"`` is the second.

    Without ``env``: this_object()'s inventory, then the objects beside it (LDMud).
    """
    if env is None:
        me = check_alive(this_object(), "this_object()")
        places = [me] + ([me._mud_environment] if me._mud_environment is not None else [])
    else:
        places = [check_alive(env, "environment")]
    if not isinstance(name, (str, MudObject)):
        raise EfunError(f"bad argument 1 to present: expected a name or an object, got {name!r}")
    wanted = 1
    if isinstance(name, str):
        word, _, number = name.rpartition(" ")
        if word and number.isdigit() and int(number) > 0:
            name, wanted = word, int(number)
    for place in places:
        for item in list(place._mud_inventory):
            if item is name:
                return item
            id_fun = getattr(item, "id", None)
            if isinstance(name, str) and callable(id_fun) and _objects.call_in_frame(item, id_fun, name):
                wanted -= 1
                if wanted == 0:
                    return item
    return None


def deep_inventory(ob: MudObject | None = None) -> list[MudObject]:
    """Everything inside ``ob``, at any depth, each container before its contents."""
    result: list[MudObject] = []
    stack = list(reversed(check_alive(this_object() if ob is None else ob)._mud_inventory))
    while stack:
        item = stack.pop()
        result.append(item)
        stack.extend(reversed(item._mud_inventory))
    return result


def objects() -> list[MudObject]:
    return list(_runtime().table.objects.values())


# --- players and connections --------------------------------------------------------


def write(text: Any) -> None:
    """Text to this_player()."""
    player = this_player()
    if player is not None and not player._mud_destructed:
        _deliver(player, str(text))


def tell_object(ob: MudObject, text: Any) -> None:
    _deliver(check_alive(ob), str(text))


def tell_room(room: MudObject | str, text: Any, exclude: Any = ()) -> None:
    if isinstance(room, str):
        room = load_object(room)
    check_alive(room, "room")
    if isinstance(exclude, MudObject):
        exclude = (exclude,)
    excluded = set(map(id, exclude or ()))
    for ob in list(room._mud_inventory):
        if id(ob) not in excluded and not ob._mud_destructed:
            _deliver(ob, str(text))


def say(text: Any, exclude: Any = None) -> None:
    """Text to everyone in this_player()'s room but this_player (and ``exclude``)."""
    player = this_player() or this_object()
    if player is None or player._mud_environment is None:
        return
    others = [player]
    if isinstance(exclude, MudObject):
        others.append(exclude)
    elif exclude:
        others.extend(exclude)
    tell_room(player._mud_environment, text, others)


def users() -> list[MudObject]:
    return _runtime().interactives.users()


def interactive(ob: MudObject | None = None) -> bool:
    ob = this_object() if ob is None else ob
    return isinstance(ob, MudObject) and binding_of(check_alive(ob)) is not None


def query_once_interactive(ob: MudObject | None = None) -> bool:
    """True if ``ob`` has ever had a connection (LDMud)."""
    return bool(check_alive(this_object() if ob is None else ob)._mud_once_interactive)


def exec(new: MudObject, old: MudObject) -> bool:  # noqa: A001 - LDMud's name
    """Move ``old``'s connection, TLS state and pending callbacks to ``new``."""
    check_alive(new, "new")
    check_alive(old, "old")
    _permissions.check_exec(new, old)
    return _runtime().interactives.exec(new, old)


def remove_interactive(ob: MudObject | None = None) -> None:
    """Close ``ob``'s connection after sending what is pending (close_notify on TLS)."""
    binding = binding_of(check_alive(this_object() if ob is None else ob))
    if binding is not None:
        _runtime().interactives.close(binding)


def _resolve_callable(fun: Any, owner: MudObject | None, argument: str) -> Callable:
    if isinstance(fun, str):
        method = getattr(owner, fun, None) if owner is not None else None
        if not callable(method):
            raise EfunError(f"bad {argument}: {owner!r} has no method {fun!r}")
        return method
    if callable(fun):
        return fun
    raise EfunError(f"bad {argument}: expected a method name or a callable, got {fun!r}")


def input_to(fun: str | Callable, flags: int = 0, *extra: Any) -> bool:
    """The player's next line goes to ``fun(line, *extra)`` instead of being a command.

    With ``INPUT_PROMPT`` the first extra argument is the prompt to show;
    ``INPUT_NOECHO`` asks the client not to echo (telnet WILL ECHO).
    """
    player = this_player()
    binding = binding_of(player) if player is not None else None
    if binding is None:
        return False
    if not isinstance(flags, int):
        raise EfunError(f"bad argument 2 to input_to: flags must be an int, got {flags!r}")
    owner = this_object() or player
    method = _resolve_callable(fun, owner, "argument 1 to input_to")
    prompt = None
    if flags & INPUT_PROMPT:
        if not extra:
            raise EfunError("input_to: INPUT_PROMPT needs the prompt as the third argument")
        prompt, extra = str(extra[0]), extra[1:]
    _runtime().interactives.add_input_handler(binding, InputHandler(method, flags, prompt, extra))
    return True


def set_prompt(prompt: str | None = None, ob: MudObject | None = None) -> str:
    """Set the prompt of ``ob`` (default this_player()); returns the old one."""
    binding = binding_of(check_alive(this_player() if ob is None else ob))
    if binding is None:
        raise EfunError("set_prompt: object not interactive")
    old = binding.prompt
    if prompt is not None:
        binding.prompt = str(prompt)
    return old


def _interactive_binding(ob: MudObject | None):
    return binding_of(check_alive(this_player() if ob is None else ob))


def _attached_binding(ob: MudObject | None):
    """The connection ``ob`` is bound to, even while it closes: where it came
    from stays true until the driver detaches it (so the ``logon(result)``
    of a handshake the peer cut short can still name the address)."""
    return getattr(check_alive(this_player() if ob is None else ob), "_mud_interactive", None)


def query_ip_number(ob: MudObject | None = None) -> str | None:
    binding = _attached_binding(ob)
    return binding.connection.peer[0] if binding else None


def query_mud_port(ob: MudObject | None = None) -> int | None:
    binding = _attached_binding(ob)
    return binding.connection.local_port if binding else None


def query_idle(ob: MudObject) -> float:
    binding = binding_of(check_alive(ob))
    if binding is None:
        raise EfunError("query_idle: object not interactive")
    return _time.monotonic() - binding.last_input


class ListenPorts(tuple):
    __slots__ = ()

    def __new__(cls, telnet: int | None, tls: int | None):
        return super().__new__(cls, (telnet, tls))

    telnet = property(lambda self: self[0])
    tls = property(lambda self: self[1])

    def __repr__(self) -> str:
        return f"ListenPorts(telnet={self[0]}, tls={self[1]})"


def query_listen_ports() -> ListenPorts:
    """The ports the driver listens on: ``.telnet`` and ``.tls`` (None if off)."""
    runtime = _runtime()
    return ListenPorts(runtime.telnet_port, runtime.tls_port)


def query_host_name() -> str:
    return _runtime().config.hostname


# --- the driver ---------------------------------------------------------------------

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


def debug_message(text: Any, level: str = "info") -> None:
    _mudlib_log.log(_LEVELS.get(level, logging.INFO), "%s", str(text).rstrip("\n"))


def time() -> int:
    return int(_time.time())


def call_out(fun: str | Callable, delay: float, *args: Any) -> None:
    owner = check_alive(this_object(), "this_object()")
    method = _resolve_callable(fun, owner, "argument 1 to call_out")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise EfunError(f"bad argument 2 to call_out: expected seconds, got {delay!r}")
    _runtime().call_outs.add(owner, method, float(delay), args, this_player())


def remove_call_out(fun: str | Callable) -> float:
    """Cancel this object's first pending call_out of ``fun``; returns its time left or -1."""
    return _runtime().call_outs.remove(this_object(), fun)


def find_call_out(fun: str | Callable) -> float:
    return _runtime().call_outs.find(this_object(), fun)


def save_object(ob: MudObject, name: str) -> None:
    _persistence.save(check_alive(ob), _runtime().config.data_dir, name)


def restore_object(ob: MudObject, name: str) -> bool:
    return _persistence.restore(check_alive(ob), _runtime().config.data_dir, name)


def shutdown(reason: str = "shutdown() called") -> None:
    _permissions.check_privilege("shutdown", str(reason))
    _runtime().request_shutdown(str(reason))


# --- TLS ------------------------------------------------------------------------------

TLS_CIPHER, TLS_COMP, TLS_KX, TLS_MAC, TLS_PROT = range(5)
TLS_INFO_MAX = 5
TLSInfo = ConnectionInfo

TLS_OK = _tls.TLS_OK
TLS_ERR_HANDSHAKE = _tls.TLS_ERR_HANDSHAKE
TLS_ERR_PEER_CLOSED = _tls.TLS_ERR_PEER_CLOSED
TLS_ERR_TIMEOUT = _tls.TLS_ERR_TIMEOUT
TLS_ERR_NO_CERTIFICATE = _tls.TLS_ERR_NO_CERTIFICATE
TLS_ERR_PROTOCOL_VERSION = _tls.TLS_ERR_PROTOCOL_VERSION
TLS_ERR_NOT_TLS = _tls.TLS_ERR_NOT_TLS
TLS_ERR_NO_SHARED_CIPHER = _tls.TLS_ERR_NO_SHARED_CIPHER
TLS_ERR_CERTIFICATE = _tls.TLS_ERR_CERTIFICATE
TLS_ERR_NOT_CONNECTED = _tls.TLS_ERR_NOT_CONNECTED


def _require_tls() -> None:
    if not _runtime().credentials.available:
        raise EfunError("TLS layer hasn't been initialized: no certificate and key are loaded")


def _connection_of(ob: Any, efun: str):
    ob = check_alive(this_object() if ob is None else ob)
    binding = binding_of(ob)
    if binding is None:
        raise EfunError(f"{efun}: object not interactive")
    return binding


def tls_init_connection(ob: MudObject | None = None, fun: str | Callable | None = None,
                        *extra: Any, handshake_timeout: float | None = None,
                        verify: bool = True, server_name: str | None = None) -> int:
    """Start a TLS handshake on ``ob``'s connection.

    Forms: ``(ob)``, ``(ob, "method", fob, *extra)``, ``(ob, callable, *extra)``.
    Returns 1 when the handshake is under way; when it ends the callback runs
    once as ``fun(result, ob, *extra)``.  On a connection the mudlib opened
    (``net_connect``) it is a client handshake: it sends SNI and verifies the
    server's certificate and host name unless ``verify=False``;
    ``server_name`` overrides the name used for both.
    """
    binding = _connection_of(ob, "tls_init_connection")
    connection = binding.connection
    if connection.incoming:
        _require_tls()
    if connection.tls_session.state.efun_value != 0:
        raise EfunError("tls_init_connection: interactive already has a secure connection")

    callback = None
    if isinstance(fun, str):
        fob, rest = (extra[0], extra[1:]) if extra else (this_object(), ())
        if isinstance(fob, str):
            try:
                fob = load_object(fob)
            except Exception as exc:  # noqa: BLE001 - any load failure is the same error
                raise EfunError(f"tls_init_connection: bad argument 3: cannot load {fob!r}: {exc}") from None
        if not isinstance(fob, MudObject) or fob._mud_destructed:
            raise EfunError(f"tls_init_connection: bad argument 3: expected an object or path, got {fob!r}")
        if not callable(getattr(fob, fun, None)):
            _objects.log.warning("tls_init_connection: %s has no method %s(); "
                                 "nothing will be called when the handshake ends", fob._mud_name, fun)
        callback = TLSCallback(fun, fob, rest)
    elif callable(fun):
        owner = getattr(fun, "__self__", None)
        callback = TLSCallback(fun, owner if isinstance(owner, MudObject) else this_object(), extra)
    elif fun is not None:
        raise EfunError(f"tls_init_connection: bad argument 2: expected a method name or a callable, got {fun!r}")

    if handshake_timeout is None:
        timeout = _runtime().config.tls.handshake_timeout
    elif isinstance(handshake_timeout, (int, float)) and not isinstance(handshake_timeout, bool) \
            and handshake_timeout > 0:
        timeout = float(handshake_timeout)
    else:
        raise EfunError(f"tls_init_connection: handshake_timeout must be a positive number, "
                        f"got {handshake_timeout!r}")

    if connection.closing:
        return _tls.TLS_ERR_NOT_CONNECTED
    credentials = _runtime().credentials
    if connection.incoming:
        context = credentials.context
    else:
        try:
            context = credentials.client_context(verify=bool(verify))
        except CertificateError as exc:
            raise EfunError(f"tls_init_connection: {exc}") from None
    binding.tls_callback = callback
    connection.start_tls(context, timeout, server_hostname=server_name)
    return 1


def tls_handshake(ob: MudObject | None = None, *, handshake_timeout: float | None = None,
                  verify: bool = True, server_name: str | None = None) -> DriverAwaitable:
    """``result = await tls_handshake(ob)``: ``tls_init_connection`` for coroutines.

    Starts the handshake at once (raising as ``tls_init_connection`` does);
    awaiting gives the same result code its callback would get.
    """
    waiter = DriverAwaitable()
    tls_init_connection(ob, lambda result, _ob: waiter.resolve(result),
                        handshake_timeout=handshake_timeout, verify=verify,
                        server_name=server_name)
    return waiter


def tls_rekey(ob: MudObject | None = None) -> None:
    """Fresh traffic keys for a secure connection: a TLS 1.3 KeyUpdate, both ways.

    TLS 1.2 connections raise: their only equivalent, renegotiation, is disabled.
    """
    binding = _connection_of(ob, "tls_rekey")
    if binding.connection.tls_session.state is not _tls.TLSState.ACTIVE:
        raise EfunError("tls_rekey: object doesn't have a secure connection")
    try:
        binding.connection.update_keys()
    except KeyUpdateUnavailable as exc:
        raise EfunError(f"tls_rekey: {exc}") from None


def net_connect(host: str, port: int) -> int:
    """Open a connection to ``host:port`` for this_object() (LDMud).

    Returns 0: the attempt is under way.  When it succeeds the connection is
    bound to the object and its ``logon()`` runs; when it fails, ``logon(-1)``.
    Secure it with ``tls_init_connection``, which then does a client handshake.
    """
    ob = check_alive(this_object(), "this_object()")
    if not isinstance(host, str) or not host:
        raise EfunError(f"net_connect: bad argument 1: expected a host name, got {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise EfunError(f"net_connect: bad argument 2: expected a port number, got {port!r}")
    if binding_of(ob) is not None:
        raise EfunError(f"net_connect: {ob._mud_name} already has a connection")
    _runtime().interactives.open_outgoing(ob, host, port)
    return 0


def tls_query_connection_state(ob: MudObject | None = None) -> int:
    """0 plain (or no connection), -1 handshaking, 1 secure."""
    ob = check_alive(this_object() if ob is None else ob)
    binding = binding_of(ob)
    return binding.connection.tls_session.state.efun_value if binding else 0


def tls_error(code: int) -> str:
    return _tls.describe(code)


def tls_deinit_connection(ob: MudObject | None = None) -> None:
    """Flush, send close_notify and carry on in plaintext; a pending callback is dropped."""
    binding = _connection_of(ob, "tls_deinit_connection")
    binding.tls_callback = None
    binding.connection.stop_tls()


def tls_query_connection_info(ob: MudObject | None = None) -> ConnectionInfo | None:
    ob = check_alive(this_object() if ob is None else ob)
    binding = binding_of(ob)
    if binding is None:
        return None
    session = binding.connection.tls_session
    if session.state is not _tls.TLSState.ACTIVE:
        return None
    return connection_info(session.ssl_object, session.requested_server_name)


def tls_available() -> bool:
    return _runtime().credentials.available


def tls_check_certificate(ob: MudObject, extra: int = 0) -> list | None:
    binding = _connection_of(ob, "tls_check_certificate")
    if binding.connection.incoming:
        _require_tls()
    if isinstance(extra, bool) or extra not in (0, 1):
        raise EfunError(f"tls_check_certificate: bad argument 2: expected 0 or 1, got {extra!r}")
    session = binding.connection.tls_session
    if session.state is not _tls.TLSState.ACTIVE:
        raise EfunError("tls_check_certificate: object doesn't have a secure connection")
    return peer_certificate_report(session.ssl_object, int(extra))


def tls_refresh_certs() -> None:
    """Reload certificate, key and trust file; on any problem the old ones stay."""
    _permissions.check_privilege("tls_refresh_certs")
    try:
        _runtime().credentials.load()
    except CertificateError as exc:
        raise EfunError(f"tls_refresh_certs: {exc}; the previous certificate stays in force") from None
    _objects.log.info("TLS certificates reloaded: %s", _runtime().credentials.describe())


# --- the LP platform: commands, input, time, reload, files, administration -------------

from ..world.commands import (AA_IMM_ARGS, AA_NOSPACE, AA_SHORT, AA_VERB,  # noqa: E402
                       add_action, disable_commands, enable_commands, find_living, find_player,
                       living, notify_fail, query_actions, query_notify_fail, query_verb,
                       remove_action, set_living_name)
from ..world.evaluation import EvaluationTimeout  # noqa: E402
from ..world.files import (GETDIR_DATES, GETDIR_NAMES, GETDIR_SIZES, file_size, get_dir,  # noqa: E402
                    mkdir, read_file, rm, rmdir, write_file)
from ..world.inputs import find_input_to, input_to_info, query_snoop, remove_input_to  # noqa: E402
from ..world.persistence import restore_value, save_value  # noqa: E402


def command(text: str, ob: MudObject | None = None) -> int:
    """``ob`` (default this_object()) does ``text`` as if typed; 1 if an action took it.

    Making another object act needs the master's ``privilege_violation("command", ...)``.
    """
    target = this_object() if ob is None else ob
    if target is not this_object():
        _permissions.check_privilege("command", target, text)
    return _commands.command(text, target)


def snoop(snooper: MudObject, snoopee: MudObject | None = None) -> int:
    """``snooper`` sees what ``snoopee`` reads and types; without ``snoopee``, stops. 1 if done."""
    check_alive(snooper, "snooper")
    if snoopee is not None:
        check_alive(snoopee, "snoopee")
    _permissions.check_snoop(snooper, snoopee)
    if snoopee is None:
        return int(_inputs.stop_snoop(snooper))
    return int(_inputs.start_snoop(snooper, snoopee))


def set_heart_beat(ob: MudObject, on: bool | int) -> int:
    """Turn ``ob``'s heart beat on or off: ``heart_beat()`` every ``mudlib.heart_beat_interval`` s."""
    check_alive(ob)
    if on and not callable(getattr(ob, "heart_beat", None)):
        raise EfunError(f"set_heart_beat: {ob._mud_name} has no heart_beat()")
    _runtime().heart_beats.set(ob, bool(on))
    return 1


def query_heart_beat(ob: MudObject | None = None) -> bool:
    return _runtime().heart_beats.is_on(check_alive(this_object() if ob is None else ob))


def heart_beat_info() -> list[MudObject]:
    """The objects with a heart beat."""
    return _runtime().heart_beats.beating()


def call_out_info() -> list[tuple]:
    """Pending call_outs, soonest first: (object, function name, seconds left, *args)."""
    return _runtime().call_outs.info()


def query_load_average() -> str:
    """LDMud's line: commands per second over the last minute, and the lag."""
    beats = _runtime().heart_beats
    return f"{beats.commands_per_second():.2f} cmds/s, {beats.lag().average * 1000:.0f} ms lag"


def driver_info(what: str) -> Any:
    """Facts about the running driver; ``what`` names one (see docs/efuns/driver_info.md)."""
    from ..world import evaluation
    rt = _runtime()
    facts: dict[str, Callable[[], Any]] = {
        "lag": rt.heart_beats.lag,
        "load_average": rt.heart_beats.commands_per_second,
        "heart_beats": lambda: len(rt.heart_beats.beating()),
        "heart_beat_interval": lambda: rt.heart_beats.interval,
        "heart_beat_ticks": lambda: rt.heart_beats.ticks,
        "call_outs": lambda: len(rt.call_outs.pending),
        "objects": lambda: len(rt.table.objects),
        "programs": lambda: len(rt.table.programs),
        "users": lambda: len(rt.interactives.users()),
        "uptime": lambda: _time.time() - rt.started_at,
        "eval_time_limit": evaluation.limit,
        "eval_timeouts": evaluation.timeouts,
        "commands": lambda: _commands.executed,
        "admins": lambda: tuple(rt.config.admins),
    }
    fact = facts.get(what) if isinstance(what, str) else None
    if fact is None:
        raise EfunError(f"driver_info: unknown {what!r} (known: {', '.join(facts)})")
    return fact()


def update_program(path: str) -> list[str]:
    """Recompile ``path`` and what inherits it; running objects switch to the new code."""
    return _reload.update_program(_runtime().table, path)


def reload_object(ob: str | MudObject) -> MudObject:
    """``update_program``, then a fresh blueprint that takes over inventory and connection."""
    return _reload.reload_object(_runtime().table, ob)
