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
"""

from collections import deque

from driver.efuns import MudObject, call_other, time, users

GRAMMAR = "/std/grammar"

# Lines of each channel kept for its history.
HISTORY = 20

# name -> (who may use it, what it is for)
CHANNELS = {
    "chat": ("everyone", "talk with everyone in the game"),
    "wiz": ("wizards", "building and running the game"),
}


class Channels(MudObject):
    def create(self):
        # name -> deque of (time, line), the newest last
        self.history = {name: deque(maxlen=HISTORY) for name in CHANNELS}

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
        that starts with ':' is an action ('chat :waves' is 'Alice waves')."""
        speaker = call_other(sender, "query_name")
        if text.startswith(":"):
            line = f"{speaker} {call_other(GRAMMAR, 'sentence', text[1:].strip())}"
        else:
            line = f"{speaker}: {text}"
        self.history[name].append((time(), line))
        for body in self.query_listeners(name):
            call_other(body, "hear_channel", name, speaker, line)

    def query_history(self, name):
        """The channel's last lines, oldest first: (time, line)."""
        return list(self.history[name])
