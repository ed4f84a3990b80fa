"""/npc: a living that is not interactive; `command()` makes it act."""

from driver.efuns import MudObject, add_action, debug_message, enable_commands


class Npc(MudObject):
    def create(self):
        enable_commands()
        add_action("cmd_dance", "dance")

    def cmd_dance(self, arg):
        debug_message(f"NPC DANCES {arg}")
        return 1

    def catch_tell(self, text):
        debug_message(f"NPC HEARS {text.strip()}")
