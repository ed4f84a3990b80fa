"""/thing: something to destruct (the master's prepare_destruct runs first)."""

from driver.efuns import MudObject


class Thing(MudObject):
    pass
