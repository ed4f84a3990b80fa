"""/player: the object behind every test connection.

Its commands are its own actions (add_action in logon), each answering
with machine-readable lines.  `py <code>` runs Python with every efun in
scope (`me` is this object, `here` its room) and prints `PY <repr of _>`,
or `PYERR <error>`; that lets a test exercise any efun without a command
for each.
"""

import driver.efuns as efuns
from driver.efuns import (EfunError, MudObject, add_action, enable_commands, environment,
                          input_to, move_object, notify_fail, object_name, query_verb,
                          set_living_name, this_player, write)

START = "/room"


class Player(MudObject):
    def create(self):
        self.wizard = False
        self.name = None
        self.persistent_value = None

    persistent = ("name", "persistent_value")

    def logon(self, *args):
        enable_commands()
        for verb in ("py", "wiz", "name", "go", "raise", "ask", "ask2", "keys"):
            add_action("cmd_" + verb, verb)
        add_action("cmd_shout", "!", 2)            # AA_NOSPACE: !text
        add_action("cmd_examine", "examine", -2)    # ex, exa, ... examine
        move_object(self, START)
        write(f"LOGON {object_name(self)}\n")

    def query_name(self):
        return self.name or object_name(self)

    def id(self, word):
        return word == self.name

    def process_input(self, line):
        if line.startswith("alias "):
            return line[len("alias "):]     # MudOS: a string replaces the line
        if line == "swallow":
            write("SWALLOWED\n")
            return 1                        # handled: no parsing, no What?
        return None

    def catch_tell(self, text):
        pass

    # -- commands ------------------------------------------------------------

    def cmd_py(self, arg):
        space = {name: getattr(efuns, name) for name in efuns.__all__}
        space.update(me=self, here=environment(self), _=None, __name__="mudlib:/player(py)")
        try:
            code = (arg or "").replace("\\n", "\n")    # a literal \n starts a new line
            exec(compile(code, "<py>", "exec"), space)  # noqa: S102 - test mudlib
        except EfunError as exc:
            write(f"PYERR EfunError: {exc}\n")
            return 1
        except Exception as exc:  # noqa: BLE001
            write(f"PYERR {type(exc).__name__}: {exc}\n")
            return 1
        write(f"PY {space['_']!r}\n")
        return 1

    def cmd_wiz(self, arg):
        self.wizard = True
        write("WIZ\n")
        return 1

    def cmd_name(self, arg):
        self.name = arg
        set_living_name(arg)
        write(f"NAME {arg}\n")
        return 1

    def cmd_go(self, arg):
        if not arg:
            return notify_fail("Go where?\n")
        move_object(self, arg)
        write(f"MOVED {object_name(environment(self))}\n")
        return 1

    def cmd_raise(self, arg):
        raise RuntimeError("deliberate failure in an action")

    def cmd_shout(self, arg):
        write(f"SHOUT verb={query_verb()!r} arg={arg!r}\n")
        return 1

    def cmd_examine(self, arg):
        write(f"EXAMINE verb={query_verb()!r} arg={arg!r}\n")
        return 1

    # -- input_to ----------------------------------------------------------------

    def cmd_ask(self, arg):
        flags = int(arg or 0)
        input_to("got_answer", flags, "first")
        write(f"ASKED flags={flags}\n")
        return 1

    def cmd_ask2(self, arg):
        input_to("got_answer", 0, "outer")
        input_to("got_other", 0, "inner")
        write("ASKED TWICE\n")
        return 1

    def got_answer(self, line, tag):
        write(f"ANSWER {tag} {line!r} this_player={object_name(this_player())}\n")

    def got_other(self, line, tag):
        write(f"OTHER {tag} {line!r}\n")

    def ed_done(self):
        write(f"ED DONE this_player={object_name(this_player())}\n")

    def cmd_keys(self, arg):
        input_to("got_key", efuns.INPUT_CHARMODE, int(arg or 3))
        write("KEYS\n")
        return 1

    def got_key(self, key, left):
        write(f"KEY {key!r}\n")
        if left > 1:
            input_to("got_key", efuns.INPUT_CHARMODE, left - 1)
