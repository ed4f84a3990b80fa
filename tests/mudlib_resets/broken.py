"""/broken: a /counter whose first reset() fails, after telling its watcher."""

from driver.efuns import inherit


class Broken(inherit("/counter")):
    def reset(self):
        super().reset()
        if self.resets == 1:
            raise RuntimeError("the first reset fails")
