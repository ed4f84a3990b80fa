"""/ticker: heart beats and call_outs that log, fail or hang on request.

A "flaky" ticker fails like a "fail" one, but the master's
heart_beat_error() keeps its heart beat on.
"""

from driver.efuns import MudObject, call_out, debug_message, object_name, set_heart_beat


class Ticker(MudObject):
    mode = "count"

    def create(self):
        self.beats = 0

    def start(self, mode="count"):
        self.mode = mode
        set_heart_beat(self, 1)

    def heart_beat(self):
        self.beats += 1
        debug_message(f"BEAT {object_name(self)} {self.mode} {self.beats}")
        if self.mode in ("fail", "flaky"):
            raise ValueError("deliberate failure in a heart beat")
        if self.mode == "hang" and self.beats == 1:
            while True:
                pass

    def arm_later(self, tag):
        call_out("later", 0.05, tag)

    def later(self, tag):
        debug_message(f"CALLOUT {object_name(self)} {tag}")
