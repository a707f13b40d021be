"""Reward functions: every tier and term worked on paper, and the TRL contract end to end."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from cobalt_rl.errors import ConfigError
from cobalt_rl.records import ExecResult, Status, TestOutcome
from cobalt_rl.rewards.reply_format import _o200k_encoding, o200k_token_count
from cobalt_rl.rewards.scores import (
    REWARDS,
    CobaltRewardConfig,
    SandboxReward,
    binary_score,
    cobalt_score,
    get_reward,
    has_repetition_loop,
    pass_rate_score,
    reference_format_term,
    reference_score,
    rlef_score,
)
from cobalt_rl.sandbox import ExecRequest, Limits, LocalSandbox


def result(passed: int, total: int, failure: Status = Status.WRONG_ANSWER) -> ExecResult:
    return ExecResult(
        outcomes=[TestOutcome(status=Status.PASSED)] * passed
        + [TestOutcome(status=failure)] * (total - passed)
    )


ONE_BLOCK = "Here it is:\n```python\nprint(1)\n```"

# --------------------------------------------------------------------------- cobalt tiers


@pytest.mark.parametrize(
    ("passed", "expected"),
    [
        (4, 1.0),  # p = 1
        (3, 0.2),  # p = .75 >= .5
        (2, 0.2),  # p = .5 (the boundary belongs to the upper tier)
        (1, 0.0),  # 0 < p = .25 < .5
        (0, -0.1),  # p = 0
    ],
)
def test_tiers_on_a_first_turn(passed: int, expected: float) -> None:
    # prev_best 0 (a first-turn context): the tier alone, no bonus even for p > 0.
    assert cobalt_score(result(passed, 4), ONE_BLOCK, 0.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("passed", "total", "prev", "expected"),
    [
        # improvement bonus 0.1 x (p - b) / (1 - b)
        (3, 4, 0.5, 0.2 + 0.1 * 0.25 / 0.5),  # .75 over .5: 0.25
        (2, 4, 0.25, 0.2 + 0.1 * 0.25 / 0.75),  # .5 over .25: 0.2333
        (2, 5, 0.2, 0.0 + 0.1 * 0.2 / 0.8),  # .4 over .2: 0.025
        (4, 4, 0.5, 1.0),  # a full pass is the tier alone
        # no gain: the tier is replaced by -0.1 - 0.1 x (b - p) / b
        (2, 4, 0.75, -0.1 - 0.1 * 0.25 / 0.75),  # .5 under .75: -0.1333
        (2, 4, 0.5, -0.1),  # equal: no gain, no loss
        (0, 4, 0.5, -0.2),  # lost everything
        (3, 4, 1.0, -0.1 - 0.1 * 0.25),  # under a solved prefix: -0.125
    ],
)
def test_improvement_bonus_and_regression_penalty(
    passed: int, total: int, prev: float, expected: float
) -> None:
    assert cobalt_score(result(passed, total), ONE_BLOCK, prev) == pytest.approx(expected)


def test_worked_values() -> None:
    assert cobalt_score(result(3, 4), ONE_BLOCK, 0.5) == pytest.approx(0.25)
    assert cobalt_score(result(2, 4), ONE_BLOCK, 0.75) == pytest.approx(-0.4 / 3)
    assert cobalt_score(result(0, 4), ONE_BLOCK, 0.5) == pytest.approx(-0.2)


def test_no_code_is_minus_one_whatever_else() -> None:
    assert cobalt_score(None, "I don't know.", 0.0) == -1.0
    assert cobalt_score(None, "a\n" * 20, 0.9, CobaltRewardConfig(reasoning=True)) == -1.0


def test_clipped_to_minus_one_one() -> None:
    assert cobalt_score(result(4, 4), ONE_BLOCK, 0.0, CobaltRewardConfig(full=1.5)) == 1.0
    # -0.95 - 0.1 x 1 = -1.05 -> -1
    low = CobaltRewardConfig(none=-0.95)
    assert cobalt_score(result(0, 4), ONE_BLOCK, 0.5, low) == -1.0
    # Every penalty at once stays at -1: -0.2 - 0.1 - 0.1 - 0.2 - 0.1 = -0.7, and with
    # none = -0.6: -1.2 -> -1.
    loop = "```python\nx = 1\n```\n```python\nx = 2\n```\n" + "again\n" * 8 + "x" * 13000
    worst = CobaltRewardConfig(reasoning=True, none=-0.6)
    assert cobalt_score(result(0, 4), loop, 0.5, CobaltRewardConfig(reasoning=True)) == (
        pytest.approx(-0.7)
    )
    assert cobalt_score(result(0, 4), loop, 0.5, worst) == -1.0


# --------------------------------------------------------------------------- format term


def test_extra_code_blocks_cost_a_tenth() -> None:
    two = "First try:\n```python\nprint(1)\n```\nBetter:\n```python\nprint(2)\n```"
    sample = "```python\nprint(2)\n```\nInput:\n```\n3\n```"  # any extra block counts
    assert cobalt_score(result(4, 4), two, 0.0) == pytest.approx(0.9)
    assert cobalt_score(result(4, 4), sample, 0.0) == pytest.approx(0.9)
    assert cobalt_score(result(0, 4), two, 0.0) == pytest.approx(-0.2)


def test_repetition_loop_costs_a_tenth() -> None:
    looping = ONE_BLOCK + "\n" + "I will now fix the code again.\n" * 8
    assert cobalt_score(result(4, 4), looping, 0.0) == pytest.approx(0.9)
    both = "```python\nprint(1)\n```\n```python\nprint(2)\n```\n" + "ok\n" * 8
    assert cobalt_score(result(4, 4), both, 0.0) == pytest.approx(0.8)


def test_repetition_loop_rules() -> None:
    assert has_repetition_loop("x = 1\n" * 8)  # one line 8 times
    assert not has_repetition_loop("x = 1\n" * 7)
    assert not has_repetition_loop("x = 1\n" * 4 + "y = 2\n" + "x = 1\n" * 4)
    block = "the answer depends on the input "  # 32 characters
    assert len(block) == 32
    assert has_repetition_loop(block * 8)
    assert not has_repetition_loop(block * 7)
    assert not has_repetition_loop(block[:31] * 8)  # blocks under 32 characters do not count
    assert has_repetition_loop("Let me think. " + "abcdefghij0123456789ABCDEFGHIJ_-" * 9 + " done")
    assert has_repetition_loop("=" * 300)


def test_separator_comments_are_not_a_loop() -> None:
    # A 64+ character rule in a comment is ordinary code, not a degenerate loop.
    reply = "```python\n# " + "-" * 76 + "\nprint(1)\n# " + "=" * 76 + "\n```"
    assert not has_repetition_loop(reply)
    assert cobalt_score(result(4, 4), reply, 0.0) == 1.0


def test_reasoning_mode_checks_think_and_length() -> None:
    cfg = CobaltRewardConfig(reasoning=True)
    good = "Plan: add the numbers.</think>\n" + ONE_BLOCK
    assert cobalt_score(result(4, 4), good, 0.0, cfg) == 1.0
    assert cobalt_score(result(4, 4), ONE_BLOCK, 0.0, cfg) == pytest.approx(0.8)  # no </think>
    twice = "a</think>b</think>\n" + ONE_BLOCK
    assert cobalt_score(result(4, 4), twice, 0.0, cfg) == pytest.approx(0.8)
    # 9,000 characters with a 6,000 limit: half of 2x the limit -> -0.05.
    suffix = "</think>\n" + ONE_BLOCK
    filler = " ".join(f"w{i}" for i in range(3000))  # no repeated 32-character block
    long = filler[: 9000 - len(suffix)] + suffix
    assert len(long) == 9000 and not has_repetition_loop(long)
    assert cobalt_score(result(4, 4), long, 0.0, cfg) == pytest.approx(0.95)
    # Without reasoning=True neither check applies.
    assert cobalt_score(result(4, 4), ONE_BLOCK, 0.0) == 1.0


# --------------------------------------------------------------------------- simple scores


def test_binary_pass_rate_and_rlef() -> None:
    assert binary_score(result(4, 4)) == 1.0
    assert binary_score(result(3, 4)) == 0.0
    assert binary_score(None) == 0.0
    assert binary_score(ExecResult(outcomes=[])) == 0.0  # no tests: nothing proven
    assert pass_rate_score(result(3, 4)) == 0.75
    assert pass_rate_score(None) == 0.0
    assert rlef_score(result(4, 4), ONE_BLOCK) == 1.0
    assert rlef_score(result(3, 4), ONE_BLOCK) == -1.0
    assert rlef_score(result(0, 4, Status.SYNTAX_ERROR), ONE_BLOCK) == pytest.approx(-1.2)
    assert rlef_score(None, "no code") == pytest.approx(-1.2)


# --------------------------------------------------------------------------- TRL contract

DOUBLE_TESTS = [{"input": f"{n}\n", "output": f"{2 * n}\n"} for n in (3, 4, 5, 0)]
ADD_TESTS = [  # like the bundled add_two_numbers problem's tests
    {"input": f"{a}\n{b}", "output": str(a + b)}
    for a, b in [(3, 4), (-2, 10), (0, 0), (-5, -7), (10**9, 2 * 10**9), (12, 98), (-1, 1), (7, 0)]
]


def fenced(code: str) -> str:
    return f"Here is my program.\n```python\n{code}\n```"


# (reply, tests, mode, fn_name, pass rate): pass rates worked by hand.
KINDS: list[tuple[str, list[dict[str, str]], str, str | None, float | None]] = [
    (fenced("print(int(input()) * 2)"), DOUBLE_TESTS, "stdin", None, 1.0),
    # n * n: 9, 16, 25, 0 -> only 0 -> 0 passes.
    (fenced("n = int(input())\nprint(n * n)"), DOUBLE_TESTS, "stdin", None, 0.25),
    # 2n below 4, else 0: 3 -> 6 and 0 -> 0 pass; 4 and 5 fail.
    (fenced("n = int(input())\nprint(2 * n if n < 4 else 0)"), DOUBLE_TESTS, "stdin", None, 0.5),
    (fenced("print('no')"), DOUBLE_TESTS, "stdin", None, 0.0),
    ("I am not sure how to solve this.", DOUBLE_TESTS, "stdin", None, None),  # no code
    (fenced("def add(a, b):\n    return a + b"), ADD_TESTS, "functional", "add", 1.0),
    # |a| + |b| fails (-2, 10), (-5, -7), (-1, 1): 5 of 8.
    (fenced("def add(a, b):\n    return abs(a) + abs(b)"), ADD_TESTS, "functional", "add", 0.625),
    # a - b passes (0, 0) and (7, 0): 2 of 8.
    (fenced("def add(a, b):\n    return a - b"), ADD_TESTS, "functional", "add", 0.25),
]


def expected_cobalt(rate: float | None, prev: float) -> float:
    """The cobalt reward by hand (one code block, no loop)."""
    if rate is None:
        return -1.0
    tier = 1.0 if rate == 1 else 0.2 if rate >= 0.5 else 0.0 if rate > 0 else -0.1
    if rate == 1 or prev == 0:
        return tier
    if rate > prev:
        return tier + 0.1 * (rate - prev) / (1 - prev)
    return -0.1 - 0.1 * (prev - rate) / prev


class CountingSandbox:
    """The real sandbox, counting ``run_batch`` calls."""

    def __init__(self, inner: LocalSandbox):
        self.inner = inner
        self.batches: list[int] = []

    def run(self, request: ExecRequest) -> ExecResult:
        raise AssertionError("rewards must not run completions one at a time")

    def run_batch(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
        self.batches.append(len(requests))
        return self.inner.run_batch(requests)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=Limits(timeout_s=3, program_timeout_s=20)) as sb:
        yield sb


def columns(
    rows: Sequence[tuple[str, Any, str, str | None, Any]], prevs: Sequence[float]
) -> dict[str, Any]:
    return {
        "tests": [r[1] for r in rows],
        "mode": [r[2] for r in rows],
        "fn_name": [r[3] for r in rows],
        "prev_best_pass_rate": list(prevs),
    }


def test_64_completions_in_one_sandbox_batch(sandbox: LocalSandbox) -> None:
    rows = [KINDS[i % len(KINDS)] for i in range(64)]
    # Block b of 8 completions (one of each kind) gets prev_best .0, .25, .5, .75 in turn.
    prevs = [[0.0, 0.25, 0.5, 0.75][(i // len(KINDS)) % 4] for i in range(64)]
    counting = CountingSandbox(sandbox)
    reward = get_reward("cobalt", counting)
    scores = reward([r[0] for r in rows], **columns(rows, prevs))
    assert len(scores) == 64 and all(isinstance(s, float) for s in scores)
    assert counting.batches == [56]  # ONE batch holding every completion with code
    assert scores == pytest.approx(
        [expected_cobalt(r[4], p) for r, p in zip(rows, prevs, strict=True)]
    )
    # Spot checks worked on paper: the half-right stdin program (p = .5) over prev .25 ...
    assert scores[2 + 8] == pytest.approx(0.2 + 0.1 * 0.25 / 0.75)
    # ... and |a| + |b| (p = .625) under prev .75: -0.1 - 0.1 x .125 / .75.
    assert scores[6 + 24] == pytest.approx(-0.1 - 0.1 * 0.125 / 0.75)


@pytest.mark.parametrize(
    ("name", "by_rate"),
    [
        ("binary", lambda r: 1.0 if r == 1 else 0.0),
        ("pass_rate", lambda r: r or 0.0),
        ("rlef", lambda r: 1.0 if r == 1 else -1.2 if r is None else -1.0),
    ],
)
def test_simple_rewards_through_the_sandbox(sandbox: LocalSandbox, name: str, by_rate: Any) -> None:
    counting = CountingSandbox(sandbox)
    reward = get_reward(name, counting)
    scores = reward([k[0] for k in KINDS], **columns(KINDS, [0.5] * len(KINDS)))
    assert scores == pytest.approx([by_rate(k[4]) for k in KINDS])
    assert counting.batches == [7]
    assert reward.__name__ == name


def test_conversational_completions(sandbox: LocalSandbox) -> None:
    rows = KINDS[:5]
    completions = [[{"role": "assistant", "content": r[0]}] for r in rows]
    scores = get_reward("cobalt", sandbox)(completions, **columns(rows, [0.0] * 5))
    assert scores == pytest.approx([1.0, 0.0, 0.2, -0.1, -1.0])


def test_syntax_error_is_invalid_code_for_rlef(sandbox: LocalSandbox) -> None:
    rows = [(fenced("print(int(input()) * 2"), DOUBLE_TESTS, "stdin", None, 0.0)]
    cols = columns(rows, [0.0])
    assert get_reward("rlef", sandbox)([rows[0][0]], **cols) == pytest.approx([-1.2])
    assert get_reward("cobalt", sandbox)([rows[0][0]], **cols) == pytest.approx([-0.1])


def test_missing_columns_are_clear_errors(sandbox: LocalSandbox) -> None:
    reward = get_reward("cobalt", sandbox)
    with pytest.raises(ValueError, match="'tests' column"):
        reward([ONE_BLOCK], mode=["stdin"])
    with pytest.raises(ValueError, match="1 values for 2 completions"):
        reward([ONE_BLOCK, ONE_BLOCK], tests=[DOUBLE_TESTS], mode=["stdin", "stdin"])
    # prev_best_pass_rate and fn_name may be absent (first turns, stdin problems).
    assert reward([fenced("print(int(input()) * 2)")], tests=[DOUBLE_TESTS], mode=["stdin"]) == [
        1.0
    ]
    assert reward([], tests=[], mode=[]) == []


# --------------------------------------------------------------------------- registry


def test_get_reward_by_name_and_by_dotted_path(sandbox: LocalSandbox) -> None:
    assert set(REWARDS) == {"cobalt", "binary", "pass_rate", "rlef"}
    for name in REWARDS:
        reward = get_reward(name, sandbox)
        assert isinstance(reward, SandboxReward) and reward.__name__ == name
    dotted = get_reward("cobalt_rl.rewards.scores:pass_rate_score", sandbox)
    assert dotted.__name__ == "pass_rate_score"
    rows = KINDS[6:7]
    assert dotted([rows[0][0]], **columns(rows, [0.0])) == pytest.approx([0.625])


def test_get_reward_with_a_cobalt_config(sandbox: LocalSandbox) -> None:
    reward = get_reward("cobalt", sandbox, cobalt=CobaltRewardConfig(reasoning=True))
    rows = KINDS[:1]
    assert reward([rows[0][0]], **columns(rows, [0.0])) == pytest.approx([0.8])  # no </think>
    with pytest.raises(ConfigError, match="applies to the 'cobalt' reward"):
        get_reward("binary", sandbox, cobalt=CobaltRewardConfig())


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("coblat", "unknown reward 'coblat'; registered: cobalt, binary, pass_rate, rlef"),
        ("no_such_module:fn", "cannot import fn from no_such_module"),
        ("cobalt_rl.rewards.scores:missing", "cannot import missing from cobalt_rl.rewards.scores"),
        ("cobalt_rl.rewards.scores:REWARDS", "is not a function"),
    ],
)
def test_unknown_reward_is_a_config_error(sandbox: LocalSandbox, name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        get_reward(name, sandbox)


# ------------------------------------------------ the reference reward against the original

# o200k_base token counts from tiktoken 0.14.0 (the original's tokenizer) with its official
# o200k_base file (SHA-256 446a9538...1a2d); special-token text counted as ordinary text
# (``disallowed_special=()``). Exact counts: every one differs from the characters / 4
# estimate, so these fail if the count falls back to it.
O200K_COUNTS = [
    ("hello world", 2),
    ("def f(x):\r\n    return x  # h\u00e9llo \u4e16\u754c \U0001f642", 13),
    ("a" * 1000, 125),
    (" ".join(f"w{i}" for i in range(100)), 200),
    ("    if n % 2 == 0:\n        print('even')\n", 15),
    ("<|endoftext|>", 7),
    ("x<|endofprompt|>y", 9),
]


@pytest.mark.parametrize(("text", "tokens"), O200K_COUNTS)
def test_o200k_counts_are_exact(text: str, tokens: int) -> None:
    assert o200k_token_count(text) == tokens


def test_the_estimate_is_announced_once_with_what_to_install(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Neither tokenizer importable (None in sys.modules makes the import fail).
    monkeypatch.setitem(sys.modules, "bpe_openai", None)
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    _o200k_encoding.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="cobalt_rl.rewards.reply_format"):
            assert o200k_token_count("hello world") == 3  # ceil(11 / 4)
            assert o200k_token_count("a" * 1000) == 250
        (warning,) = caplog.records
        message = warning.getMessage()
        assert "ESTIMATED" in message and "pip install 'bpe-openai" in message
    finally:
        monkeypatch.undo()
        _o200k_encoding.cache_clear()
    assert o200k_token_count("a" * 1000) == 125  # exact again once bpe-openai is back


def _words(prefix: str, n: int) -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def _code_lines(n: int) -> str:
    return "".join(f"x{i} = {i}\n" for i in range(n)) + "print(int(input()) * 2)"


def _reply(thinking: str, code: str = "print(int(input()) * 2)", explanation: str = "Done.") -> str:
    return f"<think>\n{thinking}\n</think>\n\nHere it is.\n```python\n{code}\n```\n{explanation}"


# Replies on either side of each length limit by exact count (the sizes were found with
# tiktoken): the explanation's 512 tokens (256 words: 512, 257: 514), the thinking's 4,096
# (with its "<think>" line: 1,697 words at most, 1,698 over), the answer's 2,048 (338 code
# lines at most, 339 over). By the estimate every "over" reply is under its limit.
REPLIES = {
    "bonus": _reply("Wait, but is it wrong? Let me verify the error.\n" + _words("s", 150)),
    "explanation_at": _reply("plan", explanation=_words("w", 256)),
    "explanation_over": _reply("plan", explanation=_words("w", 257)),
    "thinking_at": _reply(_words("t", 1697)),
    "thinking_over": _reply(_words("t", 1698)),
    "answer_at": _reply("plan", code=_code_lines(338)),
    "answer_over": _reply("plan", code=_code_lines(339)),
    "no_think": _reply("plan").replace("<think>\nplan\n</think>\n", ""),
    "two_think": _reply("plan</think>again"),
    "py_tag": _reply("plan").replace("```python", "```py"),
    "backtick_in_code": _reply("plan", code="print(1)  # `x`"),
    "fence_on_code_line": _reply("plan").replace("* 2)\n```", "* 2)```"),
}

# The original's own outputs: OSU-NLP-Group/cobalt @ 18ce6ae, verl/code_reward_func_think.py,
# run once outside this project (Ray stubbed, tiktoken 0.14.0 with the official o200k_base
# file) on the replies above: ``format_reward(reply, correctness)`` ...
ORIGINAL_FORMAT_TERM = [
    ("bonus", 0.2, 0.0),
    ("bonus", -0.1, 0.047436792912533846),
    ("explanation_at", 0.2, 0.0),
    ("explanation_at", -0.1, 0.0002929672598929755),
    ("explanation_over", 0.2, -0.01),
    ("explanation_over", -0.1, -0.09970703274010703),
    ("thinking_at", 0.2, 0.0),
    ("thinking_at", -0.1, 0.07494950066821654),
    ("thinking_over", 0.2, -0.01),
    ("thinking_over", -0.1, -0.1),
    ("answer_at", 0.2, 0.0),
    ("answer_at", -0.1, 0.0002929672598929755),
    ("answer_over", 0.2, -0.01),
    ("answer_over", -0.1, -0.09970703274010703),
    ("no_think", 0.2, -0.9),
    ("no_think", -0.1, -0.9),
    ("two_think", 0.2, -0.9),
    ("two_think", -0.1, -0.9),
    ("py_tag", 0.2, -0.9),
    ("py_tag", -0.1, -0.9),
    ("backtick_in_code", 0.2, -0.9),
    ("backtick_in_code", -0.1, -0.9),
    ("fence_on_code_line", 0.2, -0.9),
    ("fence_on_code_line", -0.1, -0.9),
]
# ... and ``compute_score`` with the evaluator answering these test verdicts, and
# ``extra_info={"prev_best_pass_rate": prev}``: (reply, verdicts, prev, reward).
ORIGINAL_SCORE = [
    ("bonus", [True, False, False], 0.5, -0.08589654042079951),
    ("bonus", [False, False], 0.0, -0.05256320708746616),
    ("explanation_over", [True, True, False], 0.5, 0.22333333333333333),
    ("explanation_over", [True, True], 0.0, 0.99),
    ("thinking_over", [True, False, False, False], 0.5, -0.25),
    ("answer_over", [False], 0.0, -0.19970703274010704),
    ("explanation_at", [True, True, True, False], 0.25, 0.26666666666666666),
]


@pytest.mark.parametrize(("name", "correctness", "expected"), ORIGINAL_FORMAT_TERM)
def test_reference_format_term_equals_the_originals(
    name: str, correctness: float, expected: float
) -> None:
    assert reference_format_term(REPLIES[name], correctness) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("name", "verdicts", "prev", "expected"), ORIGINAL_SCORE)
def test_reference_score_equals_the_originals(
    name: str, verdicts: list[bool], prev: float, expected: float
) -> None:
    outcomes = [TestOutcome(status=Status.PASSED if ok else Status.WRONG_ANSWER) for ok in verdicts]
    score = reference_score(ExecResult(outcomes=outcomes), REPLIES[name], prev)
    assert score == pytest.approx(expected, abs=1e-9)


def test_special_token_text_is_scored_where_the_original_raises() -> None:
    # The original's format_reward raises ValueError on this reply (tiktoken refuses the text
    # of a special token by default); we count it as ordinary text: its "<think>" part is 12
    # tokens so (tiktoken, disallowed_special=()).
    reply = _reply("plan <|endoftext|> more")
    expected = math.tanh(12 / 1024) * 0.075
    assert reference_format_term(reply, -0.1) == pytest.approx(expected, abs=1e-12)
    assert reference_format_term(reply, 0.2) == 0.0


@pytest.mark.parametrize(("profile", "stops"), [("cobalt-rl", True), ("reference", False)])
def test_training_reward_stops_a_program_at_its_first_timeout_under_cobalt_rl_only(
    profile: str, stops: bool
) -> None:
    """A program that hangs on its first test: under cobalt-rl the reward does not wait out
    the others (they count as timeouts, as they would have been); the reference runs all."""
    seen: list[ExecRequest] = []

    class RecordingSandbox:  # a fake: records the requests, every test times out
        def run_batch(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
            seen.extend(requests)
            return [
                ExecResult(outcomes=[TestOutcome(status=Status.TIMEOUT) for _ in r.tests])
                for r in requests
            ]

    reward = get_reward("cobalt", RecordingSandbox(), profile=profile)  # type: ignore[arg-type]
    tests = [{"input": "1\n", "output": "1\n"}] * 3
    reward(["```python\nwhile True: pass\n```"], tests=[tests], mode=["stdin"], fn_name=[""])
    assert [r.stop_after_timeout for r in seen] == [stops]
