"""/shadows/sealed: a program that cannot be shadowed at all (LDMud's
#pragma no_shadow)."""

from driver.efuns import MudObject


class Sealed(MudObject):
    no_shadow = True
