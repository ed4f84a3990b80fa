"""The TLS efuns: securing a connection at any moment, asking where it stands,
explaining a failure and dropping back to plaintext, as ``docs/efuns.md``
(the contract mudlib authors rely on) says, and LDMud does where it is silent.

Each is a thin layer over the connection's TLS session (``net.tls``) and the
driver's credentials (``net.tls_context``).
"""

from __future__ import annotations

from typing import Any, Callable

from ..net import tls as _tls
from ..net.openssl_native import KeyUpdateUnavailable
from ..net.tls_context import (
    CertificateError,
    ConnectionInfo,
    connection_info,
    peer_certificate_report,
)
from ..world import objects as _objects
from ..world import permissions as _permissions
from ..world.coroutines import DriverAwaitable
from ..world.inputs import binding_of
from ..world.interactive import TLSCallback
from ..world.objects import EfunError, MudObject, check_alive
from ..world.runtime import current as _runtime
from .objects import load_object, this_object

__all__ = [
    "tls_init_connection",
    "tls_query_connection_state",
    "tls_error",
    "tls_deinit_connection",
    "tls_query_connection_info",
    "tls_available",
    "tls_check_certificate",
    "tls_refresh_certs",
    "tls_handshake",
    "tls_rekey",
    "net_connect",
    "TLS_CIPHER",
    "TLS_COMP",
    "TLS_KX",
    "TLS_MAC",
    "TLS_PROT",
    "TLS_INFO_MAX",
    "TLSInfo",
    "TLS_OK",
    "TLS_ERR_HANDSHAKE",
    "TLS_ERR_PEER_CLOSED",
    "TLS_ERR_TIMEOUT",
    "TLS_ERR_NO_CERTIFICATE",
    "TLS_ERR_PROTOCOL_VERSION",
    "TLS_ERR_NOT_TLS",
    "TLS_ERR_NO_SHARED_CIPHER",
    "TLS_ERR_CERTIFICATE",
    "TLS_ERR_NOT_CONNECTED",
]


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
    if connection.web is not None and connection.tls_session.state.efun_value == 0:
        raise EfunError("tls_init_connection: a web client's connection cannot start TLS: "
                        "a reverse proxy secures it before the driver sees it")
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
    if binding.connection.web is not None:
        # The browser's WebSocket lives inside the TLS session: without TLS
        # there is no WebSocket to carry plaintext.
        raise EfunError("tls_deinit_connection: a web client's connection is secure from its "
                        "first byte to its last and cannot drop to plaintext")
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
