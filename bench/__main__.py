"""``python -m bench``: the driver's benchmark.  See bench/README.md.

    python -m bench run [--quick] [--scenario handshake|storm|playing|memory|hostile|gc ...]
                        [--driver-root PATH] [--servers driver,s_server,...]
                        [--repeat N] [--profile] [--out DIR]
    python -m bench report [RESULTS.json] [--out DIR]
    python -m bench profile OUT/profile/NNN-driver-ec.txt [--top N]
    python -m bench telnet-parse [--size BYTES] [--rounds N] [--json]
    python -m bench tls-cost [--rounds N] [--per-round N] [--case NAME ...] [--json]
    python -m bench instructions [--what command,handshake] [--servers driver,asyncio,...]
                                 [--driver-root PATH] [--window S] [--json]
    python -m bench libraries [--what handshake|command] [--servers driver,asyncio-uvloop]
                              [--window S] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from . import report, servers
from .scenarios import SCENARIOS, VARIANTS, Settings, arrivals_main, run_scenarios

BENCH_DIR = servers.BENCH_DIR
DEFAULT_OUT = BENCH_DIR / "out"


def _event_loop_policy(use_uvloop: bool) -> str:
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            return "asyncio"
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return f"uvloop {uvloop.__version__}"
    return "asyncio"


def command_run(args: argparse.Namespace) -> int:
    names = args.scenario or list(SCENARIOS)
    driver_root = Path(args.driver_root).resolve()
    if not (driver_root / "driver.py").is_file():
        print(f"bench: {driver_root} has no driver.py (--driver-root)", file=sys.stderr)
        return 2
    full = (not args.quick and names == list(SCENARIOS) and not args.servers
            and not args.variant and not args.profile and not args.out)
    out_dir = Path(args.out).resolve() if args.out else DEFAULT_OUT / ("quick" if args.quick else "full")
    settings = Settings.make(args.quick, out_dir, driver_root, args.repeat,
                             tuple(args.servers.split(",")) if args.servers else None)
    settings.profile = args.profile
    settings.profile_native = args.profile_native
    if args.variant:
        settings.hs_variants = tuple(args.variant)
    servers.raise_nofile_limit()
    loop_name = _event_loop_policy(not args.no_uvloop)
    command = "python -m bench " + " ".join(sys.argv[1:])
    started = time.time()
    results = asyncio.run(run_scenarios(settings, names))
    results["meta"] = report.machine_info(driver_root, loop_name, command, args.quick, started)
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "results.json"
    raw.write_text(json.dumps(results, indent=1))
    # Only a complete full run replaces the committed report.
    target = BENCH_DIR if full else out_dir
    markdown, plot = report.write(results, target)
    print(f"bench: results in {raw}; report {markdown}; plot {plot}", file=sys.stderr)
    print(f"bench: {results['elapsed_s']:.0f} s", file=sys.stderr)
    return 0


def command_report(args: argparse.Namespace) -> int:
    source = Path(args.results)
    results = json.loads(source.read_text())
    target = Path(args.out) if args.out else source.parent
    markdown, plot = report.write(results, target)
    print(f"bench: report {markdown}; plot {plot}", file=sys.stderr)
    return 0


def command_profile(args: argparse.Namespace) -> int:
    from .profile import report as profile_report

    root = str(Path(args.driver_root).resolve()) + "/"
    for path in args.profiles:
        print(profile_report(Path(path), args.top, args.under, strip=(root,)))
        print()
    return 0


def command_arrivals(args: argparse.Namespace) -> int:
    servers.raise_nofile_limit()
    _event_loop_policy(not args.no_uvloop)
    result = asyncio.run(arrivals_main(args.port, args.rate, args.duration,
                                       args.greeting.encode("latin-1"),
                                       args.probe.encode("latin-1") if args.probe else None,
                                       hold=args.hold))
    if not args.hold:  # (a holding run printed its result before it held)
        print(json.dumps(result))
    return 0


def command_attack(args: argparse.Namespace) -> int:
    from .hostile import attack_command

    _event_loop_policy(not args.no_uvloop)
    return attack_command(args)


def command_telnet_parse(args: argparse.Namespace) -> int:
    from . import telnet_parse

    result = telnet_parse.measure(args.size, args.rounds)
    print(json.dumps(result, indent=1) if args.json else telnet_parse.report(result))
    return 0


def command_instructions(args: argparse.Namespace) -> int:
    from . import instructions
    _event_loop_policy(True)  # the load generator, as in `run`
    return instructions.main(args)


def command_libraries(args: argparse.Namespace) -> int:
    from . import libraries
    _event_loop_policy(True)  # the load generator, as in `run`
    return libraries.main(args)


def command_tls_cost(args: argparse.Namespace) -> int:
    from . import tls_cost

    result = tls_cost.measure(args.rounds, args.per_round, tuple(args.case or tls_cost.CASES))
    print(json.dumps(result, indent=1) if args.json else tls_cost.report(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="The driver's benchmark.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run scenarios against the driver and its baselines")
    run.add_argument("--scenario", action="append", choices=list(SCENARIOS),
                     help="run only this scenario (repeatable); default: all six")
    run.add_argument("--quick", action="store_true",
                     help="smaller counts and shorter windows (about a minute in all)")
    run.add_argument("--driver-root", default=str(BENCH_DIR.parent),
                     help="the driver tree to measure (a directory with driver.py); "
                          "default: this one")
    run.add_argument("--servers", help="comma-separated subset of: driver, driver-shipped, "
                                       "driver-asyncio, s_server, asyncio, asyncio-uvloop, "
                                       "asyncio-backlog")
    run.add_argument("--variant", action="append", choices=list(VARIANTS),
                     help="handshake variant to run (repeatable); default: all but "
                          "tls13-rsa-resumed, or tls13-ec with --quick")
    run.add_argument("--repeat", type=int, default=1,
                     help="rounds of the handshake scenario; the median round is reported")
    run.add_argument("--profile", action="store_true",
                     help="sample every driver with py-spy; profiles go to OUT/profile/")
    run.add_argument("--profile-native", action="store_true",
                     help="with --profile: sample C frames too (OpenSSL apart from Python)")
    run.add_argument("--no-uvloop", action="store_true",
                     help="run the load generator on asyncio's loop even if uvloop is installed")
    run.add_argument("--out", help="directory for results (default bench/out/quick or bench/out/full)")
    run.set_defaults(handler=command_run)

    rep = sub.add_parser("report", help="write the Markdown report and plot from a results file")
    rep.add_argument("results", nargs="?", default=str(DEFAULT_OUT / "full" / "results.json"))
    rep.add_argument("--out", help="directory for RESULTS.md and the plot")
    rep.set_defaults(handler=command_report)

    prof = sub.add_parser("profile", help="summarize py-spy profiles written by 'run --profile'")
    prof.add_argument("profiles", nargs="+")
    prof.add_argument("--top", type=int, default=30)
    prof.add_argument("--under", help="only functions whose file:function contains this")
    prof.add_argument("--driver-root", default=str(BENCH_DIR.parent))
    prof.set_defaults(handler=command_profile)

    arr = sub.add_parser("arrivals", help="(internal) the open-loop handshakes of scenario 3's storm")
    arr.add_argument("--port", type=int, required=True)
    arr.add_argument("--rate", type=float, required=True)
    arr.add_argument("--duration", type=float, required=True)
    arr.add_argument("--greeting", required=True)
    arr.add_argument("--probe")
    arr.add_argument("--hold", action="store_true",
                     help="keep the connections open until stdin closes (scenario 6)")
    arr.add_argument("--no-uvloop", action="store_true")
    arr.set_defaults(handler=command_arrivals)

    att = sub.add_parser("attack", help="(internal) an attacker of the hostile scenario")
    att.add_argument("--kind", required=True,
                     choices=["burst", "never_reader", "iac_flood", "idle", "password"])
    att.add_argument("--port", type=int, required=True)
    att.add_argument("--duration", type=float, required=True, help="stops by itself after this")
    att.add_argument("--greeting", required=True)
    att.add_argument("--lines", type=int, default=40000, help="burst: lines per write")
    att.add_argument("--interval", type=float, default=1.0, help="burst: seconds between writes")
    att.add_argument("--rate", type=float, default=4 * 2**20, help="bytes per second, at most")
    att.add_argument("--connections", type=int, default=1000, help="idle, password: connections")
    att.add_argument("--victim", default="Victim", help="password: the character attacked")
    att.add_argument("--no-uvloop", action="store_true")
    att.set_defaults(handler=command_attack)

    tp = sub.add_parser("telnet-parse",
                        help="µs per byte the telnet layer spends on text and on IAC-heavy input")
    tp.add_argument("--size", type=int, default=1 << 18,
                    help="bytes of each input (default 256 KiB)")
    tp.add_argument("--rounds", type=int, default=25, help="rounds; each input's best counts")
    tp.add_argument("--json", action="store_true", help="print the figures as JSON")
    tp.set_defaults(handler=command_telnet_parse)

    from .tls_cost import CASES

    tc = sub.add_parser("tls-cost",
                        help="server µs of one TLS handshake, full and resumed, over memory BIOs")
    tc.add_argument("--rounds", type=int, default=8, help="counted rounds (one more warms up)")
    tc.add_argument("--per-round", type=int, default=100,
                    help="handshakes of each case and mode per round")
    tc.add_argument("--case", action="append", choices=list(CASES),
                    help="a case to measure (repeatable); default: all")
    tc.add_argument("--json", action="store_true", help="print the figures as JSON")
    tc.set_defaults(handler=command_tls_cost)

    ins = sub.add_parser("instructions",
                         help="machine instructions per command and per handshake (callgrind)")
    ins.add_argument("--what", default="command,handshake",
                     help="command, handshake or both (comma-separated)")
    ins.add_argument("--servers", help="comma-separated subset of: driver, driver-asyncio, "
                     "asyncio, asyncio-uvloop (default: all four)")
    ins.add_argument("--driver-root", default=str(BENCH_DIR.parent))
    ins.add_argument("--window", type=float, default=10.0, help="seconds counted per server")
    ins.add_argument("--out", help="directory for the servers' files "
                     "(default bench/out/instructions)")
    ins.add_argument("--json", action="store_true", help="print the figures as JSON")
    ins.set_defaults(handler=command_instructions)

    lib = sub.add_parser("libraries",
                         help="server CPU per handshake or per command by library: OpenSSL, "
                         "Python, the kernel, ... (perf)")
    lib.add_argument("--what", default="handshake",
                     help="handshake (scenario 1's load) or command (scenario 3's players)")
    lib.add_argument("--servers", default="driver,asyncio-uvloop",
                     help="comma-separated, in order: driver, driver-asyncio, asyncio, "
                     "asyncio-uvloop (default: driver,asyncio-uvloop)")
    lib.add_argument("--driver-root", default=str(BENCH_DIR.parent))
    lib.add_argument("--concurrency", type=int, default=128,
                     help="handshake: clients at once")
    lib.add_argument("--players", type=int, default=1000,
                     help="command: players, each sending a command a second")
    lib.add_argument("--warmup", type=float, default=2.0, help="seconds before sampling")
    lib.add_argument("--window", type=float, default=6.0, help="seconds sampled per server")
    lib.add_argument("--out", help="directory for the servers' files (default bench/out/libraries)")
    lib.add_argument("--json", action="store_true", help="print the figures as JSON")
    lib.set_defaults(handler=command_libraries)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
