"""What an operator reads: the audit log and the JSON log format.

A real driver with the shipped world; an administrator's privileged command
and a refused one each leave one structured line, in text or in JSON.
"""

from __future__ import annotations

import json

from conftest import SHIPPED_MUDLIB, Client
from test_world import create_character


def test_privileged_actions_leave_one_audit_line_each(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB)
    admin = Client.plain(driver.telnet_port)
    create_character(admin, "Alda")  # the first character of a loopback game: admin
    mark = driver.log_mark()
    admin.command("tlsreload", "reloaded")
    driver.wait_for_log(r"INFO +audit: AUDIT action=tls_refresh_certs actor=Alda outcome=ok$",
                        start=mark)
    audit_lines = [line for line in driver.lines[mark:] if "AUDIT " in line]
    assert len(audit_lines) == 1, audit_lines


def test_the_json_log_format_gives_one_object_per_line_with_audit_fields(make_driver):
    driver = make_driver(mudlib=SHIPPED_MUDLIB, extra="  format: json\n")
    admin = Client.plain(driver.telnet_port)
    create_character(admin, "Brann")
    mark = driver.log_mark()
    admin.command("tlsreload", "reloaded")
    driver.wait_for_log(r'"action": "tls_refresh_certs"', start=mark)
    records = [json.loads(line) for line in driver.log.splitlines() if line.startswith("{")]
    assert records and len(records) == len(driver.log.splitlines()), driver.log
    audit = [r for r in records if r["logger"] == "audit"]
    assert audit[-1]["audit"] == {"action": "tls_refresh_certs", "actor": "Brann",
                                  "outcome": "ok"}
    assert audit[-1]["level"] == "info" and audit[-1]["time"].endswith("+00:00")
    assert any(r["message"].startswith("listening: telnet") for r in records)
