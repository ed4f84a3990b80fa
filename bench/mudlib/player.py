"""/player of the benchmark world: a greeting line, and an echo per command."""

from driver.efuns import MudObject, write


class Player(MudObject):
    def logon(self, result=None, ob=None):
        if result is None or result >= 0:
            write("Welcome to the bench.\n")

    def process_input(self, line):
        write(f"echo {line}\n")
