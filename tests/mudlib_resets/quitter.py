"""/quitter: a /counter whose reset() stops its resets with set_next_reset(-1)."""

from driver.efuns import inherit, set_next_reset


class Quitter(inherit("/counter")):
    def reset(self):
        super().reset()
        set_next_reset(-1)
