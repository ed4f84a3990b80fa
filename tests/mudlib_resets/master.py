"""/master of the reset test mudlib: every connection gets a /player."""

from driver.efuns import MudObject, clone_object, destruct


class Master(MudObject):
    def connect(self):
        return clone_object("/player")

    def disconnect(self, ob):
        destruct(ob)
