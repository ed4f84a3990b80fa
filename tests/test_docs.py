"""The documentation cannot rot: every efun has its page, the guide's code
is the example mudlib's code, and that mudlib runs in a real driver."""

from __future__ import annotations

import inspect
import re
import socket

import driver.efuns

from conftest import ROOT, TIMEOUT, Client

DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples" / "mudlib"
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
                 *sorted((DOCS / "applies").glob("*.md")), DOCS / "mudlib-guide.md"]:
        for target in re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).is_file():
                broken.append(f"{page.relative_to(DOCS)} -> {target}")
    assert not broken, broken
    index = (DOCS / "efuns.md").read_text()
    assert [n for n in efun_names() if f"efuns/{n}.md" not in index] == []


def test_the_guide_shows_the_example_files_exactly():
    guide = (DOCS / "mudlib-guide.md").read_text()
    blocks = re.findall(r"```python\n# docs/examples/mudlib/(\S+)\n(.*?)```", guide, re.S)
    shown = {path for path, _ in blocks}
    assert shown == {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.py")}
    for path, code in blocks:
        assert code == (EXAMPLES / path).read_text(), f"the guide's {path} differs from the file"


def test_the_guide_mudlib_runs_over_plain_and_tls(make_driver, certs):
    driver = make_driver(mudlib=EXAMPLES, mudlib_extra="  heart_beat_interval: 0.05\n")
    sock = socket.create_connection(("127.0.0.1", driver.tls_port), timeout=TIMEOUT)
    ann = Client(certs.client_context().wrap_socket(sock, server_hostname="localhost"))
    assert "Your link is TLSv1." in ann.read_until("Welcome!")
    ann.read_until("\n")
    bob = Client.plain(driver.telnet_port)
    assert "Your link is not encrypted." in bob.read_until("encrypted.")
    ann.read_until("Tick.")                         # the hall's heart beat
    ann.command("look", "A stone hall.")
    bob.raw.clear()
    ann.command("light lamp", "You light the lamp.")   # the lamp's action
    bob.read_until("Someone lights the lamp.")
    assert "Light what?" in bob.command("light", "Light what?")
    ann.command("'hello", "You say: hello")
    bob.read_until("Someone says: hello")
    ann.command("north", "A muddy yard.")
    assert "What?" in ann.command("light lamp", "What?")    # the lamp stayed in the hall
    ann.command("south", "A stone hall.")
    ann.send_line("quit")
    ann.wait_closed()
    driver.wait_for_log(r"closed by the driver")
