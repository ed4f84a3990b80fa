"""``driver.py`` and its configuration: checking, refusing, overriding.

A configuration the driver cannot use stops it with exit status 2 and one
line on stderr that names the key or the file, never a traceback.  These
tests run ``driver.py`` as operators do, on copies of the shipped
``config.yaml`` with certificates made for the test session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import trustme
import yaml

from conftest import ROOT, SHIPPED_MUDLIB, TIMEOUT, Client, DriverProcess

DRIVER = ROOT / "driver.py"
SHIPPED_CONFIG = ROOT / "config.yaml"


def run_driver(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run driver.py to completion (it must exit on its own, within the deadline)."""
    return subprocess.run([sys.executable, str(DRIVER), *args], cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=TIMEOUT)


def assert_refused(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit status 2 and exactly one clear line on stderr mentioning ``needles``."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, "expected one line on stderr, got:\n" + result.stderr
    line = lines[0]
    assert line.startswith("driver.py: "), line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    assert result.returncode == 2, (result.returncode, line)
    return line


def shipped_settings(certs, data_dir: Path) -> dict:
    """The shipped config.yaml as data, pointed at the test certificates."""
    settings = yaml.safe_load(SHIPPED_CONFIG.read_text())
    settings["mudlib"]["directory"] = str(SHIPPED_MUDLIB)
    settings["mudlib"]["data_dir"] = str(data_dir)
    settings["tls"]["certificate"] = str(certs.fullchain)
    settings["tls"]["key"] = str(certs.key)
    settings["tls"]["trust_file"] = str(certs.ca_file)
    # The shipped web port is a fixed one (4080); tests let the kernel choose.
    settings["server"]["web_port"] = 0
    return settings


def write_settings(directory: Path, settings: dict) -> Path:
    config = directory / "config.yaml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    return config


@pytest.fixture
def settings(certs, tmp_path) -> dict:
    return shipped_settings(certs, tmp_path / "data")


# --- the shipped file ----------------------------------------------------------------

def test_the_shipped_config_checks_out_with_development_certificates(certs, tmp_path):
    """config.yaml exactly as shipped, its relative paths taken from its own
    directory, wherever the driver is started from."""
    game = tmp_path / "game"
    (game / "certs").mkdir(parents=True)
    shutil.copy(SHIPPED_CONFIG, game / "config.yaml")
    shutil.copy(certs.fullchain, game / "certs" / "dev-fullchain.pem")
    shutil.copy(certs.key, game / "certs" / "dev-privkey.pem")
    shutil.copy(certs.ca_file, game / "certs" / "dev-ca.pem")
    (game / "mudlib").symlink_to(SHIPPED_MUDLIB, target_is_directory=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = run_driver("--config", str(game / "config.yaml"), "--check-config", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("configuration OK: ")
    assert "dev-fullchain.pem" in result.stdout


def test_without_certificates_the_shipped_config_says_how_to_make_them(tmp_path):
    game = tmp_path / "game"
    game.mkdir()
    shutil.copy(SHIPPED_CONFIG, game / "config.yaml")
    (game / "mudlib").symlink_to(SHIPPED_MUDLIB, target_is_directory=True)
    result = run_driver("--config", "config.yaml", "--check-config", cwd=game)
    assert_refused(result, "tls.certificate", "dev-fullchain.pem", "make certs")


def test_a_test_copy_of_the_shipped_config_checks_out(settings, tmp_path):
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"configuration OK: {config}" in result.stdout


# --- bad configurations ---------------------------------------------------------------

def _set(settings: dict, dotted: str, value) -> None:
    section, key = dotted.split(".")
    settings.setdefault(section, {})[key] = value


@pytest.mark.parametrize("dotted, value, needles", [
    ("extra.colour", "blue", ("extra", "unknown section")),
    ("server.colour", "blue", ("server.colour", "unknown key")),
    ("server.telnet_port", "abc", ("server.telnet_port", "'abc'")),
    ("server.tls_port", 70000, ("server.tls_port", "70000")),
    ("tls.handshake_timeout", "soon", ("tls.handshake_timeout", "'soon'")),
    ("tls.handshake_timeout", -1, ("tls.handshake_timeout",)),
    ("mudlib.reset_interval", -5, ("mudlib.reset_interval", "-5")),
    ("logging.level", "loud", ("logging.level", "'loud'")),
    ("tls.minimum_version", "TLSv1.1", ("tls.minimum_version", "'TLSv1.1'")),
    ("tls.session_tickets", "maybe", ("tls.session_tickets", "true or false")),
    ("tls.reload_check_interval", -5, ("tls.reload_check_interval", "0 or more")),
    ("tls.sni", [{"names": [], "certificate": "a.pem", "key": "b.pem"}], ("tls.sni[0].names",)),
    ("tls.sni", [{"names": ["x.org"], "cert": "a.pem"}], ("tls.sni[0].cert", "unknown key")),
    ("tls.sni", [{"names": ["x.org"], "certificate": "nope.pem", "key": "nope-key.pem"}],
     ("tls.sni[0].certificate", "nope.pem")),
], ids=["unknown-section", "unknown-key", "port-abc", "port-out-of-range",
        "handshake_timeout-soon", "handshake_timeout-negative", "reset-interval-negative",
        "level", "minimum-version-old",
        "tickets-not-bool", "reload-check-negative", "sni-no-names", "sni-unknown-key",
        "sni-missing-file"])
def test_a_bad_value_is_named_in_one_line(settings, tmp_path, dotted, value, needles):
    _set(settings, dotted, value)
    config = write_settings(tmp_path, settings)
    assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path), *needles)


def test_a_maximum_version_below_the_minimum_is_named(settings, tmp_path):
    settings["tls"].update(minimum_version="TLSv1.3", maximum_version="TLSv1.2")
    config = write_settings(tmp_path, settings)
    assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path),
                   "tls.maximum_version", "below")


@pytest.mark.parametrize("key", ["certificate", "key", "trust_file"])
def test_a_missing_tls_file_is_named(settings, tmp_path, key):
    missing = tmp_path / f"no-such-{key}.pem"
    settings["tls"][key] = str(missing)
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--check-config", cwd=tmp_path)
    assert_refused(result, f"tls.{key}", str(missing))


def test_a_key_that_does_not_match_the_certificate_is_named(settings, tmp_path):
    stranger = trustme.CA().issue_cert("localhost")  # same key type, another key
    other_key = tmp_path / "other-privkey.pem"
    stranger.private_key_pem.write_to_path(str(other_key))
    settings["tls"]["key"] = str(other_key)
    config = write_settings(tmp_path, settings)
    line = assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path),
                          str(other_key))
    assert "does not match" in line


def test_a_key_of_another_type_than_the_certificate_is_named(settings, tmp_path):
    """An RSA key next to an ECDSA certificate (a renewal that changed key
    type, say) is the same mistake as any other wrong key."""
    stranger = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert(
        "localhost", key_type=trustme.KeyType.RSA)
    rsa_key = tmp_path / "rsa-privkey.pem"
    stranger.private_key_pem.write_to_path(str(rsa_key))
    settings["tls"]["key"] = str(rsa_key)
    config = write_settings(tmp_path, settings)
    line = assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path),
                          str(rsa_key))
    assert "does not match" in line


def test_a_file_that_is_not_a_certificate_is_named(settings, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("this is not a certificate\n")
    settings["tls"]["certificate"] = str(junk)
    config = write_settings(tmp_path, settings)
    assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path), str(junk))


def test_invalid_yaml_is_named_with_its_line(settings, tmp_path):
    config = write_settings(tmp_path, settings)
    config.write_text(config.read_text() + "server: [unclosed\n  - nope: :\n")
    line = assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path),
                          str(config), "not valid YAML")
    assert "line " in line


def test_a_missing_config_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    assert_refused(run_driver("--config", str(missing), "--check-config", cwd=tmp_path),
                   str(missing))


def test_a_bad_command_line_override_is_named(settings, tmp_path):
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--check-config", "--port", "99999", cwd=tmp_path)
    assert_refused(result, "server.telnet_port", "99999")


# --- problems found only when starting ------------------------------------------------

@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_telnet_port_in_use_is_named(settings, tmp_path, busy_port):
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--port", str(busy_port), "--tls-port", "0",
                        cwd=tmp_path)
    assert_refused(result, "server.telnet_port", str(busy_port))


def test_a_tls_port_in_use_is_named(settings, tmp_path, busy_port):
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--port", "0", "--tls-port", str(busy_port),
                        cwd=tmp_path)
    assert_refused(result, "server.tls_port", str(busy_port))


@pytest.fixture
def broken_mudlib(tmp_path) -> Path:
    mudlib = tmp_path / "broken-mudlib"
    shutil.copytree(SHIPPED_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    (mudlib / "master.py").write_text(
        '"""A master with a typo."""\n\nclass Master(MudObject)\n    pass\n')
    return mudlib


def test_a_master_with_a_syntax_error_stops_the_driver_and_says_where(settings, tmp_path,
                                                                       broken_mudlib):
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--mudlib", str(broken_mudlib),
                        "--port", "0", "--tls-port", "0", cwd=tmp_path)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("driver.py: ")
    assert "mudlib.master" in last and "SyntaxError" in last and "line 3" in last


def test_a_master_with_a_syntax_error_gives_one_line_and_no_traceback(settings, tmp_path,
                                                                      broken_mudlib):
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--mudlib", str(broken_mudlib),
                        "--port", "0", "--tls-port", "0", cwd=tmp_path)
    assert_refused(result, "mudlib.master", "SyntaxError", "master.py", "line 3")


# --- command-line overrides -----------------------------------------------------------

def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def test_command_line_overrides_take_effect(settings, tmp_path):
    # The file says one thing...
    settings["server"]["host"] = "127.0.0.1"
    settings["server"]["telnet_port"] = free_port("127.0.0.1")
    settings["server"]["tls_port"] = free_port("127.0.0.1")
    settings["mudlib"]["data_dir"] = str(tmp_path / "file-data")
    config = write_settings(tmp_path, settings)
    # ... the command line another.
    host = "127.0.0.2"
    port, tls_port, web_port = free_port(host), free_port(host), free_port(host)
    mudlib = tmp_path / "other-world"
    shutil.copytree(SHIPPED_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    master = mudlib / "master.py"
    master.write_text(master.read_text().replace('mud_name = "Ravenmoor"', 'mud_name = "Fenwick"'))
    data_dir = tmp_path / "cli-data"

    process = subprocess.Popen(
        [sys.executable, str(DRIVER), "--config", str(config), "--host", host,
         "--port", str(port), "--tls-port", str(tls_port), "--web-port", str(web_port),
         "--mudlib", str(mudlib),
         "--data-dir", str(data_dir)],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    driver = DriverProcess(process, tmp_path, config)
    driver._reader = threading.Thread(target=driver._read_log, daemon=True)
    driver._reader.start()
    try:
        driver.wait_for_log(rf"listening: telnet on {host}:{port}, TLS on {host}:{tls_port}, "
                            rf"web on {host}:{web_port}$")
        with pytest.raises(OSError):  # nothing on the file's address
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
        player = Client(socket.create_connection((host, port), timeout=TIMEOUT))
        text = player.read_until("What is your name? ")
        assert "F  E  N  W  I  C  K" in text  # the other mudlib's master
        assert f"connect to localhost port {tls_port}." in text
        player.command("ivo", "[y/n] ")
        player.command("y", "characters): ")
        player.command("heath-and-bracken", "Type it again: ")
        player.command("heath-and-bracken", "Welcome to Fenwick, Ivo.")
        player.close()
        assert (data_dir / "players" / "ivo.json").is_file()
        assert not (tmp_path / "file-data" / "players" / "ivo.json").exists()
    finally:
        status = driver.stop()
    assert status == 0


def test_the_log_file_is_reopened_after_logrotate_moves_it(make_driver, tmp_path):
    """logging.file, rotated by renaming: the driver writes on in a new file
    of the same name (what logrotate expects without copytruncate)."""
    log_file = tmp_path / "driver.log"
    driver = make_driver(tls_port=None, certs_=None, extra=f"  file: {log_file}\n")
    # The driver writes each line to its file before stderr, where make_driver
    # saw "listening": the file holds it now.
    log_file.rename(tmp_path / "driver.log.1")
    mark = driver.log_mark()
    first = Client.plain(driver.telnet_port)
    # Two connections, each logged: once the second shows on stderr, the
    # first has been written to every handler, the file included.
    driver.wait_for_log(r"CONNECT \S+ port=telnet", start=mark)
    mark = driver.log_mark()
    second = Client.plain(driver.telnet_port)
    driver.wait_for_log(r"CONNECT \S+ port=telnet", start=mark)
    assert "port=telnet" in log_file.read_text()
    rotated = (tmp_path / "driver.log.1").read_text()
    assert "listening: telnet" in rotated and "port=telnet" not in rotated
    first.close()
    second.close()


# --- certificate care ---------------------------------------------------------------

def _certificate_valid_for(certs, tmp_path: Path, days: float, *names: str) -> tuple[Path, Path]:
    """A certificate from the test CA that expires ``days`` from now (negative: expired)."""
    import datetime

    from conftest import write_leaf
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = certs.ca.issue_cert(*(names or ("localhost", "127.0.0.1")),
                               not_before=now - datetime.timedelta(days=400),
                               not_after=now + datetime.timedelta(days=days))
    return write_leaf(leaf, tmp_path / f"cert-{days}.pem", tmp_path / f"key-{days}.pem")


def _settings_with(settings: dict, cert: Path, key: Path) -> dict:
    settings["tls"]["certificate"] = str(cert)
    settings["tls"]["key"] = str(key)
    return settings


def test_check_config_names_the_certificate_its_names_and_days_left(settings, tmp_path):
    result = run_driver("--config", str(write_settings(tmp_path, settings)), "--check-config",
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "(names: localhost, 127.0.0.1, ::1)" in result.stdout
    assert "issued by" in result.stdout and "days left)" in result.stdout
    assert "warning" not in result.stdout and "error" not in result.stdout


def test_an_expired_certificate_stops_the_driver_unless_allowed(certs, settings, tmp_path):
    cert, key = _certificate_valid_for(certs, tmp_path, -3)
    config = write_settings(tmp_path, _settings_with(settings, cert, key))
    line = assert_refused(run_driver("--config", str(config), "--check-config", cwd=tmp_path),
                          str(cert), "expired on", "--allow-expired-certificate")
    assert "configuration OK" not in line
    assert_refused(run_driver("--config", str(config), "--port", "0", "--tls-port", "0",
                              cwd=tmp_path), "cannot start", "expired on")
    allowed = run_driver("--config", str(config), "--check-config", "--allow-expired-certificate",
                         cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert "expired 3 days ago" in allowed.stdout
    assert f"error: certificate {cert} EXPIRED" in allowed.stdout


@pytest.mark.parametrize("days, level, words", [(15, "warning", "renew it soon"),
                                                (5, "error", "renew it now")])
def test_a_certificate_near_its_end_is_warned_about(certs, settings, tmp_path, days, level, words):
    cert, key = _certificate_valid_for(certs, tmp_path, days)
    config = write_settings(tmp_path, _settings_with(settings, cert, key))
    result = run_driver("--config", str(config), "--check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stdout.splitlines() if line.startswith(f"{level}:")]
    assert len(warning) == 1 and f"certificate {cert} expires in" in warning[0] \
        and words in warning[0], result.stdout


def own_certificates(certs, directory: Path):
    """The driver's own copies of the session's files, so a test may renew them."""
    import dataclasses
    own = dataclasses.replace(certs, fullchain=directory / "fullchain.pem",
                              key=directory / "key.pem")
    shutil.copy(certs.fullchain, own.fullchain)
    shutil.copy(certs.key, own.key)
    return own


def renew_and_reload(driver, certs, own, directory: Path, days: float) -> tuple[Path, int]:
    """A new certificate from the test CA, valid for ``days``, in place of
    ``own``'s; then SIGHUP, and the driver's word that it reloaded.
    Returns the new certificate's file and the log mark before the reload."""
    import signal
    cert, key = _certificate_valid_for(certs, directory, days)
    shutil.copy(cert, own.fullchain)
    shutil.copy(key, own.key)
    mark = driver.log_mark()
    driver.process.send_signal(signal.SIGHUP)
    driver.wait_for_log(r"SIGHUP: TLS certificates reloaded", start=mark)
    return cert, mark


def test_the_running_driver_warns_at_start_and_at_every_reload(certs, make_driver, tmp_path):
    own = own_certificates(certs, tmp_path)
    driver = make_driver(certs_=own)
    driver.wait_for_log(r"TLS: certificate .* \(names: localhost, 127.0.0.1, ::1\)")
    assert "renew it" not in driver.log
    # A renewal that is no better: the warning comes with the reload.
    _cert, mark = renew_and_reload(driver, certs, own, tmp_path, 10)
    driver.wait_for_log(r"WARNING .*TLS: certificate \S+ expires in 10 days .*renew it soon",
                        start=mark)


def test_a_hostname_the_certificate_does_not_name_is_warned_about(settings, tmp_path):
    settings["server"]["hostname"] = "mud.example.org"
    result = run_driver("--config", str(write_settings(tmp_path, settings)), "--check-config",
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning: server.hostname mud.example.org is not among the names of certificate" \
        in result.stdout


def test_a_wildcard_certificate_covers_one_label(certs, settings, tmp_path):
    cert, key = _certificate_valid_for(certs, tmp_path, 90, "*.example.org")
    settings["server"]["hostname"] = "mud.example.org"
    config = write_settings(tmp_path, _settings_with(settings, cert, key))
    result = run_driver("--config", str(config), "--check-config", cwd=tmp_path)
    assert result.returncode == 0 and "warning" not in result.stdout, result.stdout
    settings["server"]["hostname"] = "a.mud.example.org"
    result = run_driver("--config", str(write_settings(tmp_path, settings)), "--check-config",
                        cwd=tmp_path)
    assert "warning: server.hostname a.mud.example.org is not among" in result.stdout


# --- day one --------------------------------------------------------------------------

def test_a_python_without_the_packages_says_how_to_start(tmp_path):
    # -S: no site-packages, as a system Python outside the virtualenv.
    result = subprocess.run([sys.executable, "-S", str(DRIVER), "--check-config"], cwd=ROOT,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=TIMEOUT)
    line = assert_refused(result, "make run", ".venv/bin/python driver.py")
    assert "lacks the package" in line


def test_a_config_that_sets_only_the_host_is_valid_without_tls(tmp_path):
    (tmp_path / "mudlib").symlink_to(SHIPPED_MUDLIB)
    (tmp_path / "config.yaml").write_text("server:\n  host: 127.0.0.1\n")
    result = run_driver("--config", "config.yaml", "--check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no TLS certificate configured" in result.stdout


def test_a_tls_port_without_a_certificate_is_one_line(tmp_path):
    (tmp_path / "mudlib").symlink_to(SHIPPED_MUDLIB)
    (tmp_path / "config.yaml").write_text("server:\n  host: 127.0.0.1\n  tls_port: 4443\n")
    assert_refused(run_driver("--config", "config.yaml", "--check-config", cwd=tmp_path),
                   "server.tls_port", "tls.certificate", "tls_port: null")


def test_two_services_on_one_port_are_refused(settings, tmp_path):
    config = write_settings(tmp_path, settings)
    assert_refused(run_driver("--config", str(config), "--check-config", "--port", "4500",
                              "--tls-port", "4500", cwd=tmp_path),
                   "server.tls_port", "port 4500 is also server.telnet_port")


def test_a_port_in_use_suggests_choosing_others(settings, tmp_path, busy_port):
    config = write_settings(tmp_path, settings)
    result = run_driver("--config", str(config), "--port", str(busy_port), "--tls-port", "0",
                        cwd=tmp_path)
    assert_refused(result, "already running", 'make run ARGS="--port')
