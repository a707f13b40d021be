"""Execution feedback shown to the model in the next turn (DESIGN.md, the paper's defaults).

The feedback describes the FIRST failing test only:

- wrong answer: ``Input`` / ``Program's Output`` / ``Expected Output``;
- the program raised or crashed: ``Input`` / ``Stderr`` with the traceback (it already holds
  only the program's own frames, named ``solution.py``: no sandbox paths);
- time or memory or output limits: ``Input`` and one line saying which limit was hit.

Every field is cut to 400 characters by keeping the first and last 200 (long inputs and
outputs would otherwise crowd the context). When every test passes the feedback is the fixed
:data:`ALL_PASSED` message.
"""

from __future__ import annotations

from collections.abc import Sequence

from cobalt_rl.records import Mode, Status, TestCase, TestOutcome

__all__ = ["ALL_PASSED", "FIELD_CHARS", "clip_middle", "render_feedback"]

ALL_PASSED = "Your code passed all the public tests."
FIELD_CHARS = 400


def clip_middle(text: str, limit: int = FIELD_CHARS) -> str:
    """Keep the first and last ``limit // 2`` characters of ``text`` when it is longer."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n...({len(text) - 2 * half} characters omitted)...\n{text[-half:]}"


def _shown_input(test: TestCase, mode: Mode, fn_name: str | None) -> str:
    if mode is Mode.FUNCTIONAL and fn_name:
        args = ", ".join(line for line in test.input.split("\n") if line.strip())
        return f"{fn_name}({args})"
    return test.input


def render_feedback(
    tests: Sequence[TestCase],
    outcomes: Sequence[TestOutcome],
    mode: Mode,
    fn_name: str | None = None,
    timeout_s: float = 4.0,
) -> str:
    """The feedback text for a program's outcomes on ``tests`` (see the module docstring)."""
    for test, outcome in zip(tests, outcomes, strict=False):
        if outcome.status is Status.PASSED:
            continue
        if outcome.status is Status.SKIPPED:
            continue
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
    if outcomes and all(o.status is Status.PASSED for o in outcomes):
        return ALL_PASSED
    return "Your code was not run: there were no tests." if not outcomes else ALL_PASSED
