"""What the online trainers share: TRL's GRPO trainer with per-token advantages from a
credit-assignment rule, over the episode engine.

:class:`EpisodeTrainer` subclasses TRL's ``GRPOTrainer`` and changes one thing: after TRL
has generated (through our ``rollout_func``: the episode engine), scored and computed its
group advantages, a :class:`Credit` rule replaces them by per-token advantages of shape
(batch, completion length), which TRL's loss accepts as they are. Every token outside the
policy's own replies (feedback turns, template tokens between turns, padding) gets advantage
0 and is also masked from the loss by the engine's ``env_mask``. Generation, accelerate,
clipping, logging and checkpoints stay TRL's; a rule may add state to checkpoints
(:meth:`Credit.save` / :meth:`Credit.restore`: RLEF's critic).

The rules: :mod:`~cobalt_rl.train.multiturn` (the group's outcome, GRPO),
:mod:`~cobalt_rl.train.rlef` (turn-level critic, PPO), :mod:`~cobalt_rl.train.verpo`
(dense weighted-test reward, group-relative).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from trl.trainer.grpo_trainer import GRPOTrainer

from cobalt_rl.episode.config import EpisodeConfig
from cobalt_rl.episode.engine import Episode
from cobalt_rl.episode.prompts import initial_messages
from cobalt_rl.episode.tokens import TokenTrace
from cobalt_rl.problems import load_problems
from cobalt_rl.profiles import DEFAULT_PROFILE, Profile
from cobalt_rl.records import Problem
from cobalt_rl.rewards.scores import get_reward, reward_numbers
from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.train.common import OnlineParts, TrackedReward, run_grpo
from cobalt_rl.train.config import OnlineTrainConfig
from cobalt_rl.train.episodes import (
    PROBLEM_KEY,
    OnlineEpisodes,
    policy_mask,
    transformers_generate,
    vllm_generate,
)

__all__ = [
    "Credit",
    "EpisodeReward",
    "EpisodeTrainer",
    "problems_to_rows",
    "token_advantages",
    "train_online",
]


class Credit(Protocol):
    """A credit-assignment rule: per-token advantages for a batch of episodes."""

    score_every_turn: bool
    """Whether every attempt must run on all tests (else only the last)."""

    def assign(
        self, trainer: EpisodeTrainer, episodes: list[Episode], batch: dict[str, Any]
    ) -> torch.Tensor:
        """Advantages (B, C) for this process's ``episodes``; ``batch`` is TRL's output."""
        ...

    def save(self, directory: Path) -> None:
        """Write the rule's own state into a checkpoint directory."""
        ...

    def restore(self, directory: Path) -> None:
        """Read what :meth:`save` wrote."""
        ...


def token_advantages(
    episodes: Sequence[Episode], per_turn: Sequence[Sequence[float]], width: int
) -> torch.Tensor:
    """Spread each turn's advantage over that turn's policy tokens; 0 everywhere else."""
    out = torch.zeros(len(episodes), width)
    for row, (episode, values) in enumerate(zip(episodes, per_turn, strict=True)):
        mask = policy_mask(episode, width)
        for record, value in zip(episode.turns, values, strict=True):
            for position in range(record.start, min(record.end, width)):
                out[row, position] = value * mask[position]
    return out


def problems_to_rows(
    problems: list[Problem], episode: EpisodeConfig | None = None
) -> list[dict[str, Any]]:
    """Problems as dataset rows: the first-turn prompt (the episode's system prompt and
    profile), its first message naming the problem (so two problems with the same statement
    stay apart; chat templates ignore the key)."""
    rules = episode or EpisodeConfig()
    rows = []
    for problem in problems:
        prompt: list[dict[str, str | None]] = [
            {"role": m.role, "content": m.content, PROBLEM_KEY: None}
            for m in initial_messages(problem, rules.system_prompt, rules.profile)
        ]
        prompt[0][PROBLEM_KEY] = problem.id
        rows.append({"prompt": prompt, "problem_id": problem.id})
    return rows


class EpisodeReward:
    """TRL's reward for an episode: the named per-attempt score of its LAST attempt on all
    tests (what the metrics log calls ``reward``); execution already ran in the engine. The
    score reads that attempt's reply as generated (reasoning included, as the bandit reward
    reads its completion), so with ``reasoning`` a reply cut inside its thinking is penalised
    by the format term."""

    def __init__(
        self,
        name: str,
        sandbox: Sandbox,
        engine: OnlineEpisodes | None = None,
        profile: Profile | str = DEFAULT_PROFILE,
        reasoning: bool = False,
    ):
        numbers = reward_numbers(name, profile, reasoning)
        reward = get_reward(name, sandbox, numbers, profile=profile) if name != "verpo" else None
        self.score = reward.score if reward is not None else _all_pass
        self.__name__ = name
        self.engine = engine
        self.last_exec_seconds = 0.0
        self.last_results: list[Any] = []

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float]:
        episodes: list[Episode] = kwargs["episode"]
        self.last_results = [e.last.full if e.last.code is not None else None for e in episodes]
        self.last_exec_seconds = self.engine.execution_seconds if self.engine else 0.0
        for result, episode in zip(self.last_results, episodes, strict=True):
            episode.final_score = float(self.score(result, episode.last.raw, 0.0))
        return [float(e.final_score or 0.0) for e in episodes]


def _all_pass(result: Any, *_: Any) -> float:
    return 1.0 if result is not None and result.passed else 0.0


class EpisodeTrainer(GRPOTrainer):
    """TRL's GRPO trainer whose advantages come from ``credit``, per token."""

    def __init__(self, *args: Any, credit: Credit, engine: OnlineEpisodes, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.credit = credit
        self.engine = engine

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = super()._generate_and_score_completions(inputs)
        episodes: list[Episode] = [row["episode"] for row in inputs]
        advantages = self.credit.assign(self, episodes, batch).to(batch["advantages"].device)
        batch["advantages"] = advantages
        mode = "train" if self.model is not None and self.model.training else "eval"
        turns = [len(e.turns) for e in episodes]
        self._metrics[mode]["episodes/turns"].append(sum(turns) / max(1, len(turns)))
        truncated = sum(e.truncated for e in episodes) / max(1, len(episodes))
        self._metrics[mode]["episodes/truncated_rate"].append(truncated)
        self._metrics[mode]["time/generation_seconds"].append(self.engine.generation_seconds)
        self._metrics[mode]["time/execution_seconds"].append(self.engine.execution_seconds)
        return batch

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        super()._save_checkpoint(model, trial)  # type: ignore[no-untyped-call]
        if self.args.should_save:
            folder = f"checkpoint-{self.state.global_step}"
            self.credit.save(Path(self._get_output_dir(trial=trial)) / folder)

    def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
        super()._load_optimizer_and_scheduler(checkpoint)  # type: ignore[no-untyped-call]
        if checkpoint is not None and os.path.isdir(checkpoint):
            self.credit.restore(Path(checkpoint))


def make_rollout_func(engine: OnlineEpisodes, cfg: OnlineTrainConfig) -> Any:
    """TRL ``rollout_func``: the engine's episodes, generated by TRL's model or its vLLM."""

    def rollout(prompts: list[list[dict[str, Any]]], trainer: Any) -> dict[str, Any]:
        generate = (
            vllm_generate(trainer)
            if cfg.vllm is not None
            else transformers_generate(trainer, cfg.sampling)
        )
        episodes = engine.run(prompts, generate)
        return {
            "prompt_ids": [_tokens(e).prompt_ids for e in episodes],
            "completion_ids": [_tokens(e).completion_ids for e in episodes],
            "logprobs": [_tokens(e).logprobs for e in episodes] if cfg.vllm is not None else None,
            "env_mask": [_tokens(e).mask for e in episodes],
            "episode": episodes,
        }

    return rollout


def _tokens(episode: Episode) -> TokenTrace:
    assert episode.tokens is not None, "online episodes run in the token view"
    return episode.tokens


def train_online(
    cfg: OnlineTrainConfig,
    credit_factory: Callable[[Any, Path, Sandbox], Credit],
    problems: list[Problem] | None = None,
) -> Path:
    """Train ``cfg``'s online mode: the engine, TRL's trainer, the rule ``credit_factory``
    builds from (accelerator device, policy checkpoint path, sandbox); returns the final
    model's directory."""
    problems = problems if problems is not None else load_problems(cfg.problems)
    by_id = {p.id: p for p in problems}

    def build(sandbox: Sandbox, tokenizer: Any, model_path: Path) -> OnlineParts:
        from accelerate import PartialState

        credit = credit_factory(PartialState().device, model_path, sandbox)
        engine = OnlineEpisodes(
            by_id,
            sandbox,
            tokenizer,
            cfg.episode,
            cfg.sampling.max_new_tokens,
            score="every" if credit.score_every_turn else "last",
        )
        reward = TrackedReward(
            EpisodeReward(cfg.reward, sandbox, engine, cfg.profile, cfg.reasoning)
        )
        return OnlineParts(
            reward=reward,
            trainer_class=EpisodeTrainer,
            trainer_kwargs={
                "rollout_func": make_rollout_func(engine, cfg),
                "credit": credit,
                "engine": engine,
            },
        )

    return run_grpo(cfg, problems_to_rows(problems, cfg.episode), build)
