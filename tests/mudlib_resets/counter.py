"""/counter: tells its watcher of each reset(), and returns `answer` from it."""

from driver.efuns import MudObject, object_name, set_next_reset, tell_object


class Counter(MudObject):
    #: what reset() returns: None, the usual interval; a number, seconds to the next
    answer = None
    #: what create() returns (a number: seconds to the first reset)
    first = None

    def create(self):
        self.resets = 0
        self.watcher = None
        return self.first

    def watch(self, who):
        self.watcher = who

    def reset(self):
        self.resets += 1
        if self.watcher is not None:
            tell_object(self.watcher, f"{object_name(self)} reset {self.resets}\n")
        return self.answer

    def query_next(self):
        return set_next_reset(0)

    def soon(self):
        return set_next_reset(0.3)
