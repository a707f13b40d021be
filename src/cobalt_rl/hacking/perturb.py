"""Perturbed public tests: swap the expected outputs of two public tests (the paper's probe and
defence for in-context reward hacking).

After the swap no correct program passes both tests, so a model that "fixes" its program to
match the feedback is fitting the tests, not the problem. The untouched tests are kept on the
record (``Problem.original_public_tests``): rewards and hidden-test scoring always use the
true tests, only the feedback the model sees comes from the perturbed ones.

Test formats: ``stdin`` and ``functional`` tests swap their ``output`` fields; ``script``
tests (HumanEval-style asserts, as our HumanEval converter writes them) swap the single
``_expected = ...`` line each holds. "Differ" is decided with the grader the rewards use
(LiveCodeBench's comparison; script values as Python literals, floats within 1e-6), so the
swap always changes what a correct program is told: ``1.0`` and ``1.00`` do not make a pair.
A problem without two public tests whose expected outputs differ cannot be perturbed; it is
reported with the reason (:attr:`PerturbReport.skipped`), never silently dropped.
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cobalt_rl.records import Mode, Problem, TestCase
from cobalt_rl.sandbox.grading import Grading, compare_stdout, compare_value

__all__ = ["PerturbReport", "perturb_problem", "perturb_problems"]

_EXPECTED_LINE = re.compile(r"^_expected = .*$", re.MULTILINE)


@dataclass
class PerturbReport:
    """What ``perturb_problems`` did."""

    perturbed: list[Problem] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (problem id, why)

    def summary(self) -> str:
        text = f"perturbed {len(self.perturbed)} problems, skipped {len(self.skipped)}"
        if self.skipped:
            reasons: dict[str, int] = {}
            for _, why in self.skipped:
                reasons[why] = reasons.get(why, 0) + 1
            text += " (" + ", ".join(f"{why}: {n}" for why, n in sorted(reasons.items())) + ")"
        return text


def _expected_of(test: TestCase, mode: Mode) -> str | None:
    """The expected output of ``test`` as stored (script tests: its ``_expected = ...`` line)."""
    if mode is not Mode.SCRIPT:
        return test.output
    found = _EXPECTED_LINE.findall(test.input)
    return found[0] if len(found) == 1 else None


def _script_value(line: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(line.partition("=")[2].strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _differ(first: str, second: str, mode: Mode) -> bool:
    """Whether a program passing a test that expects ``first`` must fail one expecting
    ``second``.

    Decided with the grader the rewards use (LiveCodeBench's: ``1.0`` equals ``1.00``,
    trailing spaces do not count), so a swap always changes what a correct program is told;
    textually different but equivalent outputs would make a swap that changes nothing.
    """
    grading = Grading.LIVECODEBENCH
    if mode is Mode.STDIN:
        return not compare_stdout(first, second, grading)
    if mode is Mode.FUNCTIONAL:
        return not (compare_value(first, second, grading) or compare_value(second, first, grading))
    first_ok, first_value = _script_value(first)
    second_ok, second_value = _script_value(second)
    if not (first_ok and second_ok):
        return first.strip() != second.strip()
    numbers = _is_number(first_value) and _is_number(second_value)
    if numbers and (isinstance(first_value, float) or isinstance(second_value, float)):
        # our HumanEval converter checks floats within 1e-6
        return bool(abs(first_value - second_value) > 1e-6)
    return bool(first_value != second_value)


def _with_expected(test: TestCase, mode: Mode, source: TestCase) -> TestCase:
    if mode is not Mode.SCRIPT:
        return TestCase(input=test.input, output=source.output)
    line = _EXPECTED_LINE.findall(source.input)[0]
    return TestCase(input=_EXPECTED_LINE.sub(lambda _match: line, test.input, count=1), output="")


def perturb_problem(problem: Problem, rng: random.Random) -> Problem | str:
    """The problem with two public tests' expected outputs swapped, or why it cannot be.

    The pair is drawn at random (from ``rng``) among pairs whose expected outputs differ
    under the grader (see :func:`_differ`); script tests without exactly one
    ``_expected = ...`` line take no part.
    """
    if problem.perturbed:
        return "already perturbed"
    tests = problem.public_tests
    if len(tests) < 2:
        return "fewer than 2 public tests"
    expected = [_expected_of(test, problem.mode) for test in tests]
    usable = [index for index, value in enumerate(expected) if value is not None]
    if len(usable) < 2:
        return "fewer than 2 script tests with one '_expected = ...' line"
    pairs = [
        (i, j)
        for n, i in enumerate(usable)
        for j in usable[n + 1 :]
        if _differ(expected[i] or "", expected[j] or "", problem.mode)
    ]
    if not pairs:
        return "all public tests expect the same output"
    first, second = rng.choice(pairs)
    swapped = list(tests)
    swapped[first] = _with_expected(tests[first], problem.mode, tests[second])
    swapped[second] = _with_expected(tests[second], problem.mode, tests[first])
    metadata = {**problem.metadata, "perturbed_pair": [first, second]}
    return problem.model_copy(
        update={
            "public_tests": swapped,
            "original_public_tests": list(tests),
            "metadata": metadata,
        }
    )


def perturb_problems(problems: Sequence[Problem], seed: int = 0) -> PerturbReport:
    """Perturb every problem that can be; report the others with the reason."""
    rng = random.Random(seed)
    report = PerturbReport()
    for problem in problems:
        result = perturb_problem(problem, rng)
        if isinstance(result, str):
            report.skipped.append((problem.id, result))
        else:
            report.perturbed.append(result)
    return report
