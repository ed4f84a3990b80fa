"""/obj/bucket: a wooden bucket, for carrying water from the well.

It gives whoever is near it two commands (actions added in init(), the LP
way): 'fill bucket', where the room has water to give, and 'drink water'
from a full bucket, which gives stamina back."""

from driver.efuns import (add_action, call_other, environment, inherit, notify_fail,
                          this_player)


class Bucket(inherit("/std/item")):
    short = "a wooden bucket"
    long = "Oak staves bound with iron hoops, and a rope handle."
    ids = ("bucket", "wooden bucket", "pail")

    def create(self):
        super().create()
        self.full = False

    def short_description(self):
        return "a bucket of water" if self.full else self.short

    def long_description(self):
        inside = "It is full of cold water." if self.full else "It is empty."
        return f"{super().long_description().rstrip()}  {inside}\n"

    def init(self):
        add_action("cmd_fill", "fill")
        add_action("cmd_drink", "drink")

    def cmd_fill(self, arg):
        if not arg or not self.id(arg):
            return notify_fail("Fill what?\n")     # returns 0: another action may try
        player = this_player()
        room = environment(player)
        if not call_other(room, "query_water"):
            return notify_fail("There is no water here to fill it with.\n")
        if self.full:
            call_other(player, "tell", "The bucket is full already.\n")
            return 1
        self.full = True
        call_other(player, "tell", "You lower the bucket into the well and wind it "
                   "up again, brimming.\n")
        call_other(room, "tell_here", f"{player.query_name()} draws a bucket of water.\n",
                   (player,))
        return 1

    def cmd_drink(self, arg):
        if arg not in ("water", "from bucket"):
            return notify_fail("Drink what?\n")
        if not self.full:
            return notify_fail("The bucket is empty.\n")
        self.full = False
        call_other(this_player(), "tell", "You drink deep.  The water tastes of stone "
                   "and iron, and you feel less tired.\n")
        call_other(this_player(), "refresh", 0, 15)     # health, stamina
        return 1
