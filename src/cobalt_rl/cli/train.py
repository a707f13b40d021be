"""``cobalt train``: Cobalt bandit training (or the multi-turn online baseline) with TRL GRPO."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cobalt_rl.config import add_model_arguments, config_from_yaml_and_args
from cobalt_rl.train.config import TrainConfig

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "train",
        help="train the policy: Cobalt bandit GRPO on contexts, or the multi-turn baseline",
        description="Train with TRL's GRPO. bandit (Cobalt): one reply per offline prefix, "
        "rewarded in the sandbox; multiturn: the policy rolls out whole episodes online. "
        "Checkpoints and metrics.jsonl go to --out; a killed run resumes.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML file with any of the options below (flags override it)",
    )
    add_model_arguments(parser, TrainConfig)
    for action in parser._actions:
        if action.dest == "out":
            action.required = False
    parser.set_defaults(func=run)


def load_config(args: argparse.Namespace) -> TrainConfig:
    return config_from_yaml_and_args(TrainConfig, args.config, "train", args)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    if cfg.mode == "bandit":
        from cobalt_rl.train.bandit import train_bandit

        final = train_bandit(cfg)
    else:
        from cobalt_rl.train.multiturn import train_multiturn

        final = train_multiturn(cfg)
    print(f"train: final model in {final}; metrics in {cfg.out / 'metrics.jsonl'}")
    return 0
