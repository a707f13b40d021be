"""Training: the Cobalt bandit trainer (TRL GRPO) and the online multi-turn baseline.

- :mod:`~cobalt_rl.train.config`: the config, one model per mode;
- :mod:`~cobalt_rl.train.bandit`: Cobalt, one reply per offline prefix;
- :mod:`~cobalt_rl.train.multiturn`: online multi-turn GRPO;
- :mod:`~cobalt_rl.train.common`: what both share (TRL's trainer, reward, metrics, saving).

The trainer modules pull in torch, transformers and TRL when :func:`train` runs, not when
this package is imported.
"""

from __future__ import annotations

from pathlib import Path

from cobalt_rl.train.config import (
    BanditTrainConfig,
    MultiturnTrainConfig,
    TrainConfig,
    parse_train_config,
)

__all__ = [
    "BanditTrainConfig",
    "MultiturnTrainConfig",
    "TrainConfig",
    "parse_train_config",
    "train",
]


def train(cfg: TrainConfig) -> Path:
    """Train with the trainer ``cfg.mode`` names; returns the final model's directory."""
    if isinstance(cfg, BanditTrainConfig):
        from cobalt_rl.train.bandit import train_bandit

        return train_bandit(cfg)
    from cobalt_rl.train.multiturn import train_multiturn

    return train_multiturn(cfg)
