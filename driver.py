#!/usr/bin/env python3
"""Entry point: ``python driver.py [--config config.yaml] [overrides]``.

Exit status: 0 after a clean shutdown, 2 when the configuration, the
certificates, the master or a port stops the driver from starting (one line
on stderr says which and why).
"""

from __future__ import annotations

import faulthandler
import logging
import sys

try:
    from driver import config as config_module
    from driver.game import (StartupError, describe_event_loop, event_loop_factory,
                             load_credentials, run, setup_logging)
except ModuleNotFoundError as missing:
    # Started by a Python without the driver's packages (outside the virtualenv).
    print(f"driver.py: this Python ({sys.executable}) lacks the package {missing.name!r}; "
          f"start the game with `make run` (it sets everything up), or "
          f"`.venv/bin/python driver.py` after `make setup`", file=sys.stderr)
    sys.exit(2)


def main(argv: list[str] | None = None) -> int:
    parser = config_module.argument_parser()
    args = parser.parse_args(argv)
    try:
        config = config_module.load(args.config, config_module.overrides_from(args))
    except config_module.ConfigError as exc:
        print(f"driver.py: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        loop_factory = event_loop_factory(config)
    except StartupError as exc:
        print(f"driver.py: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.check_config:
        try:
            credentials = load_credentials(config)
        except StartupError as exc:
            print(f"driver.py: configuration error: {exc}", file=sys.stderr)
            return 2
        tls = credentials.describe() if credentials.available else "no TLS certificate configured"
        print(f"configuration OK: {config.source or 'defaults'}; {tls}")
        print(f"event loop: {describe_event_loop(None, config.event_loop)}")
        for level, text in credentials.warnings() if credentials.available else ():
            print(f"{logging.getLevelName(level).lower()}: {text}")
        return 0
    setup_logging(config)
    # A crash in native code (or a fatal error of the interpreter's) leaves
    # the Python traceback of every thread on stderr, for the operator.
    faulthandler.enable()
    try:
        return run(config, loop_factory)
    except StartupError as exc:
        print(f"driver.py: cannot start: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
