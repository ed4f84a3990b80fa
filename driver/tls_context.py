"""TLS contexts: the certificate in force, how it is (re)loaded, and reports.

This module owns the driver's ``ssl.SSLContext`` objects and the policy baked
into them (TLS 1.2 or newer, forward-secret AEAD ciphers only, no TLS
compression, no renegotiation), loading and reloading the certificate files,
and turning a live session into what the efuns report
(``tls_query_connection_info``, ``tls_check_certificate``).

Reloading follows one rule: a new context is built completely, from files
that were each checked, before it replaces the old one.  If anything is wrong
the old context stays in force and ``CertificateError`` says which file and
why.  Sessions already running keep the context they were made with.
Messages name files and reasons only; key material never reaches a log.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat,
                                                          load_pem_private_key)

# TLS 1.2 suites: ephemeral key exchange and AEAD only.  TLS 1.3 suites are
# all modern and are configured by OpenSSL separately.
_TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL:!SHA1"


class CertificateError(Exception):
    """A certificate, key or trust file that cannot be used; names the file."""


def _harden(context: ssl.SSLContext) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.options |= getattr(ssl, "OP_NO_RENEGOTIATION", 0)
    context.set_ciphers(_TLS12_CIPHERS)


def _read_file(key: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CertificateError(f"{key} {path}: file not found") from None
    except OSError as exc:
        raise CertificateError(f"{key} {path}: cannot read ({exc.strerror})") from None


def _check_certificate_file(path: Path) -> list[x509.Certificate]:
    data = _read_file("certificate", path)
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CertificateError(f"certificate {path}: no PEM certificate in the file") from None
    return chain


def _check_key_file(path: Path):
    data = _read_file("key", path)
    try:
        return load_pem_private_key(data, password=None)
    except TypeError:
        raise CertificateError(f"key {path}: the key is encrypted with a passphrase; "
                               "the driver needs an unencrypted key file (mode 0600)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateError(f"key {path}: no PEM private key in the file") from None


def _public_bytes(public_key) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def build_server_context(certificate: Path, key: Path,
                         trust_file: Path | None = None) -> ssl.SSLContext:
    """A server context from a fullchain file and its key, each file checked."""
    chain = _check_certificate_file(certificate)
    private_key = _check_key_file(key)
    if _public_bytes(private_key.public_key()) != _public_bytes(chain[0].public_key()):
        raise CertificateError(f"key {key}: does not match the certificate in {certificate}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _harden(context)
    try:
        context.load_cert_chain(certificate, key)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise CertificateError(f"key {key}: does not match the certificate in {certificate}") from None
        raise CertificateError(f"certificate {certificate}: {exc.reason or exc}") from None
    if trust_file is not None:
        _read_file("trust file", trust_file)
        try:
            context.load_verify_locations(cafile=str(trust_file))
        except ssl.SSLError as exc:
            raise CertificateError(f"trust file {trust_file}: {exc.reason or exc}") from None
        # Ask for a client certificate, but let clients without one in.
        context.verify_mode = ssl.CERT_OPTIONAL
    context.sni_callback = _remember_server_name
    context.driver_leaf = chain[0]  # for start-up reporting
    return context


def build_client_context(trust_file: Path | None = None) -> ssl.SSLContext:
    """A client context that verifies the server and its host name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _harden(context)
    if trust_file is not None:
        context.load_verify_locations(cafile=str(trust_file))
    else:
        context.load_default_certs()
    return context


def _remember_server_name(ssl_object, server_name, context) -> None:
    session = getattr(ssl_object, "_driver_session", None)
    if session is not None:
        session.requested_server_name = server_name


class ServerCredentials:
    """The server context in force, and its reloading."""

    def __init__(self, certificate: Path | None, key: Path | None,
                 trust_file: Path | None) -> None:
        self.certificate = certificate
        self.key = key
        self.trust_file = trust_file
        self.context: ssl.SSLContext | None = None
        self._client_context: ssl.SSLContext | None = None

    @property
    def available(self) -> bool:
        return self.context is not None

    def load(self) -> None:
        """Build a context from the configured files; the old one stays on error."""
        if self.certificate is None or self.key is None:
            raise CertificateError("no certificate and key are configured (tls.certificate, tls.key)")
        self.context = build_server_context(self.certificate, self.key, self.trust_file)

    def client_context(self) -> ssl.SSLContext:
        if self._client_context is None:
            self._client_context = build_client_context(self.trust_file)
        return self._client_context

    def describe(self) -> str:
        """One line for the log: whose certificate, until when.  Never the key."""
        leaf = self.context.driver_leaf
        subject = leaf.subject.rfc4514_string() or "(empty subject)"
        return (f"certificate {self.certificate} for {subject}, issued by "
                f"{leaf.issuer.rfc4514_string()}, valid until "
                f"{leaf.not_valid_after_utc:%Y-%m-%d}")


# --- reports on a live session ------------------------------------------------------

class ConnectionInfo(NamedTuple):
    """``tls_query_connection_info``: LDMud's indices 0-4, then our additions."""

    cipher: str
    comp: str | None
    kx: str | None
    mac: str | None
    prot: str
    bits: int | None = None
    sni: str | None = None
    alpn: str | None = None
    resumed: bool = False


def connection_info(ssl_object: ssl.SSLObject, requested_server_name: str | None) -> ConnectionInfo:
    name, _protocol, bits = ssl_object.cipher()
    kx = mac = None
    for suite in ssl_object.context.get_ciphers():
        if suite["name"] == name:
            kx = suite.get("kea")
            mac = suite.get("digest") or ("aead" if suite.get("aead") else None)
            break
    return ConnectionInfo(
        cipher=name,
        comp=ssl_object.compression(),
        kx=kx,
        mac=mac,
        prot=ssl_object.version(),
        bits=bits,
        sni=requested_server_name if ssl_object.server_side else ssl_object.server_hostname,
        alpn=ssl_object.selected_alpn_protocol(),
        resumed=ssl_object.session_reused,
    )


def _attribute_name(oid: x509.ObjectIdentifier) -> str:
    name = getattr(oid, "_name", None)
    return name if name and name != "Unknown OID" else oid.dotted_string


def _general_name(entry: x509.GeneralName) -> tuple[str, str]:
    if isinstance(entry, x509.DNSName):
        return "DNS", entry.value
    if isinstance(entry, x509.IPAddress):
        return "IP Address", str(entry.value)
    if isinstance(entry, x509.RFC822Name):
        return "email", entry.value
    if isinstance(entry, x509.UniformResourceIdentifier):
        return "URI", entry.value
    if isinstance(entry, x509.DirectoryName):
        return "DirName", entry.value.rfc4514_string()
    return type(entry).__name__, str(getattr(entry, "value", entry))


def peer_certificate_report(ssl_object: ssl.SSLObject, extra: int) -> list | None:
    """``tls_check_certificate``: LDMud's ``[verify_result, subject, (extensions)]``.

    ``subject`` is flat: oid, long name, value, oid, long name, value, ... in
    certificate order.  The handshake only succeeds when a presented
    certificate verified against the trust file, so ``verify_result`` is
    X509_V_OK (0) whenever there is a certificate to report.
    """
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    certificate = x509.load_der_x509_certificate(der)
    subject: list = []
    for attribute in certificate.subject:
        subject += [attribute.oid.dotted_string, _attribute_name(attribute.oid), attribute.value]
    report: list = [0, subject]
    if extra:
        extensions: list = []
        try:
            san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            san = None
        if san is not None:
            for entry in san.value:
                kind, value = _general_name(entry)
                extensions += [san.oid.dotted_string, kind, value]
        report.append(extensions)
    return report
