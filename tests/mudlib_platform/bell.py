"""/bell: an item whose action (`toll`) reaches whoever is beside it or
carries it, and is gone when they part."""

from driver.efuns import MudObject, add_action, write


class Bell(MudObject):
    def id(self, word):
        return word in ("bell", "brass bell")

    def init(self):
        add_action("cmd_toll", "toll")

    def cmd_toll(self, arg):
        write("TOLL\n")
        return 1
