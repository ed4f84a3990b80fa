"""What the driver needs from OpenSSL that Python's ``ssl`` module does not expose.

This module owns the driver's direct calls into libssl, and the checks that
make them safe from Python:

* **TLS 1.3 key updates** (``tls_rekey``).  A long-lived MUD connection may
  want fresh traffic keys, and TLS 1.3 provides exactly that with a
  KeyUpdate message, but ``ssl.SSLObject`` (up to at least Python 3.13) has
  no method for it.  TLS 1.2 renegotiation, the older way, stays disabled:
  it has been the source of several attacks, and OpenSSL 3 refuses
  client-initiated renegotiation by default.  After
  ``SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED)`` OpenSSL sends the
  KeyUpdate at its next write or handshake step; the session then calls
  ``do_handshake()`` to flush it into the outgoing memory BIO, and the peer
  updates its own sending keys in reply.
* **Session tickets that survive a reload** (``tls_refresh_certs``).  A
  reload builds fresh contexts, and a fresh context has fresh ticket keys,
  so every ticket issued before would stop resuming.
  ``copy_ticket_keys`` gives the new context the old one's keys
  (``SSL_CTX_get/set_tlsext_ticket_keys``); the copy in Python's memory is
  wiped at once.
* **Client certificates, LDMud's way** (``tls_check_certificate``).  A server
  context that asks for client certificates (``CERT_OPTIONAL``) fails the
  handshake when one does not verify; LDMud instead lets the client in and
  reports the verification result, so the mudlib decides what an expired
  or unknown certificate means.  ``let_client_certificates_through`` installs
  a verify callback that accepts every certificate (as LDMud's does), and
  ``verify_result`` reads OpenSSL's verdict (``SSL_get_verify_result``).

How: the ``_ssl`` extension module links libssl dynamically, so libssl's
symbols are reachable through ``ctypes.CDLL(_ssl.__file__)``.  What Python
keeps private is the pointer: CPython's ``PySSLContext`` struct
(Modules/_ssl.c) begins ``PyObject_HEAD; SSL_CTX *ctx;`` and ``PySSLSocket``
``PyObject_HEAD; PyObject *Socket; SSL *ssl;``.  Before a pointer is used it
is checked against what the ``ssl`` module reports about the same object: a
context's verify mode and options must match ``SSL_CTX_get_verify_mode`` and
``SSL_CTX_get_options``; a session's ``version()`` and side must match
``SSL_version`` and ``SSL_is_server``.  If anything does not line up
(another Python build, a static libssl), ``NativeCallUnavailable`` explains
why and nothing is called.
"""

from __future__ import annotations

import ctypes
import ssl

SSL_KEY_UPDATE_REQUESTED = 1
_SSL_VERIFY_PEER = 1
_SSL_CTRL_GET_TLSEXT_TICKET_KEYS = 58
_SSL_CTRL_SET_TLSEXT_TICKET_KEYS = 59
_TICKET_KEYS_LENGTH = 80  # key name, HMAC secret, AES secret: 16 + 32 + 32 bytes
_VERSIONS = {"TLSv1.3": 0x0304, "TLSv1.2": 0x0303}

#: OpenSSL's verify callback: int (*)(int preverify_ok, X509_STORE_CTX *)
_VerifyCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


class NativeCallUnavailable(Exception):
    """OpenSSL cannot be reached safely for this call; the text says why."""


class KeyUpdateUnavailable(NativeCallUnavailable):
    """A key update cannot be requested on this session."""


@_VerifyCallback
def _accept_every_certificate(preverify_ok: int, store: int) -> int:
    # OpenSSL still records why a certificate failed (SSL_get_verify_result);
    # returning 1 only keeps the handshake going, as LDMud's callback does.
    return 1


_library = None


def _libssl():
    global _library
    if _library is None:
        import _ssl

        signatures = {
            "SSL_key_update": ([ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
            "SSL_version": ([ctypes.c_void_p], ctypes.c_int),
            "SSL_is_server": ([ctypes.c_void_p], ctypes.c_int),
            "SSL_get_verify_result": ([ctypes.c_void_p], ctypes.c_long),
            "SSL_CTX_get_verify_mode": ([ctypes.c_void_p], ctypes.c_int),
            "SSL_CTX_get_options": ([ctypes.c_void_p], ctypes.c_uint64),
            "SSL_CTX_set_verify": ([ctypes.c_void_p, ctypes.c_int, _VerifyCallback], None),
            "SSL_CTX_ctrl": ([ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p],
                             ctypes.c_long),
        }
        try:
            library = ctypes.CDLL(_ssl.__file__)
            for name, (argtypes, restype) in signatures.items():
                function = getattr(library, name)
                function.argtypes, function.restype = argtypes, restype
        except (OSError, AttributeError) as exc:
            raise NativeCallUnavailable(
                f"this Python's ssl module does not expose the OpenSSL functions needed ({exc})"
            ) from None
        _library = library
    return _library


def _context_pointer(context: ssl.SSLContext) -> int:
    library = _libssl()
    # PyObject_HEAD (reference count, type) comes first.
    pointer = ctypes.c_void_p.from_address(id(context) + 2 * ctypes.sizeof(ctypes.c_ssize_t)).value
    if (not pointer or library.SSL_CTX_get_options(pointer) != int(context.options)
            or bool(library.SSL_CTX_get_verify_mode(pointer) & _SSL_VERIFY_PEER)
            != (context.verify_mode != ssl.CERT_NONE)):
        raise NativeCallUnavailable("cannot reach this context's OpenSSL object safely "
                                    "from this Python build")
    return pointer


def _session_pointer(ssl_object: ssl.SSLObject) -> int:
    library = _libssl()
    inner = ssl_object._sslobj  # the _ssl._SSLSocket behind the SSLObject
    # PyObject_HEAD (reference count, type) and the Socket pointer come first.
    offset = 2 * ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
    pointer = ctypes.c_void_p.from_address(id(inner) + offset).value
    if (not pointer or library.SSL_version(pointer) != _VERSIONS.get(ssl_object.version())
            or bool(library.SSL_is_server(pointer)) != ssl_object.server_side):
        raise NativeCallUnavailable("cannot reach this session's OpenSSL object safely "
                                    "from this Python build")
    return pointer


def request_key_update(ssl_object: ssl.SSLObject) -> None:
    """Ask OpenSSL to send a KeyUpdate (requesting the peer's) on this session."""
    if ssl_object.version() != "TLSv1.3":
        raise KeyUpdateUnavailable(
            f"key updates exist only in TLS 1.3; this connection uses {ssl_object.version()}, "
            "and TLS 1.2 renegotiation is disabled because it has been the source of attacks")
    try:
        pointer = _session_pointer(ssl_object)
    except NativeCallUnavailable as exc:
        raise KeyUpdateUnavailable(str(exc)) from None
    if _libssl().SSL_key_update(pointer, SSL_KEY_UPDATE_REQUESTED) != 1:
        raise KeyUpdateUnavailable("OpenSSL refused the key update")


def copy_ticket_keys(source: ssl.SSLContext, target: ssl.SSLContext) -> None:
    """``target`` encrypts and decrypts session tickets with ``source``'s keys."""
    library = _libssl()
    source_pointer, target_pointer = _context_pointer(source), _context_pointer(target)
    keys = ctypes.create_string_buffer(_TICKET_KEYS_LENGTH)
    try:
        if (library.SSL_CTX_ctrl(source_pointer, _SSL_CTRL_GET_TLSEXT_TICKET_KEYS,
                                 _TICKET_KEYS_LENGTH, keys) != 1
                or library.SSL_CTX_ctrl(target_pointer, _SSL_CTRL_SET_TLSEXT_TICKET_KEYS,
                                        _TICKET_KEYS_LENGTH, keys) != 1):
            raise NativeCallUnavailable("OpenSSL refused to hand over the session ticket keys")
    finally:
        ctypes.memset(keys, 0, _TICKET_KEYS_LENGTH)


def let_client_certificates_through(context: ssl.SSLContext) -> None:
    """A server context that asks for client certificates lets every one in;
    ``verify_result`` then tells whether it verified."""
    if context.verify_mode != ssl.CERT_OPTIONAL:
        raise NativeCallUnavailable("only a context that asks for optional client "
                                    "certificates lets them through")
    _libssl().SSL_CTX_set_verify(_context_pointer(context), _SSL_VERIFY_PEER,
                                 _accept_every_certificate)


def verify_result(ssl_object: ssl.SSLObject) -> int:
    """OpenSSL's X.509 verification result for the peer's certificate (0: it verified)."""
    return int(_libssl().SSL_get_verify_result(_session_pointer(ssl_object)))
