"""Development TLS certificates for running the driver on one's own machine.

This module owns the three files in the certificate directory (``certs/`` by
default) that ``config.yaml`` points at out of the box:

``dev-ca.pem``
    The certificate of a throw-away certificate authority.  Players (and the
    developer's own MUD client) add it to their client's trust store to
    connect over TLS without warnings.
``dev-fullchain.pem``
    The server certificate for the development host names, followed by the
    rest of its chain, in the same layout certbot uses for ``fullchain.pem``.
``dev-privkey.pem``
    The server certificate's private key, mode 0600 from the moment it exists.

The CA's own private key is never written anywhere: it only lives in memory
while the server certificate is signed.  A leaked development CA key would
let anyone impersonate any site to a player who trusts that CA, so when the
server certificate has to be renewed a new CA is made as well, and players
trust the new ``dev-ca.pem``.

Production servers replace these files with real ones (for instance from
certbot) by pointing ``tls.certificate`` and ``tls.key`` in ``config.yaml``
elsewhere; nothing in this module is used then.

Usage::

    python -m driver.devcerts [DIR] [--hostname NAME ...]

``make certs`` runs it for ``certs/``.  Running it again keeps the existing
files unless the server certificate expires within 30 days, does not cover the
host names, or the files do not belong together.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import trustme
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

__all__ = [
    "DEFAULT_HOSTNAMES",
    "DevCertPaths",
    "ensure_development_certificates",
    "main",
]

log = logging.getLogger(__name__)

DEFAULT_HOSTNAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")

CA_FILE = "dev-ca.pem"
FULLCHAIN_FILE = "dev-fullchain.pem"
PRIVKEY_FILE = "dev-privkey.pem"

# Renew when the server certificate has less than this left.
RENEW_BEFORE = datetime.timedelta(days=30)
# Validity of a new server certificate.  825 days is the longest some
# platforms (Apple's) accept for a TLS server certificate of any CA.
LEAF_VALIDITY = datetime.timedelta(days=825)
# Accept a little clock skew between the driver's host and its players.
NOT_BEFORE_SKEW = datetime.timedelta(hours=1)

ORGANIZATION = "MUD game driver (development)"


class DevCertPaths(NamedTuple):
    """Where the development certificate files are."""

    ca: Path
    fullchain: Path
    privkey: Path


def _paths(directory: Path) -> DevCertPaths:
    return DevCertPaths(
        ca=directory / CA_FILE,
        fullchain=directory / FULLCHAIN_FILE,
        privkey=directory / PRIVKEY_FILE,
    )


# ---------------------------------------------------------------------------
# Checking existing files


def _covers(cert: x509.Certificate, hostnames: Iterable[str]) -> list[str]:
    """Return the host names the certificate's subjectAltName lacks."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return list(hostnames)
    dns_names = {name.lower().rstrip(".") for name in san.get_values_for_type(x509.DNSName)}
    addresses = set(san.get_values_for_type(x509.IPAddress))
    missing = []
    for hostname in hostnames:
        try:
            address = ipaddress.ip_address(hostname)
        except ValueError:
            name = hostname.lower().rstrip(".")
            try:
                name = name.encode("idna").decode("ascii")
            except UnicodeError:
                pass
            if name not in dns_names:
                missing.append(hostname)
        else:
            if address not in addresses:
                missing.append(hostname)
    return missing


def _reason_to_renew(paths: DevCertPaths, hostnames: Sequence[str]) -> str | None:
    """Why the existing files cannot be kept, or None if they can."""
    missing_files = [path.name for path in paths if not path.is_file()]
    if len(missing_files) == len(paths):
        return "there are none yet"
    if missing_files:
        return ", ".join(missing_files) + " missing"
    try:
        ca_cert = x509.load_pem_x509_certificate(paths.ca.read_bytes())
        chain = x509.load_pem_x509_certificates(paths.fullchain.read_bytes())
        key = serialization.load_pem_private_key(paths.privkey.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        # Only the kind of error is reported, never what the files hold.
        return f"the existing files cannot be read ({type(exc).__name__})"
    leaf = chain[0]

    now = datetime.datetime.now(datetime.timezone.utc)
    for what, cert in (("server", leaf), ("CA", ca_cert)):
        if cert.not_valid_after_utc - now < RENEW_BEFORE:
            return f"the {what} certificate expires on {cert.not_valid_after_utc:%Y-%m-%d}"
        if cert.not_valid_before_utc > now + NOT_BEFORE_SKEW:
            return f"the {what} certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"

    missing = _covers(leaf, hostnames)
    if missing:
        return "the server certificate does not cover " + ", ".join(missing)

    if key.public_key() != leaf.public_key():
        return f"{paths.privkey.name} is not the key of the server certificate"

    # The chain must lead to the CA the players are told to trust.
    if chain[-1] == ca_cert:
        chain = chain[:-1]
    if not chain:
        return f"{paths.fullchain.name} holds no server certificate"
    try:
        for child, parent in zip(chain, chain[1:] + [ca_cert]):
            child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return f"the server certificate was not issued by {paths.ca.name}"
    return None


# ---------------------------------------------------------------------------
# Writing new files


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new file.

    The temporary file is created with ``mode`` (O_CREAT|O_EXCL), so a key
    is never readable by others, not even for a moment, whatever the umask.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        try:
            os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise


def _generate(paths: DevCertPaths, hostnames: Sequence[str]) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ca = trustme.CA(
        organization_name=ORGANIZATION,
        organization_unit_name=f"Development CA for {hostnames[0]} ({now:%Y-%m-%d})",
    )
    leaf = ca.issue_cert(
        *hostnames,
        common_name=hostnames[0],
        organization_name=ORGANIZATION,
        organization_unit_name="Development server certificate",
        # trustme compares naive datetimes as UTC.
        not_before=(now - NOT_BEFORE_SKEW).replace(tzinfo=None),
        not_after=(now + LEAF_VALIDITY).replace(tzinfo=None),
    )
    # Key first: until the new certificate replaces the old one the pair
    # does not match, and the next run regenerates both.
    _write_atomically(paths.privkey, leaf.private_key_pem.bytes(), 0o600)
    _write_atomically(paths.fullchain, b"".join(pem.bytes() for pem in leaf.cert_chain_pems), 0o644)
    _write_atomically(paths.ca, ca.cert_pem.bytes(), 0o644)


def ensure_development_certificates(
    directory: Path | str,
    hostnames: Sequence[str] = DEFAULT_HOSTNAMES,
) -> DevCertPaths:
    """Make sure ``directory`` holds usable development certificates.

    Creates the directory (mode 0700) if needed.  Existing files are kept
    when the server certificate covers ``hostnames``, is valid for at least
    30 more days, matches the key and was issued by the CA in ``dev-ca.pem``;
    otherwise a new CA, certificate and key replace them.
    """
    directory = Path(directory)
    hostnames = tuple(dict.fromkeys(h.strip() for h in hostnames if h and h.strip()))
    if not hostnames:
        raise ValueError("at least one host name is needed")
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
    paths = _paths(directory)

    reason = _reason_to_renew(paths, hostnames)
    if reason is None:
        mode = stat.S_IMODE(paths.privkey.stat().st_mode)
        if mode & 0o077:
            log.warning("%s had mode %03o; setting it to 600", paths.privkey, mode)
            os.chmod(paths.privkey, 0o600)
        log.debug("keeping the development certificates in %s", directory)
        return paths

    log.info("generating development certificates in %s: %s", directory, reason)
    _generate(paths, hostnames)
    return paths


# ---------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m driver.devcerts",
        description="Create or renew the development CA, server certificate and key.",
    )
    parser.add_argument(
        "directory",
        nargs="?",
        default="certs",
        help="where to put the files (default: certs)",
    )
    parser.add_argument(
        "--hostname",
        action="append",
        default=[],
        metavar="NAME",
        help="another host name or address the certificate must cover "
        "(repeatable; localhost, 127.0.0.1 and ::1 are always included)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    hostnames = tuple(DEFAULT_HOSTNAMES) + tuple(args.hostname)
    try:
        paths = ensure_development_certificates(Path(args.directory), hostnames)
    except (OSError, ValueError) as exc:
        print(f"devcerts: {exc}", file=sys.stderr)
        return 1

    print(f"CA certificate:     {paths.ca}")
    print(f"server certificate: {paths.fullchain}")
    print(f"server key:         {paths.privkey}")
    print(f"Trust {paths.ca} in your MUD client to connect without warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
