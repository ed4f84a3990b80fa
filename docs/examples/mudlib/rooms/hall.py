"""/rooms/hall: a room whose exits are actions and whose clock ticks."""

from driver.efuns import (MudObject, add_action, all_inventory, clone_object, interactive,
                          move_object, query_verb, set_heart_beat, tell_room, this_player)


class Hall(MudObject):
    exits = {"north": "/rooms/yard"}

    def create(self):
        self.ticks = 0
        move_object(clone_object("/obj/lamp"), self)

    def describe(self):
        return "A stone hall.  A clock ticks on the wall.  The door is north.\n"

    def init(self):                      # this_player() has just arrived
        for direction in self.exits:
            add_action("cmd_go", direction)
        add_action("cmd_look", "look")
        if interactive(this_player()):
            set_heart_beat(self, 1)

    def cmd_go(self, arg):
        move_object(this_player(), self.exits[query_verb()])
        this_player().look()
        return 1

    def cmd_look(self, arg):
        this_player().look()
        return 1

    def heart_beat(self):
        if not any(interactive(ob) for ob in all_inventory(self)):
            set_heart_beat(self, 0)      # nobody to hear it
            return
        self.ticks += 1
        tell_room(self, "Tick.\n")
