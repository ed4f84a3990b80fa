"""/daemon/soul: socials, the little things people do at each other.

'smile', 'wave alice', 'bow mags deeply', 'nod slowly': a verb, then
optionally someone here (a player or a creature), then optionally how.
The player sees "You smile at Mags.", Mags "Alda smiles at you.", and
everyone else in the room "Alda smiles at Mags."  Creatures may answer
(/std/npc's social_done).

/master's fallback_command asks this daemon for a verb no command took, so
a social is typed like any command and needs no action of its own; a new
social is a new line in SOCIALS.  'help socials' lists them and 'help
<social>' shows what one does.
"""

from driver.efuns import MudObject, call_other, environment, living, present, tell_object

GRAMMAR = "/std/grammar"

# verb -> (what it looks like alone, what it looks like done at someone).
# Both are what others see, after the doer's name; "{target}" is whom it
# is done at, and what the doer and the target see is made from these.
# A "{how}" slot marks where an adverb goes (else it goes at the end).
SOCIALS = {
    "smile": ("smiles{how}", "smiles at {target}{how}"),
    "grin": ("grins{how}", "grins at {target}{how}"),
    "laugh": ("laughs{how}", "laughs at {target}{how}"),
    "chuckle": ("chuckles{how}", "chuckles at {target}{how}"),
    "giggle": ("giggles{how}", "giggles at {target}{how}"),
    "sigh": ("sighs{how}", "sighs at {target}{how}"),
    "nod": ("nods{how}", "nods to {target}{how}"),
    "shake": ("shakes their head{how}", "shakes their head at {target}{how}"),
    "shrug": ("shrugs{how}", "shrugs at {target}{how}"),
    "wave": ("waves{how}", "waves to {target}{how}"),
    "bow": ("bows{how}", "bows to {target}{how}"),
    "curtsey": ("curtseys{how}", "curtseys to {target}{how}"),
    "wink": ("winks{how}", "winks at {target}{how}"),
    "frown": ("frowns{how}", "frowns at {target}{how}"),
    "cheer": ("cheers{how}", "cheers for {target}{how}"),
    "clap": ("claps{how}", "applauds {target}{how}"),
    "hug": (None, "hugs {target}{how}"),
    "poke": (None, "pokes {target} in the ribs{how}"),
    "pat": (None, "pats {target} on the back{how}"),
    "thank": (None, "thanks {target}{how}"),
    "greet": ("greets everyone{how}", "greets {target}{how}"),
    "yawn": ("yawns{how}", "yawns at {target}{how}"),
    "stretch": ("stretches{how}", None),
    "think": ("thinks{how}", None),
    "cry": ("bursts into tears{how}", "cries on {target}'s shoulder{how}"),
    "dance": ("dances{how}", "dances with {target}{how}"),
}

# Adverbs the soul completes from their start: 'smile hap' is 'happily'.
ADVERBS = (
    "happily", "sadly", "warmly", "brightly", "broadly", "slowly", "quickly",
    "politely", "deeply", "gravely", "sheepishly", "shyly", "knowingly",
    "mischievously", "wickedly", "wearily", "thoughtfully", "briefly",
    "enthusiastically", "grimly", "gently", "loudly", "quietly", "fondly",
    "nervously", "smugly", "solemnly", "wryly", "innocently", "evilly",
)
# Longest adverb a player may write themselves (one not in ADVERBS).
MAX_HOW = 30


def _second_person(action):
    """'smiles at {target}' as the doer reads it: 'smile at {target}'."""
    end = len(action) - len(action.lstrip("abcdefghijklmnopqrstuvwxyz"))
    word, rest = action[:end], action[end:]   # the verb, then " at {target}{how}"
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith(("ches", "shes", "sses", "xes")):
        word = word[:-2]
    elif word.endswith("s"):
        word = word[:-1]
    return (word + rest).replace("their ", "your ")


class Soul(MudObject):
    def query_socials(self):
        return sorted(SOCIALS)

    def query_social(self, verb):
        """The help page of the social `verb`; None if it is no social."""
        forms = SOCIALS.get(verb)
        if forms is None:
            return None
        alone, at = forms
        usage = " or ".join(f"%^COMMAND%^{form}%^RESET%^" for form, action in
                            ((verb, alone), (f"{verb} <someone>", at)) if action)
        seen = "  ".join(self._line("Someone", action, "Mags", "").strip()
                         for action in (alone, at) if action)
        return (f"%^HEADING%^{verb}%^RESET%^: a social.\nUsage: {usage}, and how after "
                f"it if you like ('{verb} {'mags ' if at else ''}warmly').\n"
                f"Others see: {seen}\n")

    def perform(self, player, verb, arg):
        """`player` typed `verb arg`: do the social; False if `verb` is none."""
        forms = SOCIALS.get(verb)
        if forms is None:
            return False
        alone, at = forms
        words = arg.split()
        target = None
        room = environment(player)
        if words and room is not None:
            found = present(words[0].lower(), room)
            if found is not None and found is not player and living(found):
                target, words = found, words[1:]
        how = self._adverb(" ".join(words))
        if how is None:
            call_other(player, "tell", f"How do you want to {verb}?  A word or two, up to "
                                       f"{MAX_HOW} letters ('{verb} happily').\n")
        elif target is None and alone is None:
            call_other(player, "tell", f"{verb.capitalize()} whom?  They must be here.\n")
        elif target is not None and at is None:
            call_other(player, "tell", f"You cannot {verb} at someone; just '{verb}'.\n")
        else:
            self._show(player, room, alone if target is None else at, target, how)
            if target is not None:
                call_other(target, "social_done", player, verb)
        return True

    def _adverb(self, text):
        """How the player wrote it should be done: '' (not said), ' happily'
        (completed from the start of a known adverb), or None if it will
        not do (not letters, or too long)."""
        text = " ".join(text.split()).lower()
        if not text:
            return ""
        if len(text) > MAX_HOW or not all(ch.isalpha() or ch in " -'" for ch in text):
            return None
        for adverb in ADVERBS:
            if adverb.startswith(text):
                return " " + adverb
        return " " + text

    def _line(self, who, action, target_name, how):
        """One sentence of the social, coloured as an emote."""
        text = action.replace("{target}", target_name)
        text = text.replace("{how}", how) if "{how}" in text else text + how
        return "%^EMOTE%^" + call_other(GRAMMAR, "sentence", f"{who} {text}") + "%^RESET%^\n"

    def _show(self, player, room, action, target, how):
        name = call_other(player, "query_name")
        target_name = call_other(target, "query_name") if target is not None else ""
        if target_name.startswith("The "):   # "The ginger cat", mid-sentence
            target_name = "the " + target_name[4:]
        call_other(player, "tell", self._line("You", _second_person(action), target_name, how))
        if target is not None:
            to_target = action.replace("{target}'s", "your").replace("{target}", "you")
            line = self._line(name, to_target, target_name, how)
            if call_other(target, "query_is_player"):
                call_other(target, "tell", line)
            else:
                tell_object(target, line)   # a creature hears it (catch_tell)
        if room is not None:
            exclude = (player,) if target is None else (player, target)
            call_other(room, "tell_here", self._line(name, action, target_name, how), exclude)
