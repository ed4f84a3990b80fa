"""/obj/board: the notice board in the Crooked Lantern.

The board owns its notes and keeps them across restarts: every new note is
saved at once under the data directory (data/world/board.json) and read back
when the board is made.  'read board' lists the notes, 'read <n>' shows
one, 'post <text>' pins a new one, and its author may 'unpin <n>' it.
"""

from driver.efuns import (add_action, call_other, environment, inherit, notify_fail,
                          restore_object, save_object, this_player, time)

SAVE = "world/board"
# The oldest notes come down when the board is full.
MAX_NOTES = 30


class Board(inherit("/std/item")):
    short = "a notice board"
    long = "A square of cork nailed beside the door, bristling with pins."
    ids = ("board", "notice board", "notices")
    persistent = ("notes",)

    def create(self):
        # Each note: {"author": name, "time": seconds, "text": text}
        self.notes = []
        restore_object(self, SAVE)

    def get(self):
        return False    # nailed to the wall

    def long_description(self):
        count = len(self.notes)
        text = super().long_description()
        if count == 0:
            text += "Nothing is pinned to it.  "
        elif count == 1:
            text += "One note is pinned to it.  "
        else:
            text += f"{count} notes are pinned to it.  "
        return text + "'read board' to read them, 'post <text>' to add one.\n"

    def init(self):
        add_action("cmd_read", "read")
        add_action("cmd_post", "post")
        add_action("cmd_unpin", "unpin")

    def cmd_read(self, arg):
        player = this_player()
        if arg in ("board", "notes", "notices", "the board"):
            if not self.notes:
                call_other(player, "tell", "The board is bare but for old pin holes.\n")
                return 1
            lines = ["%^HEADING%^The notice board%^RESET%^"]
            for number, note in enumerate(self.notes, 1):
                first = note["text"] if len(note["text"]) <= 40 else note["text"][:37] + "..."
                lines.append(f"  {number:>2}. {note['author']}: {first}")
            call_other(player, "tell", "\n".join(lines) + "\n")
            return 1
        if arg and arg.isdigit() and 1 <= int(arg) <= len(self.notes):
            note = self.notes[int(arg) - 1]
            call_other(player, "tell", f"%^HEADING%^Note {arg}, from {note['author']}:"
                       f"%^RESET%^\n{note['text']}\n")
            return 1
        return notify_fail("Read what?  ('read board', or 'read <number>')\n")

    def cmd_post(self, arg):
        player = this_player()
        text = call_other(player, "clean_text", arg or "")
        if not text:
            return notify_fail("Post what?  ('post Selling rope, cheap.  Ask for Hobb.')\n")
        self.notes.append({"author": call_other(player, "query_name"), "time": time(),
                           "text": text[:400]})
        del self.notes[:-MAX_NOTES]
        save_object(self, SAVE)
        call_other(player, "tell", f"You pin a note to the board (note {len(self.notes)}).\n")
        room = environment(self)
        if room is not None:
            call_other(room, "tell_here", f"{call_other(player, 'query_name')} pins a "
                       "note to the board.\n", (player,))
        return 1

    def cmd_unpin(self, arg):
        player = this_player()
        if not (arg and arg.isdigit() and 1 <= int(arg) <= len(self.notes)):
            return notify_fail("Unpin which note?  ('unpin <number>')\n")
        note = self.notes[int(arg) - 1]
        if note["author"] != call_other(player, "query_name") \
                and not call_other(player, "query_wizard"):
            call_other(player, "tell", "That is not your note to take down.\n")
            return 1
        del self.notes[int(arg) - 1]
        save_object(self, SAVE)
        call_other(player, "tell", f"You take down note {arg}.\n")
        return 1
