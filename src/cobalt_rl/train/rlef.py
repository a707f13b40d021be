"""RLEF (Gehring et al., "RLEF: Grounding Code LLMs in Execution Feedback with Reinforcement
Learning", arXiv 2410.02089): PPO with a turn-level critic and a KL penalty to the initial
policy, on multi-turn episodes with public-test feedback.

What we take from the paper (Sec. 2, "Method"), and where each number comes from:

- Episodes: up to 3 attempts (the paper's turn limit; our ``turns`` default 3); feedback
  from the PUBLIC tests after each attempt; the episode ends as soon as the public tests
  pass (engine: ``stop_on_pass``, default on).
- Reward (Sec. 2.2): at the end of the episode +1 when the last attempt passes the public
  AND private tests, -1 otherwise; -0.2 for a reply that holds no valid code (no code block,
  or a syntax error). These are :func:`cobalt_rl.rewards.rlef_score` (last turn: +1 / -1 /
  -1.2) and ``invalid_code_penalty`` = 0.2 on earlier turns.
- KL: a penalty to the initial policy (the reference, ``beta``) subtracted from the reward,
  at the level of a whole reply: for turn t, ``beta * sum over its tokens of
  (log pi_old - log pi_ref)`` (the paper's response-level form).
- Critic: the value is predicted once per turn, at the last token of the turn's context
  (the prompt for turn 1, the feedback message before later turns), not per token; the
  policy loss is PPO's clipped token-level surrogate with that turn's advantage on every
  token of the reply.

Not verified here: we could not open the paper's full text from this environment (only its
abstract and secondary summaries), so the value placement, the response-level KL and the
-0.2 penalty follow the project's design notes (DESIGN.md) and our reading of Sec. 2.2;
the paper's hyper-parameters (learning rates, KL coefficient, batch sizes) are not copied.
Where the paper is silent or unread, our choices and why:

- ``beta`` = 0.05 (default): a common RLHF PPO coefficient; the paper's value unchecked.
- Advantages: turn-level GAE, ``gamma`` = ``lam`` = 1 by default, i.e. A_t = (sum of the
  rewards from turn t on) - V(c_t): the episode reward is terminal and undiscounted, so the
  critic is a plain baseline per turn. No whitening by default (``whiten_advantages``), so a
  hand computation gives the numbers TRL trains on.
- Critic: a value head on a copy of the initial policy, or any ``critic_model`` sharing the
  tokenizer (:mod:`cobalt_rl.train.critic`); zero-initialised head; AdamW at
  ``critic_learning_rate`` (1e-5); 0.5 x squared error to the turn returns; no value clipping.
  It is fitted after the advantages are computed, on the same batch (``critic_epochs``).
- PPO's clip range, learning rate and steps are the shared GRPO options (``epsilon``,
  ``learning_rate``); TRL's own KL loss is off in this mode (the KL is in the reward).

Logged per step (metrics.jsonl): ``critic/value_loss`` (before the update),
``critic/explained_variance`` (1 - Var(G - V) / Var(G) over the batch's turns),
``critic/value_turn{t}`` (mean V at turn t), ``rlef/kl`` (mean KL per turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from cobalt_rl.records import Status
from cobalt_rl.train.config import RlefTrainConfig
from cobalt_rl.train.critic import ValueCritic
from cobalt_rl.train.episodes import Episode, TurnRecord
from cobalt_rl.train.online import EpisodeTrainer, token_advantages, train_online

__all__ = ["RlefCredit", "rlef_turn_rewards", "train_rlef", "turn_gae"]


def _invalid(record: TurnRecord) -> bool:
    if record.code is None:
        return True
    outcomes = record.public.outcomes if record.public is not None else []
    return any(o.status is Status.SYNTAX_ERROR for o in outcomes)


def rlef_turn_rewards(
    episode: Episode,
    final_score: float,
    invalid_code_penalty: float,
    kl_per_turn: Sequence[float],
    beta: float,
) -> list[float]:
    """RLEF's reward of each turn: the episode's score on the last, -penalty on an earlier
    turn without valid code, minus ``beta`` x that turn's KL to the initial policy."""
    last = len(episode.turns) - 1
    rewards = []
    for index, record in enumerate(episode.turns):
        reward = final_score if index == last else -invalid_code_penalty * _invalid(record)
        rewards.append(reward - beta * kl_per_turn[index])
    return rewards


def turn_gae(
    rewards: Sequence[float], values: Sequence[float], gamma: float, lam: float
) -> tuple[list[float], list[float]]:
    """Advantages and return targets per turn (GAE over turns; V after the last turn = 0)."""
    advantages = [0.0] * len(rewards)
    running = 0.0
    for turn in reversed(range(len(rewards))):
        following = values[turn + 1] if turn + 1 < len(values) else 0.0
        delta = rewards[turn] + gamma * following - values[turn]
        running = delta + gamma * lam * running
        advantages[turn] = running
    returns = [a + v for a, v in zip(advantages, values, strict=True)]
    return advantages, returns


class RlefCredit:
    """Per-token advantages from a turn-level critic (see the module docstring)."""

    score_every_turn = False

    def __init__(self, cfg: RlefTrainConfig, device: Any, policy_path: Path):
        self.cfg = cfg
        self.critic = ValueCritic.load(
            cfg.critic_model or policy_path, cfg.critic_learning_rate, device
        )
        self.reference: Any = None
        if cfg.beta > 0:
            from transformers import AutoModelForCausalLM

            self.reference = AutoModelForCausalLM.from_pretrained(str(policy_path)).to(device)
            self.reference.eval().requires_grad_(False)

    def assign(
        self, trainer: EpisodeTrainer, episodes: list[Episode], batch: dict[str, Any]
    ) -> torch.Tensor:
        width = batch["completion_ids"].size(1)
        input_ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        offset = batch["prompt_ids"].size(1)
        most = max(len(e.turns) for e in episodes)
        positions = torch.full((len(episodes), most), -1, dtype=torch.long)
        for row, episode in enumerate(episodes):
            for index, record in enumerate(episode.turns):
                positions[row, index] = offset + record.start - 1
        device = input_ids.device
        positions = positions.to(device)
        with torch.no_grad():
            values = self.critic.values(input_ids, attention, positions).cpu()
        kl = self._kl_per_turn(trainer, episodes, batch, input_ids, attention)
        per_turn: list[list[float]] = []
        targets = torch.zeros(len(episodes), most)
        for row, episode in enumerate(episodes):
            turn_values = values[row, : len(episode.turns)].tolist()
            rewards = rlef_turn_rewards(
                episode,
                float(episode.final_score or 0.0),
                self.cfg.invalid_code_penalty,
                kl[row],
                self.cfg.beta,
            )
            advantages, returns = turn_gae(rewards, turn_values, self.cfg.gamma, self.cfg.lam)
            per_turn.append(advantages)
            targets[row, : len(returns)] = torch.tensor(returns)
        if self.cfg.whiten_advantages:
            per_turn = _whiten(per_turn)
        self._log(trainer, episodes, values, targets, kl)
        loss = self.critic.fit(
            input_ids,
            attention,
            positions,
            targets.to(device),
            trainer.args.per_device_train_batch_size,
            self.cfg.critic_epochs,
        )
        trainer._metrics["train"]["critic/value_loss"].append(loss)
        return token_advantages(episodes, per_turn, width)

    def _kl_per_turn(
        self,
        trainer: EpisodeTrainer,
        episodes: list[Episode],
        batch: dict[str, Any],
        input_ids: torch.Tensor,
        attention: torch.Tensor,
    ) -> list[list[float]]:
        """Sum over each turn's tokens of log pi_old - log pi_ref (zeros when beta = 0)."""
        if self.reference is None:
            return [[0.0] * len(e.turns) for e in episodes]
        width = batch["completion_ids"].size(1)
        micro = trainer.args.per_device_train_batch_size
        with torch.no_grad():
            old = batch.get("old_per_token_logps")
            if old is None:
                old, _, _ = trainer._get_per_token_logps_and_entropies(
                    trainer.model, input_ids, attention, width, batch_size=micro
                )
            ref, _, _ = trainer._get_per_token_logps_and_entropies(
                self.reference, input_ids, attention, width, batch_size=micro
            )
        difference = (old - ref).cpu()
        return [
            [float(difference[row, r.start : r.end].sum()) for r in episode.turns]
            for row, episode in enumerate(episodes)
        ]

    def _log(
        self,
        trainer: EpisodeTrainer,
        episodes: list[Episode],
        values: torch.Tensor,
        targets: torch.Tensor,
        kl: list[list[float]],
    ) -> None:
        metrics = trainer._metrics["train"]
        valid = torch.zeros_like(values, dtype=torch.bool)
        for row, episode in enumerate(episodes):
            valid[row, : len(episode.turns)] = True
        predicted, wanted = values[valid], targets[valid]
        if wanted.numel() > 1 and float(wanted.var(unbiased=False)) > 0:
            residual = (wanted - predicted).var(unbiased=False)
            explained = 1.0 - float(residual / wanted.var(unbiased=False))
            metrics["critic/explained_variance"].append(explained)
        for turn in range(values.size(1)):
            column = values[valid[:, turn], turn]
            if column.numel():
                metrics[f"critic/value_turn{turn + 1}"].append(float(column.mean()))
        flat = [value for turns in kl for value in turns]
        metrics["rlef/kl"].append(sum(flat) / max(1, len(flat)))

    def save(self, directory: Path) -> None:
        self.critic.save(directory / "critic")

    def restore(self, directory: Path) -> None:
        if (directory / "critic").is_dir():
            self.critic.restore(directory / "critic")


def _whiten(per_turn: list[list[float]]) -> list[list[float]]:
    flat = torch.tensor([value for turns in per_turn for value in turns])
    if flat.numel() < 2:
        return per_turn
    mean, std = flat.mean(), flat.std()
    return [[float((value - mean) / (std + 1e-8)) for value in turns] for turns in per_turn]


def train_rlef(cfg: RlefTrainConfig) -> Path:
    """RLEF on ``cfg.problems``; returns the final model's directory (critic in checkpoints)."""
    return train_online(cfg, lambda device, path, sandbox: RlefCredit(cfg, device, path))
