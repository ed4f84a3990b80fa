"""/std/rate_limited: for daemons that let each player do a thing only so often.

The channels, the reports and the mail each reach other people, so each
lets one player act a few times in a window of time and no more: one
player holding a key down must not flood everyone's screen, fill the disk
or bury everyone else's words.  A daemon inherits this and asks
may_act(name, limit, window) before it acts; what it counts lives only in
memory (a restart forgives everyone).
"""

from driver.efuns import MudObject, time


class RateLimited(MudObject):
    def may_act(self, name, limit, window):
        """Whether the player called `name` may act now, having acted fewer
        than `limit` times in the last `window` seconds; if so, this act is
        counted."""
        # Made on first use rather than in create(): a daemon updated in
        # place keeps its attributes and runs no create().
        acted = self.__dict__.setdefault("acted", {})
        now = time()
        recent = [when for when in acted.get(name, ()) if now - when < window]
        if len(recent) >= limit:
            acted[name] = recent
            return False
        acted[name] = [*recent, now]
        return True
