"""The multi-turn episode engine every online trainer shares (multiturn GRPO, RLEF, VeRPO).

One episode per prompt of a TRL batch, with the rollout stage's semantics and prompts
(:mod:`cobalt_rl.episode.rollout`, :mod:`cobalt_rl.episode.prompts`): the CURRENT policy writes an attempt;
its code runs on the problem's public tests (the ones the model is shown) and the feedback
becomes the next user turn; the episode ends when the public tests pass (RLEF's rule;
``stop_on_pass=False`` keeps going, as the reference's rollouts do), when the turn budget is
spent, or when the episode's completion reaches ``max_episode_tokens`` (then it is recorded as
truncated). Problems are found by id: the first prompt message carries a ``problem_id`` key.

Each attempt also runs on the TRUE public plus hidden tests (``full``: what rewards judge,
RLEF's "public + private"), at every turn or only at the last (``score_every_turn``), so a
trainer can assign credit per turn. An :class:`Episode` holds the token ids TRL trains on, the
``env_mask`` (1 for the policy's tokens, 0 for feedback and chat-template tokens between turns,
which therefore carry no loss), and per turn the completion span, the reply and both results.

Generation stays TRL's: without vLLM the trainer's model generates (transformers
``generate``, one batched call per turn on CPU, micro-batch-sized chunks on a GPU, where the KV
cache of a whole generation batch would not fit); with ``use_vllm`` each turn goes through the
trainer's vLLM engine (``trainer.vllm_generation.generate``, TRL's documented ``rollout_func``
contract: token ids in, token ids and per-token log-probabilities out, returned to TRL as
``logprobs``, which its importance-sampling correction needs). The vLLM path is written to that
contract and tested against a fake of it, but has not been run on a GPU.

Several processes: generation can be collective (a vLLM server's gather, vLLM tensor
parallelism, and ``generate`` on FSDP / DeepSpeed-sharded weights, where every rank must run
the same number of forward passes: ``synced_gpus``). So each turn the processes agree whether
any episode is still running anywhere, and a process whose episodes have all ended keeps
calling generation (with nothing, or a dummy row) until every process is done.

Where the token sequence departs from the rollout stage: the tokens trained on are the tokens
generated, so the reply in the conversation is the raw reply (reasoning before ``</think>`` and
the character cap apply to the text that is scored and shown in feedback, not to the tokens).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from cobalt_rl.episode.prompts import feedback_turn, no_code_feedback
from cobalt_rl.episode.rollout import EpisodeConfig
from cobalt_rl.llm import cap_reply, strip_reasoning
from cobalt_rl.llm.extract import extract_code
from cobalt_rl.records import ExecResult, Problem
from cobalt_rl.sandbox.base import ExecRequest, Sandbox
from cobalt_rl.sandbox.feedback import ALL_PASSED

__all__ = [
    "PROBLEM_KEY",
    "Episode",
    "EpisodeEngine",
    "GenerateTurn",
    "TurnRecord",
    "chat_ids",
    "policy_mask",
    "transformers_generate",
    "vllm_generate",
]

PROBLEM_KEY = "problem_id"
"""Key of the first prompt message naming its problem (chat templates ignore it)."""

GenerateTurn = Callable[[list[list[int]], int], list[tuple[list[int], list[float] | None]]]
"""One turn of generation: token contexts and a token cap in, per context the new token ids
(ending with EOS when the reply ended) and their log-probabilities (None when not known)."""


@dataclass
class TurnRecord:
    """One attempt of an episode.

    Attributes:
        start, end: the attempt's tokens are ``completion_ids[start:end]``.
        reply: the reply as the conversation shows it (reasoning dropped, capped).
        raw: the reply as generated (reasoning included): what rewards read.
        code: the extracted program (None: no code block).
        public: the result on the public tests as shown (None: no code).
        full: the result on the true public + hidden tests (None: no code, or not run).
    """

    start: int
    end: int
    reply: str
    code: str | None
    public: ExecResult | None = None
    full: ExecResult | None = None
    raw: str = ""

    @property
    def public_passed(self) -> bool:
        return self.code is not None and self.public is not None and self.public.passed


@dataclass
class Episode:
    """One multi-turn episode as TRL trains on it, with what credit assignment needs."""

    problem: Problem
    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    truncated: bool = False
    done: bool = False
    final_score: float | None = None
    """The trainer's reward of the episode (its last attempt), once scored."""

    @property
    def last(self) -> TurnRecord:
        return self.turns[-1]


def chat_ids(tokenizer: Any, messages: Sequence[dict[str, str]]) -> list[int]:
    """The chat template's token ids for ``messages``, opening the assistant's reply."""
    ids: Any = tokenizer.apply_chat_template(
        list(messages), add_generation_prompt=True, tokenize=True
    )
    if not isinstance(ids, list):  # newer transformers return a BatchEncoding
        ids = ids["input_ids"]
    return [int(t) for t in ids]


_ANCHOR = [{"role": "system", "content": "cobalt-rl anchor"}]


def _suffix_ids(tokenizer: Any, messages: list[dict[str, str]], feedback: str) -> list[int]:
    """Tokens that follow an assistant turn to add a user turn and open the next reply.

    The user turn is rendered after a fixed system message and cut from it, not from the
    conversation: templates that rewrite earlier assistant turns (Qwen3 drops their reasoning,
    and renders the last one differently once a user turn follows) would otherwise shift the
    cut. Templates without a system role fall back to the conversation's difference.
    """
    try:
        anchor = tokenizer.apply_chat_template(_ANCHOR, tokenize=False)
        turn = tokenizer.apply_chat_template(
            [*_ANCHOR, {"role": "user", "content": feedback}],
            tokenize=False,
            add_generation_prompt=True,
        )
    except Exception:  # a template that refuses a system message (Gemma's)
        anchor = turn = ""
    if anchor and turn.startswith(anchor):
        return cast(
            list[int], tokenizer(turn[len(anchor) :], add_special_tokens=False)["input_ids"]
        )
    before = tokenizer.apply_chat_template(messages, tokenize=False)
    after = tokenizer.apply_chat_template(
        [*messages, {"role": "user", "content": feedback}],
        tokenize=False,
        add_generation_prompt=True,
    )
    suffix = after[len(before) :] if after.startswith(before) else after[len(before) - 1 :]
    return cast(list[int], tokenizer(suffix, add_special_tokens=False)["input_ids"])


def policy_mask(episode: Episode, width: int) -> list[int]:
    """1 where the policy wrote the token, 0 for feedback and padding, ``width`` long."""
    return episode.env_mask + [0] * (width - len(episode.env_mask))


class EpisodeEngine:
    """Runs a batch of episodes: generation per turn, execution, feedback, stop rules.

    Args:
        problems: the problems by id.
        sandbox: runs the attempts.
        tokenizer: the policy's tokenizer (chat template, EOS).
        settings: turns, ``stop_on_pass``, the per-reply token cap, the reply character cap.
        max_episode_tokens: most completion tokens per episode (replies and feedback).
        score_every_turn: also run every attempt on all tests (VeRPO); else only the last.
    """

    def __init__(
        self,
        problems: dict[str, Problem],
        sandbox: Sandbox,
        tokenizer: Any,
        settings: EpisodeConfig,
        max_episode_tokens: int,
        score_every_turn: bool = False,
    ):
        self.problems = problems
        self.sandbox = sandbox
        self.tokenizer = tokenizer
        self.settings = settings
        self.max_episode_tokens = max_episode_tokens
        self.score_every_turn = score_every_turn
        self.eos = int(tokenizer.eos_token_id)
        self.generation_seconds = 0.0
        self.execution_seconds = 0.0

    def run(
        self, prompts: Sequence[Sequence[dict[str, Any]]], generate: GenerateTurn
    ) -> list[Episode]:
        """One episode per prompt (TRL repeats each prompt ``num_generations`` times)."""
        self.generation_seconds = self.execution_seconds = 0.0
        messages = [[{"role": m["role"], "content": m["content"]} for m in p] for p in prompts]
        episodes = [
            Episode(problem=self._problem(p), prompt_ids=chat_ids(self.tokenizer, m))
            for p, m in zip(prompts, messages, strict=True)
        ]
        for turn in range(1, self.settings.turns + 1):
            active = [i for i, e in enumerate(episodes) if not e.done]
            if not _anyone(bool(active)):  # every process generates while one still does
                break
            self._generate(episodes, active, generate)
            self._execute([episodes[i] for i in active])
            for i in active:
                self._close_turn(episodes[i], messages[i], turn)
        if not self.score_every_turn:
            self._score_last(episodes)
        return episodes

    def _problem(self, prompt: Sequence[dict[str, Any]]) -> Problem:
        key = prompt[0].get(PROBLEM_KEY)
        if key is None or str(key) not in self.problems:
            raise KeyError(
                f"prompt's first message names problem {key!r}, which is not among the "
                f"{len(self.problems)} problems given; build rows with problems_to_rows"
            )
        return self.problems[str(key)]

    def _generate(self, episodes: list[Episode], active: list[int], generate: GenerateTurn) -> None:
        budgets = [self.max_episode_tokens - len(episodes[i].completion_ids) for i in active]
        cap = min(self.settings.max_new_tokens, max(budgets, default=self.max_episode_tokens))
        contexts = [episodes[i].prompt_ids + episodes[i].completion_ids for i in active]
        started = time.perf_counter()
        outputs = generate(contexts, cap)
        self.generation_seconds += time.perf_counter() - started
        for i, budget, (new, logps) in zip(active, budgets, outputs, strict=True):
            episode = episodes[i]
            if len(new) > budget:  # the episode's token budget ends inside this reply
                new, episode.truncated = new[:budget], True
            start = len(episode.completion_ids)
            episode.completion_ids += new
            episode.env_mask += [1] * len(new)
            episode.logprobs += list(logps[: len(new)]) if logps is not None else [0.0] * len(new)
            raw = self.tokenizer.decode(new, skip_special_tokens=True)
            # Code from the full reply (the profile's rule); the cap is for the history only.
            code = extract_code(raw, profile=self.settings.profile)
            reply = cap_reply(strip_reasoning(raw), self.settings.max_reply_chars)
            episode.turns.append(TurnRecord(start, start + len(new), reply, code, raw=raw))

    def _execute(self, batch: list[Episode]) -> None:
        """Public tests for every attempt with code; all tests too where they are scored."""
        requests: list[ExecRequest] = []
        slots: list[tuple[TurnRecord, str]] = []
        for episode in batch:
            record = episode.last
            if record.code is None:
                continue
            if episode.problem.public_tests:
                requests.append(
                    ExecRequest.for_problem(
                        episode.problem, record.code, "public", profile=self.settings.profile
                    )
                )
                slots.append((record, "public"))
            else:  # nothing to run: the rollout stage counts it as passing
                record.public = ExecResult(outcomes=[], feedback=ALL_PASSED)
            if self.score_every_turn:
                requests.append(
                    ExecRequest.for_problem(
                        episode.problem, record.code, "all", profile=self.settings.profile
                    )
                )
                slots.append((record, "full"))
        self._run(requests, slots)

    def _score_last(self, episodes: list[Episode]) -> None:
        requests: list[ExecRequest] = []
        slots: list[tuple[TurnRecord, str]] = []
        for episode in episodes:
            record = episode.last
            if record.code is not None:
                requests.append(
                    ExecRequest.for_problem(
                        episode.problem, record.code, "all", profile=self.settings.profile
                    )
                )
                slots.append((record, "full"))
        self._run(requests, slots)

    def _run(self, requests: list[ExecRequest], slots: list[tuple[TurnRecord, str]]) -> None:
        if not requests:
            return
        started = time.perf_counter()
        results = self.sandbox.run_batch(requests)
        self.execution_seconds += time.perf_counter() - started
        for (record, which), result in zip(slots, results, strict=True):
            setattr(record, which, result)

    def _close_turn(self, episode: Episode, messages: list[dict[str, str]], turn: int) -> None:
        """End the episode, or append the feedback turn (tokens masked from the loss)."""
        record = episode.last
        messages.append({"role": "assistant", "content": record.reply})
        passed = record.public_passed
        if (
            turn >= self.settings.turns
            or (passed and self.settings.stop_on_pass)
            or episode.truncated
        ):
            episode.done = True
            return
        profile = self.settings.profile
        if record.public is None:
            text = feedback_turn(no_code_feedback(profile), False, profile)
        else:
            text = feedback_turn(record.public.feedback, passed, profile)
        suffix = _suffix_ids(self.tokenizer, messages, text)
        new = episode.completion_ids[record.start : record.end]
        if not new or new[-1] != self.eos:  # a reply cut by the token cap: close it first
            suffix = [self.eos, *suffix]
        if len(episode.completion_ids) + len(suffix) >= self.max_episode_tokens:
            episode.truncated = episode.done = True  # no room for the feedback and a reply
            return
        messages.append({"role": "user", "content": text})
        episode.completion_ids += suffix
        episode.env_mask += [0] * len(suffix)
        episode.logprobs += [0.0] * len(suffix)


def _anyone(flag: bool) -> bool:
    """Whether ``flag`` holds on any process (itself, without torch.distributed)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int64)
    if dist.get_backend() == "nccl":
        value = value.cuda()
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _sharded(trainer: Any) -> bool:
    """Whether the policy's weights are sharded over processes (FSDP, DeepSpeed), so
    ``generate`` must keep every rank in step (``synced_gpus``; not set for FSDP2 by
    transformers itself)."""
    from accelerate.utils import DistributedType

    accelerator = trainer.accelerator
    sharded_types = (DistributedType.FSDP, DistributedType.DEEPSPEED)
    return bool(accelerator.num_processes > 1 and accelerator.distributed_type in sharded_types)


def transformers_generate(trainer: Any, temperature: float, top_p: float) -> GenerateTurn:
    """One turn with the trainer's own model (``generate``, left-padded, no grad; under the
    trainer's autocast, so in bf16 when training in bf16). On a GPU the contexts go in chunks
    of the micro-batch size; with sharded weights every rank runs the same number of chunks
    (padding with a dummy row) and ``generate`` runs with ``synced_gpus``."""
    import torch

    def generate(contexts: list[list[int]], cap: int) -> list[tuple[list[int], list[float] | None]]:
        model = trainer.accelerator.unwrap_model(trainer.model)
        tokenizer = trainer.processing_class
        pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
        device = next(model.parameters()).device
        size = len(contexts) or 1
        if device.type == "cuda":
            size = max(1, int(trainer.args.per_device_train_batch_size))
        chunks = [contexts[i : i + size] for i in range(0, len(contexts), size)]
        synced = _sharded(trainer)
        if synced:  # the same number of generate calls on every rank
            count = torch.tensor([len(chunks)], device=device)
            torch.distributed.all_reduce(count, op=torch.distributed.ReduceOp.MAX)
            chunks += [[]] * (int(count.item()) - len(chunks))
        was_training = model.training
        model.eval()
        replies: list[tuple[list[int], list[float] | None]] = []
        for chunk in chunks:
            rows = chunk or [[eos]]  # a dummy row keeps an idle rank in step
            width = max(len(c) for c in rows)
            input_ids = torch.tensor([[pad] * (width - len(c)) + c for c in rows], device=device)
            attention = torch.tensor(
                [[0] * (width - len(c)) + [1] * len(c) for c in rows], device=device
            )
            with torch.no_grad():
                out = model.generate(
                    input_ids=input_ids,
                    attention_mask=attention,
                    do_sample=True,
                    temperature=temperature,
                    top_p=top_p,
                    max_new_tokens=cap,
                    pad_token_id=pad,
                    eos_token_id=eos,
                    synced_gpus=synced,
                )
            for row in out[:, width:].tolist()[: len(chunk)]:
                new = row[: row.index(eos) + 1] if eos in row else [t for t in row if t != pad]
                replies.append((new, None))
        if was_training:
            model.train()
        return replies

    return generate


def vllm_generate(trainer: Any) -> GenerateTurn:
    """One turn through the trainer's vLLM engine (colocate or server), as TRL's own
    ``_generate_single_turn`` calls it: token ids in, one completion per context
    (``num_generations=1``: the group's episodes are already separate rows), the turn's token
    cap as the engine's ``max_completion_length`` for the call, per-token log-probabilities of
    the sampled tokens out (TRL 1.16's ``VLLMGeneration.generate``: ``logprobs`` is per
    completion a list of per-token lists, the sampled token's first).

    Weights: TRL syncs them into vLLM before calling ``rollout_func`` once per optimizer step
    (``_last_loaded_step``); this does the same when called otherwise. An idle process (its
    episodes ended) still calls the engine where the call is collective (server mode, tensor
    parallelism) so the others do not wait for it forever.
    """

    def generate(contexts: list[list[int]], cap: int) -> list[tuple[list[int], list[float] | None]]:
        engine = trainer.vllm_generation
        collective = engine.mode == "server" or getattr(engine, "tensor_parallel_size", 1) > 1
        if not contexts and not collective:
            return []
        if trainer.state.global_step != trainer._last_loaded_step:
            engine.sync_weights()
            trainer._last_loaded_step = trainer.state.global_step
        configured = engine.max_completion_length
        engine.max_completion_length = min(configured, cap)
        try:
            _, completion_ids, logprobs, _ = engine.generate(
                prompts=contexts, images=None, num_generations=1
            )
        finally:
            engine.max_completion_length = configured
        if logprobs is None:  # an engine asked for no log-probabilities: TRL then skips them
            return [([int(t) for t in ids], None) for ids in completion_ids]
        return [
            (
                [int(t) for t in ids],
                [float(lp[0]) if lp and lp[0] is not None else float("nan") for lp in lps],
            )
            for ids, lps in zip(completion_ids, logprobs, strict=True)
        ]

    return generate
