"""/shadows/guarded: objects that refuse to be shadowed, each its own way."""

from driver.efuns import MudObject


class Guarded(MudObject):
    def query_prevent_shadow(self, shadower):
        return True
