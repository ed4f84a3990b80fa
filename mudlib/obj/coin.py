"""/obj/coin: a copper coin.  Nothing but a thing to pick up and drop."""

from driver.efuns import inherit


class Coin(inherit("/std/item")):
    short = "a copper coin"
    plural = "copper coins"
    long = "A worn copper penny.  The king on it has lost his nose."
    ids = ("coin", "copper coin", "penny")
