"""``cobalt run CONFIG.yaml``: the whole pipeline in one run directory (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    from cobalt_rl.pipeline import ALL_STAGES

    parser = sub.add_parser(
        "run",
        help="run every stage: rollout, contexts, training, evaluation, report",
        description="Run the whole Cobalt pipeline from one YAML config into one run "
        "directory. Finished stages are skipped; an interrupted run resumes.",
    )
    parser.add_argument("config", type=Path, help="run config (see configs/demo.yaml)")
    parser.add_argument(
        "--from",
        dest="from_stage",
        choices=ALL_STAGES,  # hacking stages only with a `hacking` section
        default=None,
        help="re-run from this stage on (earlier outputs are moved aside)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cobalt_rl.pipeline import load_run_config, run_pipeline

    cfg = load_run_config(args.config)
    if cfg.estimated_minutes:
        print(
            f"cobalt run: {args.config} takes about {cfg.estimated_minutes:g} minutes on a "
            "2-core CPU machine; artifacts go to " + str(cfg.run_dir),
            flush=True,
        )
    report = run_pipeline(cfg, args.from_stage)
    print(f"cobalt run: done; report: {report}")
    return 0
