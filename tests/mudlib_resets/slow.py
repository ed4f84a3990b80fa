"""/slow: a /counter that resets again 30 s after each reset."""

from driver.efuns import inherit


class Slow(inherit("/counter")):
    answer = 30
    first = None
