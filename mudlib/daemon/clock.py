"""/daemon/clock: day and night over Ravenmoor.

The clock owns the time of day.  It moves on by a call_out, one phase
(dawn, day, dusk, night) every PHASE_SECONDS, tells the players under the
open sky when the light changes, and answers outdoor rooms that ask what
the sky looks like now.  It starts when something first asks it (the first
outdoor room a player looks at), as LP daemons do.
"""

from driver.efuns import MudObject, call_other, call_out, environment, users

# Real seconds one phase of the day lasts: a whole day in forty minutes.
PHASE_SECONDS = 600

PHASES = (
    ("dawn", "A grey dawn is breaking over the moor.",
     "The sky pales in the east; somewhere a cock crows."),
    ("day", "Pale daylight lies over everything.",
     "The sun hauls itself clear of the moor."),
    ("dusk", "Dusk is falling, and the lamps are being lit.",
     "The light fails; the lamplighter makes his rounds."),
    ("night", "It is night; the stars are sharp and cold.",
     "Night falls.  The wind off the moor grows colder."),
)


class Clock(MudObject):
    def create(self):
        self.phase = 1      # the game starts in daylight
        call_out("advance", PHASE_SECONDS)

    def query_phase(self):
        return PHASES[self.phase][0]

    def query_is_night(self):
        return self.query_phase() == "night"

    def query_sky(self):
        """One sentence about the light, for outdoor rooms' descriptions."""
        return PHASES[self.phase][1]

    def advance(self):
        self.phase = (self.phase + 1) % len(PHASES)
        call_out("advance", PHASE_SECONDS)
        message = f"%^WEATHER%^{PHASES[self.phase][2]}%^RESET%^\n"
        for body in users():
            room = environment(body)
            if room is not None and call_other(room, "query_outdoors"):
                call_other(body, "tell", message)
