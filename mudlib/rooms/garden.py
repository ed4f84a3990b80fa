"""/rooms/garden: the walled herb garden east of the square."""

from driver.efuns import (add_action, call_other, clone_object, inherit, move_object,
                          notify_fail, present_clone, this_player)

APPLE = "/obj/apple"


class Garden(inherit("/std/room")):
    short = "The herb garden"
    long = """
        High brick walls keep the wind of the moor out of this garden, and
        inside it is still and almost warm.  Neat beds of sage, thyme and
        rosemary line gravel paths, and bees drone among the lavender.  In
        the far corner an old apple tree leans against the wall as if
        tired.  The gate west opens back onto the square.
    """
    stock = {APPLE: 1}
    exits = {
        "west": "/rooms/square",
    }
    items = {
        "tree": """
            The apple tree is gnarled and half hollow, yet its branches are
            heavy with small red apples.
        """,
        "apple tree": "Gnarled, half hollow, and still bearing fruit.",
        "beds": "Sage, thyme, rosemary, and a patch of something labelled 'DO NOT'.",
        "herbs": "The air here smells of them: sharp, green and clean.",
        "bees": "Fat and unhurried.  They ignore you entirely.",
        "lavender": "It hums with bees.",
    }
    ids = ("garden", "herb garden")
    outdoors = True

    def init(self):
        super().init()
        add_action("cmd_shake", "shake")

    def cmd_shake(self, arg):
        if arg not in ("tree", "apple tree", "the tree"):
            return notify_fail("Shake what?\n")
        player = this_player()
        if present_clone(APPLE, self):
            call_other(player, "tell", "You shake the tree.  A few leaves fall; the "
                       "apple on the ground will have to do.\n")
            return 1
        move_object(clone_object(APPLE), self)
        call_other(player, "tell", "You shake the tree, and an apple thumps onto the "
                   "gravel.\n")
        self.tell_here(f"{player.query_name()} shakes the apple tree.  An apple "
                       "falls.\n", (player,))
        return 1
