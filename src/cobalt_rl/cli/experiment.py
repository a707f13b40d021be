"""``cobalt experiment CONFIG.yaml``: the base model vs every training method, over seeds."""

from __future__ import annotations

import argparse
from typing import Any

from cobalt_rl.cli.flags import add_file_command

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    add_file_command(
        sub, "experiment", run, config_help="experiment config (see configs/experiment.yaml)"
    )


def run(args: argparse.Namespace) -> int:
    """The learning experiment: base vs Cobalt, multi-turn GRPO, RLEF, VeRPO; seeds.

    Train every method of the config (Cobalt bandit GRPO on the offline contexts; the online
    baselines multi-turn GRPO, RLEF and VeRPO) for the same wall-clock, for every seed,
    evaluate base and trained models on the held-out sets, and write results.md /
    results.json / pass_at_1.png (mean and 95% CI over seeds). Finished cells are skipped; an
    interrupted run resumes.
    """
    from cobalt_rl.cli.run import announce
    from cobalt_rl.pipeline.experiment import load_experiment_config, run_experiment

    cfg = load_experiment_config(args.config)
    announce("experiment", args.config, cfg.estimated_minutes, cfg.out_dir)
    md = run_experiment(cfg)
    print(f"cobalt experiment: done; results: {md}")
    return 0
