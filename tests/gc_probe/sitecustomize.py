"""Loaded by the driver process of tests/test_collector.py (PYTHONPATH), never
by the driver otherwise: on SIGUSR1 it hands every frozen object back to the
collector, runs a full collection that keeps what it finds (``DEBUG_SAVEALL``)
and writes one line to stderr, the driver's log:

    GC-PROBE garbage 3: {"tuple": 2, "dict": 1}

that is, what died in reference cycles since the driver started and was
not freed by reference counting.  Then the collector is as it was.
"""

import collections
import gc
import json
import signal
import sys


def _report(signum, frame):
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        kinds = collections.Counter(type(thing).__name__ for thing in gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
        gc.freeze()
    print(f"GC-PROBE garbage {sum(kinds.values())}: {json.dumps(dict(kinds))}",
          file=sys.stderr, flush=True)


signal.signal(signal.SIGUSR1, _report)
