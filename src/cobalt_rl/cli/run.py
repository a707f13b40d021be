"""``cobalt run CONFIG.yaml``: the whole pipeline in one run directory (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cobalt_rl.config import add_file_command

__all__ = ["announce", "register", "run"]


def register(sub: Any) -> None:
    from cobalt_rl.pipeline import ALL_STAGES

    parser = add_file_command(
        sub,
        "run",
        run,
        help="run every stage: rollout, contexts, training, evaluation, report",
        description="Run the whole Cobalt pipeline from one YAML config into one run "
        "directory. Finished stages are skipped; an interrupted run resumes.",
        config_help="run config (see configs/demo.yaml)",
    )
    parser.add_argument(
        "--from",
        dest="from_stage",
        choices=ALL_STAGES,  # hacking stages only with a `hacking` section
        default=None,
        help="re-run from this stage on (earlier outputs are moved aside)",
    )


def run(args: argparse.Namespace) -> int:
    from cobalt_rl.pipeline import load_run_config, run_pipeline

    cfg = load_run_config(args.config)
    announce("run", args.config, cfg.estimated_minutes, cfg.run_dir)
    print(f"cobalt run: profile {cfg.profile.value} (see docs/profiles.md)", flush=True)
    report = run_pipeline(cfg, args.from_stage)
    print(f"cobalt run: done; report: {report}")
    return 0


def announce(command: str, config: Path, minutes: float | None, out: Path) -> None:
    """Say how long a long job takes (as measured on the target machine) before it starts."""
    if minutes:
        print(
            f"cobalt {command}: {config} takes about {minutes:g} minutes on a 2-core CPU "
            f"machine; artifacts go to {out}",
            flush=True,
        )
