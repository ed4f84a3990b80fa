"""Configuration: reading ``config.yaml``, checking it, and the command line.

This module owns the shape of the configuration.  Everything the driver
reads from ``config.yaml`` is declared once in ``SCHEMA`` below, with its type
and default; nothing else in the driver parses YAML or looks at raw dicts.
A bad file never produces a traceback: it raises ``ConfigError`` whose text is
one line naming the key (``tls.handshake_timeout: expected a number, got
'soon'``) or the file, and ``driver.py`` turns that into exit status 2.

Relative paths in the file are taken relative to the directory that holds the
file, so the driver can be started from anywhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
from pathlib import Path
from typing import Any

import yaml


class ConfigError(Exception):
    """A configuration problem, described in one line."""


# --- the schema ---------------------------------------------------------------
#
# Each entry: dotted key -> (kind, default).  Kinds are checked by
# ``_check_value``: "str", "port", "optional_port", "positive_int", "number", "path",
# "optional_path", "object_path", "level", "name_list", "seconds" (0 or
# more), "optional_str", "str_mapping", "log_format", "limit" (a whole number,
# 0 for no limit), "rate" (a number, 0 for no limit), "network_list" (addresses
# and networks), "prefix_length", "whole_number"
# (0 or more), "optional_rate" (a whole number of at least 1, or null: no limit),
# "buffer_size" (bytes, at least 4096), "event_loop" (one of EVENT_LOOPS).

#: server.tls_port's default: 4443 when a certificate is configured, else off,
#: so a configuration without TLS needs no ``tls_port: null``.
_TLS_PORT_WHEN_CERTIFIED = 4443

_SCHEMA: dict[str, tuple[str, Any]] = {
    "server.host": ("str", "127.0.0.1"),
    "server.hostname": ("str", "localhost"),
    "server.telnet_port": ("port", 4000),
    "server.tls_port": ("optional_port", _TLS_PORT_WHEN_CERTIFIED),
    "server.backlog": ("positive_int", 1024),
    "mudlib.directory": ("path", "mudlib"),
    "mudlib.master": ("object_path", "/master"),
    "mudlib.data_dir": ("path", "data"),
    "mudlib.heart_beat_interval": ("number", 2.0),
    "mudlib.reset_interval": ("seconds", 3600.0),
    "mudlib.eval_time_limit": ("number", 5.0),
    "mudlib.admins": ("name_list", None),
    "tls.certificate": ("optional_path", None),
    "tls.key": ("optional_path", None),
    "tls.trust_file": ("optional_path", None),
    "tls.handshake_timeout": ("number", 10.0),
    "tls.minimum_version": ("tls_version", "TLSv1.2"),
    "tls.maximum_version": ("optional_tls_version", None),
    "tls.session_tickets": ("bool", True),
    "tls.sni": ("sni_list", None),
    "tls.client_trust_file": ("optional_path", None),
    "tls.reload_check_interval": ("seconds", 60.0),
    "tls.allow_expired_certificate": ("bool", False),
    "mudlib.linkdead_timeout": ("seconds", 600.0),
    "telnet.compression": ("bool", True),
    "telnet.starttls": ("bool", False),
    "mssp.name": ("optional_str", None),
    "mssp.fields": ("str_mapping", None),
    "connections.commands_per_second": ("optional_rate", 20),
    "connections.command_burst": ("positive_int", 40),
    "connections.input_buffer": ("buffer_size", 16 * 1024),
    "connections.output_buffer": ("buffer_size", 256 * 1024),
    "connections.send_timeout": ("seconds", 60.0),
    "connections.keepalive_idle": ("positive_int", 300),
    "connections.keepalive_interval": ("positive_int", 60),
    "connections.keepalive_count": ("positive_int", 4),
    "logging.level": ("level", "info"),
    "logging.file": ("optional_path", None),
    "logging.format": ("log_format", "text"),
    # The web client: HTTPS and secure WebSocket on server.web_port, and
    # plain HTTP for a reverse proxy on a loopback address.
    "server.web_port": ("optional_port", None),
    "web.proxy_port": ("optional_port", None),
    "web.proxy_host": ("str", "127.0.0.1"),
    "web.trusted_proxies": ("network_list", ["127.0.0.1", "::1"]),
    "web.max_request_bytes": ("positive_int", 8192),
    "web.max_headers": ("positive_int", 50),
    "web.max_message_bytes": ("positive_int", 65536),
    "web.upgrade_timeout": ("number", 10.0),
    "web.ping_interval": ("number", 30.0),
    # Admission at accept, before any TLS or telnet work (net/admission.py).
    "limits.per_address": ("limit", 20),
    "limits.new_per_second": ("rate", 5.0),
    "limits.burst": ("limit", 10),
    "limits.total": ("limit", 1000),
    "limits.exempt": ("network_list", []),
    "limits.ipv6_prefix": ("prefix_length", 64),
    # Prometheus metrics over HTTP (driver/metrics.py); off without a port.
    "metrics.port": ("optional_port", None),
    "metrics.host": ("str", "127.0.0.1"),
    "metrics.allow_remote": ("bool", False),
    # Slow work off the game loop (password hashing, run_in_worker).
    "workers.threads": ("positive_int", 2),
    "workers.queue": ("positive_int", 32),
    # Failed-password throttling; the login (mudlib) applies it.
    "login.throttle_after": ("whole_number", 3),
    "login.throttle_delay": ("number", 1.0),
    "login.throttle_max_delay": ("number", 60.0),
    "login.lockout_after": ("whole_number", 10),
    "login.lockout_duration": ("number", 900.0),
    # The event loop the game runs on (game.py): uvloop's where it can be
    # imported, else asyncio's own ("auto"); or either one by name.
    "server.event_loop": ("event_loop", "auto"),
}

#: ``server.event_loop``'s values: uvloop (libuv) where it can be imported,
#: else asyncio's selector loop; asyncio's selector loop; uvloop.
EVENT_LOOPS = ("auto", "asyncio", "uvloop")

_LEVELS = ("debug", "info", "warning", "error")


@dataclasses.dataclass(frozen=True)
class SNICertificate:
    names: tuple[str, ...]
    certificate: Path
    key: Path


@dataclasses.dataclass(frozen=True)
class TLSConfig:
    certificate: Path | None
    key: Path | None
    trust_file: Path | None
    handshake_timeout: float
    minimum_version: str = "TLSv1.2"
    maximum_version: str | None = None
    session_tickets: bool = True
    sni: tuple[SNICertificate, ...] = ()
    client_trust_file: Path | None = None
    #: seconds between checks of the certificate files for a renewal; 0: never
    reload_check_interval: float = 60.0
    #: serve a certificate past its expiry instead of refusing to start (or reload)
    allow_expired_certificate: bool = False


@dataclasses.dataclass(frozen=True)
class WebConfig:
    """The web client's port for a reverse proxy, and the limits of every web connection."""

    #: plain HTTP for a reverse proxy that does TLS (None: off); only on loopback
    proxy_port: int | None = None
    proxy_host: str = "127.0.0.1"
    #: peers whose X-Forwarded-For names the player's address
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    max_request_bytes: int = 8192
    max_headers: int = 50
    max_message_bytes: int = 65536
    upgrade_timeout: float = 10.0
    ping_interval: float = 30.0


@dataclasses.dataclass(frozen=True)
class LimitsConfig:
    """Who may connect, decided at accept (``limits:``); 0 turns a limit off."""

    #: simultaneous connections from one address (an IPv6 address's /ipv6_prefix)
    per_address: int = 20
    #: new connections per second from one address, and the burst allowed above it
    new_per_second: float = 5.0
    burst: int = 10
    #: connections in all
    total: int = 1000
    #: networks the per-address and rate limits do not apply to ("127.0.0.0/8")
    exempt: tuple[str, ...] = ()
    #: IPv6 addresses that share this prefix count as one address
    ipv6_prefix: int = 64


@dataclasses.dataclass(frozen=True)
class MetricsConfig:
    """The Prometheus endpoint (``metrics:``); no port, no endpoint."""

    port: int | None = None
    host: str = "127.0.0.1"
    #: a host other than loopback must be allowed explicitly
    allow_remote: bool = False


@dataclasses.dataclass(frozen=True)
class LoginPolicy:
    """How the login treats wrong passwords (the ``login`` section).

    After ``throttle_after`` failures from one address, or for one
    character, each further attempt waits ``throttle_delay`` seconds,
    doubled with every failure up to ``throttle_max_delay``; after
    ``lockout_after`` failures, attempts are refused for
    ``lockout_duration`` seconds.  0 for either count turns that step off.
    """

    throttle_after: int = 3
    throttle_delay: float = 1.0
    throttle_max_delay: float = 60.0
    lockout_after: int = 10
    lockout_duration: float = 900.0


@dataclasses.dataclass(frozen=True)
class ConnectionLimits:
    """``connections``: what one player may cost the others."""

    #: commands a player's input may run per second (None: no limit), and
    #: how many may run at once before the rate applies
    commands_per_second: int | None = 20
    command_burst: int = 40
    #: bytes of a player's input the driver holds before it stops reading
    #: the socket; bytes of output it holds for a client before discarding
    input_buffer: int = 16 * 1024
    output_buffer: int = 256 * 1024
    #: seconds output may wait for a client that reads nothing; 0: forever
    send_timeout: float = 60.0
    #: TCP keepalive: idle seconds before the first probe, seconds between
    #: probes, probes unanswered before the kernel drops the connection
    keepalive_idle: int = 300
    keepalive_interval: int = 60
    keepalive_count: int = 4


@dataclasses.dataclass(frozen=True)
class Config:
    """The checked configuration.  Paths are absolute."""

    host: str
    hostname: str
    telnet_port: int
    tls_port: int | None
    mudlib_dir: Path
    master: str
    data_dir: Path
    tls: TLSConfig
    log_level: str
    log_file: Path | None
    #: "text" (one readable line) or "json" (one JSON object per line)
    log_format: str = "text"
    source: Path | None = None
    #: connections the kernel may queue before the driver accepts them
    backlog: int = 1024
    #: seconds between heart beats; the longest one call into the mudlib may run
    heart_beat_interval: float = 2.0
    #: seconds between an object's resets, about (0: none; resets.py)
    reset_interval: float = 3600.0
    eval_time_limit: float = 5.0
    #: characters who are administrators from the start (mudlib.admins, --admin)
    admins: tuple[str, ...] = ()
    #: seconds a character whose connection dropped stays in the world
    linkdead_timeout: float = 600.0
    #: telnet options offered: MCCP2 (plain connections), START_TLS (plain port)
    telnet_compression: bool = True
    telnet_starttls: bool = False
    #: MSSP: the game's NAME (None: the master's query_mud_name()), more fields
    mssp_name: str | None = None
    mssp_fields: tuple[tuple[str, str], ...] = ()
    #: HTTPS and secure WebSocket for the web client (None: off)
    web_port: int | None = None
    web: WebConfig = WebConfig()
    limits: LimitsConfig = LimitsConfig()
    metrics: MetricsConfig = MetricsConfig()
    #: threads for slow work off the game loop, and jobs that may wait for one
    worker_threads: int = 2
    worker_queue: int = 32
    login: LoginPolicy = LoginPolicy()

    connections: ConnectionLimits = dataclasses.field(default_factory=ConnectionLimits)
    #: the event loop the game runs on: "auto", "asyncio" or "uvloop" (game.event_loop_factory)
    event_loop: str = "auto"

    @property
    def loopback_only(self) -> bool:
        """Whether only this machine can connect: ``server.host`` is a
        loopback address (or ``localhost``).  A wildcard (0.0.0.0, ::), a
        public address or any other host name reaches beyond it."""
        return is_loopback_host(self.host)


def is_loopback_host(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def _check_value(key: str, kind: str, value: Any, base: Path) -> Any:
    def fail(expected: str) -> ConfigError:
        return ConfigError(f"{key}: expected {expected}, got {value!r}")

    if kind == "str":
        if not isinstance(value, str) or not value:
            raise fail("a non-empty string")
        return value
    if kind in ("port", "optional_port"):
        if value is None and kind == "optional_port":
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise fail("a port number from 0 to 65535" + (" or null" if kind == "optional_port" else ""))
        return value
    if kind == "positive_int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail("a whole number of at least 1")
        return value
    if kind == "whole_number":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail("a whole number, 0 or more")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise fail("a positive number")
        return float(value)
    if kind in ("path", "optional_path"):
        if value is None and kind == "optional_path":
            return None
        if not isinstance(value, str) or not value:
            raise fail("a file or directory path")
        path = Path(os.path.expanduser(value))
        return path if path.is_absolute() else (base / path)
    if kind == "object_path":
        if not isinstance(value, str) or not value.startswith("/"):
            raise fail("an object path such as '/master'")
        return value
    if kind in ("tls_version", "optional_tls_version"):
        if value is None and kind == "optional_tls_version":
            return None
        if value not in _TLS_VERSIONS:
            raise fail(" or ".join(repr(v) for v in _TLS_VERSIONS)
                       + (" or null" if kind == "optional_tls_version" else ""))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if kind == "sni_list":
        return _check_sni_list(key, value, base)
    if kind == "seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise fail("a number of seconds, 0 or more")
        return float(value)
    if kind == "optional_rate":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail("a whole number of at least 1, or null for no limit")
        return value
    if kind == "buffer_size":
        if isinstance(value, bool) or not isinstance(value, int) or value < 4096:
            raise fail("a number of bytes, at least 4096")
        return value
    if kind == "optional_str":
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise fail("a non-empty string or null")
        return value
    if kind == "str_mapping":
        if value is None:
            return ()
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and k and isinstance(v, (str, int, float)) and not isinstance(v, bool)
                for k, v in value.items()):
            raise fail("a mapping of names to strings or numbers, such as {CONTACT: admin@example.org}")
        return tuple((k, str(v)) for k, v in value.items())
    if kind == "name_list":
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.isalpha() for v in value):
            raise fail("a list of character names such as [alice]")
        return tuple(v.capitalize() for v in value)
    if kind == "limit":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail("a whole number, 0 or more (0: no limit)")
        return value
    if kind == "rate":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise fail("a number, 0 or more (0: no limit)")
        return float(value)
    if kind == "prefix_length":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 128:
            raise fail("a prefix length from 1 to 128")
        return value
    if kind == "network_list":
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise fail("a list of addresses or networks such as ['127.0.0.0/8', '::1']")
        networks = []
        for entry in value:
            try:
                networks.append(str(ipaddress.ip_network(str(entry), strict=False)))
            except ValueError:
                raise ConfigError(f"{key}: {entry!r} is not an address or network "
                                  "such as 192.0.2.7, 198.51.100.0/24 or 2001:db8::/32") from None
        return tuple(networks)
    if kind == "level":
        if not isinstance(value, str) or value.lower() not in _LEVELS:
            raise fail("one of " + ", ".join(_LEVELS))
        return value.lower()
    if kind == "log_format":
        if value not in ("text", "json"):
            raise fail("text or json")
        return value
    if kind == "event_loop":
        if value not in EVENT_LOOPS:
            raise fail(", ".join(EVENT_LOOPS[:-1]) + " or " + EVENT_LOOPS[-1])
        return value
    raise AssertionError(kind)


_TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


def _check_sni_list(key: str, value: Any, base: Path) -> tuple[SNICertificate, ...]:
    """``tls.sni``: a list of {names: [...], certificate: path, key: path}."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of {{names, certificate, key}} entries, got {value!r}")
    entries = []
    for index, entry in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping with names, certificate and key")
        unknown = set(entry) - {"names", "certificate", "key"}
        if unknown:
            raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key (known: names, certificate, key)")
        names = entry.get("names")
        if isinstance(names, str):
            names = [names]
        if not names or not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(f"{where}.names: expected a list of host names such as "
                              f"['mud.example.org', '*.example.org'], got {names!r}")
        paths = {}
        for field in ("certificate", "key"):
            paths[field] = _check_value(f"{where}.{field}", "path", entry.get(field), base)
        entries.append(SNICertificate(tuple(names), paths["certificate"], paths["key"]))
    return tuple(entries)


def _flatten(data: Any, file: Path) -> dict[str, Any]:
    """Turn the two-level YAML mapping into dotted keys, rejecting unknown ones."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping of sections at the top level")
    sections = {key.split(".")[0] for key in _SCHEMA}
    flat: dict[str, Any] = {}
    for section, body in data.items():
        if section not in sections:
            raise ConfigError(f"{section}: unknown section (known: {', '.join(sorted(sections))})")
        if body is None:
            continue
        if not isinstance(body, dict):
            raise ConfigError(f"{section}: expected a mapping of keys, got {body!r}")
        for key, value in body.items():
            dotted = f"{section}.{key}"
            if dotted not in _SCHEMA:
                known = sorted(k.split(".", 1)[1] for k in _SCHEMA if k.startswith(section + "."))
                raise ConfigError(f"{dotted}: unknown key (known in {section}: {', '.join(known)})")
            flat[dotted] = value
    return flat


def _section(cls: type, prefix: str, values: dict[str, Any]) -> Any:
    """One section's dataclass, whose fields are named as the section's keys."""
    return cls(**{field.name: values[f"{prefix}.{field.name}"]
                  for field in dataclasses.fields(cls)})


def load(path: Path | None, overrides: dict[str, Any] | None = None) -> Config:
    """Read and check a configuration file; ``overrides`` win over the file.

    ``overrides`` use the dotted keys of the schema and are checked the same
    way; relative paths in them are taken relative to the working directory.
    """
    raw: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        path = path.resolve()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read configuration ({exc.strerror})") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"{path}:{where} not valid YAML ({problem})") from None
        raw = _flatten(data, path)
        base = path.parent

    values: dict[str, Any] = {}
    tls_port_given = (bool(overrides) and overrides.get("server.tls_port") is not None) \
        or "server.tls_port" in raw
    for key, (kind, default) in _SCHEMA.items():
        if overrides and overrides.get(key) is not None:
            values[key] = _check_value(key, kind, overrides[key], Path.cwd())
        elif key in raw:
            values[key] = _check_value(key, kind, raw[key], base)
        else:
            values[key] = _check_value(key, kind, default, base) if default is not None else None

    if not tls_port_given and values["tls.certificate"] is None:
        values["server.tls_port"] = None

    config = Config(
        host=values["server.host"],
        hostname=values["server.hostname"],
        telnet_port=values["server.telnet_port"],
        tls_port=values["server.tls_port"],
        backlog=values["server.backlog"],
        mudlib_dir=values["mudlib.directory"],
        master=values["mudlib.master"],
        data_dir=values["mudlib.data_dir"],
        tls=TLSConfig(
            certificate=values["tls.certificate"],
            key=values["tls.key"],
            trust_file=values["tls.trust_file"],
            handshake_timeout=values["tls.handshake_timeout"],
            minimum_version=values["tls.minimum_version"],
            maximum_version=values["tls.maximum_version"],
            session_tickets=values["tls.session_tickets"],
            sni=values["tls.sni"] or (),
            client_trust_file=values["tls.client_trust_file"],
            reload_check_interval=values["tls.reload_check_interval"],
            allow_expired_certificate=values["tls.allow_expired_certificate"],
        ),
        log_level=values["logging.level"],
        log_file=values["logging.file"],
        log_format=values["logging.format"],
        source=path,
        heart_beat_interval=values["mudlib.heart_beat_interval"],
        reset_interval=values["mudlib.reset_interval"],
        eval_time_limit=values["mudlib.eval_time_limit"],
        admins=values["mudlib.admins"] or (),
        linkdead_timeout=values["mudlib.linkdead_timeout"],
        telnet_compression=values["telnet.compression"],
        telnet_starttls=values["telnet.starttls"],
        mssp_name=values["mssp.name"],
        mssp_fields=values["mssp.fields"] or (),
        web_port=values["server.web_port"],
        web=_section(WebConfig, "web", values),
        limits=_section(LimitsConfig, "limits", values),
        metrics=_section(MetricsConfig, "metrics", values),
        worker_threads=values["workers.threads"],
        worker_queue=values["workers.queue"],
        login=_section(LoginPolicy, "login", values),
        connections=_section(ConnectionLimits, "connections", values),
        event_loop=values["server.event_loop"],
    )
    _check_metrics(config.metrics)
    _check_files(config)
    return config


def _check_metrics(metrics: MetricsConfig) -> None:
    """The metrics say how many players there are and from how many sites:
    for the operator's eyes, so loopback only unless asked for."""
    if metrics.port is None or metrics.allow_remote:
        return
    if not is_loopback_host(metrics.host):
        raise ConfigError(f"metrics.host: {metrics.host} is not a loopback address; the metrics "
                          "are for the operator (set metrics.allow_remote: true to serve them "
                          "beyond this machine)")


def _check_files(config: Config) -> None:
    """Files that must exist for the driver to start."""
    if not config.mudlib_dir.is_dir():
        raise ConfigError(f"mudlib.directory: {config.mudlib_dir} is not a directory")
    master_file = config.mudlib_dir / (config.master.lstrip("/") + ".py")
    if not master_file.is_file():
        raise ConfigError(f"mudlib.master: {master_file} does not exist")
    tls = config.tls
    if (tls.certificate is None) != (tls.key is None):
        missing = "tls.key" if tls.key is None else "tls.certificate"
        raise ConfigError(f"{missing}: a certificate needs its key and a key its certificate")
    if config.tls_port is not None and tls.certificate is None:
        raise ConfigError(f"server.tls_port: the TLS port ({config.tls_port}) needs tls.certificate "
                          f"and tls.key (`make certs` writes development ones), or set tls_port: null")
    _check_ports(config)
    if tls.maximum_version is not None and tls.maximum_version < tls.minimum_version:
        raise ConfigError(f"tls.maximum_version: {tls.maximum_version} is below "
                          f"tls.minimum_version {tls.minimum_version}")
    if config.web_port is not None and tls.certificate is None:
        raise ConfigError(f"server.web_port: the web port ({config.web_port}) serves HTTPS and needs "
                          f"tls.certificate and tls.key; for plain HTTP behind a reverse proxy "
                          f"use web.proxy_port")
    if config.web.proxy_port is not None and not is_loopback_host(config.web.proxy_host):
        raise ConfigError(f"web.proxy_host: {config.web.proxy_host} is not a loopback address; "
                          "plain HTTP is served only to a reverse proxy on this machine "
                          "(127.0.0.1 or ::1)")
    if tls.sni and tls.certificate is None:
        raise ConfigError("tls.sni: SNI certificates need a default tls.certificate and tls.key")
    files = [("tls.certificate", tls.certificate), ("tls.key", tls.key),
             ("tls.trust_file", tls.trust_file), ("tls.client_trust_file", tls.client_trust_file)]
    for index, entry in enumerate(tls.sni):
        files += [(f"tls.sni[{index}].certificate", entry.certificate),
                  (f"tls.sni[{index}].key", entry.key)]
    for key, file in files:
        if file is not None and not file.is_file():
            hint = " (run `make certs` for development certificates)" if "dev-" in file.name else ""
            raise ConfigError(f"{key}: {file} does not exist{hint}")


def listening_ports(config: Config) -> list[tuple[str, int]]:
    """Every port the driver listens on, by its configuration key (0: the kernel picks)."""
    ports = [("server.telnet_port", config.telnet_port)]
    if config.tls_port is not None:
        ports.append(("server.tls_port", config.tls_port))
    if config.web_port is not None:
        ports.append(("server.web_port", config.web_port))
    if config.web.proxy_port is not None and config.web.proxy_host == config.host:
        ports.append(("web.proxy_port", config.web.proxy_port))
    if config.metrics.port is not None and config.metrics.host == config.host:
        ports.append(("metrics.port", config.metrics.port))
    return ports


def _check_ports(config: Config) -> None:
    """Two services on one port cannot both listen: say so before trying."""
    seen: dict[int, str] = {}
    for key, port in listening_ports(config):
        if port and port in seen:
            raise ConfigError(f"{key}: port {port} is also {seen[port]}; each service needs its own port")
        seen[port] = key


# --- the command line -----------------------------------------------------------

def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="driver.py",
        description="A MUD game driver whose mudlib controls TLS.",
    )
    parser.add_argument("--config", type=Path, default=Path("config.yaml"),
                        help="configuration file (default: config.yaml)")
    parser.add_argument("--host", help="address to listen on (server.host)")
    parser.add_argument("--port", type=int, help="plain telnet port (server.telnet_port); 0 picks a free one")
    parser.add_argument("--tls-port", type=int, help="TLS port (server.tls_port); 0 picks a free one")
    parser.add_argument("--web-port", type=int,
                        help="web client port, HTTPS and secure WebSocket (server.web_port); "
                             "0 picks a free one")
    parser.add_argument("--mudlib", type=Path, help="mudlib directory (mudlib.directory)")
    parser.add_argument("--data-dir", type=Path, help="data directory (mudlib.data_dir)")
    parser.add_argument("--admin", action="append", metavar="NAME",
                        help="make this character an administrator (mudlib.admins); repeatable")
    parser.add_argument("--check-config", action="store_true",
                        help="check the configuration and certificates, then exit")
    parser.add_argument("--allow-expired-certificate", action="store_true", default=None,
                        help="serve an expired certificate instead of refusing to start "
                             "(tls.allow_expired_certificate)")
    parser.add_argument("--event-loop", metavar="LOOP",
                        help="the event loop to run on: auto, asyncio or uvloop (server.event_loop)")
    return parser


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "server.host": args.host,
        "server.telnet_port": args.port,
        "server.tls_port": args.tls_port,
        "server.web_port": getattr(args, "web_port", None),
        "mudlib.directory": str(args.mudlib) if args.mudlib else None,
        "mudlib.data_dir": str(args.data_dir) if args.data_dir else None,
        "mudlib.admins": list(args.admin) if getattr(args, "admin", None) else None,
        "tls.allow_expired_certificate": getattr(args, "allow_expired_certificate", None),
        "server.event_loop": getattr(args, "event_loop", None),
    }
