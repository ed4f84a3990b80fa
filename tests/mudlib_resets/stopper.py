"""/stopper: a /counter that resets no more once it has reset."""

from driver.efuns import inherit


class Stopper(inherit("/counter")):
    answer = -1
    first = None
