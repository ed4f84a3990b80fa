"""/secure/mail: letters between players, for those who are not in the game.

'mail <player> <text>' leaves a one-line letter in that player's mailbox;
'mail <player>' alone lets the player write a longer one, line by line.
They hear of it at once if they are in the game, or when they next log in;
'mail' shows theirs (the new ones marked, then no longer new), and 'mail
delete <n>' or 'mail delete all' throws letters away.  The mailboxes are
saved under the data directory (data/world/mail.json) with every change;
this object lives under /secure/ because writing there is the master's to
allow, and it trusts /secure/.

Only a mailbox's owner reads or empties it, and only the player typing
'mail' sends a letter: these calls serve this_interactive(), so no object
reads another's letters or writes in another's name.  A player who
ignores the sender ('ignore') gets no letters from them.  A letter is at
most MAX_TEXT characters on MAX_LINES lines, a
mailbox holds MAILBOX letters (a full one takes no more until its owner
deletes some), and one player sends at most SEND_LIMIT letters in
SEND_WINDOW seconds.
"""

from driver.efuns import (EfunError, call_other, debug_message, inherit, restore_object,
                          save_object, this_interactive, time)

MASTER = "/master"
RATE_LIMITED = "/std/rate_limited"
SAVE = "world/mail"
MAX_TEXT = 2000
MAX_LINES = 25
MAILBOX = 50
SEND_LIMIT = 5
SEND_WINDOW = 600


class Mail(inherit(RATE_LIMITED)):
    persistent = ("boxes",)

    def create(self):
        # owner's name -> [{"from", "at", "text", "new"}], oldest first
        self.boxes = {}
        try:
            restore_object(self, SAVE)
        except EfunError as exc:    # a damaged save: new letters still work
            debug_message(f"mail: the mailboxes were not restored: {exc}", "warning")
        if not isinstance(self.boxes, dict):
            self.boxes = {}
        self.boxes = {name: [letter for letter in letters if isinstance(letter, dict)]
                      for name, letters in self.boxes.items() if isinstance(letters, list)}

    def query_limits(self):
        """(characters, lines): the most one letter may hold."""
        return MAX_TEXT, MAX_LINES

    def refusal(self, sender, recipient):
        """Why `sender` (a body) may not write to the character called
        `recipient` now, as a sentence; None if they may.  Asked before a
        long letter is written, so nobody writes one for nothing."""
        if sender is not this_interactive():
            return "a letter is sent by its writer, typing 'mail'"   # no forged senders
        if call_other(MASTER, "query_ignores", recipient, call_other(sender, "query_name")):
            return f"{recipient} is not listening to you"
        if len(self.boxes.get(recipient, ())) >= MAILBOX:
            return f"{recipient}'s mailbox is full"
        return None

    def send(self, sender, recipient, text):
        """`sender` (a body) writes `text` (already cleaned; lines end with
        "\\n") to the character called `recipient` (as the master knows
        it).  None if it was delivered, else a sentence saying why not."""
        why = self.refusal(sender, recipient)
        if why is not None:
            return why
        if len(text) > MAX_TEXT:
            return f"a letter is at most {MAX_TEXT} characters"
        if text.count("\n") >= MAX_LINES:
            return f"a letter is at most {MAX_LINES} lines"
        name = call_other(sender, "query_name")
        box = self.boxes.get(recipient, [])
        if not self.may_act(name, SEND_LIMIT, SEND_WINDOW):
            return (f"you have sent {SEND_LIMIT} letters in the last "
                    f"{SEND_WINDOW // 60} minutes; wait a while")
        self.boxes[recipient] = [*box, {"from": name, "at": time(), "text": text,
                                        "new": True}]
        self._save()
        body = call_other(MASTER, "find_player", recipient)
        if body is not None:
            call_other(body, "tell", f"You have a new letter from {name}: 'mail' reads it.\n")
        return None

    def count_new(self, name):
        """How many letters `name` has not read yet."""
        return sum(1 for letter in self.boxes.get(name, ()) if letter.get("new"))

    def read_letters(self):
        """The letters of this_interactive(), oldest first, as copies; they
        are no longer new after this."""
        name = self._owner()
        letters = self.boxes.get(name, [])
        copies = [dict(letter) for letter in letters]
        if any(letter.get("new") for letter in letters):
            self.boxes[name] = [{**letter, "new": False} for letter in letters]
            self._save()
        return copies

    def delete(self, number=None):
        """Throw away letter `number` (1 is the oldest) of this_interactive(),
        or all of them with None.  Returns how many went."""
        name = self._owner()
        letters = self.boxes.get(name, [])
        if number is None:
            kept = []
        elif 1 <= number <= len(letters):
            kept = letters[:number - 1] + letters[number:]
        else:
            return 0
        gone = len(letters) - len(kept)
        if gone:
            if kept:
                self.boxes[name] = kept
            else:
                self.boxes.pop(name, None)
            self._save()
        return gone

    def _owner(self):
        player = this_interactive()
        return call_other(player, "query_name") if player is not None else None

    def _save(self):
        try:
            save_object(self, SAVE)
        except EfunError as exc:    # the letters stand all the same, until a restart
            debug_message(f"mail: not saved: {exc}", "warning")
