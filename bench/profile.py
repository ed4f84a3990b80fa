"""Summaries of py-spy profiles (``--format raw``: collapsed stacks).

    python -m bench profile OUT/profile/001-driver-ec.txt [--top 30] [--under FILTER]

Each line of a raw profile is a stack, outermost frame first, separated by
``;``, then a sample count.  Frames look like ``function (path:line)``.  The
summary gives, per ``file:function``, the share of samples in which it was
running itself (*self*) and in which it was anywhere on the stack
(*inclusive*), of all samples in which the process was busy.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<path>[^:()]*)(?::\d+)?\)$")


def _name(frame: str, strip: tuple[str, ...]) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("path")
    for prefix in strip:
        if path.startswith(prefix):
            path = path[len(prefix):]
            break
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python3" in path:
        path = "stdlib/" + path.split("/lib/python3", 1)[1].split("/", 1)[1]
    return f"{path}:{match.group('function')}"


def summarize(path: Path, strip: tuple[str, ...] = ()) -> tuple[int, Counter, Counter]:
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_name(f, strip) for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        own[frames[-1]] += samples
        for name in set(frames):
            inclusive[name] += samples
    return total, own, inclusive


#: Where a sample's innermost Python frame is, by file: (group, prefixes).
#: Time in a C function counts for the Python frame that called it, so
#: ``ssl.py`` is OpenSSL's work and ``asyncio/`` includes the socket calls.
GROUPS = (
    ("OpenSSL (ssl.py: handshake, read, write, wrap_bio)", ("ssl.py:",)),
    ("telnetlib3", ("telnetlib3/",)),
    ("asyncio, selectors, sockets (incl. system calls)", ("asyncio/", "selectors.py:",
                                                          "socket.py:", "uvloop")),
    ("logging", ("logging/",)),
    ("inspect (signatures)", ("inspect.py:",)),
    ("driver", ("driver/", "driver.py:")),
    ("mudlib", ("master.py:", "player.py:", "login.py:", "mudlib/")),
)


def groups(own: Counter) -> Counter:
    grouped: Counter = Counter()
    for name, samples in own.items():
        for group, prefixes in GROUPS:
            if name.startswith(prefixes):
                grouped[group] += samples
                break
        else:
            grouped["other: " + name.split(":", 1)[0]] += samples
    return grouped


def report(path: Path, top: int = 30, under: str | None = None, strip: tuple[str, ...] = ()) -> str:
    total, own, inclusive = summarize(path, strip)
    if not total:
        return f"{path}: no samples"
    lines = [f"{path}: {total} samples (busy)", "", "by where the time is spent (self):"]
    for group, samples in groups(own).most_common(12):
        lines.append(f"{100 * samples / total:5.1f}  {group}")
    lines += ["", "self %  incl %  function"]
    names = sorted(inclusive, key=lambda n: (-own[n], -inclusive[n]))
    if under:
        names = [n for n in names if under in n]
    for name in names[:top]:
        lines.append(f"{100 * own[name] / total:5.1f}  {100 * inclusive[name] / total:6.1f}  {name}")
    lines += ["", "by inclusive share:"]
    for name in sorted(inclusive, key=lambda n: -inclusive[n])[:top]:
        if under and under not in name:
            continue
        lines.append(f"{100 * own[name] / total:5.1f}  {100 * inclusive[name] / total:6.1f}  {name}")
    return "\n".join(lines)
