"""Records validate on read, name file/line/field on error, and survive torn writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cobalt_rl.errors import RecordError, TornRecordError
from cobalt_rl.records import (
    ExecResult,
    JsonlWriter,
    Mode,
    Problem,
    Status,
    TestCase,
    TestOutcome,
    Trajectory,
    append_jsonl,
    read_jsonl,
    write_jsonl,
)


def make_problem(pid: str = "p1", **kw: object) -> Problem:
    data: dict[str, object] = {
        "id": pid,
        "source": "test",
        "statement": "Add two numbers.",
        "mode": "functional",
        "fn_name": "add",
        "public_tests": [{"input": "1\n2", "output": "3"}],
        "hidden_tests": [{"input": "2\n2", "output": "4"}],
    }
    data.update(kw)
    return Problem.model_validate(data)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    problems = [make_problem(f"p{i}") for i in range(3)]
    assert write_jsonl(path, problems) == 3
    assert list(read_jsonl(path, Problem)) == problems


def test_functional_problem_needs_fn_name() -> None:
    with pytest.raises(ValueError, match="fn_name"):
        make_problem(fn_name=None)


def test_bad_line_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    good = make_problem().model_dump_json()
    bad = json.loads(good)
    bad["mode"] = "telepathy"
    path.write_text(good + "\n\n" + json.dumps(bad) + "\n")
    with pytest.raises(RecordError) as info:
        list(read_jsonl(path, Problem))
    err = info.value
    assert err.line == 3 and err.field == "mode" and str(path) in str(err)
    assert not isinstance(err, TornRecordError)


def test_not_json_is_an_error_not_a_skip(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        make_problem().model_dump_json() + "\n{oops\n" + make_problem().model_dump_json() + "\n"
    )
    with pytest.raises(RecordError, match=r":2: not valid JSON"):
        list(read_jsonl(path, Problem))


def test_torn_last_line_detected_and_moved_aside_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    with JsonlWriter(path, Problem) as w:
        w.write(make_problem("a"))
        w.write(make_problem("b"))
    torn = make_problem("c").model_dump_json()[:40]
    with path.open("a") as f:
        f.write(torn)  # a crash mid-write: no newline, not parseable
    with pytest.raises(TornRecordError) as info:
        list(read_jsonl(path, Problem))
    assert info.value.line == 3
    with JsonlWriter(path, Problem) as w:  # resuming moves the torn bytes aside
        assert w.torn_bytes == len(torn)
        w.write(make_problem("d"))
    assert [p.id for p in read_jsonl(path, Problem)] == ["a", "b", "d"]
    assert (tmp_path / "p.jsonl.torn").read_text() == torn + "\n"


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(make_problem("a").model_dump_json())
    assert [p.id for p in read_jsonl(path, Problem)] == ["a"]
    append_jsonl(path, Problem, [make_problem("b")])
    assert [p.id for p in read_jsonl(path, Problem)] == ["a", "b"]
    assert not (tmp_path / "p.jsonl.torn").exists()


def test_writer_rejects_wrong_record_type(tmp_path: Path) -> None:
    with JsonlWriter(tmp_path / "t.jsonl", Trajectory) as w, pytest.raises(TypeError):
        w.write(make_problem())  # type: ignore[arg-type]


def test_exec_result_pass_rate() -> None:
    res = ExecResult(
        outcomes=[TestOutcome(status=Status.PASSED), TestOutcome(status=Status.WRONG_ANSWER)]
    )
    assert res.pass_rate == 0.5 and not res.passed and res.num_passed == 1
    assert ExecResult(outcomes=[]).pass_rate == 0.0 and not ExecResult(outcomes=[]).passed


def test_perturbed_problem_keeps_true_tests() -> None:
    true = [TestCase(input="1\n2", output="3"), TestCase(input="2\n2", output="4")]
    swapped = [TestCase(input="1\n2", output="4"), TestCase(input="2\n2", output="3")]
    p = make_problem(public_tests=swapped, original_public_tests=true)
    assert p.perturbed and p.true_public_tests == true
    assert not make_problem().perturbed
    assert make_problem().mode is Mode.FUNCTIONAL
