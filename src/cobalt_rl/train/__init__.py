"""Training: the Cobalt bandit trainer (TRL GRPO), the online multi-turn baseline, verl export.

Import the submodules (``cobalt_rl.train.bandit``...): they pull in torch, transformers and
TRL, which this package's import does not.
"""

from cobalt_rl.train.config import TrainConfig

__all__ = ["TrainConfig"]
