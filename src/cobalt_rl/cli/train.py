"""``cobalt train``: Cobalt bandit GRPO, or an online baseline (multi-turn GRPO, RLEF, VeRPO)."""

from __future__ import annotations

import argparse
from typing import Any

from cobalt_rl.cli.flags import add_command, config_from_yaml_and_args
from cobalt_rl.train.config import TrainConfig

__all__ = ["load_config", "register", "run"]


def register(sub: Any) -> None:
    add_command(
        sub,
        "train",
        TrainConfig,
        run,
        config_file=True,
        from_yaml=("out", "contexts", "problems"),
    )


def _from_file(loaded: dict[str, Any]) -> dict[str, Any]:
    """A file's ``train:`` mapping under its top-level profile and sampling defaults (a run
    config), or the whole file as the train options."""
    from cobalt_rl.pipeline.config import given_fields, train_section

    if "train" not in loaded:
        return loaded
    return train_section(
        loaded["train"] or {}, loaded.get("profile"), given_fields(loaded.get("sampling"))
    )


def load_config(args: argparse.Namespace) -> TrainConfig:
    """The config the flags and the ``--config`` file's ``train:`` mapping give."""
    cfg: TrainConfig = config_from_yaml_and_args(
        TrainConfig, args.config, "train", args, read=_from_file
    )
    return cfg


def run(args: argparse.Namespace) -> int:
    """Train the policy: Cobalt bandit GRPO, multi-turn GRPO, RLEF or VeRPO.

    Train the policy (--mode). bandit (Cobalt): TRL's GRPO, one reply per offline prefix,
    rewarded in the sandbox. The online baselines roll out whole episodes with the policy:
    multiturn (multi-turn GRPO), rlef (RLEF: PPO with a turn-level critic) and verpo (VeRPO:
    dense per-turn reward from difficulty-weighted tests, group-relative advantage).
    Checkpoints and metrics.jsonl go to --out; a killed run resumes.
    """
    from cobalt_rl.train import train

    cfg = load_config(args)
    final = train(cfg)
    print(f"train: final model in {final}; metrics in {cfg.out / 'metrics.jsonl'}")
    return 0
