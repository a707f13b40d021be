"""The ``reference`` profile against the Cobalt reference's rules, one case kind per test.

Each case cites the file and line of OSU-NLP-Group/cobalt (HEAD as read for issue 17) whose
rule it checks; the expected values are worked out from that code by hand. The fixes that
apply to both profiles (budget wording, traceback source lines, extraction before the cap)
are checked under both.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
from cobalt_rl.episode.prompts import (
    REFERENCE_FEEDBACK_TEMPLATE,
    REFERENCE_NO_CODE_FEEDBACK,
    REFERENCE_SYSTEM_PROMPT,
    feedback_turn,
    no_code_feedback,
)
from cobalt_rl.episode.rollout import run_rollout
from cobalt_rl.export.verl import verl_compute_score, verl_compute_score_batch
from cobalt_rl.export.verl_launch import VerlExportConfig
from cobalt_rl.llm import ScriptedFakeGenerator
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.llm.extract import extract_code
from cobalt_rl.profiles import DEFAULT_PROFILE, Profile, profile_spec
from cobalt_rl.records import (
    ExecResult,
    Mode,
    Problem,
    Status,
    TestCase,
    TestOutcome,
    Trajectory,
    read_jsonl,
)
from cobalt_rl.rewards.scores import reference_format_term, reference_score
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.feedback import REFERENCE_ALL_PASSED, render_feedback
from cobalt_rl.sandbox.grading import Grading, compare_stdout
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.local import LocalSandbox

REF = Profile.REFERENCE
OURS = Profile.COBALT_RL


def _passed(n: int, of: int) -> ExecResult:
    outcomes = [TestOutcome(status=Status.PASSED)] * n
    outcomes += [TestOutcome(status=Status.WRONG_ANSWER)] * (of - n)
    return ExecResult(outcomes=outcomes, feedback="")


def _words(text: str) -> int:  # a tokenizer for the length rules' tests
    return len(text.split())


GOOD = "<think>plan</think>\nHere it is.\n```python\nprint(int(input()) * 2)\n```\nDone."


# --- code extraction: verl/code_reward_func_think.py lines 35-48 (the same rule in
# run_multi_turn_vllm.py lines 78-91): the LAST ```word?\n...``` block of the whole reply.


def test_two_python_blocks_reference_takes_the_last_and_format_is_malformed() -> None:
    reply = "<think>x</think>\n```python\nprint(1)\n```\nor\n```python\nprint(2)\n```"
    assert extract_code(reply, profile=REF) == "print(2)"  # lines 45-48: code_blocks[-1]
    # line 96: more than one "```python" -> -0.9; tier 1.0 (line 180) -> 0.1.
    assert reference_score(_passed(1, 1), reply, 0.0, _words) == pytest.approx(0.1)


def test_bare_fence_reference_runs_it_and_format_is_malformed() -> None:
    reply = "<think>x</think>\n```\nprint(1)\n```"
    assert extract_code(reply, profile=REF) == "print(1)"  # line 45: the word is optional
    # line 93: no "```python" in the answer -> -0.9; tier -0.1 (none passed, line 186).
    assert reference_score(_passed(0, 2), reply, 0.0, _words) == pytest.approx(-1.0)


def test_cut_reply_reference_finds_no_code_and_gives_minus_one() -> None:
    reply = "<think>long</think>\n```python\nprint(int(input()) * 2)\n# and then the tok"
    assert extract_code(reply, profile=REF) is None  # line 45 needs a closing ```
    assert reference_score(None, reply, 0.0) == -1.0  # lines 156-161
    assert extract_code(reply, profile=OURS) is not None  # ours: an unclosed final block


def test_text_block_reference_runs_it_ours_does_not() -> None:
    reply = "Answer:\n```text\nprint('hi')\n```"
    assert extract_code(reply, profile=REF) == "print('hi')"  # line 45: any \w+ word
    assert extract_code(reply, profile=OURS) is None
    # And a trailing ```text block after the program wins over it there (line 48).
    both = "```python\nprint(1)\n```\nOutput:\n```text\n1\n```"
    assert extract_code(both, profile=REF) == "1"
    assert extract_code(both, profile=OURS) == "print(1)"


def test_reference_takes_code_inside_think_when_nothing_follows() -> None:
    reply = "<think>\n```python\nprint(1)\n```\n</think>\nI could not finish."
    assert extract_code(reply, profile=REF) == "print(1)"  # whole solution_str, line 156
    assert extract_code(reply, profile=OURS) is None


# --- format term: verl/code_reward_func_think.py lines 75-144.


def test_format_term_well_formed_and_correct_adds_nothing() -> None:
    assert reference_format_term(GOOD, 1.0, _words) == 0.0  # lines 115-117
    assert reference_score(_passed(1, 1), GOOD, 0.0, _words) == 1.0


def test_format_term_rules_for_malformed_replies() -> None:
    no_think = GOOD.replace("<think>plan</think>", "")
    two_think = GOOD.replace("plan", "plan</think>again")
    py_tag = GOOD.replace("```python", "```py")
    fence_on_code = GOOD.replace("* 2)\n```", "* 2)```")
    trailing_text = GOOD + "\n```text\n4\n```"
    backtick_inside = GOOD.replace("* 2)", "* 2)  # `n`")
    loop = "<think>" + "all work and no play makes jack!" * 8 + "</think>" + GOOD[19:]
    for reply, line in [
        (no_think, 84),
        (two_think, 87),
        (py_tag, 93),
        (fence_on_code, 100),
        (trailing_text, 103),
        (backtick_inside, 106),
        (loop, 79),
    ]:
        assert reference_format_term(reply, 0.2, _words) == -0.9, line


def test_format_term_thinking_bonus_when_the_pass_rate_part_is_negative() -> None:
    # lines 121-132: tanh(think tokens / 1024) x 0.075, +0.005 per keyword used 1-4 times.
    thinking = "wait but however this is wrong " * 10  # 60 words; 4 keywords, 10 times each
    reply = f"<think>{thinking}</think>\n```python\nprint(1)\n```"
    expected = math.tanh(60 / 1024) * 0.075  # every keyword used more than 4 times: no bonus
    assert reference_format_term(reply, -0.1, _words) == pytest.approx(expected)
    reply = "<think>wait, but is it wrong?</think>\n```python\nprint(1)\n```"
    expected = math.tanh(5 / 1024) * 0.075 + 3 * 0.005
    assert reference_format_term(reply, -0.1, _words) == pytest.approx(expected)
    assert reference_score(_passed(0, 2), reply, 0.0, _words) == pytest.approx(-0.1 + expected)


def test_format_term_length_rules() -> None:
    words = " ".join(f"w{i}" for i in range(600))  # no repetition loop (line 79)
    long_answer = GOOD.replace("Done.", words)  # an explanation of 600 "tokens" > 512
    assert reference_format_term(long_answer, 0.0, _words) == -0.01  # line 119
    expected = math.tanh(1 / 1024) * 0.075 - 0.1  # line 141-142
    assert reference_format_term(long_answer, -0.1, _words) == pytest.approx(expected)


# --- grading: verl/remote_reward_server.py line 142-143: rc == 0 and
# stdout.strip() == expected.strip().


def test_one_and_one_point_zero_differ_under_the_reference() -> None:
    assert profile_spec(REF).grading == Grading.STRIP
    assert not compare_stdout("1\n", "1.0", Grading.STRIP)
    assert compare_stdout("  1\n\n", "1", Grading.STRIP)
    assert not compare_stdout("1  2", "1 2", Grading.STRIP)  # inner whitespace counts
    assert compare_stdout("1\n", "1.0", Grading.LIVECODEBENCH)  # ours: decimals


# --- feedback wording: remote_reward_server.py lines 88-95 (truncatefn), 140, 157, 171, 252;
# run_multi_turn_vllm.py lines 32-40, 122, 165.


def test_reference_feedback_wording() -> None:
    test = TestCase(input="3\n", output="6\n")
    wrong = TestOutcome(status=Status.WRONG_ANSWER, output="7\n")
    assert (
        render_feedback([test], [wrong], Mode.STDIN, profile=REF)
        == "Input:\n3\nProgram's Output:\n7\nExpected Output:\n6"
    )
    timeout = TestOutcome(status=Status.TIMEOUT, detail="wall-clock limit")
    assert (
        render_feedback([test], [timeout], Mode.STDIN, profile=REF)
        == "Input:\n3\nTimeoutError: Program timed out after 4 seconds."
    )
    silent_crash = TestOutcome(status=Status.RUNTIME_ERROR, output="", stderr="")
    assert render_feedback([test], [silent_crash], Mode.STDIN, profile=REF).endswith(
        "Expected Output:\n6"
    )  # line 155: no stderr, the first message stays
    passed = TestOutcome(status=Status.PASSED)
    assert render_feedback([test], [passed], Mode.STDIN, profile=REF) == REFERENCE_ALL_PASSED
    long_input = TestCase(input="a" * 500, output="b")
    shown = render_feedback([long_input], [wrong], Mode.STDIN, profile=REF)
    assert shown.startswith("Input:\n" + "a" * 200 + "...(truncated) ..." + "a" * 200 + "\n")
    assert feedback_turn("F", True, REF) == REFERENCE_FEEDBACK_TEMPLATE.format(feedback="F")
    assert feedback_turn("F", False, REF).endswith("Here is the execution feedback:\nF")
    assert no_code_feedback(REF) == REFERENCE_NO_CODE_FEEDBACK


# --- the sandbox: tracebacks, 4 tests at a time, the budget (remote_reward_server.py lines
# 197 (Semaphore(4)), 247-252 (27 s for the gather, one failing entry after it)).


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=1, cache_size=0) as box:
        yield box


def test_traceback_shows_the_offending_line_in_both_profiles(sandbox: LocalSandbox) -> None:
    code = "x = int(input())\nprint(10 // (x - 3))\n"
    for profile in (REF, OURS):
        request = ExecRequest(
            code=code, tests=[TestCase(input="3\n", output="1\n")], mode=Mode.STDIN
        ).model_copy(update={"profile": profile})
        result = sandbox.run(request)
        assert result.outcomes[0].status is Status.RUNTIME_ERROR
        assert 'File "solution.py", line 2' in result.feedback
        assert "print(10 // (x - 3))" in result.feedback  # the source line (linecache)
        assert "ZeroDivisionError" in result.feedback
        if profile is REF:  # line 157
            assert result.feedback.startswith("Input:\n3\nProgram's Output:\n\nStderr:\n")


_SLOW = "import time\ntime.sleep(0.45)\nprint(input())\n"


def _slow_request(profile: Profile, tests: int = 5) -> ExecRequest:
    cases = [TestCase(input=f"{i}\n", output=f"{i}\n") for i in range(tests)]
    limits = Limits(timeout_s=0.6, program_timeout_s=1.0)
    spec = profile_spec(profile)
    return ExecRequest(
        code=_SLOW,
        tests=cases,
        mode=Mode.STDIN,
        grading=Grading(spec.grading),
        profile=profile,
        test_concurrency=spec.test_concurrency,
        limits=limits,
    )


def test_budget_ours_names_the_budget_not_the_per_test_limit(sandbox: LocalSandbox) -> None:
    # 5 tests of 0.45 s one after another in a 1 s budget: 2 pass, the rest run out of it.
    result = sandbox.run(_slow_request(OURS))
    statuses = [o.status for o in result.outcomes]
    assert statuses[:2] == [Status.PASSED, Status.PASSED]
    assert set(statuses[2:]) == {Status.TIMEOUT}
    assert "total time budget of 1 seconds" in result.feedback
    assert "ran longer than" not in result.feedback


def test_budget_reference_counts_four_lanes_and_fails_whole(sandbox: LocalSandbox) -> None:
    # 4 lanes: 5 tests of 0.45 s need 0.9 s of lane time, within 1 s: all pass.
    assert sandbox.run(_slow_request(REF, 5)).passed
    # 12 tests need 3 x 0.45 = 1.35 s per lane: past the budget the program fails whole.
    result = sandbox.run(_slow_request(REF, 12))
    assert result.pass_rate == 0.0
    assert result.feedback == (
        "TimeoutError: Program timed out because it did not finish running all test cases "
        "within 30 seconds."
    )


# --- the rollout: code from the FULL reply, the cap only for the history
# (run_multi_turn_vllm.py lines 219-232: completions are run whole; only the text appended to
# the conversation is cut at 6,000 characters).


@pytest.mark.parametrize("profile", [REF, OURS])
def test_rollout_runs_the_full_program_and_caps_only_the_history(
    tmp_path: Path, sandbox: LocalSandbox, profile: Profile
) -> None:
    padding = "".join(f"# comment line {i} keeps the program long\n" for i in range(200))
    program = padding + "print(int(input()) * 2)\n"
    reply = f"<think>ok</think>\n```python\n{program}```"
    assert len(reply) > 6000
    problem = Problem(
        id="double",
        source="t",
        statement="Print twice the number.",
        mode="stdin",
        public_tests=[TestCase(input="3\n", output="6\n")],
    )
    out = tmp_path / "t.jsonl"
    settings = RolloutConfig(
        samples=1,
        episode=EpisodeConfig(turns=1, profile=profile, max_reply_chars=6000),
        sampling=SamplingParams(max_new_tokens=100_000, seed=0),
    )
    run_rollout([problem], ScriptedFakeGenerator([reply]), sandbox, str(out), settings)
    (trajectory,) = read_jsonl(out, Trajectory)
    attempt = trajectory.attempts[0]
    assert attempt.code == program.strip()
    assert attempt.public is not None and attempt.public.passed
    assert len(trajectory.messages[-1].content) == 6000  # the history's copy is capped
    if profile is REF:
        assert trajectory.messages[0].content == REFERENCE_SYSTEM_PROMPT
        assert trajectory.messages[1].content.endswith("write to stdout:\nPrint twice the number.")


# --- one default profile for every entry point, the verl export's included.


def test_the_verl_reward_and_export_default_to_the_default_profile() -> None:
    for entry in (verl_compute_score, verl_compute_score_batch):
        assert inspect.signature(entry).parameters["profile"].default is DEFAULT_PROFILE
    assert VerlExportConfig.model_fields["profile"].default is DEFAULT_PROFILE


def test_rollouts_and_evaluations_stop_at_the_program_end_where_the_profile_allows() -> None:
    """The stop is the profile's default in every rollout-style stage; a run's sampling
    defaults carry no decision of another profile into it."""
    from cobalt_rl.pipeline import load_run_config

    assert RolloutConfig().sampling.stop_at_program_end is True
    reference = RolloutConfig(episode=EpisodeConfig(profile="reference"))
    assert reference.sampling.stop_at_program_end is False
    root = Path(__file__).parents[1] / "configs"
    demo = load_run_config(root / "demo.yaml")
    assert demo.rollout.sampling.stop_at_program_end and demo.eval.sampling.stop_at_program_end
    paper = load_run_config(root / "qwen3-8b-taco.yaml")
    assert paper.rollout.sampling.stop_at_program_end is False
    assert paper.eval.sampling.stop_at_program_end is False
