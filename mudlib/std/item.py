"""/std/item: the base of every thing a player can pick up.

An item is a clone that lies in a room or is carried.  It answers to the
words in `ids`, shows `short` in lists and `long` when looked at; several
alike are listed as `plural` ("two copper coins"; guessed from `short`
when not given).  As in the old LP mudlibs, `get()` says whether it may be
taken (true: yes) and `drop()` whether it refuses to be dropped (true: it
stays with you).

    class Apple(inherit("/std/item")):
        short = "a red apple"
        long = "Small, red and a little wrinkled."
        ids = ("apple", "red apple")
"""

from driver.efuns import MudObject


class Item(MudObject):
    short = "a thing"
    plural = None
    long = "You see nothing special."
    ids = ()

    def id(self, word):
        return word.lower() in self.ids

    def short_description(self):
        return self.short

    def query_plural(self):
        return self.plural

    def long_description(self):
        text = " ".join(self.long.split())
        return text + "\n"

    def get(self):
        return True

    def drop(self):
        return False
