"""RLEF (Gehring et al., "RLEF: Grounding Code LLMs in Execution Feedback with Reinforcement
Learning", arXiv 2410.02089, ICML 2025 / PMLR 267): PPO with a turn-level critic and a KL
penalty to the initial policy, on multi-turn episodes with public-test feedback.

Sources, and how far they reach. Neither the paper's method section nor its hyper-parameters
could be read from the development environment: the stored copies of arxiv.org/abs/2410.02089,
arxiv.org/html/2410.02089v1 and proceedings.mlr.press/v267/gehring25a hold only the abstract
(the html copy also the opening of the introduction), and the stored pages of deep-paper.org
(en, zh), engineermaxxing.com, tomesphere.com, chatpaper.com and paperium.net stop before the
method. What could be read about the method comes from secondary summaries, named below:

- [S1] themoonlight.io's Chinese review page (an AI-written summary of the paper);
- [S2] an ICML 2025 reviewer's summary, as mirrored on paperhub.cn (OpenReview reviews);
- [S3] the glossary of papers.lunadong.com's digest of the paper;
- [S4] acmrep2026.k117.org's LLM-written reproducibility checklist for the ICML paper, which
  places the RL formulation and the reward function in the paper's Sec. 2.2 and names Code
  Contests as the data (its later rows, where hyper-parameters would be, were not stored).

Each element of the method, with its source:

- Episodes: an attempt, its code run on the PUBLIC tests, the result fed back as the next
  user turn, until the public tests pass or the turn limit is hit ([S1]: feedback is given
  only when the public tests fail; [S3]: a rollout runs up to the turn limit). Engine:
  ``stop_on_pass`` (default on). The turn limit itself (our ``turns`` = 3) was not read in
  any source; it is the project's design note, unverified.
- Reward (the paper's Sec. 2.2 per [S4]; unread): judged on the final attempt against the
  public AND private tests, positive when all pass, negative otherwise ([S1]; [S3]: the
  private tests are used only for the final reward and evaluation). The magnitudes +1 / -1
  and the extra -0.2 for a reply without valid code (no code block, or a syntax error) were
  read in NO source: they come from the project's design notes and are unverified. In code:
  :func:`cobalt_rl.rewards.scores.rlef_score` on the last attempt's public + hidden result (+1 / -1,
  and -1.2 when the last reply has no valid code: our reading, that the penalty adds to the
  -1) and ``invalid_code_penalty`` = 0.2 on an earlier turn without valid code
  (tests/train/test_paper_defs.py: a last attempt that passes the public tests but fails a
  private one scores -1).
- Critic: PPO whose advantages come from a value function estimated per turn ([S2]). Where in
  the turn the value is read is not stated there; ours: once per turn, at the last token of
  the turn's context (the prompt for turn 1, the feedback message before a later turn). The
  policy loss is PPO's clipped token-level surrogate, the turn's advantage on every token of
  its reply.
- KL: a penalty to the initial (reference) policy ([S2], [S3]). Its form and coefficient were
  not read. Ours: subtracted from the turn's reward, ``beta`` x the sum over the reply's tokens
  of (log pi_old - log pi_ref), i.e. one KL term per reply.
- The policy starts from an instruction-tuned model ([S3]); here, whatever ``model`` is given.

Our choices where nothing was read (none of these numbers is the paper's):

- ``beta`` = 0.05: a common RLHF PPO KL coefficient.
- Advantages: GAE over turns, ``gamma`` = ``lam`` = 1 by default, so A_t = (sum of the rewards
  from turn t on) - V(c_t): the reward is terminal and undiscounted and the critic is a plain
  per-turn baseline. No whitening by default (``whiten_advantages``), so a hand computation
  gives the numbers TRL trains on (tests/train/test_online.py).
- Critic: a value head on a copy of the initial policy, or any ``critic_model`` sharing the
  tokenizer, optionally cut to its first ``critic_layers`` layers (:mod:`cobalt_rl.train.critic`);
  zero-initialised head; AdamW at ``critic_learning_rate`` (1e-5); 0.5 x squared error to the
  turn returns; no value clipping; fitted on the same batch (``critic_epochs``), the first
  pass's forward also giving the values the advantages use (read before the update).
- PPO's clip range, learning rate, batch size and steps are the shared GRPO options
  (``epsilon``, ``learning_rate``, ...), not the paper's (unread); TRL's own KL loss is off in
  this mode (the KL is in the reward).

Logged per step (metrics.jsonl): ``critic/value_loss`` (before the update),
``critic/explained_variance`` (1 - Var(G - V) / Var(G) over the batch's turns),
``critic/value_turn{t}`` (mean V at turn t), ``rlef/kl`` (mean KL per turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from cobalt_rl.episode.engine import Episode, Turn
from cobalt_rl.records import Status
from cobalt_rl.train.config import RlefTrainConfig
from cobalt_rl.train.critic import ValueCritic
from cobalt_rl.train.online import EpisodeTrainer, token_advantages, train_online

__all__ = ["RlefCredit", "rlef_turn_rewards", "train_rlef", "turn_gae"]


def _invalid(record: Turn) -> bool:
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
            cfg.critic_model or policy_path, cfg.critic_learning_rate, device, cfg.critic_layers
        )
        self.reference: Any = None
        self._reference_fused = False
        if cfg.beta > 0:
            import torch
            from transformers import AutoModelForCausalLM

            from cobalt_rl.train.config import resolve_precision

            # never updated: bf16 weights when training in bf16 (half the memory of fp32)
            bf16 = resolve_precision(cfg) == "bf16"
            self.reference = AutoModelForCausalLM.from_pretrained(
                str(policy_path), dtype=torch.bfloat16 if bf16 else torch.float32
            ).to(device)
            self.reference.eval().requires_grad_(False)

    def _fuse_reference_head(self, trainer: EpisodeTrainer) -> None:
        """TRL computes log-probabilities through a fused LM head it adds to its own models
        (``model(..., fused_lm_head=True).log_probs``); the reference model loaded here gets
        the same head, with the trainer's sampling temperature, before its first use."""
        if self._reference_fused:
            return
        from trl.trainer.utils import add_fused_lm_head

        add_fused_lm_head(
            self.reference,
            temperature=trainer.temperature,
            cast_lm_head_to_fp32=bool(getattr(trainer.args, "cast_lm_head_to_fp32", False)),
        )
        if self.cfg.cpu_head == "compact":
            from cobalt_rl.train.cpu_head import compact_head

            compact_head(self.reference, trainer.temperature, entropy=False)
        self._reference_fused = True

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
        kl = self._kl_per_turn(trainer, episodes, batch, input_ids, attention)
        per_turn: list[list[float]] = [[] for _ in episodes]

        def returns_of(rows: slice, values: torch.Tensor) -> torch.Tensor:
            """The rows' turn returns from their values; their advantages go to per_turn."""
            targets = torch.zeros_like(values)
            for local, row in enumerate(range(*rows.indices(len(episodes)))):
                episode = episodes[row]
                rewards = rlef_turn_rewards(
                    episode,
                    float(episode.final_score or 0.0),
                    self.cfg.invalid_code_penalty,
                    kl[row],
                    self.cfg.beta,
                )
                turn_values = values[local, : len(episode.turns)].tolist()
                advantages, returns = turn_gae(rewards, turn_values, self.cfg.gamma, self.cfg.lam)
                per_turn[row] = advantages
                targets[local, : len(returns)] = torch.tensor(returns)
            return targets

        # One critic forward: values before the update -> advantages and returns -> fit.
        self.critic.bf16 = bool(getattr(trainer.args, "bf16", False))
        values, targets, loss = self.critic.fit(
            input_ids,
            attention,
            positions,
            returns_of,
            trainer.args.per_device_train_batch_size,
            self.cfg.critic_epochs,
        )
        if self.cfg.whiten_advantages:
            per_turn = _whiten(per_turn)
        self._log(trainer, episodes, values, targets, kl)
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
        self._fuse_reference_head(trainer)
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
