"""/std/weapon: the base of the things a player can fight with.

A weapon is an item (/std/item) a player 'wield's.  /daemon/combat asks the
body what it wields and fights with the weapon's numbers in place of bare
hands: its damage, its verb, and its hit bonus on top of a player's own
chance.  A file sets the class attributes:

    class Cudgel(inherit("/std/weapon")):
        short = "a cudgel"
        ids = ("cudgel", "club")
        damage = (2, 6)             # a blow takes this much health, at random
        hit_bonus = 0               # percentage points on the player's chance
        verb = ("club", "clubs")    # as "you" would say it, as others say it
"""

from driver.efuns import inherit


class Weapon(inherit("/std/item")):
    damage = (1, 5)
    hit_bonus = 0
    verb = ("hit", "hits")

    def query_weapon(self):
        """What /daemon/combat fights with: hit bonus, damage, verb."""
        return {"hit_bonus": self.hit_bonus, "damage": tuple(self.damage),
                "verb": tuple(self.verb)}
