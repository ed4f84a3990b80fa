"""The documentation cannot rot: every efun has its page, the guide's code
is the example files' code, and those files, added to the shipped world,
run in a real driver over plain telnet and TLS."""

from __future__ import annotations

import inspect
import json
import re
import shutil
from pathlib import Path

import driver.efuns

from conftest import ROOT, SHIPPED_MUDLIB
from mudclient import DO, GMCP, TelnetPeer, iac, sb
from test_world import create_character, do, plain_player
from test_world_play import mud_client, new_character, play, visible_lines

DOCS = ROOT / "docs"
GUIDE = DOCS / "mudlib-guide.md"
PORTING = DOCS / "porting-from-ldmud.md"
# Files the guide adds to the shipped world, at the paths they take in it.
EXAMPLES = DOCS / "examples" / "world"
# The one line the guide adds to a shipped file: the square's exit to the well yard.
NEW_EXIT = '        "northwest": "/rooms/well",\n'
SECTIONS = ("## Description", "## Errors", "## Example", "## See also", "## Differences from LDMud")


def efun_names() -> list[str]:
    return [name for name in driver.efuns.__all__
            if inspect.isfunction(getattr(driver.efuns, name))]


def test_every_efun_has_a_page_with_every_section():
    missing, incomplete = [], []
    for name in efun_names():
        page = DOCS / "efuns" / f"{name}.md"
        if not page.is_file():
            missing.append(name)
            continue
        text = page.read_text()
        if not text.startswith(f"# {name}\n") or not all(s in text for s in SECTIONS):
            incomplete.append(name)
    assert not missing, f"efuns without docs/efuns/NAME.md: {missing}"
    assert not incomplete, f"pages lacking a section: {incomplete}"


def test_the_index_and_the_pages_link_to_pages_that_exist():
    broken = []
    for page in [DOCS / "efuns.md", *sorted((DOCS / "efuns").glob("*.md")),
                 *sorted((DOCS / "applies").glob("*.md")), GUIDE, PORTING, ROOT / "README.md"]:
        for target in re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).is_file():
                broken.append(f"{page.relative_to(DOCS)} -> {target}")
    assert not broken, broken
    index = (DOCS / "efuns.md").read_text()
    assert [n for n in efun_names() if f"efuns/{n}.md" not in index] == []


def example_files() -> set[str]:
    return {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.py")}


def shown_examples(page: Path) -> dict[str, str]:
    """The example files a page shows: path -> the code in its block."""
    blocks = re.findall(r"```python\n# docs/examples/world/(\S+)\n(.*?)```", page.read_text(), re.S)
    return dict(blocks)


def test_the_guide_shows_every_example_file_exactly():
    shown = shown_examples(GUIDE)
    assert set(shown) == example_files()
    for path, code in shown.items():
        assert code == (EXAMPLES / path).read_text(), f"the guide's {path} differs from the file"
    assert f"```python\n{NEW_EXIT}```" in GUIDE.read_text(), "the guide shows the square's new exit"


def test_the_guide_quotes_the_shipped_world_as_it_is():
    excerpts = re.findall(r"```python\n# mudlib/(\S+) \(excerpt\)\n(.*?)```", GUIDE.read_text(), re.S)
    assert excerpts
    for path, code in excerpts:
        assert code in (SHIPPED_MUDLIB / path).read_text(), f"the guide's excerpt of {path} is stale"


def test_the_porting_page_shows_the_python_it_compares_exactly():
    shown = shown_examples(PORTING)
    assert shown, "the porting page's side-by-side shows an example file"
    for path, code in shown.items():
        assert code == (EXAMPLES / path).read_text(), f"the porting page's {path} differs"
    lpc = re.findall(r"```c\n(.*?)```", PORTING.read_text(), re.S)
    assert any('inherit "/std/room";' in block and "::create();" in block for block in lpc)


def example_world(directory: Path) -> Path:
    """A copy of the shipped world with the guide's files added, and the
    square's new exit, as the guide has a builder do it."""
    mudlib = directory / "mudlib"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(SHIPPED_MUDLIB, mudlib, ignore=ignore)
    clashes = [path for path in example_files() if (mudlib / path).exists()]
    assert not clashes, f"examples must add to the shipped world, not replace: {clashes}"
    shutil.copytree(EXAMPLES, mudlib, ignore=ignore, dirs_exist_ok=True)
    square = mudlib / "rooms" / "square.py"
    text = square.read_text()
    assert text.count("    exits = {\n") == 1, "the square's exits are where the guide says"
    square.write_text(text.replace("    exits = {\n", "    exits = {\n" + NEW_EXIT))
    return mudlib


def gmcp_client(ttypes: tuple[str, ...], columns: int):
    """Mudlet's answers (see test_world_play.mud_client), and GMCP with Room."""
    answer_terminal = mud_client(ttypes, columns)

    def answer(peer: TelnetPeer, command: tuple) -> None:
        if command == ("WILL", GMCP):
            peer.send(iac(DO, GMCP) + sb(GMCP, b'Core.Supports.Set ["Char 1", "Room 1"]'))
        else:
            answer_terminal(peer, command)
    return answer


def gmcp_messages(peer: TelnetPeer, package: str) -> list:
    return [json.loads(c[2].split(b" ", 1)[1]) for c in peer.commands
            if c[:2] == ("SB", GMCP) and c[2].split(b" ", 1)[0] == package.encode()]


def test_the_guide_examples_run_in_the_shipped_world_over_plain_and_tls(make_driver, certs,
                                                                       tmp_path):
    driver = make_driver(mudlib=example_world(tmp_path),
                         mudlib_extra="  heart_beat_interval: 0.05\n")
    # Ann: TLS, a 256-colour client 40 columns wide that speaks GMCP.
    ann = TelnetPeer(driver.tls_port,
                     on_command=gmcp_client(("MUDLET", "XTERM-256COLOR", "MTTS 9"), 40))
    ann.start_tls(certs.client_context())
    ann.finish_tls()
    new_character(ann, "ann")
    # Bob: plain telnet, a client that announces nothing.
    bob = plain_player(driver)
    create_character(bob, "bob")

    # The room: the square's new exit leads there; the client's map learns it.
    square = gmcp_messages(ann, "Room.Info")[-1]
    assert square["name"] == "The town square"
    text = play(ann, "nw")
    assert "The well yard" in text and "a wooden bucket" in text, text
    assert "Nell the water-carrier" in text and "Nell nods to Ann." in text, text
    bob.read_until("Ann leaves northwest.")
    yard = gmcp_messages(ann, "Room.Info")[-1]
    assert yard["name"] == "The well yard" and yard["area"] == "Ravenmoor"
    assert yard["environment"] == "outdoors"
    assert yard["exits"] == {"southeast": square["num"]}
    assert square["exits"]["northwest"] == yard["num"]

    # The item and its actions.
    assert "The bucket is empty." in play(ann, "drink water")
    assert "You take a wooden bucket." in play(ann, "get bucket")
    assert "You lower the bucket into the well" in play(ann, "fill bucket")
    assert "a bucket of water" in play(ann, "inventory")
    assert "You drink deep." in play(ann, "drink water")

    # The command: colour for Ann's client, none for Bob's, and wrapped to
    # Ann's 40 columns; its help page, and its place in the index.
    text = play(ann, "time")
    assert "\x1b[38;5;" in text and "in Ravenmoor." in text, text
    lines = visible_lines(text)
    assert not [line for line in lines if len(line) > 40], lines
    assert sum(1 for line in lines if line.strip()) >= 4, "the scene wraps onto several lines"
    text = do(bob, "time")
    assert "It is day in Ravenmoor." in text and "\x1b" not in text, text
    text = play(ann, "help time")
    assert "Usage: time" in " ".join(visible_lines(text)), text
    assert "Tell the time of day" in text, text
    assert "What?" in do(bob, "../cmds/time"), "a typed line never names a file"
    index = " ".join(visible_lines(play(ann, "help")))
    assert re.search(r"Looking:\s+look\s+examine\s+exits\s+go\s+time\s", index), index

    # The NPC: alone in the yard, she walks to the square on her heart beat;
    # she stays while there are players to talk to, answers what she is
    # asked, and nods to whoever arrives.
    mark = len(ann.text_bytes)
    assert "The town square" in play(ann, "se")
    ann.wait_text("Nell arrives from the northwest.", start=mark)
    bob.read_until("Nell arrives from the northwest.")
    assert "Nell says: Deepest in the county" in do(bob, "ask nell about the well")
    assert "Nell says: Couldn't say." in do(bob, "ask nell about dragons")
    do(bob, "north")
    mark = len(ann.text_bytes)
    assert "Nell nods to Bob." in do(bob, "south")
    ann.wait_text("Nell nods to Bob.", start=mark)
    ann.close()
    bob.close()
