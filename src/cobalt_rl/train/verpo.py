"""VeRPO (Wang et al., "VeRPO: Verifiable Dense Reward Policy Optimization for Code
Generation", arXiv 2601.03525) as an online multi-turn trainer: a dense reward at every turn
from difficulty-weighted unit tests, combined with the all-tests outcome, and a
group-relative (critic-free) advantage.

What we take from the paper (abstract and Sec. 3, as far as we could read them):

- A group G_x of ``num_generations`` episodes per problem x; each unit test u_j gets an
  empirical pass rate rho_j from the group's executions, and a difficulty weight that grows
  as rho_j falls ("dynamically estimating the difficulty weight of each unit test based on
  the execution statistics during training").
- A turn's dense reward is the sum of the weights of the tests it passes ("weighted partial
  success", partial credit at each turn), integrated with the global execution outcome (all
  tests pass) so partial success stays consistent with functional correctness.
- Optimisation is group-relative, GRPO-style (no critic, no reward model).

The exact equations (the weight's normalisation, how dense and outcome terms combine, the
per-turn advantage) could not be read here: only the paper's abstract and secondary
summaries were reachable from this environment. Our forms, each a stated choice:

- Weights (:func:`cobalt_rl.rewards.verpo_test_weights`): w_j = (1 - rho_j) / sum_k (1 - rho_k),
  rho_j over EVERY attempt (all turns) of the group's episodes on the true public + hidden
  tests; uniform when every attempt passes every test. Weights summing to 1 keep the dense
  term in [0, 1] whatever the number of tests.
- Turn reward (:func:`cobalt_rl.rewards.verpo_turn_rewards`): r = (1 - a) * outcome + a * dense,
  a = ``dense_weight`` = 0.5: a full pass scores 1, partial credit at most 0.5.
- Returns: G_t = r_t + gamma * G_{t+1} over the turn budget; an episode that ended on a public
  pass keeps its last reward for the turns it did not need (so passing early is never worth
  less than passing late), any other episode gets 0 there. ``gamma`` = 1 by default.
- Advantage of turn t of episode i: (G_{i,t} - mean_t) / (std_t + 1e-4), mean and (sample)
  std over the group's G at the same turn t, as GRPO normalises (TRL's epsilon); the value
  goes to every token of that turn's reply, feedback tokens get 0.

With ``reward`` set to another registered reward, that per-attempt score replaces the dense
reward at every turn (ablations; the tests' learnable task) and the rest is unchanged.
Logged: ``verpo/dense_reward`` (mean turn reward of the batch).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from cobalt_rl.records import ExecResult, Status
from cobalt_rl.rewards import get_reward, verpo_turn_rewards
from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.train.common import reward_numbers
from cobalt_rl.train.config import VerpoTrainConfig
from cobalt_rl.train.episodes import Episode
from cobalt_rl.train.online import EpisodeTrainer, token_advantages, train_online

__all__ = ["VerpoCredit", "train_verpo", "verpo_advantages"]


def verpo_advantages(
    group_rewards: Sequence[Sequence[float]],
    ended_on_pass: Sequence[bool],
    turns: int,
    gamma: float,
) -> list[list[float]]:
    """Per-turn advantages of one group (see the module docstring for the form)."""
    padded: list[list[float]] = []
    for rewards, passed in zip(group_rewards, ended_on_pass, strict=True):
        fill = rewards[-1] if passed and rewards else 0.0
        padded.append(list(rewards) + [fill] * (turns - len(rewards)))
    returns: list[list[float]] = []
    for rewards in padded:
        running, out = 0.0, [0.0] * turns
        for turn in reversed(range(turns)):
            running = rewards[turn] + gamma * running
            out[turn] = running
        returns.append(out)
    advantages: list[list[float]] = []
    for index, rewards in enumerate(group_rewards):
        row = []
        for turn in range(len(rewards)):
            column = [episode[turn] for episode in returns]
            spread = statistics.stdev(column) if len(column) > 1 else 0.0
            row.append((returns[index][turn] - statistics.fmean(column)) / (spread + 1e-4))
        advantages.append(row)
    return advantages


def _flags(result: ExecResult | None) -> list[bool] | None:
    return None if result is None else [o.status is Status.PASSED for o in result.outcomes]


class VerpoCredit:
    """Per-token advantages from VeRPO's dense turn rewards, group-relative."""

    score_every_turn = True

    def __init__(self, cfg: VerpoTrainConfig, sandbox: Sandbox):
        self.cfg = cfg
        self.score = (
            None
            if cfg.reward == "verpo"
            else get_reward(
                cfg.reward,
                sandbox,
                reward_numbers(cfg.reward, cfg.profile, cfg.reasoning),
                profile=cfg.profile,
            ).score
        )

    def turn_rewards(self, group: Sequence[dict[str, Any]]) -> list[list[float]]:
        """The turn rewards of one group's episode summaries."""
        if self.score is None:
            return verpo_turn_rewards([s["flags"] for s in group], self.cfg.dense_weight)
        return [list(s["scores"]) for s in group]

    def summary(self, episode: Episode) -> dict[str, Any]:
        """What the group computation needs of an episode (small: gathered over processes)."""
        flags = [_flags(r.full if r.code is not None else None) for r in episode.turns]
        scores = (
            [float(self.score(r.full, r.raw, 0.0)) for r in episode.turns]
            if self.score is not None
            else []
        )
        return {"flags": flags, "scores": scores, "passed": episode.last.public_passed}

    def assign(
        self, trainer: EpisodeTrainer, episodes: list[Episode], batch: dict[str, Any]
    ) -> torch.Tensor:
        from accelerate.utils import gather_object

        summaries = gather_object([self.summary(e) for e in episodes])
        size = int(trainer.num_generations or 1)
        per_turn: list[list[float]] = []
        rewards_seen: list[float] = []
        for start in range(0, len(summaries), size):
            group = summaries[start : start + size]
            rewards = self.turn_rewards(group)
            rewards_seen += [value for turns in rewards for value in turns]
            per_turn += verpo_advantages(
                rewards, [s["passed"] for s in group], self.cfg.turns, self.cfg.gamma
            )
        local = trainer.accelerator.process_index * len(episodes)
        per_turn = per_turn[local : local + len(episodes)]
        trainer._metrics["train"]["verpo/dense_reward"].append(
            sum(rewards_seen) / max(1, len(rewards_seen))
        )
        return token_advantages(episodes, per_turn, batch["completion_ids"].size(1))

    def save(self, directory: Path) -> None:
        """No state of its own: the weights are recomputed from every batch."""

    def restore(self, directory: Path) -> None:
        """No state of its own."""


def train_verpo(cfg: VerpoTrainConfig) -> Path:
    """VeRPO on ``cfg.problems``; returns the final model's directory."""
    return train_online(cfg, lambda device, path, sandbox: VerpoCredit(cfg, sandbox))
