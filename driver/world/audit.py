"""The audit log: one structured line per privileged action, allowed or not.

An operator asks "who shut the game down, who promoted Bob, who tried to
snoop the admin?" of one place: the ``audit`` logger.  Each record is one
line, ``AUDIT action=shutdown actor=alice outcome=ok target=... reason=...``,
and, with ``logging.format: json``, the same fields as JSON keys, so log
tools can filter on them.

The driver records what it decides itself: every ``privilege_violation``
question (``shutdown``, ``tls_refresh_certs``, ``command`` on another object,
and any privileged efun) with the master's answer, and every ``snoop``.  The
mudlib records its own privileged commands (promote, update, clone,
destruct, ...) with the ``audit`` efun, since only it knows what they mean.
"""

from __future__ import annotations

import logging
from typing import Any

from . import objects

log = logging.getLogger("audit")

OUTCOMES = ("ok", "denied", "failed")


def actor_name(ob: Any) -> str:
    """Who acted: the player's name where there is one, else the object's name."""
    if ob is None:
        return "driver"
    name = getattr(ob, "query_name", None)
    if callable(name):
        try:
            value = name()
        except Exception:  # noqa: BLE001 - a broken query_name must not stop the record
            value = None
        if isinstance(value, str) and value:
            return value
    return getattr(ob, "_mud_name", repr(ob))


def _field(value: Any) -> str:
    text = actor_name(value) if isinstance(value, objects.MudObject) else str(value)
    text = text.replace("\n", " ").replace("\r", " ")
    return f'"{text}"' if (" " in text or not text or '"' in text) else text


def record(action: str, outcome: str = "ok", target: Any = None, **details: Any) -> None:
    """One audit line.  The actor is the player behind the current command
    (this_interactive), else the object whose code is running."""
    frame = objects.current_frame()
    actor = frame.this_interactive or frame.this_object
    fields = {"action": action, "actor": actor_name(actor), "outcome": outcome}
    if target is not None:
        fields["target"] = target
    fields.update(details)
    text = " ".join(f"{key}={_field(value)}" for key, value in fields.items())
    log.info("AUDIT %s", text, extra={"audit": {key: (actor_name(value)
                                                      if isinstance(value, objects.MudObject)
                                                      else value if isinstance(value, (int, float))
                                                      else str(value))
                                                for key, value in fields.items()}})
