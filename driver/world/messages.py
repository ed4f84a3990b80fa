"""Text to an object: the one path every ``write``, ``say`` and ``tell`` takes.

An interactive object's text goes to its connection (and a copy to whoever
snoops it); any other object hears it through its ``catch_tell`` apply, as
in LDMud, which is how NPCs react to what is said around them.
"""

from __future__ import annotations

from . import objects
from .inputs import snoop_output
from .objects import MudObject


def deliver(ob: MudObject, text: str) -> None:
    binding = getattr(ob, "_mud_interactive", None)  # binding_of(), inlined: every write
    if binding is not None and not binding.connection.closing:
        binding.connection.write_text(text)
        snoop_output(binding, text)
        return
    catch_tell = getattr(ob, "catch_tell", None)
    if callable(catch_tell):
        objects.call_in_frame(ob, catch_tell, text)
