"""Perturbed public tests: the swap's invariants, checked with real programs in the sandbox."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cobalt_rl.cli.main import main
from cobalt_rl.hacking.perturb import perturb_problem, perturb_problems
from cobalt_rl.problems import convert
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import ExecResult, Mode, Problem, TestCase, read_jsonl, write_jsonl
from cobalt_rl.sandbox import ExecRequest, Limits, LocalSandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=Limits(timeout_s=3, program_timeout_s=20)) as sb:
        yield sb


def stdin_problem(outputs: list[str], pid: str = "p") -> Problem:
    return Problem(
        id=pid,
        source="hand",
        statement="Print the answer.",
        mode="stdin",
        public_tests=[TestCase(input=f"{i}\n", output=o) for i, o in enumerate(outputs)],
        hidden_tests=[TestCase(input="9\n", output="81\n")],
        metadata={"title": "t"},
    )


def perturbed(p: Problem, seed: int = 0) -> Problem:
    out = perturb_problem(p, random.Random(seed))
    assert isinstance(out, Problem), out
    return out


def swapped_pair(p: Problem) -> tuple[int, int]:
    i, j = p.metadata["perturbed_pair"]
    return i, j


def reference_runs(
    sandbox: LocalSandbox, problems: list[Problem]
) -> list[tuple[ExecResult, ExecResult]]:
    """Each problem's reference solution on its shown (perturbed) and its true public tests,
    all in one sandbox batch."""
    requests = []
    for p in problems:
        code = p.metadata["reference_solution"]
        requests += [
            ExecRequest.for_problem(p, code, "public"),
            ExecRequest.model_validate(
                {**ExecRequest.for_problem(p, code).model_dump(), "tests": p.true_public_tests}
            ),
        ]
    results = sandbox.run_batch(requests)
    return [(results[2 * n], results[2 * n + 1]) for n in range(len(problems))]


def test_swap_invariants() -> None:
    original = stdin_problem(["0\n", "1\n", "0\n"])  # pairs with different outputs: (0,1), (1,2)
    for seed in range(10):
        p = perturbed(original, seed)
        i, j = swapped_pair(p)
        assert (i, j) in {(0, 1), (1, 2)}
        old = original.public_tests
        # The two expected outputs are exchanged, and they differ.
        assert p.public_tests[i] == TestCase(input=old[i].input, output=old[j].output)
        assert p.public_tests[j] == TestCase(input=old[j].input, output=old[i].output)
        assert p.public_tests[i].output != p.public_tests[j].output
        # Everything else is untouched; the originals are kept on the record.
        untouched = ({0, 1, 2} - {i, j}).pop()
        assert p.public_tests[untouched] == old[untouched]
        assert p.original_public_tests == old and p.true_public_tests == old
        assert p.hidden_tests == original.hidden_tests
        assert p.perturbed and not original.perturbed
        assert p.metadata["title"] == "t" and p.id == original.id
    # Deterministic given the seed.
    assert perturbed(original, 3) == perturbed(original, 3)


def test_a_correct_program_fails_the_perturbed_tests(sandbox: LocalSandbox) -> None:
    p = Problem(
        id="square",
        source="hand",
        statement="Print n squared.",
        mode="stdin",
        public_tests=[TestCase(input=f"{n}\n", output=f"{n * n}\n") for n in (2, 3, 4)],
        hidden_tests=[TestCase(input=f"{n}\n", output=f"{n * n}\n") for n in (5, 6)],
    )
    ptb = perturbed(p)
    i, j = swapped_pair(ptb)
    right = "n = int(input())\nprint(n * n)"
    shown, true = sandbox.run_batch(
        [ExecRequest.for_problem(ptb, right, "public"), ExecRequest.for_problem(ptb, right, "all")]
    )
    assert [o.status.value for o in shown.outcomes][i] == "wrong_answer"
    assert [o.status.value for o in shown.outcomes][j] == "wrong_answer"
    assert shown.num_passed == 1  # the untouched public test
    assert true.passed and len(true.outcomes) == 5  # rewards and scoring see the TRUE tests


def test_bundled_reference_solutions_pass_the_originals_and_fail_the_swap(
    sandbox: LocalSandbox,
) -> None:
    problems = load_bundled("train")
    report = perturb_problems(problems, seed=1)
    assert not report.skipped  # every bundled problem has 2+ public tests with distinct outputs
    assert {p.mode for p in report.perturbed} == {Mode.STDIN, Mode.FUNCTIONAL}
    runs = reference_runs(sandbox, report.perturbed)
    for p, (shown, original) in zip(report.perturbed, runs, strict=True):
        i, j = swapped_pair(p)
        assert original.passed, p.id
        failed = {k for k, o in enumerate(shown.outcomes) if o.status.value != "passed"}
        assert failed == {i, j}, p.id  # exactly the swapped pair fails


def test_humaneval_script_tests_swap_their_expected_lines(sandbox: LocalSandbox) -> None:
    problems = convert("humaneval").problems
    report = perturb_problems(problems)
    # 48 HumanEval problems have fewer than 2 docstring examples: reported, not dropped.
    assert len(report.perturbed) + len(report.skipped) == len(problems) == 164
    assert report.skipped and all(why == "fewer than 2 public tests" for _, why in report.skipped)
    expected_line = re.compile(r"^_expected = .*$", re.MULTILINE)
    for p in report.perturbed:
        i, j = swapped_pair(p)
        old = p.original_public_tests
        assert old is not None
        line = {k: expected_line.findall(t.input)[0] for k, t in enumerate(old)}
        assert line[i] != line[j]
        assert expected_line.findall(p.public_tests[i].input) == [line[j]]
        assert expected_line.findall(p.public_tests[j].input) == [line[i]]
        # Only that line changed: the call is the same.
        assert p.public_tests[i].input.split("\n")[0] == old[i].input.split("\n")[0]
        assert p.hidden_tests == next(q for q in problems if q.id == p.id).hidden_tests
    # The canonical solution passes the original public tests and fails both swapped ones.
    sample = report.perturbed
    for p, (shown, original) in zip(sample, reference_runs(sandbox, sample), strict=True):
        assert original.passed, p.id
        i, j = swapped_pair(p)
        assert shown.outcomes[i].status.value == "runtime_error", p.id  # the assert fails
        assert shown.outcomes[j].status.value == "runtime_error", p.id
        assert "expected" in shown.feedback  # the assertion message the model would see


def test_problems_without_a_valid_pair_are_reported_with_the_reason() -> None:
    cases = [
        stdin_problem(["1\n"], pid="one-test"),
        stdin_problem(["5\n", "5\n", "5"], pid="same"),
        # Different text, same value under the grader: "1.0" equals "1.00", spacing is free.
        stdin_problem(["1.0\n", "1.00", " 1.0 \n"], pid="same-value"),
    ]
    already = perturbed(stdin_problem(["1\n", "2\n"], pid="already"))
    functional = Problem(
        id="same-json",
        source="hand",
        statement="f",
        mode="functional",
        fn_name="f",
        public_tests=[TestCase(input="1", output="[1, 2]"), TestCase(input="2", output="[1,2]")],
    )
    script = Problem(
        id="same-literal",
        source="hand",
        statement="f",
        mode="script",
        fn_name="f",
        public_tests=[
            TestCase(input="_got = f(1)\n_expected = 1.0\nassert abs(_got - _expected) < 1e-6\n"),
            TestCase(input="_got = f(2)\n_expected = 1.0000000001\nassert _got == _expected\n"),
        ],
    )
    no_line = Problem(
        id="no-line",
        source="hand",
        statement="f",
        mode="script",
        fn_name="f",
        public_tests=[TestCase(input="assert f(1) == 2\n"), TestCase(input="assert f(2) == 3\n")],
    )
    ok = stdin_problem(["1\n", "2\n"], pid="ok")
    report = perturb_problems([*cases, already, functional, script, no_line, ok])
    assert [p.id for p in report.perturbed] == ["ok"]
    assert dict(report.skipped) == {
        "one-test": "fewer than 2 public tests",
        "same": "all public tests expect the same output",
        "same-value": "all public tests expect the same output",
        "already": "already perturbed",
        "same-json": "all public tests expect the same output",
        "same-literal": "all public tests expect the same output",
        "no-line": "fewer than 2 script tests with one '_expected = ...' line",
    }
    assert "skipped 7" in report.summary()
    assert "fewer than 2 public tests: 1" in report.summary()


def test_cli_writes_the_file_and_prints_the_skipped_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = [
        stdin_problem(["1\n", "2\n"], pid="a"),
        stdin_problem(["3\n"], pid="b"),
        stdin_problem(["4\n", "4\n"], pid="c"),
        stdin_problem(["5\n", "6\n", "7\n"], pid="d"),
    ]
    src, out = tmp_path / "p.jsonl", tmp_path / "p_ptb.jsonl"
    write_jsonl(src, problems)
    assert main(["perturb", "--problems", str(src), "--out", str(out), "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    assert "perturbed 2 problems, skipped 2" in printed
    assert "not perturbed: b: fewer than 2 public tests" in printed
    assert "not perturbed: c: all public tests expect the same output" in printed
    written = list(read_jsonl(out, Problem))
    assert [p.id for p in written] == ["a", "d"]
    assert all(p.perturbed and p.original_public_tests is not None for p in written)
    assert written[0].original_public_tests == problems[0].public_tests
