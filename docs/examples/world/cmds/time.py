"""/cmds/time: the 'time' command, in a file of its own.

A verb that no action takes reaches /master's fallback_command, which
calls main(player, arg) here; the class docstring below is the command's
help page ('help time'), and 'help' lists it under `group`."""

from driver.efuns import MudObject, call_other, environment

CLOCK = "/daemon/clock"

# What each phase of /daemon/clock's day looks like from the street.
SCENES = {
    "dawn": "Shutters bang open along the square, the baker's boy runs past with "
            "a tray on his head, and the ravens on the watchtower argue about "
            "who gets up first.",
    "day": "The town is about its business: carts on the cobbles, hammering "
           "from the smithy, and Mags shouting at someone in the tavern.",
    "dusk": "The lamplighter is making his rounds with his long pole, and the "
            "smell of mutton stew drifts out of the Crooked Lantern.",
    "night": "The streets are empty but for the watch, and the only light is "
             "the yellow of the lamps and the glow from the tavern's windows.",
}


class Time(MudObject):
    """Tell the time of day in Ravenmoor.  Dawn, day, dusk and night
    follow each other as you play; under the open sky you can also see
    what the light is like."""

    usage = "time"
    group = "Looking"

    def main(self, player, arg):
        phase = call_other(CLOCK, "query_phase")
        room = environment(player)
        lines = [f"%^HEADING%^It is {phase} in Ravenmoor.%^RESET%^",
                 SCENES[phase]]     # one long line: tell() wraps it to the window
        if room is not None and call_other(room, "query_outdoors"):
            lines.append(f"%^WEATHER%^{call_other(CLOCK, 'query_sky')}%^RESET%^")
        else:
            lines.append("  (You are indoors; step outside to see the sky.)")
        player.tell("\n".join(lines) + "\n")
