"""/obj/rope: a coil of rope from Hobb's store."""

from driver.efuns import inherit


class Rope(inherit("/std/item")):
    short = "a coil of rope"
    plural = "coils of rope"
    long = "Thirty feet of good hemp rope, coiled tight and tied with a twist of twine."
    ids = ("rope", "coil", "coil of rope", "hemp rope")
