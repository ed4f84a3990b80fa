"""/shadows/log: what the shadow test objects say they ran, in order."""

from driver.efuns import MudObject


class Log(MudObject):
    def create(self):
        self.lines = []

    def add(self, line):
        self.lines.append(line)

    def take(self):
        lines, self.lines = self.lines, []
        return lines
