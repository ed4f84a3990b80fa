"""/obj/cudgel: a plain weapon from Hobb's store."""

from driver.efuns import inherit


class Cudgel(inherit("/std/weapon")):
    short = "an oak cudgel"
    plural = "oak cudgels"
    long = ("A short length of seasoned oak, thicker at one end, with a leather thong "
            "for the wrist.  Not pretty, but it settles arguments.")
    ids = ("cudgel", "oak cudgel", "club")
    damage = (2, 6)
    verb = ("club", "clubs")
