"""The efuns: everything a mudlib may call.

``from driver.efuns import tls_init_connection, write, ...``: the mudlib needs
nothing else from the driver and never sees asyncio, sockets or ``ssl``.
Each efun is a thin layer that checks its arguments (raising ``EfunError``
with LDMud's meaning) and hands the work to the world (``driver.world``) or
a connection (``driver.net``).  They are grouped by theme:

    objects.py   objects, the call stack, actions and commands, hot reload
    players.py   text to players, input_to, prompts, exec, snoop, addresses
    tls.py       securing connections (the contract in docs/efuns.md)
    files.py     files, save_object/restore_object, save_value/restore_value
    system.py    time, call_outs, heart beats, load, driver_info, shutdown
    client.py    the player's client: terminal, GMCP, raw telnet, link-death

This package is a facade: nothing inside the driver imports it.
"""

from . import client as _client
from . import files as _files
from . import objects as _objects
from . import players as _players
from . import system as _system
from . import tls as _tls
from .client import *  # noqa: F401,F403
from .files import *  # noqa: F401,F403
from .objects import *  # noqa: F401,F403 - the efun objects() takes the submodule's name
from .players import *  # noqa: F401,F403
from .system import *  # noqa: F401,F403
from .tls import *  # noqa: F401,F403

__all__ = [*_objects.__all__, *_players.__all__, *_system.__all__, *_tls.__all__,
           *_files.__all__, *_client.__all__]
