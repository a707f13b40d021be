"""`cobalt execute` grades solutions in the sandbox, writes one line each, and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cobalt_rl.cli.main import main
from cobalt_rl.records import Problem, read_jsonl, write_jsonl
from cobalt_rl.sandbox.solutions import SolutionResult


@pytest.fixture
def problems(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    write_jsonl(
        path,
        [
            Problem.model_validate(
                {
                    "id": "double",
                    "source": "test",
                    "statement": "Print twice the number.",
                    "mode": "stdin",
                    "public_tests": [{"input": "2\n", "output": "4\n"}],
                    "hidden_tests": [{"input": "5\n", "output": "10\n"}],
                }
            ),
            Problem.model_validate(
                {
                    "id": "add",
                    "source": "test",
                    "statement": "Add.",
                    "mode": "functional",
                    "fn_name": "add",
                    "public_tests": [{"input": "1\n2", "output": "3"}],
                    "hidden_tests": [{"input": "-1\n1", "output": "0"}],
                }
            ),
        ],
    )
    return path


def write_solutions(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_execute_grades_and_resumes(
    tmp_path: Path, problems: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sols = write_solutions(
        tmp_path / "s.jsonl",
        [
            {"problem_id": "double", "code": "print(int(input()) * 2)", "solution_id": "good"},
            {"problem_id": "double", "code": "print(int(input()) + 2)", "solution_id": "plus2"},
            {"problem_id": "add", "code": "def add(a, b):\n    return a + b\n"},
        ],
    )
    out = tmp_path / "r.jsonl"
    argv = ["execute", "--problems", str(problems), "--solutions", str(sols), "--out", str(out)]
    assert main(argv) == 0
    results = list(read_jsonl(out, SolutionResult))
    assert [(r.solution_id, r.passed, r.pass_rate) for r in results] == [
        ("good", True, 1.0),
        ("plus2", False, 0.5),  # 2+2 == 2*2 passes the public test, fails the hidden one
        ("3", True, 1.0),
    ]
    assert results[1].tests[1].status == "wrong_answer"
    assert "Expected Output:\n10" in results[1].feedback
    assert "3 solutions: 2 passed" in capsys.readouterr().out
    # Re-running appends nothing: finished solutions are not re-run.
    assert main(argv) == 0
    assert len(list(read_jsonl(out, SolutionResult))) == 3


def test_public_only(tmp_path: Path, problems: Path) -> None:
    sols = write_solutions(
        tmp_path / "s.jsonl", [{"problem_id": "double", "code": "print(int(input()) + 2)"}]
    )
    out = tmp_path / "r.jsonl"
    assert (
        main(
            [
                "execute",
                "--problems",
                str(problems),
                "--solutions",
                str(sols),
                "--out",
                str(out),
                "--tests",
                "public",
            ]
        )
        == 0
    )
    (res,) = read_jsonl(out, SolutionResult)
    assert res.passed and len(res.tests) == 1


def test_unknown_problem_is_a_clear_error(
    tmp_path: Path, problems: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sols = write_solutions(tmp_path / "s.jsonl", [{"problem_id": "nope", "code": "pass"}])
    out = tmp_path / "r.jsonl"
    assert (
        main(["execute", "--problems", str(problems), "--solutions", str(sols), "--out", str(out)])
        == 1
    )
    err = capsys.readouterr().err
    assert "s.jsonl:1" in err and "unknown problem_id 'nope'" in err
    assert not out.exists()


def test_sandbox_flags_set_workers_and_limits(tmp_path: Path, problems: Path) -> None:
    sols = write_solutions(
        tmp_path / "s.jsonl",
        [{"problem_id": "double", "code": "import time\ntime.sleep(5)\n", "solution_id": "slow"}],
    )
    out = tmp_path / "r.jsonl"
    argv = ["execute", "--problems", str(problems), "--solutions", str(sols), "--out", str(out)]
    argv += ["--sandbox-workers", "1", "--sandbox-limits-timeout-s", "0.5"]
    assert main([*argv, "--tests", "public"]) == 0
    (res,) = read_jsonl(out, SolutionResult)
    assert [t.status for t in res.tests] == ["timeout"]
    assert res.tests[0].seconds < 2  # the 0.5 s limit, not the default 4 s


def test_profile_picks_the_grading_rule(tmp_path: Path) -> None:
    """``--profile reference`` grades as the reference does (outputs equal after strip(), so
    "1" is not "1.0"); the default cobalt-rl profile compares numbers as decimals."""
    problems = tmp_path / "p.jsonl"
    write_jsonl(
        problems,
        [
            Problem.model_validate(
                {
                    "id": "one",
                    "source": "test",
                    "statement": "Print one as a decimal.",
                    "mode": "stdin",
                    "public_tests": [{"input": "", "output": "1.0\n"}],
                    "hidden_tests": [{"input": "", "output": "1.0\n"}],
                }
            )
        ],
    )
    sols = write_solutions(tmp_path / "s.jsonl", [{"problem_id": "one", "code": "print(1)"}])
    argv = ["execute", "--problems", str(problems), "--solutions", str(sols)]

    def grade(out: str, *flags: str) -> SolutionResult:
        assert main([*argv, "--out", str(tmp_path / out), *flags]) == 0
        (result,) = read_jsonl(tmp_path / out, SolutionResult)
        return result

    reference = grade("reference.jsonl", "--profile", "reference")
    assert not reference.passed and reference.pass_rate == 0.0
    assert [t.status for t in reference.tests] == ["wrong_answer", "wrong_answer"]
    assert grade("default.jsonl").passed
    assert grade("cobalt-rl.jsonl", "--profile", "cobalt-rl").passed
    # An explicit --grading still wins over the profile's rule.
    assert grade("override.jsonl", "--profile", "reference", "--grading", "livecodebench").passed
