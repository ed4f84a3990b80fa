"""Password hashes: the format the ``hash_password``/``check_password`` efuns
read and write.

This module owns the hash format, ``scrypt$n$r$p$salt$hash`` (hex salt and
digest): the cost parameters travel with each hash, so they can be raised
later without breaking the hashes already saved.  Both functions are plain
and slow on purpose (scrypt, 16 MiB and tens of milliseconds per call), and
touch nothing of the game: the efuns run them on the worker threads
(``workers.py``), never on the game loop.  ``hashlib.scrypt`` releases the
GIL while it works, so the loop keeps serving players meanwhile.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: scrypt cost: N (memory and time), r (block size), p (parallelism)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
#: the most memory (128 * r * N bytes) and parallelism a stored hash may ask
#: for: a damaged or hostile save file must not make one check take minutes
#: or gigabytes.  Four times today's cost is allowed, for raising it later.
MAX_MEMORY, MAX_P = 4 * 128 * SCRYPT_R * SCRYPT_N, 4
SALT_BYTES, DIGEST_BYTES = 16, 32


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, dklen=DIGEST_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; a missing or damaged hash
    matches nothing."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        n, r, p = int(n), int(r), int(p)
        if scheme != "scrypt" or n < 2 or r < 1 or not 0 < p <= MAX_P \
                or 128 * r * n > MAX_MEMORY:
            return False
        salt, digest = bytes.fromhex(salt), bytes.fromhex(digest)
        if not digest:
            return False
        candidate = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                                   maxmem=128 * r * (n + p) + 1024 * 1024, dklen=len(digest))
    except (AttributeError, ValueError, MemoryError):
        return False
    return hmac.compare_digest(candidate, digest)
