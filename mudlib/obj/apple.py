"""/obj/apple: an apple from the garden's tree.  It can be eaten, which
gives health and stamina back: the apple gives whoever holds it, or stands
beside it, the verb 'eat' (an action added in init(), the LP way)."""

from driver.efuns import (add_action, call_other, destruct, environment, inherit,
                          notify_fail, this_player)


class Apple(inherit("/std/item")):
    short = "a red apple"
    long = "Small, red and a little wrinkled, but it smells sweet."
    ids = ("apple", "red apple")

    def init(self):
        add_action("cmd_eat", "eat")

    def cmd_eat(self, arg):
        if not arg or not self.id(arg):
            return notify_fail("Eat what?\n")
        player = this_player()
        if environment(self) is not player and environment(self) is not environment(player):
            return notify_fail("You have no apple.\n")
        call_other(player, "tell", "You eat the apple.  Crisp, sweet and a little sour.\n")
        call_other(environment(player), "tell_here", f"{player.query_name()} eats an "
                   "apple.\n", (player,))
        call_other(player, "refresh", 3, 20)    # food gives health and stamina back
        destruct(self)
        return 1
