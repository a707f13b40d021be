"""Cobalt bandit training: TRL's GRPO on offline trajectory prefixes, one step per prompt.

Each context (``cobalt contexts``) is a conversation prefix; the policy writes ONE reply to
it, the reply's code runs on the context's true tests in the sandbox, and the ``cobalt``
reward (:mod:`cobalt_rl.rewards.scores`) scores it against the prefix's ``prev_best_pass_rate``.
That is a contextual bandit: the paper's point is that multi-turn code generation is
one-step recoverable, so single-step learning on offline prefixes approximates the
multi-turn objective at a fraction of the cost of online multi-turn RL.

We wrap TRL rather than re-implement GRPO: the dataset's extra columns (tests, mode,
fn_name, prev_best_pass_rate) flow to the reward as keyword arguments, TRL handles the
group-relative advantages, clipping (clip-higher via ``epsilon_high``), the KL term to a
reference model when ``beta > 0``, LoRA through PEFT, accelerate/DeepSpeed/FSDP across GPUs,
and vLLM generation when ``use_vllm``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from cobalt_rl.records import Context, read_jsonl
from cobalt_rl.train.common import run_grpo
from cobalt_rl.train.config import BanditTrainConfig

__all__ = ["contexts_to_rows", "train_bandit"]

log = logging.getLogger(__name__)


def contexts_to_rows(contexts: list[Context]) -> list[dict[str, Any]]:
    """Contexts as dataset rows: a conversational ``prompt`` plus the reward's columns."""
    return [
        {
            "prompt": [{"role": m.role, "content": m.content} for m in c.prompt],
            "tests": [{"input": t.input, "output": t.output} for t in c.tests],
            "mode": c.mode.value,
            "fn_name": c.fn_name or "",
            "prev_best_pass_rate": c.prev_best_pass_rate,
            "perturbed": c.perturbed,
            "context_id": c.id,
        }
        for c in contexts
    ]


def train_bandit(cfg: BanditTrainConfig) -> Path:
    """Train on ``cfg.contexts``; returns the directory of the final model."""
    contexts = list(read_jsonl(cfg.contexts, Context))
    if not contexts:
        raise ValueError(f"{cfg.contexts} holds no contexts")
    return run_grpo(cfg, contexts_to_rows(contexts))
