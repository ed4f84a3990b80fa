"""/rooms/void: where players wait when the room they stood in is
destructed and the square cannot take them (see /master's
prepare_destruct)."""

from driver.efuns import inherit


class Void(inherit("/std/room")):
    short = "The void"
    long = """
        Grey nothing in every direction.  Something is being rebuilt around
        you.  A faint path leads down, back to the town square.
    """
    exits = {
        "down": "/rooms/square",
    }
