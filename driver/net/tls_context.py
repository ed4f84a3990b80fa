"""TLS contexts: the certificates in force, how they are (re)loaded, and reports.

This module owns the driver's ``ssl.SSLContext`` objects and the policy baked
into them (TLS 1.2 or newer unless configured higher, forward-secret AEAD
ciphers only, no TLS compression, no renegotiation, TLS 1.3 session tickets
unless turned off), the choice of certificate by the name a client asks for
(SNI), the mudlib's chance to adjust each context (the master's
``tls_configure(context, side)``), loading and reloading the certificate
files, and turning a live session into what the efuns report
(``tls_query_connection_info``, ``tls_check_certificate``).

Reloading follows one rule: everything is first built on fresh contexts,
from files that were each checked, with the mudlib's hook applied once.
Only if all of that succeeds do the fresh contexts replace the ones in
force; otherwise the old ones stay and ``CertificateError`` says which file
and why.  Each fresh context takes over its predecessor's session-ticket
keys (``openssl_native.copy_ticket_keys``), so players who reconnect after a
reload still resume their sessions, whatever changed (certificate, key or
trust file).  Sessions already running are untouched.  Messages name files
and reasons only; key material never reaches a log.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import logging
import ssl
from pathlib import Path
from typing import Callable, NamedTuple

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat,
                                                          load_pem_private_key)

from . import openssl_native

log = logging.getLogger("driver.tls")

# TLS 1.2 suites: ephemeral key exchange and AEAD only.  TLS 1.3 suites are
# all modern and are configured by OpenSSL separately.
_TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL:!SHA1"

#: ``hook(context, side)`` with side "server" or "client"; may raise.
ConfigureHook = Callable[[ssl.SSLContext, str], None]


class CertificateError(Exception):
    """A certificate, key or trust file that cannot be used; names the file."""


@dataclasses.dataclass(frozen=True)
class TLSPolicy:
    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    maximum_version: ssl.TLSVersion | None = None
    session_tickets: bool = True


@dataclasses.dataclass(frozen=True)
class CertificatePair:
    """A fullchain file and its key, and the host names it serves (SNI)."""

    certificate: Path
    key: Path
    names: tuple[str, ...] = ()

    def serves(self, name: str) -> bool:
        name = name.lower().rstrip(".")
        for pattern in self.names:
            pattern = pattern.lower().rstrip(".")
            if pattern == name:
                return True
            if pattern.startswith("*.") and "." in name:
                # A wildcard stands for exactly one label, as in certificates.
                if name.split(".", 1)[1] == pattern[2:]:
                    return True
        return False


def _harden(context: ssl.SSLContext, policy: TLSPolicy) -> None:
    context.minimum_version = max(policy.minimum_version, ssl.TLSVersion.TLSv1_2)
    if policy.maximum_version is not None:
        context.maximum_version = policy.maximum_version
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


def _load_pair(context: ssl.SSLContext, pair: CertificatePair) -> x509.Certificate:
    """Check a pair's files and load them into ``context``; returns the leaf."""
    chain = _check_certificate_file(pair.certificate)
    private_key = _check_key_file(pair.key)
    if _public_bytes(private_key.public_key()) != _public_bytes(chain[0].public_key()):
        raise CertificateError(f"key {pair.key}: does not match the certificate in {pair.certificate}")
    try:
        context.load_cert_chain(pair.certificate, pair.key)
    except ssl.SSLError as exc:
        raise CertificateError(f"certificate {pair.certificate}: {exc.reason or exc}") from None
    return chain[0]


def _load_trust(context: ssl.SSLContext, trust_file: Path) -> None:
    _read_file("trust file", trust_file)
    try:
        context.load_verify_locations(cafile=str(trust_file))
    except ssl.SSLError as exc:
        raise CertificateError(f"trust file {trust_file}: {exc.reason or exc}") from None


def _apply_hook(hook: ConfigureHook | None, context: ssl.SSLContext, side: str) -> None:
    if hook is None:
        return
    try:
        hook(context, side)
    except Exception as exc:  # noqa: BLE001 - the mudlib's error, reported in one line
        raise CertificateError(f"the master's tls_configure() failed for the {side} context: "
                               f"{type(exc).__name__}: {exc}") from None


def build_server_context(certificate: Path, key: Path, trust_file: Path | None = None,
                         policy: TLSPolicy = TLSPolicy(),
                         hook: ConfigureHook | None = None) -> ssl.SSLContext:
    """A server context from a fullchain file and its key, each file checked."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _harden(context, policy)
    if policy.session_tickets:
        # OpenSSL sends two TLS 1.3 tickets, for clients that open connections
        # in parallel; a MUD client reconnects one connection at a time.
        context.num_tickets = 1
    else:
        context.options |= ssl.OP_NO_TICKET
        context.num_tickets = 0
    context.driver_leaf = _load_pair(context, CertificatePair(certificate, key))
    if trust_file is not None:
        _load_trust(context, trust_file)
        # Ask for a client certificate, but let clients without one in.
        context.verify_mode = ssl.CERT_OPTIONAL
    context.sni_callback = _remember_server_name
    _apply_hook(hook, context, "server")
    _let_client_certificates_through(context)
    return context


def _let_client_certificates_through(context: ssl.SSLContext) -> None:
    """LDMud's rule where client certificates are asked for, not required:
    one that does not verify still gets in, and ``tls_check_certificate``
    says why it did not verify."""
    if context.verify_mode != ssl.CERT_OPTIONAL:
        return  # not asked for, or required (by the tls_configure hook)
    try:
        openssl_native.let_client_certificates_through(context)
    except openssl_native.NativeCallUnavailable as exc:
        log.warning("client certificates that do not verify will fail the handshake: %s", exc)


def build_client_context(trust_file: Path | None = None, policy: TLSPolicy = TLSPolicy(),
                         verify: bool = True, hook: ConfigureHook | None = None) -> ssl.SSLContext:
    """A client context; by default it verifies the server and its host name."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _harden(context, policy)
    if verify:
        if trust_file is not None:
            _load_trust(context, trust_file)
        else:
            context.load_default_certs()
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    _apply_hook(hook, context, "client")
    return context


def _remember_server_name(ssl_object, server_name, context) -> None:
    """SNI: note the name the client asked for, and serve its certificate."""
    session = getattr(ssl_object, "_driver_session", None)
    if session is not None:
        session.requested_server_name = server_name
    credentials = getattr(context, "driver_credentials", None)
    if server_name and credentials is not None:
        chosen = credentials.context_for(server_name)
        if chosen is not None and chosen is not context:
            ssl_object.context = chosen


# --- what an operator needs to know about a certificate -------------------------------

#: Days before expiry from which the driver warns (every day), and from which loudly.
WARN_DAYS = 21
URGENT_DAYS = 7


class CertificateReport(NamedTuple):
    """A served certificate as an operator sees it.  Never anything about the key."""

    file: Path
    subject: str
    names: tuple[str, ...]  # subjectAltName DNS names and IP addresses
    issuer: str
    not_after: datetime.datetime

    @classmethod
    def of(cls, file: Path, leaf: x509.Certificate) -> CertificateReport:
        try:
            san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            names: tuple[str, ...] = ()
        else:
            names = (*san.get_values_for_type(x509.DNSName),
                     *(str(ip) for ip in san.get_values_for_type(x509.IPAddress)))
        return cls(file, leaf.subject.rfc4514_string() or "(empty subject)", names,
                   leaf.issuer.rfc4514_string(), leaf.not_valid_after_utc)

    def days_left(self, now: datetime.datetime | None = None) -> float:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return (self.not_after - now).total_seconds() / 86400

    def covers(self, hostname: str) -> bool:
        """True if a client that checks names accepts this certificate for ``hostname``."""
        try:
            address = ipaddress.ip_address(hostname)
        except ValueError:
            address = None
        wanted = hostname.lower().rstrip(".")
        for name in self.names:
            if address is not None:
                try:
                    if ipaddress.ip_address(name) == address:
                        return True
                except ValueError:
                    pass
                continue
            name = name.lower().rstrip(".")
            if name == wanted:
                return True
            # A wildcard stands for exactly one leftmost label (RFC 6125).
            if name.startswith("*.") and "." in wanted \
                    and wanted.split(".", 1)[1] == name[2:]:
                return True
        return False

    def describe(self, now: datetime.datetime | None = None) -> str:
        days = self.days_left(now)
        left = f"expired {-days:.0f} days ago" if days < 0 else f"{days:.0f} days left"
        names = ", ".join(self.names) or "none"
        return (f"certificate {self.file} for {self.subject} (names: {names}), issued by "
                f"{self.issuer}, valid until {self.not_after:%Y-%m-%d} ({left})")


def certificate_warnings(reports: list[CertificateReport], hostname: str | None,
                         now: datetime.datetime | None = None) -> list[tuple[int, str]]:
    """What an operator must hear about the certificates in force, as (log level, text):
    expiry within ``WARN_DAYS`` (an error within ``URGENT_DAYS`` or past it), and a
    default certificate that does not name the game's public ``hostname``."""
    warnings = []
    for report in reports:
        days = report.days_left(now)
        if days < 0:
            warnings.append((logging.ERROR, f"certificate {report.file} EXPIRED on "
                             f"{report.not_after:%Y-%m-%d}: clients refuse it; renew it now"))
        elif days <= URGENT_DAYS:
            warnings.append((logging.ERROR, f"certificate {report.file} expires in {days:.1f} "
                             f"days ({report.not_after:%Y-%m-%d %H:%M} UTC): renew it now"))
        elif days <= WARN_DAYS:
            warnings.append((logging.WARNING, f"certificate {report.file} expires in "
                             f"{days:.0f} days ({report.not_after:%Y-%m-%d}): renew it soon"))
    if reports and hostname and not reports[0].covers(hostname):
        warnings.append((logging.WARNING, f"server.hostname {hostname} is not among the names of "
                         f"certificate {reports[0].file} ({', '.join(reports[0].names) or 'none'}): "
                         f"clients that check names will refuse it"))
    return warnings


class ServerCredentials:
    """The contexts in force: a default certificate, SNI certificates, client contexts."""

    def __init__(self, default: CertificatePair | None, *, sni: tuple[CertificatePair, ...] = (),
                 trust_file: Path | None = None, client_trust_file: Path | None = None,
                 policy: TLSPolicy = TLSPolicy(), allow_expired: bool = False,
                 public_name: str | None = None) -> None:
        self.default = default
        self.sni = sni
        #: the name players connect to (server.hostname): the default certificate should carry it
        self.public_name = public_name
        #: serve a certificate past its notAfter (otherwise loading it fails)
        self.allow_expired = allow_expired
        self.trust_file = trust_file
        self.client_trust_file = client_trust_file
        self.policy = policy
        #: the master's ``tls_configure``; set by the driver once the master is loaded
        self.configure_hook: ConfigureHook | None = None
        self.contexts: list[ssl.SSLContext] = []  # [default, *sni], in that order
        self._client_contexts: dict[bool, ssl.SSLContext] = {}
        #: ``files_on_disk()`` at the last load, successful or not
        self.files_loaded: tuple = ()

    @property
    def available(self) -> bool:
        return bool(self.contexts)

    @property
    def context(self) -> ssl.SSLContext | None:
        """The context every server handshake starts with."""
        return self.contexts[0] if self.contexts else None

    def context_for(self, server_name: str) -> ssl.SSLContext | None:
        for pair, context in zip(self.sni, self.contexts[1:]):
            if pair.serves(server_name):
                return context
        return None

    def files_on_disk(self) -> tuple:
        """What the certificate, key and trust files are now (identity, size,
        modification time), so a periodic check can tell that one changed."""
        paths = [path for pair in (self.default, *self.sni) if pair is not None
                 for path in (pair.certificate, pair.key)]
        if self.trust_file is not None:
            paths.append(self.trust_file)
        found = []
        for path in paths:
            try:
                info = path.stat()  # through the symlinks certbot's live/ directory uses
            except OSError:
                found.append((str(path), None))
            else:
                found.append((str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns))
        return tuple(found)

    def load(self) -> None:
        """(Re)load every certificate; on any error nothing changes."""
        self.files_loaded = self.files_on_disk()  # the file watch tries again only after a change
        if self.default is None:
            raise CertificateError("no certificate and key are configured (tls.certificate, tls.key)")
        pairs = (self.default, *self.sni)
        fresh = [build_server_context(pair.certificate, pair.key, self.trust_file,
                                      self.policy, self.configure_hook) for pair in pairs]
        if not self.allow_expired:
            for pair, context in zip(pairs, fresh):
                report = CertificateReport.of(pair.certificate, context.driver_leaf)
                if report.days_left() < 0:
                    raise CertificateError(
                        f"{pair.certificate}: the certificate expired on "
                        f"{report.not_after:%Y-%m-%d}; renew it (certbot renew), or serve it "
                        f"anyway with tls.allow_expired_certificate / --allow-expired-certificate")
        for old, new in zip(self.contexts, fresh):
            # Tickets issued before the reload go on resuming.
            try:
                openssl_native.copy_ticket_keys(old, new)
            except openssl_native.NativeCallUnavailable as exc:
                log.warning("session tickets issued before this reload will not resume: %s", exc)
                break
        for context in fresh:
            context.driver_credentials = self
        self.contexts = fresh
        self._client_contexts.clear()

    def client_context(self, verify: bool = True) -> ssl.SSLContext:
        """The context for outgoing connections (built on first use)."""
        context = self._client_contexts.get(verify)
        if context is None:
            context = build_client_context(self.client_trust_file, self.policy, verify,
                                           self.configure_hook)
            self._client_contexts[verify] = context
        return context

    def reports(self) -> list[CertificateReport]:
        """The certificates in force, the default one first."""
        return [CertificateReport.of(pair.certificate, context.driver_leaf)
                for pair, context in zip((self.default, *self.sni), self.contexts)]

    def warnings(self, now: datetime.datetime | None = None) -> list[tuple[int, str]]:
        """``certificate_warnings`` for the certificates in force."""
        return certificate_warnings(self.reports(), self.public_name, now)

    def describe(self) -> str:
        """One line for the log: whose certificates, which names, until when.  Never the keys."""
        parts = []
        for pair, report in zip((self.default, *self.sni), self.reports()):
            sni = f" (SNI {', '.join(pair.names)})" if pair.names else ""
            parts.append(report.describe().replace(f"certificate {report.file}",
                                                   f"certificate {report.file}{sni}", 1))
        return "; ".join(parts)


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


def _suite_details(context: ssl.SSLContext, name: str) -> tuple[str | None, str | None]:
    """Key exchange and MAC of a cipher suite, as OpenSSL describes them (cached per context)."""
    table = getattr(context, "driver_suites", None)
    if table is None:
        table = context.driver_suites = {
            suite["name"]: (suite.get("kea"),
                            suite.get("digest") or ("aead" if suite.get("aead") else None))
            for suite in context.get_ciphers()}
    return table.get(name, (None, None))


def connection_info(ssl_object: ssl.SSLObject, requested_server_name: str | None) -> ConnectionInfo:
    name, _protocol, bits = ssl_object.cipher()
    kx, mac = _suite_details(ssl_object.context, name)
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


def _verify_result(ssl_object: ssl.SSLObject) -> int:
    """OpenSSL's verdict on the peer's certificate (X509_V_OK, 0, if it verified)."""
    try:
        return openssl_native.verify_result(ssl_object)
    except openssl_native.NativeCallUnavailable:
        # Without OpenSSL's own answer: a certificate on a connection that
        # verified it got through only because it verified (X509_V_OK);
        # with verification off, X509_V_ERR_UNSPECIFIED (1).
        return 0 if ssl_object.context.verify_mode != ssl.CERT_NONE else 1


def peer_certificate_report(ssl_object: ssl.SSLObject, extra: int) -> list | None:
    """``tls_check_certificate``: LDMud's ``[verify_result, subject, (extensions)]``.

    ``subject`` is flat: oid, long name, value, oid, long name, value, ... in
    certificate order.  ``verify_result`` is OpenSSL's X.509 verification
    code: a client certificate that did not verify is let in, as in LDMud.
    """
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    certificate = x509.load_der_x509_certificate(der)
    subject: list = []
    for attribute in certificate.subject:
        subject += [attribute.oid.dotted_string, _attribute_name(attribute.oid), attribute.value]
    report: list = [_verify_result(ssl_object), subject]
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
