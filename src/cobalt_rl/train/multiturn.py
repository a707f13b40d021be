"""The online multi-turn GRPO baseline (RLEF-style): the policy rolls out whole episodes.

For each prompt of a GRPO batch the CURRENT policy writes an attempt, the attempt runs on the
problem's public tests in the sandbox, the feedback (same text as the rollout stage) becomes
the next user turn, up to ``turns`` attempts. The whole episode is one completion for TRL:
the policy's tokens carry ``env_mask = 1`` and the feedback tokens ``0``, so the loss covers
only what the policy wrote (TRL's ``rollout_func`` hook). The reward is the same reward
code as the bandit's, on the LAST attempt's code against the true public + hidden tests;
completions of one problem form a GRPO group. Compared with Cobalt at equal wall-clock, this
pays for online multi-turn generation at every step.

We depart from RLEF (PPO with a value model) by using GRPO's group baseline, which is what
the Cobalt paper compares against; RLEF's KL to the initial policy is ``beta``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

from cobalt_rl.llm.extract import extract_code
from cobalt_rl.problems import load_problems
from cobalt_rl.prompts import NO_CODE_FEEDBACK, SYSTEM_PROMPT, feedback_turn, initial_messages
from cobalt_rl.records import Problem
from cobalt_rl.sandbox.base import ExecRequest, Sandbox
from cobalt_rl.train.common import run_grpo
from cobalt_rl.train.config import MultiturnTrainConfig

__all__ = ["make_rollout_func", "problems_to_rows", "train_multiturn"]

log = logging.getLogger(__name__)


def problems_to_rows(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as dataset rows: the first-turn prompt and the reward's columns."""
    rows = []
    for p in problems:
        msgs = initial_messages(p, SYSTEM_PROMPT)
        prompt: list[dict[str, str | None]] = [
            {"role": m.role, "content": m.content, _PROBLEM_KEY: None} for m in msgs
        ]
        # The rollout function sees only the prompts: the first message names its problem,
        # so two problems with the same statement stay apart (chat templates ignore the key).
        prompt[0][_PROBLEM_KEY] = p.id
        rows.append(
            {
                "prompt": prompt,
                "tests": [
                    {"input": t.input, "output": t.output}
                    for t in p.true_public_tests + p.hidden_tests
                ],
                "mode": p.mode.value,
                "fn_name": p.fn_name or "",
                "prev_best_pass_rate": 0.0,
                "problem_id": p.id,
            }
        )
    return rows


_PROBLEM_KEY = "problem_id"


def _chat_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    ids: Any = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if not isinstance(ids, list):  # newer transformers return a BatchEncoding
        ids = ids["input_ids"]
    return [int(t) for t in ids]


def _suffix_ids(tokenizer: Any, messages: list[dict[str, str]], feedback: str) -> list[int]:
    """Tokens that follow an assistant turn to add a user turn and open the next reply."""
    before = tokenizer.apply_chat_template(messages, tokenize=False)
    after = tokenizer.apply_chat_template(
        [*messages, {"role": "user", "content": feedback}],
        tokenize=False,
        add_generation_prompt=True,
    )
    suffix = after[len(before) :] if after.startswith(before) else after[len(before) - 1 :]
    return cast(list[int], tokenizer(suffix, add_special_tokens=False)["input_ids"])


def make_rollout_func(
    problems: dict[str, Problem], sandbox: Sandbox, tokenizer: Any, cfg: MultiturnTrainConfig
) -> Any:
    """TRL ``rollout_func``: one multi-turn episode per prompt, feedback tokens masked."""
    import torch

    def rollout(prompts: list[list[dict[str, str]]], trainer: Any) -> dict[str, Any]:
        model = trainer.accelerator.unwrap_model(trainer.model)
        device = next(model.parameters()).device
        pad = tokenizer.pad_token_id
        eos = tokenizer.eos_token_id
        episode_problems = [problems[str(p[0][_PROBLEM_KEY])] for p in prompts]
        messages = [[{"role": m["role"], "content": m["content"]} for m in p] for p in prompts]
        prompt_ids = [_chat_ids(tokenizer, m) for m in messages]
        completion: list[list[int]] = [[] for _ in prompts]
        mask: list[list[int]] = [[] for _ in prompts]
        was_training = model.training
        model.eval()
        for turn in range(1, cfg.turns + 1):
            rows = [prompt_ids[i] + completion[i] for i in range(len(prompts))]
            width = max(len(r) for r in rows)
            input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
            attention = torch.tensor(
                [[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device
            )
            with torch.no_grad():
                out = model.generate(
                    input_ids=input_ids,
                    attention_mask=attention,
                    do_sample=True,
                    temperature=cfg.temperature,
                    top_p=cfg.top_p,
                    max_new_tokens=cfg.max_completion_length,
                    pad_token_id=pad,
                    eos_token_id=eos,
                )
            requests: list[tuple[int, ExecRequest]] = []
            texts: list[str] = []
            for i in range(len(prompts)):
                new = out[i, width:].tolist()
                new = new[: new.index(eos) + 1] if eos in new else [t for t in new if t != pad]
                completion[i] += new
                mask[i] += [1] * len(new)
                text = tokenizer.decode(new, skip_special_tokens=True)
                texts.append(text)
                messages[i].append({"role": "assistant", "content": text})
                code = extract_code(text)
                if code is not None and episode_problems[i].public_tests:
                    requests.append(
                        (i, ExecRequest.for_problem(episode_problems[i], code, "public"))
                    )
            if turn == cfg.turns:
                break
            results = dict(
                zip(
                    [i for i, _ in requests],
                    sandbox.run_batch([r for _, r in requests]),
                    strict=True,
                )
            )
            for i in range(len(prompts)):
                res = results.get(i)
                fb = (
                    feedback_turn(res.feedback, res.passed)
                    if res is not None
                    else (feedback_turn(NO_CODE_FEEDBACK, False))
                )
                suffix = _suffix_ids(tokenizer, messages[i], fb)
                messages[i].append({"role": "user", "content": fb})
                completion[i] += suffix
                mask[i] += [0] * len(suffix)
        if was_training:
            model.train()
        return {
            "prompt_ids": prompt_ids,
            "completion_ids": completion,
            "logprobs": None,
            "env_mask": mask,
        }

    return rollout


def train_multiturn(cfg: MultiturnTrainConfig) -> Path:
    """Online multi-turn GRPO on ``cfg.problems``; returns the final model's directory."""
    problems = load_problems(cfg.problems)
    by_id = {p.id: p for p in problems}
    return run_grpo(
        cfg,
        problems_to_rows(problems),
        lambda sandbox, tokenizer: make_rollout_func(by_id, sandbox, tokenizer, cfg),
    )
