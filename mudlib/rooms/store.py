"""/rooms/store: Hobb's general store on Market Lane.

Hobb sells what his slate lists ('list', 'buy rope') for copper coins, and
buys the same things back at half price ('sell candle').  Money is the
coins themselves: a price is paid with that many /obj/coin clones, which go
into Hobb's till (the coins he carries), and what he pays for a thing comes
out of it.  No coin is made or lost by trading, so an empty till buys
nothing until someone has bought something, or until the store's reset
tops it up to ten again (the town's custom).  Without Hobb behind the
counter there is no trade at all; a reset brings him back if he is gone.
"""

from driver.efuns import (add_action, all_inventory, call_other, clone_object, destruct,
                          environment, inherit, load_name, load_object, move_object, present,
                          this_player)

COIN = "/obj/coin"
GRAMMAR = "/std/grammar"
# what the slate lists: a word a player buys it by -> (program, price in copper)
WARES = {
    "rope": ("/obj/rope", 4),
    "candle": ("/obj/candle", 1),
    "cudgel": ("/obj/cudgel", 6),
}
# program -> price: what Hobb buys back (at resale())
PRICES = {program: price for program, price in WARES.values()}
# coins in Hobb's till when the store opens, and after each reset
TILL = 10


def coins_of(ob):
    return [thing for thing in all_inventory(ob) if load_name(thing) == COIN]


def copper(count):
    return "a copper coin" if count == 1 else \
        f"{load_object(GRAMMAR).number_word(count)} copper coins"


def resale(price):
    """What Hobb pays for a thing he sells for `price`: half, at least a coin."""
    return max(1, price // 2)


class Store(inherit("/std/room")):
    short = "Hobb's general store"
    long = """
        Shelves climb every wall to the ceiling, crammed with candles,
        coils of rope, sacks of salt and jars of nails sorted by size.  A
        counter worn pale by coins divides the shop, and behind it hangs a
        slate of prices nobody has wiped in years.  The door south opens
        onto Market Lane.
    """
    exits = {"south": "/rooms/market"}
    items = {
        "shelves": "Everything a household needs, and several things it doesn't.",
        "slate": "Rope, 4 copper.  Candles, 1 copper.  Cudgels, 6 copper.  Credit, no.  "
                 "('list', 'buy', 'sell')",
        "counter": "Polished by a thousand elbows and one very careful storekeeper.",
    }
    ids = ("store", "shop")
    residents = ("/npc/hobb",)

    def restock(self):
        """Hobb back if he is gone, and his till topped up to TILL coins."""
        super().restock()
        keeper = self.keeper()
        if keeper is not None:
            for _ in range(TILL - len(coins_of(keeper))):
                move_object(clone_object(COIN), keeper)

    def init(self):
        super().init()
        add_action("cmd_list", "list")
        add_action("cmd_buy", "buy")
        add_action("cmd_sell", "sell")

    # -- trade ---------------------------------------------------------------

    def keeper(self):
        """Hobb, if he is behind the counter."""
        keeper = present("hobb", self)
        return keeper if keeper is not None and environment(keeper) is self else None

    def at_the_counter(self, player, arg=None, ask=None):
        """Hobb, ready to trade; or None, once `player` has been told why
        not: nobody is at the counter, or (with `ask`, the question to put
        then) `arg` names nothing to trade."""
        keeper = self.keeper()
        if keeper is None:
            call_other(player, "tell", "Nobody is behind the counter to trade with.\n")
        elif ask is not None and not arg:
            call_other(player, "tell", ask + "\n")
        else:
            return keeper
        return None

    def ware(self, words):
        """The slate's word for what a player asked for ('some rope',
        'candles'), or None."""
        word = " ".join(words.lower().split())
        for article in ("a ", "an ", "some ", "the "):
            if word.startswith(article):
                word = word[len(article):]
                break
        if word in WARES:
            return word
        if word.endswith("s") and word[:-1] in WARES:
            return word[:-1]
        return None

    def cmd_list(self, arg):
        player = this_player()
        if self.at_the_counter(player) is None:
            return 1
        lines = []
        for program, price in WARES.values():
            short = call_other(program, "short_description")
            lines.append(f"  %^ITEM%^{short}%^RESET%^: {copper(price)}"
                         f" (Hobb buys it back for {copper(resale(price))})\n")
        call_other(player, "tell", "Hobb's slate reads:\n" + "".join(lines)
                   + "'buy <thing>' to buy, 'sell <thing>' to sell.\n")
        return 1

    def cmd_buy(self, arg):
        player = this_player()
        keeper = self.at_the_counter(player, arg, "Buy what?  ('list' shows what Hobb sells.)")
        if keeper is None:
            return 1
        word = self.ware(arg)
        if word is None:
            call_other(keeper, "speak", "Not something I stock, I'm afraid.")
            return 1
        program, price = WARES[word]
        purse = coins_of(player)
        if len(purse) < price:
            call_other(keeper, "speak", f"That's {copper(price)}, and you have "
                       f"{copper(len(purse))}." if purse else f"That's {copper(price)}.  Credit, no.")
            return 1
        for coin in purse[:price]:
            move_object(coin, keeper)
        thing = clone_object(program)
        move_object(thing, player)
        short = call_other(thing, "short_description")
        name = call_other(player, "query_name")
        call_other(player, "tell", f"You pay Hobb {copper(price)} and he hands you {short}.\n")
        self.tell_here(f"{name} buys {short} from Hobb.\n", (player,))
        return 1

    def cmd_sell(self, arg):
        player = this_player()
        keeper = self.at_the_counter(player, arg, "Sell what?  (sell <thing you carry>)")
        if keeper is None:
            return 1
        word = self.ware(arg) or " ".join(arg.lower().split())
        thing = present(word, player)
        if thing is None:
            call_other(player, "tell", "You carry no such thing.\n")
            return 1
        if load_name(thing) not in PRICES:
            call_other(keeper, "speak", "I've no use for that, thank you.")
            return 1
        if call_other(thing, "drop"):
            call_other(player, "tell", "You can't let go of it.\n")
            return 1
        offer = resale(PRICES[load_name(thing)])
        till = coins_of(keeper)
        if len(till) < offer:
            call_other(keeper, "speak", "The till's too light for that today.  "
                       "Come back when I've sold something.")
            return 1
        for coin in till[:offer]:
            move_object(coin, player)
        short = call_other(thing, "short_description")
        name = call_other(player, "query_name")
        destruct(thing)
        call_other(player, "tell", f"Hobb takes {short} and pays you {copper(offer)}.\n")
        self.tell_here(f"{name} sells {short} to Hobb.\n", (player,))
        return 1
