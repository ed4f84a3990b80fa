"""Run a driver tree's ``driver.py`` on uvloop's event loop (an experiment).

    python bench/uvloop_driver.py <driver-root> [driver.py arguments]

The driver itself runs on asyncio's loop; this launcher only installs
uvloop's event loop policy first, to show what the loop alone is worth.
"""

from __future__ import annotations

import asyncio
import runpy
import sys
from pathlib import Path

import uvloop

if __name__ == "__main__":
    root = Path(sys.argv[1]).resolve()
    sys.argv = [str(root / "driver.py"), *sys.argv[2:]]
    sys.path.insert(0, str(root))
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    runpy.run_path(str(root / "driver.py"), run_name="__main__")
