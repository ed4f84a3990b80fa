"""/rooms/well: the well yard behind the Crooked Lantern, northwest of the
square.  Its well gives water: the bucket here asks the room for it."""

from driver.efuns import clone_object, inherit, move_object


class Well(inherit("/std/room")):
    short = "The well yard"
    long = """
        A cobbled yard lies in the lee of the tavern's back wall, and in
        the middle of it stands the town's old well: a ring of mossy stones
        under a little roof of slates, with a windlass and a fraying rope.
        Washing hangs from a line between two windows.  An archway leads
        southeast, back to the square.
    """
    area = "Ravenmoor"          # Room.Info's "area": mappers group rooms by it
    outdoors = True             # Room.Info's "environment"; the sky shows in 'look'
    exits = {"southeast": "/rooms/square"}
    items = {
        "well": """
            Cold air breathes up from the dark.  Far below, water glints.
            You could fill a bucket here.
        """,
        "windlass": "A wooden drum with an iron crank, worn smooth by many hands.",
        "rope": "Fraying, but it has held for longer than you have been alive.",
        "washing": "Shirts, sheets and one enormous pair of red stockings.",
    }
    ids = ("yard", "well yard")

    def create(self):
        super().create()        # the exits and items become this room's own
        move_object(clone_object("/obj/bucket"), self)
        move_object(clone_object("/npc/nell"), self)

    def query_water(self):
        """Whether a container can be filled here (the bucket asks)."""
        return True
