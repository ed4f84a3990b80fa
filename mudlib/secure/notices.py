"""/secure/notices: the operator's words to players, from the data directory.

Two plain text files, both optional, both read afresh each time they are
shown, so an operator edits them while the game runs and the next login
sees the change:

    /data/banner.txt   shown by /secure/login before the name prompt, in
                       place of the game's own banner
    /data/motd.txt     the message of the day, shown by the body
                       (/std/player) once its player has logged in

/data is the data directory (mudlib.data_dir; `data/` by default).  A file
that is missing or empty means the game's own banner and no message of
the day.  This object lives under /secure/ because reading the data
directory is the master's to allow, and it trusts /secure/; a player's
body asks it rather than reading the file itself.

What an operator writes is tidied, never trusted blindly: line endings
become the game's ("\\r\\n" from an editor on Windows included), other
control characters are dropped (an escape sequence would garble clients
that do not expect one), and a file longer than MAX_CHARS is cut short,
with a warning in the log.  A file that cannot be read leaves the log a
warning and the players the default.
"""

from driver.efuns import EfunError, MudObject, debug_message, read_file

BANNER_FILE = "/data/banner.txt"
MOTD_FILE = "/data/motd.txt"
# A notice is read at every login; anything longer is a mistake, not a message.
MAX_CHARS = 8000


def tidy(text):
    """Text from a file as the game may show it (see the module's docstring)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())


class Notices(MudObject):
    def _read(self, path):
        """The tidied text of `path`, ending in a newline; None if missing or blank."""
        try:
            text = read_file(path)
        except EfunError as exc:
            debug_message(f"{path} cannot be shown: {exc}", "warning")
            return None
        if text is None or not text.strip():
            return None
        if len(text) > MAX_CHARS:
            debug_message(f"{path} is {len(text)} characters long; only the first "
                          f"{MAX_CHARS} are shown", "warning")
            text = text[:MAX_CHARS]
        text = tidy(text).rstrip()
        return text + "\n" if text else None

    def query_banner(self):
        """The operator's banner, or None for the game's own."""
        return self._read(BANNER_FILE)

    def query_motd(self):
        """The message of the day, or None."""
        return self._read(MOTD_FILE)
