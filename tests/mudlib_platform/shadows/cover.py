"""/shadows/cover: a shadow that adds nothing: it only stands in front."""

from driver.efuns import MudObject, shadow


class Cover(MudObject):
    def cover(self, target):
        return shadow(target)
