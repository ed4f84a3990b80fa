"""/rooms/yard: the way back is an action too."""

from driver.efuns import MudObject, add_action, move_object, this_player


class Yard(MudObject):
    def describe(self):
        return "A muddy yard.  The hall is south.\n"

    def init(self):
        add_action("cmd_south", "south")

    def cmd_south(self, arg):
        move_object(this_player(), "/rooms/hall")
        this_player().look()
        return 1
