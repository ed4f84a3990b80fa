"""/room: where test players start.  `ring` is the room's action;
`spin` runs for ever (the evaluation limit stops it); `beats` says how
many heart beats the room has had."""

from driver.efuns import (MudObject, add_action, notify_fail, query_verb, say,
                          set_heart_beat, this_player, write)


class Room(MudObject):
    description = "ROOM v1"

    def create(self):
        self.beats = 0
        self.created_version = self.description

    def init(self):
        add_action("cmd_ring", "ring")
        add_action("cmd_spin", "spin")
        add_action("cmd_look", "look")

    def cmd_ring(self, arg):
        if arg != "bell":
            return notify_fail("Ring what?\n")
        write("RING\n")
        say(f"{this_player().query_name()} rings the bell.\n")
        return 1

    def cmd_spin(self, arg):
        if arg == "catching":
            while True:
                try:
                    while True:
                        pass
                except Exception:   # noqa: BLE001 - does not catch EvaluationTimeout
                    pass
        while True:
            pass

    def cmd_look(self, arg):
        write(f"LOOK {self.description} created={self.created_version} verb={query_verb()}\n")
        return 1

    def start_beating(self):
        set_heart_beat(self, 1)

    def heart_beat(self):
        self.beats += 1
