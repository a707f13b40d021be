"""``cobalt export verl``: contexts as verl parquet, with a reward module and a launch script."""

from __future__ import annotations

import argparse
from typing import Any

from cobalt_rl.cli.flags import add_command, model_from_args
from cobalt_rl.export.verl_launch import VerlExportConfig

__all__ = ["register"]


def _verl(args: argparse.Namespace) -> int:
    """Export contexts as verl parquet, a reward module and a launch script (the paper's engine).

    Write train.parquet (and val.parquet) in verl's RL dataset format, cobalt_reward.py (verl's
    custom reward function: the cobalt reward, run in the sandbox the --sandbox-* options
    describe), run_verl.sh (verl GRPO with the paper's settings) and README.md. verl must run
    in its own environment, never cobalt-rl's.
    """
    cfg = model_from_args(VerlExportConfig, args)
    from cobalt_rl.export.verl_launch import export_verl

    result = export_verl(cfg)
    val = f", {result.val_rows} validation" if result.val_rows else ""
    print(f"export verl: {result.train_rows} training{val} rows; wrote:")
    for path in result.files:
        print(f"  {path}")
    print(f"run it on a Ray cluster in verl's own environment: see {result.out / 'README.md'}")
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "export",
        help="Export contexts for another trainer (verl on Ray).",
        description="Export contexts for training elsewhere.",
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    add_command(targets, "verl", VerlExportConfig, _verl)
