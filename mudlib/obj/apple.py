"""/obj/apple: an apple from the garden's tree.  It can be eaten: the
apple gives whoever holds it, or stands beside it, the verb 'eat' (an
action added in init(), the LP way)."""

from driver.efuns import (add_action, destruct, environment, inherit, notify_fail,
                          say, this_player, write)


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
        write("You eat the apple.  Crisp, sweet and a little sour.\n")
        say(f"{player.query_name()} eats an apple.\n")
        destruct(self)
        return 1
