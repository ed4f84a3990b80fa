"""/ticker: a heart beat that fails on its first beat and logs the next two.

"TICK <n> <name>" each beat; beat 1 raises, so only the master's
heart_beat_error (which keeps it beating) lets beat 2 come; beat 3 stops it.
"""

from driver.efuns import MudObject, debug_message, object_name, set_heart_beat


class Ticker(MudObject):
    def create(self):
        self.beats = 0
        set_heart_beat(self, 1)

    def heart_beat(self):
        self.beats += 1
        debug_message(f"TICK {self.beats} {object_name(self)}")
        if self.beats == 1:
            raise ValueError("the first beat fails")
        if self.beats >= 3:
            set_heart_beat(self, 0)
