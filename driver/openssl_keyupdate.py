"""TLS 1.3 key updates, which Python's ``ssl`` module does not expose.

This module owns one call into OpenSSL, ``SSL_key_update``, and the checks
that make calling it from Python safe.  Why it exists: a long-lived MUD
connection may want fresh traffic keys (``tls_rekey``), and TLS 1.3 provides
exactly that with a KeyUpdate message, but ``ssl.SSLObject`` (up to at least
Python 3.13) has no method for it, and TLS 1.2 renegotiation, the older way,
is disabled in the driver for good reasons (it has been the source of several
attacks, and OpenSSL 3 refuses client-initiated renegotiation by default).

How: the ``_ssl`` extension module links libssl dynamically, so libssl's
symbols are reachable through ``ctypes.CDLL(_ssl.__file__)``.  The one thing
Python keeps private is the ``SSL *`` of a session.  CPython's
``PySSLSocket`` struct (Modules/_ssl.c) begins ``PyObject_HEAD; PyObject
*Socket; SSL *ssl;``, so the pointer sits right after the object header and
one pointer.  Before trusting it, the pointer is checked against what the
``ssl`` module itself reports about the same session: OpenSSL's
``SSL_version`` must match ``version()`` and ``SSL_is_server`` the session's
side.  If anything does not line up (another Python build, a static libssl),
``KeyUpdateUnavailable`` explains why and nothing is called.

After ``SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED)``, OpenSSL sends the
KeyUpdate at its next write or handshake step; the session then calls
``do_handshake()`` to flush it into the outgoing memory BIO.  The peer
updates its own sending keys in reply (that is what "requested" asks for).
"""

from __future__ import annotations

import ctypes
import ssl

SSL_KEY_UPDATE_REQUESTED = 1
_TLS1_3_VERSION = 0x0304


class KeyUpdateUnavailable(Exception):
    """A key update cannot be requested on this session; the text says why."""


_library = None


def _libssl():
    global _library
    if _library is None:
        import _ssl

        try:
            library = ctypes.CDLL(_ssl.__file__)
            update = library.SSL_key_update
            version = library.SSL_version
            is_server = library.SSL_is_server
        except (OSError, AttributeError) as exc:
            raise KeyUpdateUnavailable(
                f"this Python's ssl module does not expose OpenSSL's SSL_key_update ({exc})") from None
        update.argtypes, update.restype = [ctypes.c_void_p, ctypes.c_int], ctypes.c_int
        version.argtypes, version.restype = [ctypes.c_void_p], ctypes.c_int
        is_server.argtypes, is_server.restype = [ctypes.c_void_p], ctypes.c_int
        _library = library
    return _library


def _ssl_pointer(ssl_object: ssl.SSLObject) -> int:
    inner = ssl_object._sslobj  # the _ssl._SSLSocket behind the SSLObject
    # PyObject_HEAD (reference count, type) and the Socket pointer come first.
    offset = 2 * ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
    return ctypes.c_void_p.from_address(id(inner) + offset).value or 0


def request_key_update(ssl_object: ssl.SSLObject) -> None:
    """Ask OpenSSL to send a KeyUpdate (requesting the peer's) on this session."""
    if ssl_object.version() != "TLSv1.3":
        raise KeyUpdateUnavailable(
            f"key updates exist only in TLS 1.3; this connection uses {ssl_object.version()}, "
            "and TLS 1.2 renegotiation is disabled because it has been the source of attacks")
    library = _libssl()
    pointer = _ssl_pointer(ssl_object)
    if (not pointer or library.SSL_version(pointer) != _TLS1_3_VERSION
            or bool(library.SSL_is_server(pointer)) != ssl_object.server_side):
        raise KeyUpdateUnavailable("cannot reach this session's OpenSSL object safely "
                                   "from this Python build")
    if library.SSL_key_update(pointer, SSL_KEY_UPDATE_REQUESTED) != 1:
        raise KeyUpdateUnavailable("OpenSSL refused the key update")
