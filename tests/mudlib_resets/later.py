"""/later: a /counter that resets first 60 s after create()."""

from driver.efuns import inherit


class Later(inherit("/counter")):
    answer = None
    first = 60
