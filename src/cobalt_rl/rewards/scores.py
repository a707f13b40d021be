"""Reward functions with TRL's contract ``(completions, **kwargs) -> list[float]``.

Each reward is a pure function of (execution result, response, context): the sandbox runs
every completion of a call in ONE batch, then :func:`cobalt_score` (or the simpler scores)
maps each result to a number. Rewards are found by name in :data:`REWARDS`
(:func:`get_reward`), with a dotted-path fallback (``package.module:function``).

The keyword arguments are the dataset's extra columns, as TRL passes them (one value per
completion): ``tests`` (list of ``{"input", "output"}``), ``mode``, ``fn_name``, and for the
``cobalt`` reward ``prev_best_pass_rate``. Contexts from ``cobalt contexts`` carry all of
them; for perturbed-feedback contexts ``tests`` are the TRUE tests.

``cobalt`` (the paper's reward; the numbers and rules of its reference code,
OSU-NLP-Group/cobalt ``verl/code_reward_func_think.py``): a tier on the pass rate p over all
tests (1.0 if p = 1, 0.2 if p >= 0.5, 0.0 if p > 0, -0.1 if p = 0). When p < 1 and
``prev_best_pass_rate`` (b) > 0, a gain adds an improvement bonus of 0.1 x (p - b) / (1 - b),
and no gain (p <= b) replaces the tier by the regression penalty -0.1 - 0.1 x (b - p) / b:
not improving on the prefix's best scores as passing nothing. A full pass and a first-turn
context (b = 0) get the tier alone. Then a format term; -1 when the reply has no code block;
clipped to [-1, 1]. Validation uses the binary reward (the reference's ``is_val``).

The format term follows the profile (:mod:`cobalt_rl.profiles`).

``reference`` (:func:`reference_score`, :func:`reference_format_term`): the reference's own
term, for thinking models. -0.9 for a malformed reply: a repetition loop (a 32-character block
8 times in a row), not exactly one ``</think>``, or an answer (after ``</think>``) without
exactly one ```` ```python ```` opener followed by exactly one line-start closing fence and no
backtick in between (so a bare fence, two python blocks, a trailing ```` ```text ```` block, a
closing fence on the last code line, ```` ```py ```` are all malformed). A well-formed reply
adds 0 when the pass-rate part is >= 0 (-0.01 when the reasoning is over 4,096 tokens, the
answer over 2,048 or the text after the code over 512), else up to +0.075 for the reasoning's
length (tanh(tokens / 1024) x 0.075) and +0.005 per self-checking keyword used 1 to 4 times
(at most +0.025), -0.1 instead for reasoning over 4,096 tokens, and -0.1 each for a long
answer or explanation. Tokens are o200k_base tokens (tiktoken), estimated where tiktoken or
its encoding is not available (:func:`o200k_token_count`).

``cobalt-rl`` (:func:`cobalt_score`): departs from the reference (docs/profiles.md says why):
-0.1 for more than one code block (any language), -0.1 for a repetition loop
(:func:`has_repetition_loop`: the reference's 32-character block repeated 8 times, or one
line 8 times); reasoning models (``reasoning=True``) also need exactly one ``</think>`` (-0.2
otherwise) and lose up to 0.1 for replies over ``length_limit`` characters. No thinking bonus,
no token-length terms, and nothing for the fence's spelling.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm.extract import count_code_blocks, extract_code
from cobalt_rl.profiles import DEFAULT_PROFILE, Profile, profile_spec
from cobalt_rl.records import ExecResult, Mode, Status, TestCase
from cobalt_rl.rewards.reply_format import (
    TokenCounter,
    has_repetition_loop,
    o200k_token_count,
    reference_format_term,
)
from cobalt_rl.sandbox.base import ExecRequest, Sandbox
from cobalt_rl.sandbox.grading import Grading

__all__ = [
    "REWARDS",
    "CobaltRewardConfig",
    "RewardFunction",
    "SandboxReward",
    "binary_score",
    "cobalt_score",
    "get_reward",
    "has_repetition_loop",
    "o200k_token_count",
    "pass_rate_score",
    "reference_format_term",
    "reference_score",
    "reward_numbers",
    "rlef_score",
    "verpo_test_weights",
    "verpo_turn_rewards",
]

RewardFunction = Callable[..., list[float]]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CobaltRewardConfig:
    """Numbers of the ``cobalt`` reward (defaults: the paper's reference code).

    Attributes:
        full, half, some, none: the tier for p = 1, p >= 0.5, 0 < p < 0.5, p = 0.
        improvement: bonus per unit of relative gain (p - b) / (1 - b) over the prefix's best.
        regression: penalty per unit of relative loss (b - p) / b, added to ``none``.
        no_code: the reward of a reply without a code block (nothing else is added).
        extra_blocks: added when the reply has more than one code block.
        repetition: added when the reply holds a repetition loop.
        reasoning: check the thinking format (``bad_think``, ``too_long``).
        bad_think: added unless the reply has exactly one ``</think>``.
        length_limit: characters a reasoning reply may have without ``too_long``.
        too_long: added in full at twice ``length_limit``, in proportion before.
    """

    full: float = 1.0
    half: float = 0.2
    some: float = 0.0
    none: float = -0.1
    improvement: float = 0.1
    regression: float = 0.1
    no_code: float = -1.0
    extra_blocks: float = -0.1
    repetition: float = -0.1
    reasoning: bool = False
    bad_think: float = -0.2
    length_limit: int = 6000
    too_long: float = -0.1


def _text(completion: Any) -> str:
    """A completion as text: TRL gives strings, or message lists for conversational data."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], Mapping):
        return str(completion[-1].get("content", ""))
    raise TypeError(f"cannot read a completion of type {type(completion).__name__}")


def _pass_rate_part(p: float, prev_best_pass_rate: float, cfg: CobaltRewardConfig) -> float:
    """The tier with the improvement bonus or the regression penalty (both profiles)."""
    if p >= 1.0:
        score = cfg.full
    elif p >= 0.5:
        score = cfg.half
    elif p > 0.0:
        score = cfg.some
    else:
        score = cfg.none
    prev = min(max(prev_best_pass_rate, 0.0), 1.0)
    if p < 1.0 and prev > 0.0:  # the reference: a full pass, or a first try, is the tier alone
        if p > prev:
            score += cfg.improvement * (p - prev) / (1.0 - prev)
        else:  # no gain over the prefix's best scores as passing nothing, less the loss
            score = cfg.none - cfg.regression * (prev - p) / prev
    return score


def cobalt_score(
    result: ExecResult | None,
    response: str,
    prev_best_pass_rate: float,
    cfg: CobaltRewardConfig = CobaltRewardConfig(),
) -> float:
    """The paper's reward for one completion under the ``cobalt-rl`` profile (``result``
    None: no code block)."""
    if result is None:
        return cfg.no_code
    score = _pass_rate_part(result.pass_rate, prev_best_pass_rate, cfg)
    blocks = count_code_blocks(response)
    if blocks > 1:
        score += cfg.extra_blocks
    if has_repetition_loop(response):
        score += cfg.repetition
    if cfg.reasoning:
        if response.count("</think>") != 1:
            score += cfg.bad_think
        if len(response) > cfg.length_limit:
            over = min(1.0, (len(response) - cfg.length_limit) / cfg.length_limit)
            score += cfg.too_long * over
    return max(-1.0, min(1.0, score))


def reference_score(
    result: ExecResult | None,
    response: str,
    prev_best_pass_rate: float,
    count_tokens: TokenCounter = o200k_token_count,
) -> float:
    """The reference's training reward for one completion (``verl/code_reward_func_think.py``,
    ``compute_score``): -1 without code, else the pass-rate part plus
    :func:`reference_format_term`, clipped to [-1, 1]."""
    cfg = CobaltRewardConfig()
    if result is None:
        return cfg.no_code
    score = _pass_rate_part(result.pass_rate, prev_best_pass_rate, cfg)
    score += reference_format_term(response, score, count_tokens)
    return max(-1.0, min(1.0, score))


def binary_score(result: ExecResult | None, *_: Any) -> float:
    """1 when every test passes, else 0 (no code block: 0)."""
    return 1.0 if result is not None and result.passed else 0.0


def pass_rate_score(result: ExecResult | None, *_: Any) -> float:
    """The fraction of tests passed (no code block: 0)."""
    return result.pass_rate if result is not None else 0.0


def rlef_score(result: ExecResult | None, response: str, *_: Any) -> float:
    """RLEF's final reward (arXiv 2410.02089) as we read it: +1 solved (public + private
    tests), -1 otherwise, -0.2 extra for a reply without valid code (no block, or a syntax
    error). That the reward is positive on a full pass and negative otherwise comes from
    secondary summaries of the paper; the values +1 / -1 / -0.2 and adding the penalty to the
    -1 are the project's design notes, not read in the paper (see :mod:`cobalt_rl.train.rlef`)."""
    if result is None:
        return -1.2
    if result.passed:
        return 1.0
    invalid = any(o.status is Status.SYNTAX_ERROR for o in result.outcomes)
    return -1.2 if invalid else -1.0


def verpo_test_weights(passes: Sequence[Sequence[bool]]) -> list[float]:
    """VeRPO's difficulty weight of each unit test (arXiv 2601.03525), from one group's
    attempts: ``passes[a][j]`` says whether attempt ``a`` (any turn of any episode of the
    group) passed test ``j``.

    rho_j = (attempts passing j) / (all attempts), pooled over every turn of the group: the
    definition given by themoonlight.io's summary of the paper (not the paper's own text).
    The weight DEPARTS from that summary, which gives exp(-alpha * rho_j) followed by a
    kernel-density normalisation it does not spell out: ours is w_j = (1 - rho_j) / sum_k
    (1 - rho_k), so the weights sum to 1 and the dense credit lies in [0, 1]; when every
    attempt passes every test, uniform 1/m. See :mod:`cobalt_rl.train.verpo`.
    """
    if not passes:
        return []
    tests = len(passes[0])
    if tests == 0:
        return []
    rates = [sum(bool(row[j]) for row in passes) / len(passes) for j in range(tests)]
    hardness = [1.0 - rate for rate in rates]
    total = sum(hardness)
    if total <= 0.0:
        return [1.0 / tests] * tests
    return [h / total for h in hardness]


def verpo_turn_rewards(
    group: Sequence[Sequence[Sequence[bool] | None]], dense_weight: float = 0.5
) -> list[list[float]]:
    """VeRPO's reward of every turn of every episode of one group (one problem).

    ``group[i][t]`` is attempt t of episode i as per-test pass flags on all tests (true
    public + hidden), None without code (every test failed). Each turn scores
    ``(1 - dense_weight) * outcome + dense_weight * dense``: outcome 1 when every test passes
    (the global execution outcome), dense the sum of the weights (:func:`verpo_test_weights`,
    over all the group's attempts) of the tests passed (partial credit at each turn). A full
    pass scores 1 whatever the weights. The dense term is the paper's idea (abstract); the
    linear mix and ``dense_weight`` (0.5 by default) are our choices: how the paper combines
    the two terms was not read.
    """
    tests = max((len(a) for episode in group for a in episode if a is not None), default=0)
    rows = [
        list(attempt) if attempt is not None else [False] * tests
        for episode in group
        for attempt in episode
    ]
    weights = verpo_test_weights(rows)
    rewards: list[list[float]] = []
    for episode in group:
        scores = []
        for attempt in episode:
            flags = list(attempt) if attempt is not None else [False] * tests
            outcome = 1.0 if flags and all(flags) else 0.0
            dense = sum(w for w, ok in zip(weights, flags, strict=True) if ok)
            scores.append((1.0 - dense_weight) * outcome + dense_weight * dense)
        rewards.append(scores)
    return rewards


def _column(kwargs: Mapping[str, Any], name: str, n: int, default: Any = None) -> list[Any]:
    values = kwargs.get(name)
    if values is None:
        if default is None:
            raise ValueError(
                f"the reward needs a {name!r} column (one value per completion); "
                "contexts from `cobalt contexts` carry it"
            )
        return [default] * n
    if len(values) != n:
        raise ValueError(f"column {name!r} has {len(values)} values for {n} completions")
    return list(values)


class SandboxReward:
    """A TRL reward function: runs every completion in one sandbox batch, then scores."""

    def __init__(
        self,
        name: str,
        sandbox: Sandbox,
        score: Callable[..., float],
        profile: Profile | str = DEFAULT_PROFILE,
    ):
        self.__name__ = name  # TRL logs rewards by their function name
        self.sandbox = sandbox
        self.score = score
        # How code is found and how its tests are run and graded (cobalt_rl.profiles).
        self.profile = Profile(profile)
        self.last_exec_seconds = 0.0
        # The last call's execution results (None: no code), for the trainer's metrics log.
        self.last_results: list[ExecResult | None] = []

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float]:
        n = len(completions)
        texts = [_text(c) for c in completions]
        tests = _column(kwargs, "tests", n)
        modes = _column(kwargs, "mode", n)
        fn_names = _column(kwargs, "fn_name", n, default="")
        prev = _column(kwargs, "prev_best_pass_rate", n, default=0.0)
        requests: list[ExecRequest] = []
        index: list[int] = []
        spec = profile_spec(self.profile)
        for i, text in enumerate(texts):
            code = extract_code(text, profile=self.profile)
            if code is None:
                continue
            requests.append(
                ExecRequest(
                    code=code,
                    tests=[TestCase.model_validate(t) for t in tests[i]],
                    mode=Mode(modes[i]),
                    fn_name=fn_names[i] or None,
                    grading=Grading(spec.grading),
                    profile=self.profile,
                    test_concurrency=spec.test_concurrency,
                    stop_after_timeout=spec.reward_stops_after_timeout,
                )
            )
            index.append(i)
        t = time.perf_counter()
        results: list[ExecResult | None] = [None] * n
        for i, res in zip(index, self.sandbox.run_batch(requests), strict=True):
            results[i] = res
        self.last_exec_seconds = time.perf_counter() - t
        self.last_results = results
        return [float(self.score(results[i], texts[i], float(prev[i] or 0.0))) for i in range(n)]


def _cobalt(result: ExecResult | None, response: str, prev: float) -> float:
    return cobalt_score(result, response, prev)


REWARDS: dict[str, Callable[..., float]] = {
    "cobalt": _cobalt,
    "binary": binary_score,
    "pass_rate": pass_rate_score,
    "rlef": rlef_score,
}


def reward_numbers(name: str, profile: Profile | str, reasoning: bool) -> CobaltRewardConfig | None:
    """The cobalt reward's numbers for a reasoning policy (None: the defaults): the thinking
    format is checked under the cobalt-rl profile when asked (the reference profile's format
    term always checks it, and takes no numbers)."""
    if reasoning and name == "cobalt" and profile_spec(profile).format_term != "reference":
        return CobaltRewardConfig(reasoning=True)
    return None


def get_reward(
    name: str,
    sandbox: Sandbox,
    cobalt: CobaltRewardConfig | None = None,
    profile: Profile | str = DEFAULT_PROFILE,
) -> SandboxReward:
    """The reward ``name``: a registered name, or ``module:function`` scoring one result.

    Args:
        name: a key of :data:`REWARDS`, or ``package.module:function`` where the function
            takes ``(result, response, prev_best_pass_rate)`` (``result`` is None when the
            reply has no code block) and returns a float.
        sandbox: runs each call's completions, in one batch.
        cobalt: the numbers of the ``cobalt`` reward (default: the paper's); only for it,
            and only under the ``cobalt-rl`` profile.
        profile: how code is found, run and graded for every reward; under ``reference``
            the ``cobalt`` reward is :func:`reference_score` (the reference's format term).

    Raises:
        ConfigError: the name is neither registered nor importable, or ``cobalt`` is given
            where it does not apply.
    """
    profile = Profile(profile)
    if cobalt is not None and name != "cobalt":
        raise ConfigError(f"a CobaltRewardConfig applies to the 'cobalt' reward, not {name!r}")
    if name == "cobalt" and profile_spec(profile).format_term == "reference":
        if cobalt is not None:
            raise ConfigError(
                "a CobaltRewardConfig applies to the cobalt-rl profile's reward; the reference "
                "profile's reward has the reference's fixed numbers (drop the config or use "
                "profile cobalt-rl)"
            )
        return SandboxReward(name, sandbox, reference_score, profile)
    if name == "cobalt" and cobalt is not None:
        cfg = cobalt
        return SandboxReward(
            name, sandbox, lambda r, text, prev: cobalt_score(r, text, prev, cfg), profile
        )
    if name in REWARDS:
        return SandboxReward(name, sandbox, REWARDS[name], profile)
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ConfigError(f"reward {name!r}: cannot import {attr} from {module}: {e}") from e
        if not callable(fn):
            raise ConfigError(f"reward {name!r}: {attr} is not a function")
        return SandboxReward(attr, sandbox, fn, profile)
    raise ConfigError(
        f"unknown reward {name!r}; registered: {', '.join(REWARDS)} "
        "(or give module:function, scoring (result, response, prev_best_pass_rate))"
    )
