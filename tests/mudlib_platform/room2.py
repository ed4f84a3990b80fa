"""/room2: a second room, to walk away from /room's actions."""

from driver.efuns import MudObject


class Room2(MudObject):
    pass
