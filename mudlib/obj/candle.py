"""/obj/candle: a tallow candle from Hobb's store."""

from driver.efuns import inherit


class Candle(inherit("/std/item")):
    short = "a tallow candle"
    long = "A stubby yellow candle that smells faintly of mutton.  It would burn for an evening."
    ids = ("candle", "tallow candle")
