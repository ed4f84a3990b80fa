"""/obj/lamp: an item that gives whoever is near it a command."""

from driver.efuns import MudObject, add_action, notify_fail, say, write


class Lamp(MudObject):
    lit = False

    def id(self, word):
        return word == "lamp"

    def init(self):
        add_action("cmd_light", "light")

    def cmd_light(self, arg):
        if arg != "lamp":
            return notify_fail("Light what?\n")
        if self.lit:
            write("It is already lit.\n")
            return 1
        self.lit = True
        write("You light the lamp.\n")
        say("Someone lights the lamp.\n")
        return 1
