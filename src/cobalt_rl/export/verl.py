"""verl's side of ``cobalt export verl``: the rows it reads and the reward it calls.

The paper trained with verl (its reference code, OSU-NLP-Group/cobalt, ships verl v0.5.0).
This module is what runs in verl's environment: the generated ``cobalt_reward.py`` imports
it, so it needs only cobalt-rl's records, rewards and sandbox (pure Python and pydantic;
``python -c "import cobalt_rl.export.verl"`` must work with cobalt-rl installed without its
dependencies). What ``cobalt export verl`` writes around it (the reward module's text, the
launch script, the README) is :mod:`cobalt_rl.export.verl_launch`, which imports this module,
never the other way round.

- Rows (``train.parquet``, ``val.parquet``): one per context in verl's RL dataset format
  (verl ``docs/preparation/prepare_data.rst``): ``data_source``, ``prompt`` (chat messages),
  ``ability``, ``reward_model`` ``{style, ground_truth}``, ``extra_info``. ``ground_truth`` is
  a JSON string of ``{"tests", "mode", "fn_name"}`` (the reference's preprocessing,
  ``preproc/verl_preproc_multi_turn.py``, also stores the tests there), so the parquet schema
  stays fixed whatever the tests look like. ``extra_info`` carries ``prev_best_pass_rate``
  (the reward's improvement term) and ``split`` (``validation`` rows get the binary reward).
- Reward: :func:`verl_compute_score_batch` for verl's ``batch`` reward manager and
  :func:`verl_compute_score` for its ``naive`` one, scoring in a :class:`LazySandbox`.

Where we depart from the reference and why: the reference scores replies through a Ray Serve
evaluator and a patched ``prime`` reward manager (async); here every reward process runs its
own sandbox, as the export's sandbox config says (created on first use, closed at exit), and
the launch script uses verl's stock ``batch`` manager, so a step's replies run in ONE sandbox
batch (with the local backend, on all the node's cores), with no patched verl and no extra
service. verl's stock ``prime`` manager would call the function from a pool of processes,
each starting its own sandbox.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cobalt_rl.episode.config import EpisodeConfig
from cobalt_rl.episode.engine import Episode, Reply, ReplyWanted, run_async
from cobalt_rl.episode.tokens import ChatTokens
from cobalt_rl.profiles import DEFAULT_PROFILE, Profile
from cobalt_rl.records import Context, Message, Problem, TestCase
from cobalt_rl.rewards.scores import CobaltRewardConfig, get_reward
from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.sandbox.config import SandboxConfig, parse_sandbox_config

__all__ = [
    "ABILITY",
    "AGENT_NAME",
    "DATA_SOURCE",
    "TRAIN_SPLIT",
    "VALIDATION_SPLIT",
    "FeedbackEpisode",
    "LazySandbox",
    "context_to_verl_row",
    "ground_truth_problem",
    "parse_ground_truth",
    "problem_to_verl_row",
    "run_feedback_episode",
    "verl_compute_score",
    "verl_compute_score_batch",
    "verl_schema",
    "write_verl_parquet",
    "write_verl_rows",
]

DATA_SOURCE = "cobalt"
ABILITY = "code"
TRAIN_SPLIT = "train"
VALIDATION_SPLIT = "validation"
AGENT_NAME = "cobalt_feedback"  # the agent loop of the online modes (verl_agent.py)


# --------------------------------------------------------------------------- data


def verl_schema(online: bool = False) -> Any:
    """The parquet schema of the exported rows (a ``pyarrow.Schema``); ``online`` rows also
    name the agent loop that runs their episodes (``agent_name``)."""
    import pyarrow as pa

    agent = [("agent_name", pa.string())] if online else []
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("index", pa.int64()),  # verl's RLHFDataset reads extra_info.index
                        ("context_id", pa.string()),
                        ("problem_id", pa.string()),
                        ("prev_best_pass_rate", pa.float64()),
                        ("perturbed", pa.bool_()),
                        ("num_prev_attempts", pa.int64()),
                        ("split", pa.string()),
                    ]
                ),
            ),
            *agent,
        ]
    )


def context_to_verl_row(context: Context, split: str, index: int) -> dict[str, Any]:
    """One context as a verl dataset row (see the module docstring)."""
    ground_truth = {
        "tests": [{"input": t.input, "output": t.output} for t in context.tests],
        "mode": context.mode.value,
        "fn_name": context.fn_name,
    }
    return {
        "data_source": DATA_SOURCE,
        "prompt": [
            {"role": message.role, "content": message.content} for message in context.prompt
        ],
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": json.dumps(ground_truth)},
        "extra_info": {
            "index": index,
            "context_id": context.id,
            "problem_id": context.problem_id,
            "prev_best_pass_rate": context.prev_best_pass_rate,
            "perturbed": context.perturbed,
            "num_prev_attempts": context.num_prev_attempts,
            "split": split,
        },
    }


def problem_to_verl_row(
    problem: Problem, prompt: Sequence[Mapping[str, str]], split: str, index: int
) -> dict[str, Any]:
    """One problem as the row of an online episode: ``prompt`` is its first turn; the ground
    truth also holds the public tests the feedback comes from (``public_tests``: what the
    policy is shown) beside the tests the reward uses (true public + hidden)."""
    ground_truth = {
        "tests": [
            {"input": t.input, "output": t.output}
            for t in problem.true_public_tests + problem.hidden_tests
        ],
        "public_tests": [{"input": t.input, "output": t.output} for t in problem.public_tests],
        "mode": problem.mode.value,
        "fn_name": problem.fn_name,
    }
    return {
        "data_source": DATA_SOURCE,
        "prompt": [{"role": m["role"], "content": m["content"]} for m in prompt],
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": json.dumps(ground_truth)},
        "extra_info": {
            "index": index,
            "context_id": f"{problem.id}/online",
            "problem_id": problem.id,
            "prev_best_pass_rate": 0.0,
            "perturbed": False,
            "num_prev_attempts": 0,
            "split": split,
        },
        "agent_name": AGENT_NAME,
    }


def write_verl_parquet(contexts: Sequence[Context], path: Path, split: str) -> int:
    """Write ``contexts`` as verl rows to ``path`` atomically (temp file + rename).

    Returns:
        The number of rows.
    """
    rows = [context_to_verl_row(c, split, index) for index, c in enumerate(contexts)]
    return write_verl_rows(rows, path)


def write_verl_rows(rows: Sequence[Mapping[str, Any]], path: Path) -> int:
    """Write rows (contexts', or problems' with ``agent_name``) to ``path`` atomically.

    Returns:
        The number of rows.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    online = any("agent_name" in row for row in rows)
    table = pa.Table.from_pylist(list(rows), schema=verl_schema(online))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    pq.write_table(table, partial)
    os.replace(partial, path)
    return len(rows)


# --------------------------------------------------------------------------- reward


def parse_ground_truth(ground_truth: str | Mapping[str, Any]) -> dict[str, Any]:
    """The ``{"tests", "mode", "fn_name"}`` of a row's ``reward_model.ground_truth``."""
    data = json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)
    if not isinstance(data, dict) or not {"tests", "mode"} <= data.keys():
        raise ValueError(
            "ground_truth must be the JSON object `cobalt export verl` writes, with 'tests', "
            f"'mode' and 'fn_name'; got {str(ground_truth)[:120]!r}"
        )
    return data


def _is_validation(extra_info: Mapping[str, Any] | None) -> bool:
    # "is_val" is what the reference's patched prime manager sets on validation batches.
    if not extra_info:
        return False
    return extra_info.get("split") == VALIDATION_SPLIT or bool(extra_info.get("is_val", False))


def verl_compute_score_batch(
    sandbox: Sandbox,
    solution_strs: Sequence[str],
    ground_truths: Sequence[str | Mapping[str, Any]],
    extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
    *,
    reasoning: bool = False,
    profile: Profile | str = DEFAULT_PROFILE,
) -> list[float]:
    """The ``cobalt`` reward of verl replies, all run in one sandbox batch per reward kind.

    Rows whose ``extra_info["split"]`` is ``validation`` (or whose ``is_val`` is true) get the
    binary reward, as the reference's validation does; the rest get ``cobalt`` with the row's
    ``prev_best_pass_rate``. Code is found by the profile's rule (:func:`~cobalt_rl.llm.
    extract.extract_code`; ``reference``: the last fenced block of the whole reply).

    Args:
        sandbox: runs the programs.
        solution_strs: the decoded replies.
        ground_truths: each row's ``reward_model.ground_truth``.
        extra_infos: each row's ``extra_info`` (None: training rows, no previous best).
        reasoning: score the thinking format too (``CobaltRewardConfig.reasoning``; the
            ``cobalt-rl`` profile only: the reference's format term always does).
        profile: the reward's rules (default ``cobalt-rl``, as every entry point;
            ``reference``: the paper's reward, its format term and its code extraction;
            :mod:`cobalt_rl.profiles`).
    """
    count = len(solution_strs)
    if len(ground_truths) != count:
        raise ValueError(f"{len(ground_truths)} ground truths for {count} replies")
    infos = list(extra_infos) if extra_infos is not None else [None] * count
    if len(infos) != count:
        raise ValueError(f"{len(infos)} extra_infos for {count} replies")
    truths = [parse_ground_truth(truth) for truth in ground_truths]
    validation = [_is_validation(info) for info in infos]
    scores = [0.0] * count
    for scoring_validation in (False, True):
        rows = [row for row in range(count) if validation[row] is scoring_validation]
        if not rows:
            continue
        if scoring_validation:
            reward = get_reward("binary", sandbox, profile=profile)
        elif Profile(profile) is Profile.REFERENCE:
            reward = get_reward("cobalt", sandbox, profile=profile)
        else:
            reward = get_reward(
                "cobalt", sandbox, CobaltRewardConfig(reasoning=reasoning), profile=profile
            )
        values = reward(
            [solution_strs[row] for row in rows],
            tests=[truths[row]["tests"] for row in rows],
            mode=[truths[row]["mode"] for row in rows],
            fn_name=[truths[row].get("fn_name") or "" for row in rows],
            prev_best_pass_rate=[
                float((infos[row] or {}).get("prev_best_pass_rate") or 0.0) for row in rows
            ],
        )
        for row, value in zip(rows, values, strict=True):
            scores[row] = value
    return scores


def verl_compute_score(
    sandbox: Sandbox,
    solution_str: str,
    ground_truth: str | Mapping[str, Any],
    extra_info: Mapping[str, Any] | None = None,
    *,
    reasoning: bool = False,
    profile: Profile | str = DEFAULT_PROFILE,
) -> float:
    """The reward of one reply (see :func:`verl_compute_score_batch`)."""
    return verl_compute_score_batch(
        sandbox,
        [solution_str],
        [ground_truth],
        [extra_info],
        reasoning=reasoning,
        profile=profile,
    )[0]


class LazySandbox:
    """A process-wide sandbox, built from a sandbox config on first use.

    verl imports the reward module in every process that computes rewards and calls a plain
    function, so the sandbox cannot be passed in: it is made (with
    :func:`~cobalt_rl.sandbox.factory.make_sandbox`) on the first call in each process (a
    forked child gets its own) and closed when the process exits.

    Args:
        config: any backend's config, or its JSON-like mapping (a ``sandbox:`` section; the
            generated ``cobalt_reward.py`` holds one); None: the local sandbox with the
            default limits.
    """

    def __init__(self, config: SandboxConfig | Mapping[str, Any] | None = None):
        self.config = parse_sandbox_config(config if config is not None else {})
        self._sandbox: Sandbox | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def get(self) -> Sandbox:
        """The sandbox of this process (started now if it is the first call)."""
        with self._lock:
            if self._sandbox is None or self._pid != os.getpid():
                from cobalt_rl.sandbox.factory import make_sandbox

                # A forked child must not use (or close) its parent's workers and threads.
                self._sandbox = make_sandbox(self.config)
                self._pid = os.getpid()
                atexit.register(self.close)
            return self._sandbox

    def close(self) -> None:
        """Stop this process's sandbox (a later :meth:`get` starts a new one)."""
        with self._lock:
            if self._sandbox is not None and self._pid == os.getpid():
                self._sandbox.close()
            self._sandbox = None


# --------------------------------------------------------------------------- online episodes


@dataclass(frozen=True)
class FeedbackEpisode:
    """One online episode as verl's agent loop returns it.

    ``response_ids`` hold every reply and every feedback turn after the prompt;
    ``response_mask`` is 1 on the policy's tokens and 0 on the feedback's (no loss, no
    advantage); ``response_logprobs`` the generator's log-probabilities of the policy's
    tokens (0.0 on feedback and where not known). ``reward`` scores the last attempt on the
    true public + hidden tests.
    """

    response_ids: list[int]
    response_mask: list[int]
    response_logprobs: list[float]
    turns: int
    reward: float
    public_pass_rates: list[float]
    truncated: bool


def ground_truth_problem(truth: Mapping[str, Any], problem_id: str = "verl") -> Problem:
    """The problem of a row's ground truth: its ``public_tests`` (what feedback shows) as
    public tests, the tests the reward uses as hidden ones."""
    tests = [TestCase(**t) for t in truth["tests"]]
    public = [TestCase(**t) for t in truth.get("public_tests", truth["tests"])]
    return Problem(
        id=problem_id,
        source=DATA_SOURCE,
        statement="",
        mode=truth["mode"],
        fn_name=truth.get("fn_name") or None,
        public_tests=public,
        hidden_tests=tests,
    )


async def run_feedback_episode(
    *,
    prompt: Sequence[Mapping[str, str]],
    ground_truth: str | Mapping[str, Any],
    generate: Callable[[list[int], int], Awaitable[Reply]],
    chat: ChatTokens,
    sandbox: Sandbox,
    reward: str,
    episode: EpisodeConfig,
    max_new_tokens: int,
    invalid_code_penalty: float = 0.2,
) -> FeedbackEpisode:
    """Run one episode on the engine (:func:`cobalt_rl.episode.engine.run_async`): reply,
    run the public tests, show the feedback, reply again...

    verl gives the tokens (``generate``: a context and a token cap in, a :class:`Reply` with
    token ids out) and the chat template (``chat``); the sandbox runs the programs in a
    thread, off verl's event loop. The episode ends as every episode does (``episode``: turns,
    ``stop_on_pass``, ``max_episode_tokens``: verl's response length); then the last attempt
    is scored with the named reward on the true public + hidden tests.

    Where this departs from ``cobalt train --mode rlef``: verl places the reward on the last
    token and its critic is token-level, so an earlier reply without valid code costs
    ``invalid_code_penalty`` in the final reward rather than at its own turn.
    """
    truth = parse_ground_truth(ground_truth)
    messages = [Message.model_validate(dict(m)) for m in prompt]
    start = Episode.start(ground_truth_problem(truth), episode, messages=messages, chat=chat)

    async def reply(wanted: ReplyWanted) -> Reply:
        assert wanted.episode.tokens is not None
        return await generate(wanted.episode.tokens.context, wanted.max_new_tokens)

    done = await run_async(start, episode, max_new_tokens, reply, sandbox.run_batch, chat)
    score = get_reward(reward, sandbox, profile=episode.profile)
    values = await asyncio.to_thread(
        score,
        [done.last.raw],
        tests=[truth["tests"]],
        mode=[truth["mode"]],
        fn_name=[truth.get("fn_name") or ""],
        prev_best_pass_rate=[0.0],
    )
    invalid = sum(t.code is None for t in done.turns[:-1]) if reward == "rlef" else 0
    assert done.tokens is not None
    return FeedbackEpisode(
        response_ids=done.tokens.completion_ids,
        response_mask=done.tokens.mask,
        response_logprobs=done.tokens.logprobs,
        turns=len(done.turns),
        reward=float(values[0]) - invalid_code_penalty * invalid,
        public_pass_rates=[t.public.pass_rate if t.public is not None else 0.0 for t in done.turns],
        truncated=done.truncated,
    )
