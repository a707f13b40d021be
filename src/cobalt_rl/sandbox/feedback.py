"""Execution feedback shown to the model in the next turn (DESIGN.md, the paper's defaults).

The feedback describes the FIRST failing test only. Its wording follows the request's profile
(:mod:`cobalt_rl.profiles`).

``cobalt-rl``:

- wrong answer: ``Input`` / ``Program's Output`` / ``Expected Output``;
- the program raised or crashed: ``Input`` / ``Stderr`` with the traceback (it already holds
  only the program's own frames, named ``solution.py``, with their source lines: no sandbox
  paths);
- time or memory or output limits: ``Input`` and one line saying which limit was hit; a test
  that the program's total time budget stopped (or never started) says that, not the
  per-test limit;
- every field cut to 400 characters by keeping the first and last 200 (long inputs and
  outputs would otherwise crowd the context); the fixed :data:`ALL_PASSED` message when every
  test passes.

``reference`` (OSU-NLP-Group/cobalt ``verl/remote_reward_server.py``, ``run_single_test`` and
``Evaluator.__call__``; ``run_multi_turn_vllm.py``, ``get_results_and_feedback``): no header;
``Input`` / ``Program's Output`` then ``Expected Output`` (a wrong answer, or a failed run
that wrote nothing at all on stderr) or ``Stderr`` (a failed run that wrote anything, even
whitespace alone: the reference tests ``if stderr:`` before it strips), the stderr passed
through the reference's ``clean_traceback`` (:func:`reference_clean_traceback`); a
``TimeoutError`` line for a test past its limit; a whole-program ``TimeoutError`` line when
its budget ran out (the program then fails whole); every field stripped and, past 400
characters, cut to its first and last 200 around the reference's ``...(truncated) ...``
marker; its own all-passed message. A program that runs out of memory shows the traceback the
interpreter printed, as any other failed run.
"""

from __future__ import annotations

from collections.abc import Sequence

from cobalt_rl.profiles import DEFAULT_PROFILE, Profile
from cobalt_rl.records import Mode, Status, TestCase, TestOutcome

__all__ = [
    "ALL_PASSED",
    "BUDGET_CUT",
    "BUDGET_NOT_STARTED",
    "FIELD_CHARS",
    "REFERENCE_ALL_PASSED",
    "all_passed_message",
    "clip_middle",
    "is_budget_outcome",
    "reference_budget_feedback",
    "reference_clean_traceback",
    "reference_clip",
    "render_feedback",
]

ALL_PASSED = "Your code passed all the public tests."
# The reference's wording (run_multi_turn_vllm.py, get_results_and_feedback; MIT licence),
# reproduced because the model trained under the ``reference`` profile was shown it.
REFERENCE_ALL_PASSED = (
    "The code has passed all public test cases. Please try your best to think about possible "
    "edge cases and fix any remaining issues in the code to pass the hidden test cases."
)
FIELD_CHARS = 400
BUDGET_NOT_STARTED = "program time budget exhausted"
"""The ``detail`` of a test not started because the program's total time budget ran out."""
BUDGET_CUT = "program time budget ran out during the test"
"""The ``detail`` of a test killed because the program's budget ran out before its own limit."""


def is_budget_outcome(outcome: TestOutcome) -> bool:
    """Whether ``outcome`` is a time-out charged to the program's budget, not to the test."""
    return outcome.status is Status.TIMEOUT and outcome.detail in (BUDGET_NOT_STARTED, BUDGET_CUT)


def all_passed_message(profile: Profile | str = DEFAULT_PROFILE) -> str:
    """The feedback when every public test passes."""
    return REFERENCE_ALL_PASSED if Profile(profile) is Profile.REFERENCE else ALL_PASSED


def clip_middle(text: str, limit: int = FIELD_CHARS) -> str:
    """Keep the first and last ``limit // 2`` characters of ``text`` when it is longer."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n...({len(text) - 2 * half} characters omitted)...\n{text[-half:]}"


def reference_clip(text: str, limit: int = FIELD_CHARS) -> str:
    """The reference's cut (``truncatefn``): past ``limit`` characters, the first and last
    ``limit // 2`` around ``...(truncated) ...``, with no line breaks added."""
    if len(text) <= limit:
        return text
    return text[: limit // 2] + "...(truncated) ..." + text[-(limit // 2) :]


def reference_clean_traceback(stderr: str) -> str:
    """The reference's ``clean_traceback``: from the first ``File "<string>"`` on, under a new
    ``Traceback (most recent call last):`` line; unchanged when there is none.

    It was written to drop the frames of a runner that ``exec``s the program; its evaluator runs
    the program as a file, so what it finds is the program's own ``exec`` of a string.
    Applying it twice gives the same text as once.
    """
    start = stderr.find('File "<string>"')
    if start < 0:
        return stderr
    return "Traceback (most recent call last):\n  " + stderr[start:]


def reference_budget_feedback() -> str:
    """The reference's one message for a program whose tests did not all finish in time.

    Its wording names 30 seconds whatever the budget (the reference's own deadline is 27 s
    inside a 30 s wait)."""
    return (
        "TimeoutError: Program timed out because it did not finish running all test cases "
        "within 30 seconds."
    )


def _shown_input(test: TestCase, mode: Mode, fn_name: str | None) -> str:
    if mode is Mode.FUNCTIONAL and fn_name:
        args = ", ".join(line for line in test.input.split("\n") if line.strip())
        return f"{fn_name}({args})"
    return test.input


def _reference_feedback(test: TestCase, outcome: TestOutcome, timeout_s: float) -> str:
    """One failing test as the reference's evaluator words it."""
    shown = f"Input:\n{reference_clip(test.input.strip())}\n"
    if outcome.status is Status.TIMEOUT:
        return f"{shown}TimeoutError: Program timed out after {timeout_s:g} seconds."
    if outcome.status is Status.SANDBOX_ERROR:
        return f"{shown}Exception: {reference_clip(outcome.detail)}"
    shown += f"Program's Output:\n{reference_clip(outcome.output.strip())}\n"
    failed_run = outcome.status in (Status.RUNTIME_ERROR, Status.SYNTAX_ERROR, Status.MEMORY)
    if failed_run and outcome.stderr:  # whitespace alone counts (see the module docstring)
        stderr = reference_clean_traceback(outcome.stderr.strip())
        return f"{shown}Stderr:\n{reference_clip(stderr)}"
    return f"{shown}Expected Output:\n{reference_clip(test.output.strip())}"


def render_feedback(
    tests: Sequence[TestCase],
    outcomes: Sequence[TestOutcome],
    mode: Mode,
    fn_name: str | None = None,
    timeout_s: float = 4.0,
    profile: Profile | str = DEFAULT_PROFILE,
    program_timeout_s: float = 30.0,
) -> str:
    """The feedback text for a program's outcomes on ``tests`` (see the module docstring).

    Args:
        tests: the tests, in the order they were run.
        outcomes: one per test.
        mode: how the tests call the program (functional inputs are shown as a call).
        fn_name: the function a functional test calls.
        timeout_s: the per-test limit, named in a time-out message.
        profile: the wording (``reference`` or ``cobalt-rl``).
        program_timeout_s: the program's total budget, named when it ran out.
    """
    reference = Profile(profile) is Profile.REFERENCE
    for test, outcome in zip(tests, outcomes, strict=False):
        if outcome.status in (Status.PASSED, Status.SKIPPED):
            continue
        if reference:
            if is_budget_outcome(outcome):
                return reference_budget_feedback()
            return _reference_feedback(test, outcome, timeout_s)
        shown = clip_middle(_shown_input(test, mode, fn_name).rstrip("\n"))
        head = "Your code failed the following test:\n"
        if mode is Mode.SCRIPT:
            head += f"Test:\n{shown}\n"
        else:
            head += f"Input:\n{shown}\n"
        status = outcome.status
        if status is Status.WRONG_ANSWER:
            out = clip_middle(outcome.output.rstrip("\n"))
            exp = clip_middle(test.output.rstrip("\n"))
            return f"{head}Program's Output:\n{out}\nExpected Output:\n{exp}"
        if outcome.detail == BUDGET_NOT_STARTED:
            return (
                f"{head}Time Limit Exceeded: the program's tests together used up its total "
                f"time budget of {program_timeout_s:g} seconds before this test started."
            )
        if outcome.detail == BUDGET_CUT:
            return (
                f"{head}Time Limit Exceeded: the program's tests together used up its total "
                f"time budget of {program_timeout_s:g} seconds while this test ran."
            )
        if status is Status.TIMEOUT:
            return f"{head}Time Limit Exceeded: the program ran longer than {timeout_s:g} seconds."
        if status is Status.MEMORY:
            return f"{head}Memory Limit Exceeded: the program ran out of memory."
        if status is Status.OUTPUT_LIMIT:
            return f"{head}Output Limit Exceeded: the program wrote too much output."
        if status is Status.SANDBOX_ERROR:
            return f"{head}The test could not be run (sandbox error: {outcome.detail})."
        err = clip_middle(outcome.stderr.strip() or outcome.detail or "(no error message)")
        return f"{head}Stderr:\n{err}"
    passed = all_passed_message(profile)
    if outcomes and all(o.status is Status.PASSED for o in outcomes):
        return passed
    return "Your code was not run: there were no tests." if not outcomes else passed
