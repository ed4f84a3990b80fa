"""/obj/corpse: what a death leaves behind, holding what the dead carried.

/daemon/combat makes one where someone died, names it after them ("the
corpse of a wild dog", "the corpse of Alice") and moves into it whatever
they carried.  It is too heavy to carry, but whoever stands by it may take
from it: the corpse gives them 'get <thing> from corpse' and 'get all from
corpse' ('take' too), actions added in its init(), the LP way, since the
body's own 'get' knows nothing of containers.  Any other 'get' it leaves
to the body.

After DECAY_SECONDS it crumbles, and what it still held is left on the
ground: a dead player who comes back late finds their things there.
"""

from driver.efuns import (add_action, all_inventory, call_other, call_out, destruct,
                          environment, inherit, load_object, move_object, present,
                          this_player)

GRAMMAR = "/std/grammar"
DECAY_SECONDS = 300


def capitalised(text):
    """`text` with its first letter a capital, the rest as it was ("the
    corpse of Alice" -> "The corpse of Alice")."""
    return text[:1].upper() + text[1:]


class Corpse(inherit("/std/item")):
    short = "a corpse"
    long = "Dead, and past caring."
    ids = ("corpse", "body", "remains")

    def create(self):
        super().create()
        self.whose = "someone"

    def set_remains(self, whose):
        """Name the corpse after the dead (`whose`: "a wild dog", "Alice"),
        and start it decaying."""
        self.whose = whose
        self.short = f"the corpse of {whose}"
        plain = whose.lower().removeprefix("a ").removeprefix("an ")
        self.ids = (*Corpse.ids, f"corpse of {whose.lower()}", f"corpse of {plain}",
                    f"{plain} corpse")
        call_out("decay", DECAY_SECONDS)

    def long_description(self):
        held = all_inventory(self)
        inside = (f"It still holds %^ITEM%^{load_object(GRAMMAR).list_things(held)}"
                  "%^RESET%^: 'get all from corpse'." if held else "Nothing is left on it.")
        return (f"The body of {self.whose} lies where it fell, "
                f"already cold.  {inside}\n")

    def get(self):
        return False    # too heavy to carry off; take what it holds instead

    def decay(self):
        room = environment(self)
        held = all_inventory(self)
        if room is not None:
            lie = "lies" if len(held) == 1 else "lie"
            left = (f"  {capitalised(load_object(GRAMMAR).list_things(held))} {lie} "
                    "where it was." if held else "")
            call_other(room, "tell_here", f"{capitalised(self.short)} crumbles into dust."
                       f"{left}\n")
            for thing in held:
                move_object(thing, room)
        destruct(self)

    # -- taking what it holds ---------------------------------------------------

    def init(self):
        add_action("cmd_get_from", "get")
        add_action("cmd_get_from", "take")

    def cmd_get_from(self, arg):
        """'get <thing>|all from <corpse>'.  Anything else ('get apple') is
        not ours: 0, and the body's 'get' takes it."""
        what, sep, source = (arg or "").lower().rpartition(" from ")
        what, source = " ".join(what.split()), " ".join(source.split())
        player = this_player()
        room = environment(player)
        if not sep or not what or room is None or present(source, room) is not self:
            return 0
        if what == "all":
            things = [thing for thing in all_inventory(self) if call_other(thing, "get")]
            if not things:
                call_other(player, "tell", f"{capitalised(self.short)} holds nothing you "
                           "can take.\n")
                return 1
        else:
            thing = present(what, self)
            if thing is None:
                call_other(player, "tell", f"{capitalised(self.short)} holds no {what}.\n")
                return 1
            if not call_other(thing, "get"):
                call_other(player, "tell", "You can't take that.\n")
                return 1
            things = [thing]
        listed = load_object(GRAMMAR).list_things(things)
        for thing in things:
            move_object(thing, player)
        call_other(player, "tell", f"You take {listed} from {self.short}.\n")
        call_other(room, "tell_here", f"{call_other(player, 'query_name')} takes {listed} "
                   f"from {self.short}.\n", (player,))
        return 1
