"""The online multi-turn GRPO baseline: whole episodes, the group of one problem as baseline.

Episodes come from the shared engine (:mod:`cobalt_rl.episode.engine`): the current policy
writes an attempt, the attempt runs on the public tests, the feedback (the rollout stage's
text) becomes the next user turn; the episode ends when the public tests pass
(``stop_on_pass``, RLEF's rule), after ``turns`` attempts, or at ``max_episode_tokens``.
The reward is the configured reward of the LAST attempt judged on the true public + hidden
tests; the ``num_generations`` episodes of one problem form a GRPO group, and TRL's
group-relative advantage of an episode is given to every token the policy wrote in it
(feedback tokens: advantage 0, no loss). Compared with Cobalt at equal wall-clock, this pays
for online multi-turn generation at every step. RLEF's KL to the initial policy is TRL's
``beta`` (a loss term here; :mod:`cobalt_rl.train.rlef` has RLEF's own form).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from cobalt_rl.episode.engine import Episode
from cobalt_rl.train.config import MultiturnTrainConfig
from cobalt_rl.train.online import EpisodeTrainer, problems_to_rows, token_advantages, train_online

__all__ = ["GroupOutcomeCredit", "problems_to_rows", "train_multiturn"]


class GroupOutcomeCredit:
    """GRPO over episodes: TRL's per-episode group advantage on every policy token."""

    score_every_turn = False

    def assign(
        self, trainer: EpisodeTrainer, episodes: list[Episode], batch: dict[str, Any]
    ) -> torch.Tensor:
        per_episode = batch["advantages"].tolist()
        per_turn = [[value] * len(e.turns) for value, e in zip(per_episode, episodes, strict=True)]
        return token_advantages(episodes, per_turn, batch["completion_ids"].size(1))

    def save(self, directory: Path) -> None:
        """No state of its own."""

    def restore(self, directory: Path) -> None:
        """No state of its own."""


def train_multiturn(cfg: MultiturnTrainConfig) -> Path:
    """Online multi-turn GRPO on ``cfg.problems``; returns the final model's directory."""
    return train_online(cfg, lambda device, model_path, sandbox: GroupOutcomeCredit())
