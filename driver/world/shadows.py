"""Shadows: an object that stands in front of another for ``call_other``.

This module owns LDMud's shadows.  When A shadows B (``shadow(B)`` run by
A), every ``call_other`` to B goes to A if A defines the function, and to B
if it does not; a curse, a disguise or a guild's powers are written this
way without touching B's code.  Shadows stack: a second shadow of B stands
in front of the first, and a call tries them from the newest down to B.
A shadow reaches what it shadows by ``call_other`` past itself (the call
starts just below the caller), so ``call_other(victim, "short")`` inside
A's own ``short`` gets B's; a call to a shadow that does not define the
function goes on down the chain.  ``present`` asks ``id()`` through the
shadows too, so a disguise can answer to another name.  Everything else
sees B as it is: efuns such as ``environment``, and plain Python method
calls (``b.short()``, B's own ``self.short()``).  B calling ``call_other``
on itself meets its shadows, as in LDMud.

The chain is two attributes of each object: ``_mud_shadowing`` (the object
just below, which this one shadows) and ``_mud_shadowed_by`` (just above).
A shadow leaves the chain when it calls ``unshadow()`` or is destructed;
when the shadowed object is destructed, its shadows stop shadowing and
live on (LDMud since 3.2.1@47).
"""

from __future__ import annotations

from typing import Any, Callable

from .objects import MudObject


def chain_of(ob: MudObject) -> list[MudObject]:
    """The object at the bottom of ``ob``'s chain, then its shadows, oldest first."""
    while ob._mud_shadowing is not None:
        ob = ob._mud_shadowing
    chain = [ob]
    while ob._mud_shadowed_by is not None:
        ob = ob._mud_shadowed_by
        chain.append(ob)
    return chain


def why_not(shadower: MudObject, victim: MudObject) -> str | None:
    """Why ``shadower`` may never shadow ``victim`` (LDMud's rules, in its
    words); None if it may, the master willing."""
    if getattr(type(victim), "no_shadow", False) is True:
        return "Can't shadow a 'no_shadow' program"
    if shadower._mud_shadowing is not None:
        return "Already shadowing"
    if shadower._mud_shadowed_by is not None:
        return "Can't shadow when shadowed"
    if shadower._mud_environment is not None:
        return (f"The shadow resides inside another object "
                f"('{shadower._mud_environment._mud_name}')")
    if victim._mud_shadowing is not None:
        return "Can't shadow a shadow"
    if shadower is victim:
        return "Can't shadow self"
    return None


def attach(shadower: MudObject, victim: MudObject) -> None:
    """Put ``shadower`` at the front of ``victim``'s chain (why_not() said yes)."""
    top = chain_of(victim)[-1]
    top._mud_shadowed_by = shadower
    shadower._mud_shadowing = top


def detach(ob: MudObject) -> None:
    """Take ``ob`` out of its chain, whatever its place; the rest closes up."""
    below, above = ob._mud_shadowing, ob._mud_shadowed_by
    if below is not None:
        below._mud_shadowed_by = above
    if above is not None:
        above._mud_shadowing = below
    ob._mud_shadowing = ob._mud_shadowed_by = None


def shadowed_object(ob: MudObject) -> MudObject | None:
    """The object ``ob`` stands just in front of (``query_shadowing``)."""
    return ob._mud_shadowing


def receiver(ob: MudObject, fun: str, caller: Any) -> tuple[MudObject, Callable | None]:
    """Who answers ``call_other(ob, fun)`` from ``caller``, and the method
    (None if nobody defines it), as LDMud's apply finds it: from the
    newest shadow in front of ``ob`` (or, if the caller is one of those
    shadows, the one just below the caller: a shadow calls past itself)
    down the chain to its bottom, the first that defines ``fun``."""
    chain = chain_of(ob)
    start = len(chain) - 1
    for i, member in enumerate(chain):
        if member is ob:
            for j in range(i + 1, len(chain)):
                if chain[j] is caller:
                    start = j - 1
                    break
            break
    for candidate in reversed(chain[:start + 1]):
        method = getattr(candidate, fun, None)
        if callable(method):
            return candidate, method
    return ob, None


def object_destructed(ob: MudObject) -> None:
    """A destructed object leaves its chain: a shadow stops standing in
    front, and a shadowed object's shadows stop shadowing (they live on)."""
    if ob._mud_shadowing is None and ob._mud_shadowed_by is None:
        return
    if ob._mud_shadowing is None:   # the bottom of a chain: every shadow goes free
        for shadow in chain_of(ob)[1:]:
            shadow._mud_shadowing = shadow._mud_shadowed_by = None
        ob._mud_shadowed_by = None
        return
    detach(ob)
