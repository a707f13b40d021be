"""Entry point of the ``cobalt`` console command.

Every command runs inside a :class:`~cobalt_rl.console.Console`: our own lines on the
terminal, libraries' warnings, logs and progress bars in a log file (a run's ``run.log``),
summarised once at the end; ``--verbose`` shows everything.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cobalt_rl import __version__
from cobalt_rl.errors import CobaltError

# Subcommand modules, in the order --help lists them. Each has register(subparsers).
COMMANDS = [
    "run",
    "experiment",
    "problems",
    "execute",
    "rollout",
    "evaluate",
    "contexts",
    "perturb",
    "train",
    "plan",
    "export",
    "sandbox",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cobalt",
        description="Train code LLMs to use execution feedback across turns (Cobalt).",
    )
    parser.add_argument("--version", action="version", version=f"cobalt-rl {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show every library's warnings, logs and progress bars (default: captured into "
        "the log file, e.g. <run_dir>/run.log, and summarised once)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"cobalt_rl.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from cobalt_rl.console import Console, default_log_path, installed

    with installed(Console(verbose=args.verbose), default_log_path(args.command)):
        try:
            result: int = args.func(args)
        except CobaltError as e:
            print(f"cobalt {args.command}: error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"cobalt {args.command}: interrupted", file=sys.stderr)
            return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
