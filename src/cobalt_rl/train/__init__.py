"""Training: the Cobalt bandit trainer (TRL GRPO) and the online multi-turn trainers.

- :mod:`~cobalt_rl.train.config`: the config, one model per mode;
- :mod:`~cobalt_rl.train.bandit`: Cobalt, one reply per offline prefix;
- :mod:`~cobalt_rl.train.episodes`: the episode engine every online trainer shares;
- :mod:`~cobalt_rl.train.online`: TRL's trainer with per-token advantages over the engine;
- :mod:`~cobalt_rl.train.multiturn`: online multi-turn GRPO;
- :mod:`~cobalt_rl.train.rlef`: RLEF, PPO with a turn-level critic (:mod:`~.critic`);
- :mod:`~cobalt_rl.train.verpo`: VeRPO, dense difficulty-weighted test rewards;
- :mod:`~cobalt_rl.train.common`: what all share (TRL's config, reward, metrics, saving).

The trainer modules pull in torch, transformers and TRL when :func:`train` runs, not when
this package is imported.
"""

from __future__ import annotations

from pathlib import Path

from cobalt_rl.train.config import (
    BanditTrainConfig,
    MultiturnTrainConfig,
    RlefTrainConfig,
    TrainConfig,
    VerpoTrainConfig,
    parse_train_config,
)

__all__ = [
    "BanditTrainConfig",
    "MultiturnTrainConfig",
    "RlefTrainConfig",
    "TrainConfig",
    "VerpoTrainConfig",
    "parse_train_config",
    "train",
]


def train(cfg: TrainConfig) -> Path:
    """Train with the trainer ``cfg.mode`` names; returns the final model's directory."""
    if isinstance(cfg, BanditTrainConfig):
        from cobalt_rl.train.bandit import train_bandit

        return train_bandit(cfg)
    if isinstance(cfg, RlefTrainConfig):
        from cobalt_rl.train.rlef import train_rlef

        return train_rlef(cfg)
    if isinstance(cfg, VerpoTrainConfig):
        from cobalt_rl.train.verpo import train_verpo

        return train_verpo(cfg)
    from cobalt_rl.train.multiturn import train_multiturn

    return train_multiturn(cfg)
