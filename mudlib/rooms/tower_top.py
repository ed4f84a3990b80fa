"""/rooms/tower_top: the windy top of the watchtower."""

from driver.efuns import inherit


class TowerTop(inherit("/std/room")):
    short = "The top of the watchtower"
    long = """
        Wind tears at you as you step out onto the platform at the top of
        the tower.  A waist-high parapet runs around the edge, its merlons
        white with the droppings of the ravens that roost here and eye you
        without fear.  Below, the roofs of Ravenmoor huddle around the
        square; beyond the wall the moor stretches grey and endless to the
        horizon.  The stair leads back down.
    """
    exits = {
        "down": "/rooms/tower",
    }
    items = {
        "ravens": """
            A dozen of them, black and glossy, watching you with the bright
            patience of creatures who have seen many visitors come and go.
        """,
        "parapet": "Chest-high stone, cold and rough.  Do not lean too far.",
        "roofs": "Slate and thatch, chimneys smoking.  The fountain glints in the square.",
        "moor": "From up here you can see the standing stone, and a second one you never noticed.",
    }
    ids = ("tower", "top", "platform")
