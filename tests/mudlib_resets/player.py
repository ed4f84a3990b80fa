"""/player of the reset test mudlib: a line is a test's command.

    watch <path>   load <path> and hear about its resets
    next <path>    what set_next_reset(0) says in <path>: seconds to its next reset
    soon <path>    <path> calls set_next_reset(0.3)
    resets         driver_info("resets")
    crowd <n> <s>  <n> clones of /crowd, all due for a reset in <s> seconds
    churn <n>      <n> clones of /crowd made and destructed, one after another
    schedule       driver_info("reset_schedule")
    objects        driver_info("objects")

(An answer ends in " end", so a test knows when it has all of it.)
"""

from driver.efuns import (MudObject, call_other, clone_object, destruct, driver_info,
                          this_player, write)


class Player(MudObject):
    def logon(self):
        write("Welcome to the reset tests.\n")

    def process_input(self, line):
        verb, _, path = line.strip().partition(" ")
        if verb == "watch":
            call_other(path, "watch", this_player())
            write(f"watching {path}\n")
        elif verb == "next":
            write(f"next {call_other(path, 'query_next')} end\n")
        elif verb == "soon":
            write(f"soon {call_other(path, 'soon')} end\n")
        elif verb == "resets":
            write(f"resets {driver_info('resets')} end\n")
        elif verb == "churn":
            for _ in range(int(path)):
                destruct(clone_object("/crowd"))
            write(f"churn {path} end\n")
        elif verb in ("schedule", "objects"):
            write(f"{verb} {driver_info('reset_schedule' if verb == 'schedule' else verb)} end\n")
        elif verb == "crowd":
            count, seconds = path.split()
            self.crowd = [clone_object("/crowd") for _ in range(int(count))]
            for ob in self.crowd:
                call_other(ob, "due_in", float(seconds))
            write(f"crowd {len(self.crowd)} end\n")
        return 1
