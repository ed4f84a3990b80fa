"""/std/grammar: English for lists of things, shared by rooms and players.

Owns how the world counts and lists: "a copper coin", "two copper coins",
"a, b and c".  Things answer `short_description()` ("a copper coin") and may
answer `query_plural()` ("copper coins"); without it the plural is guessed.

    call_other("/std/grammar", "list_things", all_inventory(room))
"""

from driver.efuns import MudObject, call_other, object_name

NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven",
                "eight", "nine", "ten", "eleven", "twelve")
ARTICLES = ("a ", "an ", "the ", "some ")


def number_word(count):
    return NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)


def guess_plural(short):
    """'a copper coin' -> 'copper coins'; 'a box of matches' -> 'boxes of matches'."""
    lowered = short.lower()
    for article in ARTICLES:
        if lowered.startswith(article):
            short = short[len(article):]
            break
    head, sep, tail = short.partition(" of ")
    words = head.split(" ")
    last = words[-1]
    if last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u"):
        last = last[:-1] + "ies"
    else:
        last += "s"
    words[-1] = last
    return " ".join(words) + sep + tail


def sentence(text):
    """'grins' -> 'grins.'; text that already ends a sentence (. ! ? or a
    quote) stays as it is.  For what players do: emotes, channel actions."""
    return text if text[-1:] in (".", "!", "?", '"', "'") else text + "."


def list_words(words):
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


class Grammar(MudObject):
    def group(self, things):
        """Descriptions of `things`, alike ones counted together, in the
        order each kind first appears: ["two copper coins", "a red apple"]."""
        counts, plurals, order = {}, {}, []
        for ob in things:
            short = call_other(ob, "short_description") or object_name(ob)
            if short not in counts:
                order.append(short)
                counts[short] = 0
                plurals[short] = call_other(ob, "query_plural") or guess_plural(short)
            counts[short] += 1
        return [short if counts[short] == 1
                else f"{number_word(counts[short])} {plurals[short]}"
                for short in order]

    def list_things(self, things):
        return list_words(self.group(things))

    def list_words(self, words):
        return list_words(words)

    def number_word(self, count):
        return number_word(count)

    def sentence(self, text):
        return sentence(text)
