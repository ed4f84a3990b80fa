"""/rooms/tavern: the Crooked Lantern, the tavern west of the square."""

from driver.efuns import clone_object, inherit, move_object


class Tavern(inherit("/std/room")):
    short = "The Crooked Lantern"
    long = """
        A low room under smoke-blackened beams, crowded with scarred tables
        and mismatched stools.  A fire crackles in a hearth wide enough to
        roast an ox, and the air smells of woodsmoke, spilled ale and
        something stewing.  Behind the bar a battered lantern hangs askew
        from a hook, the tavern's namesake.  A notice board hangs by the
        door east, which leads back out to the square, and a narrow stair
        climbs to the loft.
    """
    residents = ("/npc/mags",)
    exits = {
        "east": "/rooms/square",
        "up": "/rooms/loft",
    }
    items = {
        "lantern": """
            Dented and hanging at a tilt nobody has ever corrected.  The
            regulars say it was crooked when the tavern opened and will be
            crooked when it falls down.
        """,
        "hearth": """
            The fire has burned a black crescent into the flagstones.  A pot
            the size of a cartwheel hangs over it.
        """,
        "fire": "It crackles and spits, throwing shifting light over the room.",
        "bar": """
            A long slab of oak, sticky in places and polished by elbows in
            others.  Carved into it: 'Pay before you sing'.
        """,
        "tables": "Scarred with knife marks, old games of mill and initials.",
    }
    ids = ("tavern", "lantern inn")

    def create(self):
        super().create()
        move_object(clone_object("/obj/board"), self)
