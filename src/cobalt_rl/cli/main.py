"""Entry point of the ``cobalt`` console command."""

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
    "train",
    "export",
    "sandbox",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cobalt",
        description="Train code LLMs to use execution feedback across turns (Cobalt).",
    )
    parser.add_argument("--version", action="version", version=f"cobalt-rl {__version__}")
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
