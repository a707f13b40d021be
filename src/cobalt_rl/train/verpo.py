"""VeRPO (Wang et al., "VeRPO: Verifiable Dense Reward Policy Optimization for Code
Generation", arXiv 2601.03525) as an online multi-turn trainer: a dense reward at every turn
from difficulty-weighted unit tests, combined with the all-tests outcome, and a
group-relative (critic-free) advantage.

Sources, and how far they reach. The paper's own equations could NOT be read from the
development environment: the stored copies of arxiv.org/abs/2601.03525 and
arxiv.org/html/2601.03525v2 hold only the abstract and the author list, and the stored pages
of alphapapers.xyz, bzpeer.com, emergentmind.com, arxiv.deeppaper.ai, shd-paper.top and the
Hugging Face paper mirrors stop before the method. What was read:

- [A] the abstract (v1/v2, arxiv.org): weights per unit test estimated online from execution
  statistics, a dense reward equal to the sum of the weights of the tests passed, and that
  dense signal combined with the global execution outcome;
- [A3] the v3 abstract (May 2026, retitled "Beyond Binary: Turning Partial Success into Dense
  Verifiable Rewards for Reinforcement Learning in Code Generation"; read on awesomepapers.io
  and hugmap.com's arXiv feed): a weighted-sum analysis finds a "cardinality bias" (gains on
  many easy tests outweigh progress on hard ones), which v3 answers with a density-calibrated
  local (per-turn) reward, again joined with the global outcome; v3's equations were not read;
- [M] themoonlight.io's review pages (English and, further, Chinese: an AI-written summary,
  probably of v1, NOT the paper's text), which give the pass-rate and weight equations
  below and are cut off after them;
- [C] chatpaper.com's summary: the outcome reward is 1 when all tests pass, else 0, and a
  group whose samples all score alike gives GRPO no gradient (the paper's motivation).

Each element, with its source:

- Group: G_x = the ``num_generations`` episodes sampled for problem x ([M]).
- Pass rate of test u_j ([M]): rho_j = (passes of u_j summed over every turn of every episode of
  the group) / (total number of turns in the group), i.e. pooled over attempts, not averaged
  per episode. Ours (:func:`cobalt_rl.rewards.scores.verpo_test_weights`) is exactly this, on the
  true public + hidden tests; an attempt without code counts as a turn that passes nothing
  (tests/train/test_paper_defs.py checks it by hand).
- Difficulty weight ([M]): w_j = exp(-alpha * rho_j), alpha > 0 a sensitivity, followed by a
  Gaussian kernel-density normalisation over the tests meant to stop many easy tests from
  adding up to a large reward (the summary breaks off there; alpha's value, the kernel width
  and how the density enters were not read; [A3]'s density calibration is presumably the
  same step). OURS DEPARTS: w_j = (1 - rho_j) / sum_k (1 - rho_k) (uniform 1/m when every
  attempt passes every test), so the weights sum to 1 and the dense term lies in [0, 1]; a
  test every attempt passes weighs 0 here, e^-alpha before normalisation in [M]'s form.
  Not changed: [M]'s weight is incomplete without its density step and alpha, so swapping
  ours for it would trade one unverified weight for another; a faithful port needs the
  paper's own equations.
- Dense reward of a turn: the sum of the weights of the tests it passes ([A], [M]).
- Combination with the outcome: that the dense term is "integrated" with the all-tests outcome
  is all that was read ([A]); the form is ours: r = (1 - a) * outcome + a * dense,
  a = ``dense_weight`` = 0.5, outcome 1 when every test passes else 0 ([C]'s outcome reward),
  so a full pass scores 1 and partial credit at most 0.5.
- Returns over turns and the advantage: not read (the summaries set the method against
  group-based RL such as GRPO, and the abstract reports no extra GPU memory, consistent with
  having no critic). Ours: G_t = r_t + gamma * G_{t+1} over the turn budget (``gamma`` = 1);
  an episode that ended on a public pass keeps its last reward for the turns it did not need
  (so passing early is never worth less than passing late), any other episode gets 0 there;
  advantage of turn t of episode i = (G_{i,t} - mean_t) / (std_t + 1e-4), mean and sample std
  over the group's G at the same turn t, as GRPO normalises (TRL's epsilon); the value goes to
  every token of that turn's reply, feedback tokens get 0.
- Hyper-parameters (learning rate, group size, turn budget, KL): none were read; the shared
  online-trainer options apply (``num_generations``, ``learning_rate``, ``turns`` = 3, TRL's
  ``beta``).

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

from cobalt_rl.episode.engine import Episode
from cobalt_rl.records import ExecResult, Status
from cobalt_rl.rewards.scores import get_reward, reward_numbers, verpo_turn_rewards
from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.train.config import VerpoTrainConfig
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
                rewards, [s["passed"] for s in group], self.cfg.episode.turns, self.cfg.gamma
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
