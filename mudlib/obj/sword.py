"""/obj/sword: the barrow-wight's grave goods, for whoever can take them."""

from driver.efuns import inherit


class Sword(inherit("/std/weapon")):
    short = "a bronze sword"
    plural = "bronze swords"
    long = ("A leaf-shaped blade of green-black bronze, older than the town.  The grip "
            "is wound with rotted leather, but the edge is keen as the day it was "
            "laid in the barrow.")
    ids = ("sword", "bronze sword", "blade")
    damage = (3, 9)
    hit_bonus = 5
    verb = ("slash", "slashes")
