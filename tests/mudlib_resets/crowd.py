"""/crowd: one of many objects due for a reset at the same moment (``crowd`` in /player)."""

from driver.efuns import MudObject, set_next_reset


class Crowd(MudObject):
    def due_in(self, seconds):
        set_next_reset(seconds)

    def reset(self):
        sum(range(20000))  # some work, as a room restocking would do
        return -1  # once
