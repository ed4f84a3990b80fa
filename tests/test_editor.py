"""ed, the line editor: its command language, and a wizard's files in the shipped world.

The first half drives ``driver.world.editor.Editor`` directly (it is
sans-I/O: lines in, text out, files through two functions).  The second
plays the shipped world over real sockets: an administrator writes a room
with ``ed``, ``update``s it and walks in; a wizard who is not one reads code
but saves nothing and cannot read /data; ``!`` runs a game command from
inside the editor; an input_to started there comes first; and a buffer
whose connection drops is saved where the master says.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import SHIPPED_MUDLIB
from driver.world.editor import MAX_BUFFER, Editor, FileRefused
from test_platform import connect
from test_platform import start as start_platform
from test_world import IAC_GA, create_character, do, plain_player, tls_player

ED_PROMPT = b":" + IAC_GA
INSERT_PROMPT = b"*" + IAC_GA


# --- the command language, sans I/O ----------------------------------------------------

class Files(dict):
    """Files by path, as the editor's read and write functions see them."""

    refused: set[str]

    def __init__(self, files: dict[str, str] | None = None) -> None:
        super().__init__(files or {})
        self.refused = set()

    def read(self, path: str) -> str | None:
        if path in self.refused:
            raise FileRefused(f"ed: read access to {path} denied")
        return self.get(path)

    def write(self, path: str, text: str, append: bool) -> None:
        if path in self.refused:
            raise FileRefused(f"ed: write access to {path} denied")
        self[path] = (self.get(path, "") if append else "") + text


ROOM = "class Garden(Room):\n    def create(self):\n        self.short = 'A garden'\n"


def editor(files: Files, path: str | None = "/rooms/garden.py") -> tuple[Editor, str]:
    ed = Editor(files.read, files.write, resolve=lambda name: name if name.startswith("/")
                else "/rooms/" + name)
    return ed, ed.start(path, files.read(path) if path else None)


def run(ed: Editor, *lines: str) -> str:
    return "".join(ed.feed(line) for line in lines)


def test_open_print_and_addresses():
    files = Files({"/rooms/garden.py": ROOM})
    ed, opened = editor(files)
    assert opened == "/rooms/garden.py, 3 lines\n"
    assert ed.current == 3 and ed.prompt == ":"
    assert run(ed, "1,$p") == ROOM
    assert run(ed, ",p") == ROOM
    assert run(ed, "1") == "class Garden(Room):\n"
    assert run(ed, "") == "    def create(self):\n"      # an empty line: the next one
    assert run(ed, "-") == "class Garden(Room):\n"
    assert run(ed, "$") == "        self.short = 'A garden'\n"
    assert run(ed, "=") == "3\n"
    assert run(ed, "/create(/") == "    def create(self):\n"  # ( is a plain character
    assert run(ed, "?Garden?") == "class Garden(Room):\n"
    assert run(ed, "//+1p") == "    def create(self):\n"    # // repeats the last pattern
    assert run(ed, "n", "1,2p") == ("Line numbers on.\n   1  class Garden(Room):\n"
                                    "   2      def create(self):\n")
    assert run(ed, "n", "$l") == "Line numbers off.\n        self.short = 'A garden'$\n"
    assert run(ed, "9p") == "Line out of range.\n"
    assert run(ed, "3,1p") == "The range runs backwards.\n"
    assert run(ed, "/nowhere/") == "Pattern not found.\n"
    assert run(ed, "o") == "Unrecognized or failed command.\n"
    assert not ed.modified


def test_insert_change_delete_join_move_copy():
    files = Files({"/rooms/garden.py": ROOM})
    ed, _ = editor(files)
    assert run(ed, "a") == "" and ed.prompt == "*" and ed.inserting
    assert run(ed, "        self.long = 'Roses.'", ".") == ""
    assert ed.prompt == ":" and ed.current == 4 and ed.modified
    run(ed, "1i", "# The garden.", ".")
    assert ed.lines[:2] == ["# The garden.", "class Garden(Room):"]
    run(ed, "1c", "# A garden behind the tavern.", ".")
    assert ed.lines[0] == "# A garden behind the tavern."
    run(ed, "1d")
    assert ed.lines[0] == "class Garden(Room):" and ed.current == 1
    run(ed, "3t$")
    assert ed.lines[-1] == "        self.short = 'A garden'"
    run(ed, "$m0")
    assert ed.lines[0] == "        self.short = 'A garden'" and ed.current == 1
    run(ed, "1d", "$d")
    assert ed.text() == ROOM
    run(ed, "1,2j")
    assert ed.lines[0] == "class Garden(Room):    def create(self):"
    assert run(ed, "1,2m1") == "Cannot move lines into themselves.\n"


def test_substitute_and_global():
    files = Files({"/rooms/garden.py": ROOM})
    ed, _ = editor(files)
    assert run(ed, "s/garden/rose garden/p") == "        self.short = 'A rose garden'\n"
    assert run(ed, "1s/\\(Garden\\)(\\(Room\\))/\\2 \\1 [&]/p") == \
        "class Room Garden [Garden(Room)]:\n"
    assert run(ed, "2s/e/E/gp") == "    dEf crEatE(sElf):\n"
    assert run(ed, "2s/zzz/y/") == "Substitution failed: no match.\n"
    assert run(ed, "g/\\(Room\\|sElf\\)/p") == "class Room Garden [Garden(Room)]:\n    dEf crEatE(sElf):\n"
    assert run(ed, "g/short/s/'/\"/gp") == "        self.short = \"A rose garden\"\n"
    assert run(ed, "v/short/d") == ""
    assert ed.lines == ['        self.short = "A rose garden"']
    assert run(ed, "s/a\\&b/x/") == "Substitution failed: no match.\n"
    assert run(ed, "s/ /\\&/") == "" and ed.lines[0].startswith("& ")
    assert run(ed, "s/[/x/").startswith("ed: bad pattern")


def test_write_read_quit_and_refusals():
    files = Files({"/rooms/garden.py": ROOM, "/rooms/note.txt": "one\ntwo\n"})
    ed, _ = editor(files)
    run(ed, "$a", "        self.long = 'Roses.'", ".")
    assert run(ed, "q") == "File has been changed: w it, or q again (Q) to lose the changes.\n"
    assert not ed.finished
    assert run(ed, "w") == f'"/rooms/garden.py" 4 lines {len(ROOM) + 29} bytes\n'
    assert files["/rooms/garden.py"] == ROOM + "        self.long = 'Roses.'\n"
    assert not ed.modified
    assert run(ed, "1,2w part.py") == '"/rooms/part.py" 2 lines 42 bytes\n'
    assert files["/rooms/part.py"] == "class Garden(Room):\n    def create(self):\n"
    assert run(ed, "1W part.py") == '"/rooms/part.py" 1 lines 20 bytes\n'
    assert files["/rooms/part.py"].endswith("create(self):\nclass Garden(Room):\n")
    assert run(ed, "0r note.txt") == '"/rooms/note.txt" 2 lines 8 bytes\n'
    assert ed.lines[:2] == ["one", "two"] and ed.current == 2 and ed.modified
    files.refused.add("/rooms/secret.py")
    assert run(ed, "w /rooms/secret.py") == "ed: write access to /rooms/secret.py denied\n"
    assert run(ed, "r /rooms/secret.py") == "ed: read access to /rooms/secret.py denied\n"
    assert run(ed, "r /rooms/missing.py") == "\"/rooms/missing.py\" isn't readable.\n"
    assert run(ed, "f") == "/rooms/garden.py\n"
    assert run(ed, "e note.txt").startswith("File has been changed")
    assert run(ed, "e note.txt") == "/rooms/note.txt, 2 lines\n"   # a second e: changes lost
    assert run(ed, "x") == "" and ed.finished                        # unchanged: nothing written
    assert run(ed, "p") == ""                                        # a finished editor takes nothing


def test_an_empty_buffer_a_new_file_and_the_size_cap():
    files = Files()
    ed, opened = editor(files, None)
    assert opened == "No file.\n"
    assert run(ed, "p") == "The buffer is empty.\n"
    assert run(ed, "w") == "No file name: w file\n"
    run(ed, "a", "hello", ".")
    assert run(ed, "x") == "No file name: w file, then q.\n"
    assert run(ed, "w /data/hello.txt") == '"/data/hello.txt" 1 lines 6 bytes\n'
    assert run(ed, "f") == "/data/hello.txt\n"
    assert run(ed, "Q") == "" and ed.finished
    ed, opened = editor(files, "/rooms/new.py")
    assert opened == "/rooms/new.py, new file\n"
    run(ed, "a", "x" * (MAX_BUFFER - 10))
    assert run(ed, "more than fits") == \
        f"The buffer is full ({MAX_BUFFER} characters); insert mode ended.\n"
    assert ed.prompt == ":" and len(ed.lines) == 1
    assert run(ed, "t$") == f"The buffer would be larger than {MAX_BUFFER} characters.\n"
    assert run(ed, "h").startswith("ed: commands take an address")


def test_undo_takes_back_the_last_change_and_again_redoes_it():
    files = Files({"/rooms/garden.py": ROOM, "/rooms/other.py": "other\n"})
    ed, _ = editor(files)
    assert run(ed, "u") == "Nothing to undo.\n"
    assert run(ed, "2d", ",p") == "class Garden(Room):\n        self.short = 'A garden'\n"
    assert run(ed, "u", ",p") == ROOM and ed.current == 3
    assert run(ed, "u", ",p") == "class Garden(Room):\n        self.short = 'A garden'\n"
    assert run(ed, "u", "1,$s/Garden/Orchard/", "u", ",p") == ROOM
    # Everything typed in one a (up to its '.') is one change.
    run(ed, "$a", "    def init(self):", "        pass", ".")
    assert len(ed.lines) == 5
    assert run(ed, "u", ",p") == ROOM and ed.modified      # changed after u, as in ed(1)
    # A command that changes nothing, or fails, leaves the last change to undo.
    assert run(ed, "g/nothing here/d") == "No line matches.\n"
    assert run(ed, "1p", "u", "$p") == "class Garden(Room):\n        pass\n"  # redone
    assert run(ed, "2u") == "u takes no address.\n"
    # Another file starts afresh.
    assert run(ed, "E /rooms/other.py") == "/rooms/other.py, 1 lines\n"
    assert run(ed, "u") == "Nothing to undo.\n"


def test_a_mark_stays_with_its_line_until_the_line_is_deleted_or_changed():
    files = Files({"/notes.txt": "one\ntwo\nthree\nfour\n"})
    ed, _ = editor(files, "/notes.txt")
    assert run(ed, "2ka", "'ap") == "two\n"
    assert run(ed, "1d", "'ap", "'a=") == "two\n1\n"        # it moves with its line
    assert run(ed, "'a,$p") == "two\nthree\nfour\n"
    assert run(ed, "'a+1m$", "'a+1p") == "four\n"              # m: the line keeps its mark
    assert run(ed, "$kb", "'at0", "1p", "'a=", "'bp") == "two\n2\nthree\n"
    assert run(ed, "1s/two/TWO/", "'ap") == "two\n"            # a copy carries no mark
    assert run(ed, "'as/two/2/", "'ap") == "No line is marked a.\n"   # changed: gone
    assert run(ed, "'bd", "'bp") == "No line is marked b.\n"   # deleted: gone
    assert run(ed, "kA") == "k needs a mark, a letter from a to z: ka\n"
    assert run(ed, "'1p") == "A mark is a letter from a to z: 'a\n"
    assert run(ed, "1kc", "E /notes.txt", "'cp") == "/notes.txt, 4 lines\nNo line is marked c.\n"


# --- the shipped world ---------------------------------------------------------------------

NEW_ROOM = [
    '"""A room written in the game, with ed."""',
    "",
    "from driver.efuns import MudObject",
    "",
    "",
    "class Attic(MudObject):",
    '    short = "The attic"',
    "",
    "    def query_short(self):",
    "        return self.short",
]


@pytest.fixture
def world(make_driver):
    return make_driver(mudlib=SHIPPED_MUDLIB)


@pytest.fixture
def world_copy(make_driver, tmp_path):
    """The shipped world in a directory of its own: its files get written."""
    mudlib = tmp_path / "mudlib"
    shutil.copytree(SHIPPED_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    driver = make_driver(mudlib=mudlib)
    driver.mudlib = mudlib
    return driver


def ed_do(client, line: str, prompt: bytes = ED_PROMPT) -> str:
    """A line to the editor, and its answer up to the editor's next prompt."""
    client.raw.clear()
    client.send_line(line)
    return client.read_until(prompt)


def test_an_administrator_writes_a_file_updates_it_and_a_wizard_only_reads(world_copy, certs):
    world = world_copy
    alda = tls_player(world, certs)
    create_character(alda, "alda")      # the first character: an administrator
    bob = plain_player(world)
    create_character(bob, "bob")
    do(alda, "promote bob")

    # Alda writes a new object in the game and loads it.
    assert do(alda, "cd /obj").startswith("/obj\r\n")
    assert do(alda, "pwd").startswith("/obj\r\n")
    assert "cd: /nowhere is not a directory." in do(alda, "cd /nowhere")
    text = ed_do(alda, "ed attic.py")
    assert "/obj/attic.py, new file" in text
    ed_do(alda, "a", INSERT_PROMPT)
    for line in NEW_ROOM:
        ed_do(alda, line, INSERT_PROMPT)
    assert ed_do(alda, ".").endswith(":")
    assert "10 lines" in ed_do(alda, "w")
    assert "Exit from ed." in do(alda, "q")
    world.wait_for_log(r"AUDIT action=ed actor=Alda outcome=ok target=/obj/attic.py$")
    world.wait_for_log(r"AUDIT action=write actor=Alda outcome=ok target=/obj/attic.py efun=ed$")
    assert (world.mudlib / "obj" / "attic.py").read_text() == "\n".join(NEW_ROOM) + "\n"
    assert "Updated /obj/attic." in do(alda, "update /obj/attic")
    assert "attic.py" in do(alda, "ls")

    # Bob, a wizard but not an administrator, reads code and saves nothing.
    assert "attic.py" in do(bob, "ls /obj")
    assert "/obj/attic.py, 10 lines" in ed_do(bob, "ed /obj/attic.py")
    assert ed_do(bob, "1p").startswith('"""A room written in the game, with ed."""')
    assert '    short = "The loft"' in ed_do(bob, "/attic/s//loft/p")
    assert "ed: write access to /obj/attic.py denied" in ed_do(bob, "w")
    world.wait_for_log(r"AUDIT action=write actor=Bob outcome=failed target=/obj/attic.py "
                       r'efun=ed why="administrators only"')
    # '!' runs a game command from inside the editor; the editor's prompt comes back.
    bob.raw.clear()
    alda.raw.clear()
    bob.send_line("!say Back in a moment")
    bob.read_until(ED_PROMPT)
    assert "Bob says: Back in a moment" in alda.read_until("Back in a moment")
    assert "File has been changed" in ed_do(bob, "q")
    assert "Exit from ed." in do(bob, "Q")
    assert "more: read_file: read access to /data/players/alda.json denied" \
        in do(bob, "more /data/players/alda.json")
    assert "ls: file_size: read access to /data denied" in do(bob, "ls /data")


def test_more_pages_a_file_to_the_window(world):
    alda = plain_player(world)
    create_character(alda, "alda")
    alda.raw.clear()
    alda.send_line("more /std/player.py")
    first = alda.read_until("%) [Enter, q] ")
    # A client that never said its window's size has 24 rows: 22 lines a page.
    page, more = first.split("--More-- ")
    assert page.startswith('"""') and page.count("\n") == 22
    assert more.startswith("/std/player.py (")
    alda.raw.clear()
    alda.send_line("")
    second = alda.read_until("%) [Enter, q] ")
    assert second.split("--More-- ")[0].count("\n") == 22
    assert "--More--" not in do(alda, "q")      # q: back to the game's prompt


def test_a_dropped_connection_saves_the_buffer_where_the_master_says(world):
    alda = plain_player(world)
    create_character(alda, "alda")
    ed_do(alda, "ed /rooms/garden.py")
    ed_do(alda, "1a", INSERT_PROMPT)
    ed_do(alda, "# unsaved", INSERT_PROMPT)
    alda.sock.close()
    world.wait_for_log(r"ed: the unsaved buffer of a lost connection went to "
                       r"/data/dead_ed/alda/garden\.py")
    saved = (world.directory / "data" / "dead_ed" / "alda" / "garden.py").read_text()
    assert saved.splitlines()[1] == "# unsaved"


def test_a_pasted_file_is_not_held_to_typing_speed(world):
    """300 lines at once into insert mode: over the 40-command burst and 20
    commands a second a player's commands have, and all in at once."""
    alda = plain_player(world)
    create_character(alda, "alda")
    ed_do(alda, "ed /data/pasted.txt")
    ed_do(alda, "a", INSERT_PROMPT)
    alda.raw.clear()
    alda.sock.sendall(b"".join(f"line {n}\r\n".encode() for n in range(300)) + b".\r\n")
    alda.read_until(ED_PROMPT)
    assert '"/data/pasted.txt" 300 lines' in ed_do(alda, "w")
    assert "faster than the game can follow" not in alda.text
    assert (world.directory / "data" / "pasted.txt").read_text().splitlines()[-1] == "line 299"


# --- the efuns, in a mudlib of their own ---------------------------------------------------

def test_ed_and_query_editing_as_efuns(make_driver):
    platform = start_platform(make_driver)
    ann = connect(platform, "ann")
    ann.line("wiz", "WIZ")
    assert ann.py("_ = query_editing(me)") == "False"
    me = ann.py("_ = object_name(me)").strip("'")
    assert ann.py("_ = ed('/data/notes.txt', 'ed_done')") == "True"
    ann.read_until(ED_PROMPT)
    assert "/data/notes.txt, new file" in ann.text
    # '!' leaves the editor for one command; query_editing names the exit's object.
    assert ann.line("!py _ = query_editing(me) is me", "PY ") == "PY True"
    assert "is editing already" in ann.line("!py ed('/data/other.txt')", "PYERR ")
    # An input_to started from inside the editor takes the next line; then the editor does.
    ann.line("!ask", "ASKED")
    assert ann.line("an answer", "ANSWER ").startswith("ANSWER first 'an answer'")
    ed_do(ann, "a", INSERT_PROMPT)
    ed_do(ann, "noted", INSERT_PROMPT)
    ed_do(ann, ".")
    assert '"/data/notes.txt" 1 lines 6 bytes' in ed_do(ann, "w")
    assert ann.line("q", "ED DONE") == f"ED DONE this_player={me}"
    assert ann.py("_ = query_editing(me)") == "False"
    assert (platform.directory / "data" / "notes.txt").read_text() == "noted\n"
    # Refused by valid_read: nothing starts.
    assert ann.line("py ed('/../outside')", "PYERR ") == \
        "PYERR EfunError: bad file name '/../outside': outside the mudlib"


def test_administrators_copy_move_and_remove_files_and_wizards_may_not(world_copy):
    world = world_copy
    alda = plain_player(world)
    create_character(alda, "alda")      # the first character: an administrator
    bob = plain_player(world)
    create_character(bob, "bob")
    do(alda, "promote bob")
    obj = world.mudlib / "obj"

    do(alda, "cd /obj")
    assert "/obj/rope.py copied to /obj/cord.py." in do(alda, "cp rope.py cord.py")
    assert (obj / "cord.py").read_text() == (obj / "rope.py").read_text()
    assert "cp: /obj/cord.py exists already; 'rm' it first." in do(alda, "cp rope.py cord.py")
    assert "/data/attic made." in do(alda, "mkdir /data/attic")
    assert "/obj/cord.py moved to /data/attic/cord.py." in do(alda, "mv cord.py /data/attic")
    assert not (obj / "cord.py").exists()
    assert (world.directory / "data" / "attic" / "cord.py").exists()
    assert "mv: there is no file /obj/cord.py." in do(alda, "mv cord.py string.py")
    assert "rmdir: /data/attic is not an empty directory" in do(alda, "rmdir /data/attic")
    assert "/data/attic/cord.py removed." in do(alda, "rm /data/attic/cord.py")
    assert "/data/attic removed." in do(alda, "rmdir /data/attic")
    world.wait_for_log(r"AUDIT action=write actor=Alda outcome=ok target=/data/attic/cord.py "
                       r"efun=rename$")
    assert "Move what, where to?" in do(alda, "mv rope.py")

    # Bob is a wizard, not an administrator: he reads, and changes nothing.
    assert "rm: rm: write access to /obj/rope.py denied" in do(bob, "rm /obj/rope.py")
    assert "cp: copy_file: write access to /obj/twine.py denied" in \
        do(bob, "cp /obj/rope.py /obj/twine.py")
    assert (obj / "rope.py").exists() and not (obj / "twine.py").exists()
    assert "Usage: mv <file> <new name>|<directory>" in " ".join(do(bob, "help mv").split())
