"""/player: the object behind every connection of the fairness tests.

Commands, each answering with one machine-readable line:

    look                 LOOK <n>: this player's n-th look
    echo <text>          ECHO <text> looks=<every player's looks so far>
    turn <tag>           TURN <tag> <n>: the n-th turn line run in the game
    negs                 NEGS <n>: telnet negotiations the master was asked about so far
    slow <ms>            each connect() from now on computes <ms> milliseconds: SLOW <ms>
    connects             CONNECTS <n>: the master's connect() calls so far
    busy <ms>            "BUSY <ms>" in the driver's log, then <ms> milliseconds of
                         computing (the driver does nothing else), then BUSY DONE
    log <text>           "LOG <text>" in the driver's log, then LOGGED
    ask                  ASKED, then the next line is answered: ANSWER <line>
    flood-to <who> <k>   <k> lines of 1 KiB to player <who>, then FLOODED
    wiz                  WIZ (privileged efuns are allowed from now on)
    rate <n>             set_max_commands(n): RATE OK, or RATE ERROR <why>
    getrate              GETRATE <get_max_commands()>
    quit                 remove_interactive
"""

from driver.efuns import (EfunError, MudObject, add_action, debug_message, enable_commands,
                          find_object, find_player, get_max_commands, input_to, object_name,
                          remove_interactive, set_living_name, set_max_commands, tell_object,
                          write)

#: looks run by every player, in the order the driver ran them
LOOKS = [0]
#: `turn` lines run by every player
TURN_LINES = [0]


class Player(MudObject):
    def create(self):
        self.looks = 0
        self.wizard = False

    def logon(self, *args):
        enable_commands()
        set_living_name(object_name(self).replace("/", "").replace("#", ""))
        for verb in ("look", "echo", "turn", "negs", "slow", "connects", "busy", "log", "ask",
                     "flood-to", "wiz", "rate", "getrate", "quit"):
            add_action("cmd_" + verb.replace("-", "_"), verb)
        write(f"LOGON {object_name(self)}\n")

    def cmd_look(self, arg):
        self.looks += 1
        LOOKS[0] += 1
        write(f"LOOK {self.looks}\n")
        return 1

    def cmd_echo(self, arg):
        write(f"ECHO {arg} looks={LOOKS[0]}\n")
        return 1

    def cmd_turn(self, arg):
        TURN_LINES[0] += 1
        write(f"TURN {arg} {TURN_LINES[0]}\n")
        return 1

    def cmd_negs(self, arg):
        write(f"NEGS {find_object('/master').negotiations}\n")
        return 1

    def cmd_slow(self, arg):
        find_object("/master").slow_connect = int(arg) / 1000
        write(f"SLOW {int(arg)}\n")
        return 1

    def cmd_connects(self, arg):
        write(f"CONNECTS {find_object('/master').connects}\n")
        return 1

    def cmd_busy(self, arg):
        debug_message(f"BUSY {int(arg)}")
        find_object("/master").compute(int(arg) / 1000)
        write("BUSY DONE\n")
        return 1

    def cmd_log(self, arg):
        debug_message(f"LOG {arg}")
        write("LOGGED\n")
        return 1

    def cmd_ask(self, arg):
        write("ASKED\n")
        input_to(self.answer)
        return 1

    def answer(self, line):
        write(f"ANSWER {line}\n")

    def cmd_flood_to(self, arg):
        who, count = arg.split()
        target = find_player(who)
        line = "x" * 1023 + "\n"
        for _ in range(int(count)):
            tell_object(target, line)
        write("FLOODED\n")
        return 1

    def cmd_wiz(self, arg):
        self.wizard = True
        write("WIZ\n")
        return 1

    def cmd_rate(self, arg):
        try:
            set_max_commands(int(arg), self)
        except EfunError as exc:
            write(f"RATE ERROR {exc}\n")
        else:
            write("RATE OK\n")
        return 1

    def cmd_getrate(self, arg):
        write(f"GETRATE {get_max_commands(self)}\n")
        return 1

    def cmd_quit(self, arg):
        remove_interactive(self)
        return 1
