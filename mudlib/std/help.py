"""/std/help: the help pages that are not about one command.

A command's page is its method's docstring in /std/player; this object
owns the topics ('help tls', 'help colour', ...): subjects a player asks
about that no single command covers.  Pages use the world's colour markup
and are written as paragraphs; the player's body wraps them.
"""

from driver.efuns import MudObject, call_other

SOUL = "/daemon/soul"

TOPICS = {
    "tls": """%^HEADING%^TLS: an encrypted connection%^RESET%^
On the plain port, everything you type, your password included, crosses the network as plain text that anyone on the way can read.  This game also listens on a TLS port, where the connection is encrypted from the first byte, as a bank's web site is.
'tls' tells you which you have, the cipher if it is encrypted, and how to connect with TLS if it is not.  Most MUD clients can: TinTin++ with '#ssl', KBtin with '#sslsession', Mudlet with the "Secure" box of a profile, tf5 with '/connect -x', Blightmud with '/connect <host> <port> true'.  In a browser, the page's address tells: https:// is encrypted.
""",
    "colour": """%^HEADING%^Colour%^RESET%^
The game colours room titles, exits, speech, tells and emotes for clients that say they show colour.  Your client tells the game when it connects: 16 colours (ANSI), 256, or true colour.  A client that says nothing gets no colour at all, so no stray escape codes clutter its screen.
'colour on' asks for colour even if your client did not announce it (16 colours, unless it said more); 'colour off' turns it off; 'colour auto' goes back to what your client says.  Your choice is saved with your character.  'colour' alone shows what you have.
Lines are also wrapped to the width of your window, as your client reports it (80 columns if it does not), and follow it when you resize.
""",
    "link-death": """%^HEADING%^Link-death%^RESET%^
If your connection drops without 'quit', your body stays in the world for a while, standing still: 'who' shows you as link-dead.  Log in again, on either port, and you take it up where you left it.  Tells sent to you meanwhile are given to you when you come back.
""",
    "world": """%^HEADING%^Ravenmoor%^RESET%^
A walled town on the edge of a moor.  The town square is its heart: the Crooked Lantern tavern, the herb garden, the old watchtower, the market lane and the south gate.  Beyond the gate the moor road leads to a shepherd's hut, a standing stone and a bog best avoided, and past the bog to an old barrow that something still guards.  Day turns to night as you play.
People live here: ask them about things ('ask mags about ale').  Walking costs stamina ('score'); it comes back as you rest, and food helps.  Out on the moor there are creatures you can fight ('help combat').
""",
    "combat": """%^HEADING%^Fighting%^RESET%^
'kill dog' attacks a creature in the room with you, and it fights back.  The fight goes on by itself, a round every few seconds: in each round each of you strikes once, and a blow lands or misses.  It ends when one of you dies, or when one of you leaves the room.  Players never fight each other, and the town's people (Mags, Hobb, Tam and the rest) will have none of it; only the moor's creatures can be fought.
Before you start, 'consider dog' tells how dangerous it looks to you as you are now; wounded, you are the weaker.  'score' shows your health, and your client's gauges follow it.  Health comes back slowly as you rest, and food helps.
'flee' runs through an exit chosen at random; it costs stamina, and your opponent may cut you off.  With 'wimpy 30' you run by yourself when your health falls below 30% of its most; 'wimpy off' fights to the end.
You fight with your fists unless you 'wield' a weapon you carry ('wield cudgel'; 'unwield' puts it away): it strikes harder, and letting go of it (dropping it, giving it away) leaves you with your fists again.  Hobb sells cudgels; the barrow hides something better.
Some creatures attack whoever comes near, a moment after they arrive.  The wild dog on the moor road is a fair first fight; whatever guards the barrow is not.
A creature that dies leaves its corpse, holding what it carried: 'get all from corpse', or 'get coin from corpse'.  Corpses crumble after a few minutes, leaving what they held on the ground.
If you die, you wake in the Crooked Lantern with a third of your health back.  What you carried stays with your corpse where you fell: go back for it.
""",
    "trade": """%^HEADING%^Buying and selling%^RESET%^
Money in Ravenmoor is copper coins, and you carry it: pick coins up where you find them ('get coin'), and 'inventory' counts them.  Hobb's general store, north of Market Lane, sells what his slate lists: 'list' shows the wares and their prices, 'buy rope' pays for one with the coins you carry.  Hobb buys the same things back for half their price, at least a coin: 'sell candle'.  He pays out of his till, and a till that is empty pays nothing until somebody buys something.  Hobb must be behind the counter for any of it.
""",
}
ALIASES = {"color": "colour", "linkdead": "link-death", "link-dead": "link-death",
           "ssl": "tls", "ravenmoor": "world", "map": "world",
           "buy": "trade", "sell": "trade", "list": "trade", "store": "trade", "shop": "trade",
           "money": "trade", "coins": "trade", "copper": "trade",
           "fight": "combat", "fighting": "combat", "death": "combat", "dying": "combat",
           "corpse": "combat", "pk": "combat", "weapon": "combat", "weapons": "combat"}


class Help(MudObject):
    def query_topics(self):
        return sorted([*TOPICS, "socials"])

    def query_topic(self, word):
        """The page on `word`, or None."""
        word = word.lower().strip()
        if word in ("socials", "social", "soul"):
            return self._socials()
        return TOPICS.get(ALIASES.get(word, word))

    def _socials(self):
        """The socials page: the list comes from /daemon/soul itself."""
        verbs = "  ".join(call_other(SOUL, "query_socials"))
        return ("%^HEADING%^Socials%^RESET%^\n"
                "Things you do, alone or at someone here: 'smile', 'wave alice', "
                "'bow mags deeply'.  Say how with a word of your own, or the start of one "
                "the game knows ('smile hap' smiles happily).  People in the town may "
                "answer.  'help <social>' shows what one looks like.\n"
                f"{verbs}\n")
