"""/daemon/channels: the game's chat channels.

A channel carries a line to every player listening, wherever they stand:
'chat' is everyone's, 'wiz' the wizards'.  The daemon owns which channels
there are, who may use each, and the last HISTORY lines of each (a
channel's command with nothing after it shows them).  Whether a player
listens is the player's own choice ('channels on|off <channel>'), kept and
saved with the character; the daemon asks each body, and the body shows
the line (and sends it as GMCP's Comm.Channel.Text to a client that asked
for "Comm.Channel", for the chat window of Mudlet and its kind).
Link-dead players miss what is said meanwhile, as on any MUD's channels.
A channel reaches everyone, so one player may say at most TALK_LINES lines
on the channels in any TALK_WINDOW seconds: a flood there would be
everyone's problem, and the driver's limit on commands (20 a second) is
far above what anyone types by hand.
The history is saved under the data directory (data/world/channels.json)
with every line, so a restart or an 'update' of this daemon keeps it.
A player's line comes only from that player typing it (this_interactive()),
as a letter (/secure/mail) and a report (/secure/reports) do: world code
may speak on a channel as itself (a town crier), never in a player's name.
"""

from driver.efuns import (EfunError, call_other, debug_message, inherit, restore_object,
                          save_object, this_interactive, time, users)

GRAMMAR = "/std/grammar"
RATE_LIMITED = "/std/rate_limited"

# Lines of each channel kept for its history.
HISTORY = 20
# The most one player may say on the channels, all together, in a window.
TALK_LINES = 5
TALK_WINDOW = 10
SAVE = "world/channels"

# name -> (who may use it, what it is for)
CHANNELS = {
    "chat": ("everyone", "talk with everyone in the game"),
    "wiz": ("wizards", "building and running the game"),
}


class Channels(inherit(RATE_LIMITED)):
    persistent = ("history",)

    def create(self):
        # name -> [[time, line], ...], the newest last
        self.history = {}
        try:
            restore_object(self, SAVE)
        except EfunError as exc:    # a damaged save: the channels work, without history
            debug_message(f"channels: the history was not restored: {exc}", "warning")
        saved = self.history if isinstance(self.history, dict) else {}
        self.history = {name: [list(entry) for entry in saved.get(name, [])
                               if isinstance(entry, list) and len(entry) == 2][-HISTORY:]
                        for name in CHANNELS}

    def query_channels(self):
        return list(CHANNELS)

    def query_description(self, name):
        """(who may use it, what it is for), or None for no such channel."""
        return CHANNELS.get(name)

    def may_use(self, body, name):
        who, _ = CHANNELS[name]
        return who == "everyone" or bool(call_other(body, "query_wizard"))

    def query_listeners(self, name):
        """The players online who hear channel `name` now."""
        return [body for body in users()
                if call_other(body, "query_is_player") and self.may_use(body, name)
                and call_other(body, "query_listening", name)]

    def send(self, sender, name, text):
        """`sender` says `text` (already cleaned) on channel `name`; text
        that starts with ':' is an action ('chat :waves' is 'Alice waves').
        False, and nothing said, if the sender is talking too fast, or is
        a player other than the one typing."""
        if call_other(sender, "query_is_player") and sender is not this_interactive():
            debug_message(f"channels: a line in {call_other(sender, 'query_name')}'s "
                          "name from world code refused", "warning")
            return False
        speaker = call_other(sender, "query_name")
        if not self.may_act(speaker, TALK_LINES, TALK_WINDOW):
            return False
        if text.startswith(":"):
            line = f"{speaker} {call_other(GRAMMAR, 'sentence', text[1:].strip())}"
        else:
            line = f"{speaker}: {text}"
        history = self.history[name]
        history.append([time(), line])
        del history[:-HISTORY]
        try:
            save_object(self, SAVE)
        except EfunError as exc:    # the line is said all the same
            debug_message(f"channels: the history was not saved: {exc}", "warning")
        for body in self.query_listeners(name):
            call_other(body, "hear_channel", name, speaker, line)
        return True

    def query_history(self, name):
        """The channel's last lines, oldest first: (time, line)."""
        return [tuple(entry) for entry in self.history[name]]
