"""The shipped world as players see it: colour for the clients that show it
and none for those that do not, every line fitted to the window, the
commands a MUD player expects, link-death seen by others, new code reaching
players online, the world's people, and a notice board that outlives a
restart.

Every test starts a real driver on the shipped mudlib (a copy, where a test
changes a file) and plays it over real sockets: a scripted telnet client
(``TelnetPeer``) where negotiation matters, a plain line client elsewhere.
"""

from __future__ import annotations

import re
import shutil
import signal
import time

import pytest

from conftest import SHIPPED_MUDLIB, TIMEOUT, Client, start_driver
from mudclient import DO, NAWS, TTYPE, WILL, TelnetPeer, iac, sb
from test_world import (PASSWORD, PROMPT, create_character, do, plain_player, quit_game,
                        save_file)

# MSDP (telnet option 69) and its bytes inside a subnegotiation.
MSDP = 69
MSDP_VAR, MSDP_VAL, MSDP_TABLE_OPEN, MSDP_TABLE_CLOSE, MSDP_ARRAY_OPEN, MSDP_ARRAY_CLOSE = (
    b"\x01", b"\x02", b"\x03", b"\x04", b"\x05", b"\x06")

ESC = "\x1b"
ANSI_SEQUENCE = re.compile(r"\x1b\[[0-9;]*m")


def visible_lines(text: str) -> list[str]:
    """The lines of ``text`` as the screen shows them: no colour codes, no
    carriage returns, no prompt in front."""
    return [ANSI_SEQUENCE.sub("", line) for line in TelnetPeer.lines(text + "\n")]


def mud_client(ttypes: tuple[str, ...], columns: int):
    """Answers negotiation the way Mudlet does: TTYPE cycled through
    ``ttypes`` (name, terminal, "MTTS <bits>") and NAWS with ``columns``."""
    answers = list(ttypes)

    def answer(peer: TelnetPeer, command: tuple) -> None:
        if command == ("DO", TTYPE):
            peer.send(iac(WILL, TTYPE))
        elif command == ("SB", TTYPE, b"\x01"):
            value = answers.pop(0) if len(answers) > 1 else answers[0]
            peer.send(sb(TTYPE, b"\x00" + value.encode()))
        elif command == ("DO", NAWS):
            peer.send(iac(WILL, NAWS) + sb(NAWS, bytes([0, columns, 0, 24])))
    return answer


def play(peer: TelnetPeer, line: str) -> str:
    """Send a command; the text that came back, up to the next prompt."""
    mark = len(peer.text_bytes)
    peer.send_line(line)
    peer.wait_text("> ", start=mark)
    return peer.text_bytes[mark:].decode("utf-8", errors="replace")


def new_character(peer: TelnetPeer, name: str) -> int:
    """Create a character from the name prompt on; returns the position in
    the text where the game begins (the login's prompts before it share
    lines with what the player types, which this client does not echo)."""
    peer.wait_text("What is your name? ")
    for line, until in ((name, "[y/n] "), ("y", "characters): "),
                        (PASSWORD, "Type it again: "), (PASSWORD, "> ")):
        mark = len(peer.text_bytes)
        peer.send_line(line)
        peer.wait_text(until, start=mark)
    return mark     # where the game's welcome begins


def log_in(client: Client, name: str) -> str:
    client.read_until("What is your name? ")
    client.command(name, "Password: ")
    return do(client, PASSWORD)


@pytest.fixture
def world(make_driver):
    return make_driver(mudlib=SHIPPED_MUDLIB, mudlib_extra="  heart_beat_interval: 0.05\n")


@pytest.fixture
def game(tmp_path, certs):
    """Start (and restart) a driver on a copy of the shipped world, in one directory."""
    mudlib = tmp_path / "mudlib"
    shutil.copytree(SHIPPED_MUDLIB, mudlib, ignore=shutil.ignore_patterns("__pycache__"))
    directory = tmp_path / "run"
    directory.mkdir()
    started = []

    def start():
        driver = start_driver(directory, certs, mudlib=mudlib)
        driver.mudlib = mudlib
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.stop()


# --- colour and width ------------------------------------------------------------------

COMMANDS_TO_SHOW = ("look", "help", "help examine", "help colour", "help tls", "exits",
                    "score", "who", "say " + "a long sentence said aloud " * 4,
                    "emote " + "waves and waves " * 6, "s", "e", "tls", "colour")


def test_a_256_colour_client_50_columns_wide_gets_256_colours_and_no_line_over_50(world):
    peer = TelnetPeer(world.telnet_port,
                      on_command=mud_client(("MUDLET", "XTERM-256COLOR", "MTTS 9"), 50))
    mark = new_character(peer, "cora")
    for command in COMMANDS_TO_SHOW:
        play(peer, command)
    text = peer.text_bytes[mark:].decode("utf-8")
    assert ESC + "[38;5;" in text, "256-colour codes for a client that announced them"
    assert ESC + "[0m" in text
    too_wide = [line for line in visible_lines(text) if len(line) > 50]
    assert not too_wide, too_wide
    # The help index's long rows (the wizards' commands) wrap under their label.
    assert re.search(r"^  Wizards:\s+update", text, re.M)
    # Colour codes never cut a word: the room's title arrives whole, coloured.
    assert re.search(r"\x1b\[38;5;\d+mThe town square\x1b\[0m", text)
    # A resize is followed at once.
    peer.send(sb(NAWS, bytes([0, 36, 0, 24])))
    narrower = play(peer, "help")
    assert not [line for line in visible_lines(narrower) if len(line) > 36]
    assert max(len(line) for line in visible_lines(play(peer, "look"))) > 30
    peer.close()


def test_a_client_that_negotiated_nothing_gets_no_escape_byte_and_80_columns(world):
    erin = Client.plain(world.telnet_port)      # answers no negotiation at all
    create_character(erin, "erin")
    assert b"\x1b" not in erin.raw
    seen = []
    for command in COMMANDS_TO_SHOW + ("help look", "n", "u"):
        seen.append(do(erin, command))
        assert b"\x1b" not in erin.raw
    lines = visible_lines("".join(seen))
    assert max(len(line) for line in lines) > 60      # wrapped, not chopped short
    assert not [line for line in lines if len(line) > 80]


def test_a_16_colour_terminal_gets_ansi_codes_and_colour_off_is_kept(world):
    peer = TelnetPeer(world.telnet_port, on_command=mud_client(("ANSI",), 80))
    new_character(peer, "dora")
    look = play(peer, "look")
    assert re.search(r"\x1b\[(3[0-7]|9[0-7])mThe town square", look), look
    assert "38;5;" not in look
    assert "Colour is off" in play(peer, "colour off")
    assert ESC not in play(peer, "look")
    peer.send_line("quit")
    peer.wait(lambda: peer.closed, "the connection to close")
    again = TelnetPeer(world.telnet_port, on_command=mud_client(("ANSI",), 80))
    again.wait_text("What is your name? ")
    for line, until in (("dora", "Password: "), (PASSWORD, "> ")):
        again.send_line(line)
        again.wait_text(until)
    assert ESC not in play(again, "look")               # saved with the character
    assert ESC + "[" in play(again, "colour auto")
    again.close()


def test_colour_on_for_a_client_that_said_nothing(world):
    fay = Client.plain(world.telnet_port)
    create_character(fay, "fay")
    assert b"\x1b" not in fay.raw
    text = do(fay, "colour on")
    assert "Colour is on" in text and "\x1b[" in text


# --- commands -----------------------------------------------------------------------------

def test_help_index_pages_and_topics(world):
    gil = plain_player(world)
    create_character(gil, "gil")                        # the first: an admin
    index = do(gil, "help")
    assert "Commands ('help <command>' tells more):" in index
    for group in ("Looking:", "Talking:", "Things:", "Yourself:", "Wizards:", "Admins:"):
        assert group in index
    assert re.search(r"^Topics \('help <topic>'\):.*\bcolour\b.*\btls\b", index, re.M)
    assert not [line for line in visible_lines(index) if len(line) > 80]
    page = do(gil, "help get")
    assert "Usage: get <thing>|all" in page and "(also: take)" in page
    assert "'get all' takes everything" in page
    assert "Usage: examine <thing>" in do(gil, "help x")
    assert "TLS: an encrypted connection" in do(gil, "help tls")
    assert "'colour off' turns it off" in do(gil, "help color")
    assert "There is no help on 'frobnicate'" in do(gil, "help frobnicate")
    hal = plain_player(world)
    create_character(hal, "hal")                        # a player: no wizards' commands
    assert "Wizards:" not in do(hal, "help")
    assert "There is no help on 'update'" in do(hal, "help update")


def test_things_grouped_taken_given_and_examined(world):
    ivy = plain_player(world)
    create_character(ivy, "ivy")
    jon = plain_player(world)
    create_character(jon, "jon")
    ivy.read_until("Jon enters the game.")
    for _ in range(2):
        do(ivy, "clone /obj/coin")
    do(ivy, "drop all")
    assert "You see three copper coins here." in do(jon, "look")     # the square's, and two
    assert "Ivy is here." in do(jon, "look")
    ivy.raw.clear()
    assert "You take three copper coins." in do(jon, "get all")
    ivy.read_until("Jon takes three copper coins.")
    assert "three copper coins" in do(jon, "inventory")
    assert "There is nothing here you can take." in do(jon, "get all")
    assert "There is no all here." not in jon.text

    ivy.raw.clear()
    assert "You give a copper coin to Ivy." in do(jon, "give coin to ivy")
    ivy.read_until("Jon gives you a copper coin.")
    assert "two copper coins" in do(jon, "i")
    assert "a copper coin" in do(ivy, "i")
    assert "There is no bob here." in do(jon, "give coin to bob")
    assert "Give what to whom?" in do(jon, "give coin")

    text = do(ivy, "examine jon")
    assert "Jon is an adventurer" in text and "Jon carries two copper coins." in text
    assert "You are carrying it." in do(ivy, "examine coin")
    assert "It is part of this place" in do(ivy, "x fountain")
    assert "You drop two copper coins." in do(jon, "drop all")
    assert "You carry nothing you can drop." in do(jon, "drop all")


def test_exits_score_and_emote(make_driver):
    # Heart beats every 2 s, as shipped: each gives 4 stamina back, so the
    # twenty steps below (20 stamina) leave a mark whatever the machine's pace.
    world = make_driver(mudlib=SHIPPED_MUDLIB)
    kit = plain_player(world)
    create_character(kit, "kit")
    text = do(kit, "exits")
    assert "Exits from The town square:" in text
    assert re.search(r"^\s+north\s+The foot of the watchtower", text, re.M)
    assert re.search(r"^\s+west\s+The Crooked Lantern", text, re.M)
    do(kit, "south")
    do(kit, "south")
    for _ in range(10):      # back and forth between the gate and the moor road
        do(kit, "north")
        do(kit, "south")
    score = do(kit, "score")
    assert "Kit, wizard and administrator" in score
    match = re.search(r"Health\s+(\d+)/30\s+Stamina\s+(\d+)/100", score)
    assert match and int(match.group(2)) < 100, score      # walking on the moor tires
    assert "Text: no colour (colour auto), 80 columns." in score
    lee = plain_player(world)
    create_character(lee, "lee")
    do(lee, "south")
    do(lee, "south")
    kit.read_until("Lee arrives from the north.")
    kit.raw.clear()
    mine = do(lee, "emote grins at nobody in particular")
    assert "Lee grins at nobody in particular." in mine and "You emote" not in mine
    kit.read_until("Lee grins at nobody in particular.")


def walk_to_the_store(player: Client) -> None:
    for direction in ("south", "east"):
        do(player, direction)
    assert "Hobb's general store" in do(player, "north")


def test_hobb_sells_for_the_coins_you_carry_and_buys_back_from_his_till(world):
    pip = plain_player(world)
    create_character(pip, "pip")        # the first character: a wizard, who may clone
    tom = plain_player(world)
    create_character(tom, "tom")
    walk_to_the_store(pip)
    walk_to_the_store(tom)
    slate = do(pip, "list")
    assert "a coil of rope: four copper coins (Hobb buys it back for two copper coins)" in slate
    assert "a tallow candle: a copper coin (Hobb buys it back for a copper coin)" in slate
    assert "an oak cudgel: six copper coins (Hobb buys it back for three copper coins)" in slate
    assert "Hobb says: That's four copper coins.  Credit, no." in do(pip, "buy rope")
    for _ in range(5):
        do(pip, "clone /obj/coin")
    tom.raw.clear()
    assert "You pay Hobb four copper coins and he hands you a coil of rope." in do(pip, "buy rope")
    tom.read_until("Pip buys a coil of rope from Hobb.")
    carried = do(pip, "inventory")
    assert "a coil of rope" in carried and "a copper coin" in carried
    assert "That's four copper coins, and you have a copper coin." in do(pip, "buy some rope")
    assert "Not something I stock" in do(pip, "buy salt")
    assert "Hobb takes a tallow candle" not in do(pip, "sell candle")  # has none
    assert "I've no use for that" in do(pip, "sell coin")
    assert "Hobb takes a coil of rope and pays you two copper coins." in do(pip, "sell rope")
    assert "three copper coins" in do(pip, "inventory")
    # The till held ten coins, took four and paid two: six ropes empty it,
    # the seventh finds it too light.  Trading makes and loses no coin.
    for _ in range(7):
        do(pip, "clone /obj/rope")
    for _ in range(6):
        assert "pays you two copper coins" in do(pip, "sell rope")
    assert "The till's too light for that today." in do(pip, "sell rope")
    assert "15 copper coins" in do(pip, "inventory")
    assert "Hobb carries nothing." in do(pip, "examine hobb")
    assert "Buying and selling" in do(tom, "help buy")


def test_a_reset_restocks_a_room_and_brings_back_who_lives_there(world):
    kim = plain_player(world)
    create_character(kim, "kim")        # the first character: a wizard
    assert "You take a copper coin." in do(kim, "get coin")
    assert "copper coin" not in do(kim, "look")
    assert "You reset /rooms/square." in do(kim, "reset here")
    assert "You see a copper coin here." in do(kim, "look")
    do(kim, "reset here")               # what is there already is not made again
    assert "You see a copper coin here." in do(kim, "look")
    walk_to_the_store(kim)
    assert "You destruct /npc/hobb#" in do(kim, "destruct hobb")
    assert "Nobody is behind the counter" in do(kim, "list")
    do(kim, "reset here")
    assert "Hobb the storekeeper" in do(kim, "look")
    assert "Hobb carries ten copper coins." in do(kim, "examine hobb")   # a full till
    assert "Reset something now, as the driver does about once an hour" in do(kim, "help reset")


CLONE_PROBE = '''\
"""A test object: present_clone() and load_name() on three coins it holds."""
from driver.efuns import (MudObject, clone_object, load_name, move_object, object_name,
                          present_clone, write)


class Probe(MudObject):
    def create(self):
        coins = [clone_object("/obj/coin") for _ in range(3)]
        for coin in coins:
            move_object(coin, self)
        checks = {
            "first by name": present_clone("/obj/coin", self) is coins[0],
            "third, as a file": present_clone("obj/coin.py", self, 3) is coins[2],
            "second, by a clone": present_clone(coins[0], self, 2) is coins[1],
            "no fourth": present_clone("/obj/coin", self, 4) is None,
            "no apple": present_clone("/obj/apple", self) is None,
            "load names": (load_name(self), load_name(coins[1])) == ("/obj/probe", "/obj/coin"),
            "clone names": object_name(coins[1]) != load_name(coins[1]),
        }
        write("".join(f"{what}: {ok}\\n" for what, ok in checks.items()))

    def short_description(self):
        return "a probe"
'''


def test_present_clone_finds_the_nth_clone_of_a_program(game, tmp_path):
    (tmp_path / "mudlib" / "obj" / "probe.py").write_text(CLONE_PROBE)
    driver = game()
    lin = plain_player(driver)
    create_character(lin, "lin")        # a wizard, who may clone
    text = do(lin, "clone /obj/probe")
    checks = dict(re.findall(r"^(\w[\w ,]*): (True|False)\r?$", text, re.M))
    assert len(checks) == 7 and set(checks.values()) == {"True"}, text


def test_shaking_the_tree_drops_an_apple_only_when_none_lies_there(world):
    pat = plain_player(world)
    create_character(pat, "pat")
    assert "The herb garden" in do(pat, "east")
    assert "the apple on the ground will have to do" in do(pat, "shake tree")
    assert "You take a red apple." in do(pat, "get apple")
    assert "an apple thumps onto the gravel" in " ".join(do(pat, "shake tree").split())
    assert "You see a red apple here." in do(pat, "look")


# What the clock tells the players outdoors at dawn, day, dusk and night.
SKY_CHANGES = ("The sky pales in the east", "The sun hauls itself clear of the moor",
               "the lamplighter makes his rounds", "Night falls.")


def test_day_turns_to_night_under_the_open_sky_but_not_indoors(game, tmp_path):
    # The world's own clock, with days of 1.2 seconds rather than 40 minutes.
    clock = tmp_path / "mudlib" / "daemon" / "clock.py"
    clock.write_text(clock.read_text().replace("PHASE_SECONDS = 600", "PHASE_SECONDS = 0.3"))
    driver = game()
    outside = plain_player(driver)
    # The first look at the sky starts the clock, by day.
    assert "Pale daylight lies over everything." in " ".join(create_character(outside, "oona").split())
    inside = plain_player(driver)
    create_character(inside, "ivo")
    assert "The Crooked Lantern" in do(inside, "west")
    inside.raw.clear()
    outside.raw.clear()
    # A whole day passes over the square, in order, after Ivo went in ...
    deadline = time.monotonic() + TIMEOUT
    at = 0
    for change in SKY_CHANGES:
        while (found := " ".join(outside.text.split()).find(change, at)) < 0:
            outside.recv_some(max(0.01, deadline - time.monotonic()))
        at = found + len(change)
    # ... and none of it reaches the tavern.  (The look's answer comes
    # after anything said to Ivo before it.)
    inside.send_line("look")
    inside.read_until("The Crooked Lantern")
    heard = " ".join(inside.read_until(PROMPT).split())
    assert not any(change in heard for change in SKY_CHANGES), heard


def test_the_first_character_is_told_it_is_the_administrator(world):
    mia = plain_player(world)
    text = create_character(mia, "mia")
    assert "You are this world's administrator." in text
    ned = plain_player(world)
    assert "administrator" not in create_character(ned, "ned")


# --- link-death, seen by others -----------------------------------------------------------

def test_link_dead_in_who_and_people_tells_wait_and_goto_finds_the_body(world):
    oma = plain_player(world)
    create_character(oma, "oma")                        # an admin: has 'people', 'goto'
    pip = plain_player(world)
    create_character(pip, "pip")
    do(pip, "east")
    pip.close()
    world.wait_for_log(r"Pip lost the link")
    who = do(oma, "who")
    assert re.search(r"^\s*Pip\s+link-dead\s*$", who, re.M), who
    assert re.search(r"^Pip\s+link-dead for \d+s", do(oma, "people"), re.M)
    text = do(oma, "tell pip Are you there?")
    assert "Pip is link-dead" in text and "will hear your tell on coming back" in text
    text = do(oma, "goto pip")
    assert "The herb garden" in text and "Pip is here." in text
    assert "/" not in text.split("The herb garden")[0]     # no path, on disk or off
    text = do(oma, "goto nobody")
    assert "There is no one called Nobody" in text and "mudlib" not in text
    again = plain_player(world)
    text = log_in(again, "pip")
    assert "While you were away:" in text and "Oma told you: Are you there?" in text


def test_a_tell_to_a_body_that_never_comes_back_says_so(make_driver):
    world = make_driver(mudlib=SHIPPED_MUDLIB, mudlib_extra="  linkdead_timeout: 1\n")
    quin = plain_player(world)
    create_character(quin, "quin")
    rue = plain_player(world)
    create_character(rue, "rue")
    rue.close()
    world.wait_for_log(r"Rue lost the link")
    do(quin, "tell rue Wait for me.")
    quin.read_until("Rue's link never came back; your tell was not delivered.")


# --- new code reaches the players online ---------------------------------------------------

def test_update_of_the_player_file_gives_players_online_its_new_command(game):
    world = game()
    sam = plain_player(world)
    create_character(sam, "sam")                        # an admin
    tia = plain_player(world)
    create_character(tia, "tia")
    assert "What?" in do(tia, "whistle")
    do(tia, "prompt [%h] >")                   # a method the driver calls for each prompt
    player = world.mudlib / "std" / "player.py"
    source = player.read_text()
    source = source.replace(
        '    (("quit",), "cmd_quit", "quit", "Yourself"),\n',
        '    (("quit",), "cmd_quit", "quit", "Yourself"),\n'
        '    (("whistle",), "cmd_whistle", "whistle", "Talking"),\n')
    # A new attribute, which a body online (made by the old code, and not
    # made again: no create()) has as the class's default.
    source = source.replace(
        "    cwd = \"/\"\n",
        "    cwd = \"/\"\n    tune = \"a merry tune\"\n")
    source = source.replace(
        "    def cmd_quit(self, arg):",
        "    def cmd_whistle(self, arg):\n"
        '        """Whistle a tune."""\n'
        '        self.tell_others(f"{self.name} whistles.\\n")\n'
        '        self.tell(f"You whistle {self.tune}.\\n")\n\n'
        "    def cmd_quit(self, arg):")
    # The prompt's method changes too: the new code's is called.
    source = source.replace(
        '        """The prompt as it shows now: its %-letters filled in."""\n',
        '        """The prompt as it shows now: its %-letters filled in."""\n'
        '        return "[new code] > "\n')
    player.write_text(source)
    assert "Updated /std/player." in do(sam, "update /std/player")
    sam.raw.clear()
    assert "You whistle a merry tune." in do(tia, "whistle")  # no relog needed
    assert tia.text.endswith("[new code] > ")
    sam.read_until("Tia whistles.")
    assert "whistle" in do(tia, "help")
    assert "Usage: whistle" in do(tia, "help whistle")
    # The exits still work: the room's actions are not shadowed by the body's.
    assert "The herb garden" in do(tia, "east")
    assert "You can't go that way." in do(tia, "east")


# --- the world's people, and things that last -----------------------------------------------

def test_mags_answers_ask_and_greetings(world):
    uma = plain_player(world)
    create_character(uma, "uma")
    text = do(uma, "west")
    assert "Mags the landlady is here." in text and "a notice board" in text
    assert "Mags says: Brewed out back" in do(uma, "ask mags about ale")
    assert "Mags says: Evening, Uma." in do(uma, "say Hello there")
    assert "Mags says: Couldn't tell you" in do(uma, "ask mags about dragons")
    assert "There is no bob here to ask." in do(uma, "ask bob about ale")


def test_the_shepherd_walks_the_moor_on_his_heart_beat(world):
    val = plain_player(world)
    create_character(val, "val")
    do(val, "south")
    do(val, "south")
    text = do(val, "south")
    assert "A crossroads on the moor" in text
    val.read_until("Tam leaves", timeout=TIMEOUT)       # every ten beats, one step


def test_the_notice_board_keeps_its_notes_across_a_restart(game):
    world = game()
    wyn = plain_player(world)
    create_character(wyn, "wyn")
    do(wyn, "west")
    assert "The board is bare" in do(wyn, "read board")
    assert "You pin a note to the board (note 1)." in do(wyn, "post Lost: one grey cat.")
    assert "Wyn: Lost: one grey cat." in do(wyn, "read board")
    world.process.send_signal(signal.SIGTERM)
    assert world.process.wait(TIMEOUT) == 0
    wyn.close()
    assert (world.directory / "data" / "world" / "board.json").is_file()
    world = game()
    wyn = plain_player(world)
    assert "The Crooked Lantern" in log_in(wyn, "wyn")
    assert "Wyn: Lost: one grey cat." in do(wyn, "read board")
    assert "Lost: one grey cat." in do(wyn, "read 1")


def test_a_channel_keeps_its_history_across_an_update_and_a_restart(game):
    world = game()
    wyn = plain_player(world)
    create_character(wyn, "wyn")          # an administrator: may update the daemon
    do(wyn, "chat The moor road is flooded.")
    assert "Updated /daemon/channels." in do(wyn, "update /daemon/channels")
    assert "Wyn: The moor road is flooded." in do(wyn, "chat")
    world.process.send_signal(signal.SIGTERM)
    assert world.process.wait(TIMEOUT) == 0, world.log[-4000:]
    wyn.close()
    saved = world.directory / "data" / "world" / "channels.json"
    assert "The moor road is flooded." in saved.read_text()
    saved.write_text(saved.read_text().replace("flooded", "dry again"))
    world = game()
    wyn = plain_player(world)
    log_in(wyn, "wyn")
    assert re.search(r"\d\d:\d\d Wyn: The moor road is dry again\.", do(wyn, "chat"))
    # a save that cannot be read: the channels still work, without history
    world.process.send_signal(signal.SIGTERM)
    assert world.process.wait(TIMEOUT) == 0, world.log[-4000:]
    wyn.close()
    saved.write_text("{not json")
    world = game()
    wyn = plain_player(world)
    log_in(wyn, "wyn")
    assert "[chat] Wyn: Anyone?" in do(wyn, "chat Anyone?")
    world.wait_for_log(r"channels: the history was not restored: .*channels.* is corrupt")


# -- channels and replies ---------------------------------------------------------

def plain_new(world, name: str) -> Client:
    client = plain_player(world)
    create_character(client, name)
    return client


def test_channels_reach_every_listener_wherever_they_stand_and_reply_answers_a_tell(world):
    alice = plain_player(world)
    create_character(alice, "Alice")   # the first character: an administrator, so a wizard
    bob = plain_player(world)
    create_character(bob, "Bob")
    do(bob, "west")                     # into the tavern: channels reach every room

    assert "[chat] Alice: Anyone about?" in do(alice, "chat Anyone about?")
    bob.read_until("[chat] Alice: Anyone about?")
    do(bob, "chat :waves")
    alice.read_until("[chat] Bob waves.")
    text = do(bob, "chat")             # alone: the channel's last lines
    assert "Lately on [chat]:" in text
    assert re.search(r"\d\d:\d\d Alice: Anyone about\?\r\n +\d\d:\d\d Bob waves\.\r\n", text), text

    # the wizards' channel: only wizards have it, or hear it
    listing = do(bob, "channels")
    assert re.search(r"chat\s+on\s+talk with everyone", listing) and "wiz" not in listing
    assert "What?" in do(bob, "wiz Can I?")
    assert re.search(r"wiz\s+on", do(alice, "channels"))
    assert "[wiz] Alice: Updating the tavern." in do(alice, "wiz Updating the tavern.")
    do(alice, "tell bob psst")          # after the wiz line: Bob reads it first, if at all
    assert "[wiz]" not in bob.read_until("Alice tells you: psst")

    # a channel turned off is not heard, and cannot be talked on
    assert "You no longer hear the chat channel." in do(bob, "channels off chat")
    assert re.search(r"chat\s+off", do(bob, "channels"))
    do(alice, "chat Still there?")
    do(alice, "tell bob psst again")
    assert "Still there?" not in bob.read_until("Alice tells you: psst again")
    assert "You have the chat channel off" in do(bob, "chat Hello?")

    # reply answers whoever told last
    assert "You tell Alice: Yes, here." in do(bob, "reply Yes, here.")
    alice.read_until("Bob tells you: Yes, here.")
    assert "Nobody has told you anything yet." in do(plain_new(world, "Cara"), "reply Hi")

    # the choice is saved with the character
    bob.send_line("quit")
    bob.wait_closed()
    bob = plain_player(world)
    log_in(bob, "Bob")
    assert re.search(r"chat\s+off", do(bob, "channels"))
    assert "You hear the chat channel again." in do(bob, "channels on chat")
    do(alice, "chat Welcome back.")
    bob.read_until("[chat] Alice: Welcome back.")


def test_socials_alone_at_someone_with_how_and_the_creatures_answer(world):
    alice = plain_player(world)
    create_character(alice, "Alice")
    bob = plain_player(world)
    create_character(bob, "Bob")
    cara = plain_new(world, "Cara")

    # alone: the doer reads 'You', everyone else the doer's name
    assert "You smile." in do(alice, "smile")
    bob.read_until("Alice smiles.")
    cara.read_until("Alice smiles.")
    # at someone, with how completed from its start; the third party sees it too
    assert "You bow to Bob deeply." in do(alice, "bow bob dee")
    bob.read_until("Alice bows to you deeply.")
    cara.read_until("Alice bows to Bob deeply.")
    assert "You shake your head sadly." in do(bob, "shake sad")
    alice.read_until("Bob shakes their head sadly.")
    assert "You cry on Alice's shoulder." in do(cara, "cry alice")
    alice.read_until("Cara cries on your shoulder.")
    # one that needs someone; someone not here; how that will not do
    assert "Hug whom?  They must be here." in do(alice, "hug")
    assert "Hug whom?  They must be here." in do(alice, "hug mags")
    assert "How do you want to wave?" in do(alice, "wave <b>hi</b>")
    assert "What?" in do(alice, "smirk")          # not a social
    # the tavern: Mags answers a friendly social done at her
    do(alice, "west")
    text = do(alice, "smile mags")
    assert "You smile at Mags." in text
    if "Mags smiles back at Alice" not in text:
        alice.read_until("Mags smiles back at Alice and goes on wiping the bar.")
    # help lists them, and shows one
    assert "bow  cheer  chuckle" in do(alice, "help socials")
    page = do(alice, "help bow")
    assert "bow: a social." in page and "Someone bows to Mags." in page


def test_ignore_stops_tells_and_channel_lines_and_a_flood_is_held_back(world):
    alice = plain_new(world, "Alice")   # the first character: an administrator
    bob = plain_new(world, "Bob")
    cara = plain_new(world, "Cara")

    assert "You ignore Cara now" in do(bob, "ignore cara")
    assert "You are ignoring Cara." in do(bob, "ignore")
    assert "Bob is not listening to you." in do(cara, "tell bob hello?")
    # Cara's line on the channel reaches Alice, not Bob; Alice's, said after
    # it, reaches both, so Bob's screen up to it shows what he was spared.
    do(cara, "chat anyone about?")
    alice.read_until("[chat] Cara: anyone about?")
    do(alice, "chat I am")
    assert "Cara: anyone about?" not in bob.read_until("[chat] Alice: I am")
    # Administrators can always reach a player; nobody ignores themselves.
    assert "Alice is an administrator" in do(bob, "ignore alice")
    assert "You cannot ignore yourself." in do(bob, "ignore bob")
    assert "There is no one called Zed here." in do(bob, "ignore zed")
    assert '"ignoring": [\n    "Cara"\n  ]' in save_file(world, "bob").read_text()
    assert "You hear Cara again." in do(bob, "unignore cara")
    do(cara, "tell bob hello again")
    bob.read_until("Cara tells you: hello again")

    # Five lines in ten seconds on the channels, and the sixth waits.  (Her
    # line above may or may not be in this window still.)
    refused = next((n for n in range(6) if "You are talking too fast on the channels"
                    in do(cara, f"chat line {n}")), None)
    assert refused is not None and refused >= 4, refused
    alice.read_until(f"[chat] Cara: line {refused - 1}")
    alice.send_line("chat still here")
    assert f"Cara: line {refused}" not in alice.read_until("[chat] Alice: still here")


def test_players_report_bugs_typos_and_ideas_and_wizards_close_them(world):
    alice = plain_new(world, "Alice")   # the first character: an administrator, so a wizard
    bob = plain_new(world, "Bob")

    text = do(bob, "typo fountian in the description")
    assert "Thank you: your typo report (number 1) is filed for the wizards." in text
    heard = alice.read_until("description")    # wrapped at 80 columns
    assert "[report 1] Bob reports a typo in The town square (/rooms/square): fountian " \
           "in the description" in " ".join(heard.split())
    assert "What do you want to report?  (bug <text>)" in do(bob, "bug")
    text = " ".join(do(alice, "reports").split())
    assert "Open reports (1):" in text
    assert re.search(r"1 typo Bob in The town square \(/rooms/square\), .*: "
                     r"fountian in the description", text), text
    assert "What?" in do(bob, "reports")     # for wizards

    # Five reports in ten minutes from one player; the sixth is refused.
    for n in range(2, 6):
        assert f"(number {n}) is filed" in do(bob, f"idea number {n}")
    text = " ".join(do(bob, "bug one too many").split())
    assert "Your bug report was not filed: you have filed 5 reports in the last 10 " \
           "minutes" in text

    assert "Report 1 is closed." in do(alice, "reports done 1")
    assert "There is no open report number 1." in do(alice, "reports done 1")
    saved = (world.directory / "data" / "world" / "reports.json").read_text()
    assert "number 5" in saved and "fountian" not in saved
    assert "Open reports (4):" in do(alice, "reports")


def test_mail_reaches_players_in_the_game_or_not(world):
    alice = plain_new(world, "Alice")
    bob = plain_new(world, "Bob")
    cara = plain_new(world, "Cara")
    quit_game(bob)
    world.wait_for_log(r"Bob quit")

    assert "Your letter to Bob is on its way." in do(alice, "mail bob see you at the gate")
    assert "There is no one called Zed here." in do(alice, "mail zed hello")
    bob = plain_player(world)
    text = " ".join(log_in(bob, "bob").split())
    assert "You have 1 new letter: 'mail' reads them." in text
    text = " ".join(do(bob, "mail").split())
    assert re.search(r"1 \(new\) from Alice, .*: see you at the gate", text), text
    assert "(new)" not in do(bob, "mail")     # read now

    do(cara, "mail bob are you there?")
    bob.read_until("You have a new letter from Cara: 'mail' reads it.")
    do(bob, "ignore cara")
    assert "Your letter was not sent: Bob is not listening to you." in \
        do(cara, "mail bob hello??")
    assert "2 letters thrown away." in do(bob, "mail delete all")
    assert "You have no letters." in do(bob, "mail")
    saved = (world.directory / "data" / "world" / "mail.json").read_text()
    assert "see you at the gate" not in saved

    # Five letters in ten minutes from one player; more wait.
    refused = next((n for n in range(6) if "Your letter was not sent: you have sent 5"
                    in " ".join(do(cara, f"mail alice letter {n}").split())), None)
    assert refused == 4, refused   # her letter to Bob counts; the one he refused does not
    assert f"letter {refused}" not in do(alice, "mail")


def test_a_long_letter_is_written_line_by_line(world):
    plain_new(world, "Ann")         # the first character: an administrator, whom nobody ignores
    alice = plain_new(world, "Alice")
    bob = plain_new(world, "Bob")
    alice.raw.clear()
    alice.send_line("mail bob")
    alice.read_until("'~q' throws it away.")
    alice.read_until("] ")
    for line in ("Dear Bob,", "", "the bridge on the moor road is out.", "Take the ford."):
        alice.raw.clear()
        alice.send_line(line)
        alice.read_until("] ")
    assert "Your letter to Bob is on its way." in do(alice, ".")
    bob.read_until("You have a new letter from Alice")
    text = do(bob, "mail")
    lines = [line.strip() for line in text.replace("\r", "").split("\n")]
    start = next(n for n, line in enumerate(lines) if line.endswith(": Dear Bob,"))
    assert lines[start + 1:start + 4] == ["", "the bridge on the moor road is out.",
                                          "Take the ford."], lines

    alice.raw.clear()
    alice.send_line("mail bob")
    alice.read_until("] ")
    alice.send_line("never mind")
    alice.read_until("] ")
    assert "Your letter is thrown away." in do(alice, "~q")
    assert "never mind" not in do(bob, "mail")
    do(bob, "ignore alice")
    assert "You cannot write to Bob: Bob is not listening to you." in do(alice, "mail bob")


FORGER = """
from driver.efuns import MudObject, call_other, environment, find_player, object_name, write


class Forge(MudObject):
    \"\"\"World code that tries to speak, write and report in another player's name.\"\"\"
    usage = "forge <player>"
    group = "Talking"

    def main(self, player, arg):
        victim = find_player(arg)
        room = environment(player)
        said = call_other("/daemon/channels", "send", victim, "chat", "I am a fool")
        mailed = call_other("/secure/mail", "send", victim, "Alice", "I am a fool")
        filed = call_other("/secure/reports", "file", victim, "idea", "I am a fool",
                           object_name(room), "here")
        crier = call_other("/daemon/channels", "send", self, "chat", "Hear ye")
        write(f"FORGED said={said} mailed={mailed} filed={filed} crier={crier}\\n")

    def query_name(self):
        return "The crier"
"""


def test_world_code_cannot_speak_write_or_report_in_a_players_name(game):
    world = game()
    (world.mudlib / "cmds").mkdir(exist_ok=True)
    (world.mudlib / "cmds" / "forge.py").write_text(FORGER)
    alice = plain_new(world, "Alice")
    bob = plain_new(world, "Bob")
    mark = world.log_mark()
    text = " ".join(do(alice, "forge bob").split())
    assert ("FORGED said=False mailed=a letter is sent by its writer, typing 'mail' "
            "filed=a report is filed by its player, typing the command crier=True") in text, text
    world.wait_for_log(r"a line in Bob's name from world code refused", start=mark)
    history = " ".join(do(bob, "chat").split())
    assert "The crier: Hear ye" in history and "I am a fool" not in history, history
    assert "You have no letters." in do(alice, "mail")
    assert "Bob: I am not a fool" in " ".join(do(bob, "chat I am not a fool").split())


def msdp_request(command: str, *values: str) -> bytes:
    """IAC SB MSDP VAR command VAL value ... IAC SE (several values: an array)."""
    if len(values) == 1:
        body = MSDP_VAL + values[0].encode()
    else:
        body = MSDP_VAL + MSDP_ARRAY_OPEN + b"".join(MSDP_VAL + v.encode() for v in values) \
            + MSDP_ARRAY_CLOSE
    return sb(MSDP, MSDP_VAR + command.encode() + body)


def next_msdp(peer: TelnetPeer, seen: int) -> tuple[bytes, int]:
    """The first MSDP subnegotiation after the first ``seen``; and how many there are then."""
    def sent() -> list[bytes]:
        return [c[2] for c in peer.commands if c[0] == "SB" and c[1] == MSDP]
    peer.wait(lambda: len(sent()) > seen, "an MSDP message")
    return sent()[seen], seen + 1


def test_msdp_lists_sends_and_reports_the_gauges_and_the_room(world):
    """The shipped world offers MSDP to a body in the game and answers it
    through the master's telnet_neg: LIST, SEND, REPORT (sent at once, then
    when it changes) and UNREPORT."""
    peer = TelnetPeer(world.telnet_port)
    new_character(peer, "Mona")
    peer.wait_command(("WILL", MSDP))
    peer.send(iac(DO, MSDP))
    seen = 0

    peer.send(msdp_request("LIST", "COMMANDS"))
    payload, seen = next_msdp(peer, seen)
    assert payload == (MSDP_VAR + b"COMMANDS" + MSDP_VAL + MSDP_ARRAY_OPEN
                       + b"".join(MSDP_VAL + name for name in
                                  (b"LIST", b"REPORT", b"RESET", b"SEND", b"UNREPORT"))
                       + MSDP_ARRAY_CLOSE)
    peer.send(msdp_request("REPORT", "HEALTH", "ROOM_NAME", "NOT_A_VARIABLE"))
    payload, seen = next_msdp(peer, seen)
    assert payload == (MSDP_VAR + b"HEALTH" + MSDP_VAL + b"30"
                       + MSDP_VAR + b"ROOM_NAME" + MSDP_VAL + b"The town square")
    play(peer, "west")      # the room changes, the health does not
    payload, seen = next_msdp(peer, seen)
    assert payload == MSDP_VAR + b"ROOM_NAME" + MSDP_VAL + b"The Crooked Lantern"
    peer.send(msdp_request("SEND", "ROOM_EXITS"))
    payload, seen = next_msdp(peer, seen)
    assert payload.startswith(MSDP_VAR + b"ROOM_EXITS" + MSDP_VAL + MSDP_TABLE_OPEN)
    assert MSDP_VAR + b"east" + MSDP_VAL in payload and MSDP_VAR + b"up" + MSDP_VAL in payload
    assert payload.endswith(MSDP_TABLE_CLOSE)

    peer.send(msdp_request("UNREPORT", "ROOM_NAME"))
    play(peer, "east")
    peer.send(msdp_request("LIST", "REPORTED_VARIABLES"))
    payload, seen = next_msdp(peer, seen)   # the next one: no ROOM_NAME came before it
    assert payload == (MSDP_VAR + b"REPORTED_VARIABLES" + MSDP_VAL + MSDP_ARRAY_OPEN
                       + MSDP_VAL + b"HEALTH" + MSDP_ARRAY_CLOSE)


# --- how a player likes the game: aliases, prompt, brief, title, description ----------

def test_aliases_expand_their_arguments_are_kept_and_cannot_loop(world):
    ada = plain_player(world)
    create_character(ada, "ada")
    bo = plain_player(world)
    create_character(bo, "bob")
    assert "'tb' now does 'tell bob $*'." in do(ada, "alias tb tell bob $*")
    do(ada, "tb meet me at the gate")
    bo.read_until("Ada tells you: meet me at the gate")
    do(ada, "alias t tell")                     # no $: the rest is added at the end
    do(ada, "t bob second")
    bo.read_until("Ada tells you: second")
    do(ada, "alias x2 say $2 then $1")
    assert "You say: b then a" in do(ada, "x2 a b")
    do(ada, "alias loop loop")                  # an expansion is not expanded again
    assert "What?" in do(ada, "loop")
    assert "cannot be an alias" in do(ada, "alias alias look")
    listing = " ".join(do(ada, "alias").split())
    assert "tb tell bob $*" in listing and "x2 say $2 then $1" in listing, listing
    assert "'tb' is no longer an alias." in do(ada, "unalias tb")
    assert "You have no alias 'tb'." in do(ada, "alias tb")
    quit_game(ada)
    again = plain_player(world)
    again.read_until("What is your name? ")
    again.command("ada", "Password: ")
    again.send_line(PASSWORD)
    again.read_until(PROMPT)
    do(again, "t bob kept across a login")
    bo.read_until("Ada tells you: kept across a login")


def test_a_prompt_shows_health_and_stamina_as_they_are_now(world):
    cy = plain_player(world)
    create_character(cy, "cyd")
    assert "means nothing in a prompt" in do(cy, "prompt %q >")
    assert "Prompt set." in do(cy, "prompt [%h/%H hp %s/%S st] >")
    assert cy.text.endswith("[30/30 hp 100/100 st] > ")
    do(cy, "south")
    do(cy, "south")                             # the moor road: walking there tires
    text = do(cy, "north")
    match = re.search(r"\[30/30 hp (\d+)/100 st\] > $", text)
    assert match and int(match.group(1)) < 100, text
    assert "Your prompt is '[%h/%H hp %s/%S st] >'" in " ".join(do(cy, "prompt").split())
    do(cy, "prompt default")
    assert cy.text.endswith("\r\n> ")
    assert do(cy, "prompt").strip().startswith("Your prompt is '>'")


def test_brief_leaves_out_descriptions_when_walking_but_not_on_look(world):
    di = plain_player(world)
    create_character(di, "dio")
    full = do(di, "west")
    assert "The Crooked Lantern" in full
    description = " ".join(do(di, "look").split()).split("Obvious")[0]
    assert len(description) > 60, description   # the room's paragraph
    assert "Brief is on" in do(di, "brief on")
    walked = " ".join(do(di, "east").split())
    assert "The town square" in walked and "Obvious exits" in walked
    do(di, "west")
    brief = " ".join(di.text.split())
    assert description.split(". ")[1] not in brief, brief
    assert description.split(". ")[1] in " ".join(do(di, "look").split())
    assert "brief" in do(di, "score")
    do(di, "brief off")
    assert description.split(". ")[1] in " ".join(do(di, "east").split() + do(di, "west").split())


def test_title_in_who_and_a_description_others_see(world):
    el = plain_player(world)
    create_character(el, "ela")
    fi = plain_player(world)
    create_character(fi, "fin")
    assert "'who' shows you as Ela the Wanderer." in do(el, "title the Wanderer")
    assert re.search(r"^\s*Ela\s+telnet\s+the Wanderer\r?$", do(fi, "who"), re.M)
    assert "Ela the Wanderer, " in do(el, "score")
    do(el, "describe A tall woman in a grey cloak, with a scar on her chin.")
    assert "A tall woman in a grey cloak" in do(fi, "look ela")
    long_title = "x" * 41
    assert "at most 40 characters" in do(el, f"title {long_title}")
    do(el, "title %^RED%^red")                  # no colour markup from players
    assert "%^" not in do(fi, "who")
    assert "Your title is gone." in do(el, "title none")
    assert re.search(r"^\s*Ela\s+telnet\r?$", do(fi, "who"), re.M)
    assert "is an adventurer, like yourself" not in do(fi, "look ela")
    do(el, "describe none")
    assert "Ela is an adventurer, like yourself." in do(fi, "look ela")


def test_history_repeats_by_number_and_prefix_and_through_aliases(world):
    gus = plain_player(world)
    create_character(gus, "gus")
    assert "No command to repeat." in do(gus, "!")
    do(gus, "alias ss say $*")
    do(gus, "ss first words")
    do(gus, "look")
    text = do(gus, "history")                   # (history is in the history, as in a shell)
    assert re.search(r"1\s+alias ss say \$\*\r?\n\s+2\s+ss first words\r?\n\s+3\s+look"
                     r"\r?\n\s+4\s+history", text), text
    again = do(gus, "!2")                       # the alias is expanded again
    assert "ss first words" in again and "You say: first words" in again, again
    assert "You say: first words" in do(gus, "!ss")
    assert "You say: first words" in do(gus, "!")
    assert "There is no command 99 in your history" in do(gus, "!99")
    assert "No command in your history begins with 'zz'." in do(gus, "!zz")
    assert re.search(r"7\s+ss first words\r?\n\s+8\s+history", do(gus, "history"))


def test_a_whisper_reaches_one_person_and_the_room_sees_only_that_it_happened(world):
    hal = plain_player(world)
    create_character(hal, "hal")
    ivy = plain_player(world)
    create_character(ivy, "ivy")
    jon = plain_player(world)
    create_character(jon, "jon")
    for player in (ivy, jon):
        player.raw.clear()
    assert "You whisper to Ivy: the key is under the mat" in \
        do(hal, "whisper ivy the key is under the mat")
    ivy.read_until("Hal whispers to you: the key is under the mat")
    seen = jon.read_until("Hal whispers something to Ivy.")
    assert "key" not in seen, seen
    assert "There is no mags here to whisper to." in do(hal, "whisper mags hello")
    do(ivy, "ignore jon")                       # (Hal, the first character, is an admin)
    assert "Ivy is not listening to you." in do(jon, "whisper ivy hello?")
