"""`cobalt evaluate` never rewrites its input: scored trajectories go beside it by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobalt_rl.cli.evaluate import EvaluateConfig, scored_path
from cobalt_rl.cli.main import main
from cobalt_rl.errors import ConfigError
from cobalt_rl.records import (
    Attempt,
    Message,
    Problem,
    TestCase,
    Trajectory,
    read_jsonl,
    write_jsonl,
)


def test_default_output_is_beside_the_input(tmp_path: Path) -> None:
    cfg = EvaluateConfig(trajectories=tmp_path / "eval.jsonl", problems=tmp_path / "p.jsonl")
    assert scored_path(cfg) == tmp_path / "eval.scored.jsonl"


def test_scored_out_naming_the_input_is_refused(tmp_path: Path) -> None:
    cfg = EvaluateConfig(
        trajectories=tmp_path / "eval.jsonl",
        problems=tmp_path / "p.jsonl",
        scored_out=tmp_path / "." / "eval.jsonl",
    )
    with pytest.raises(ConfigError, match="never rewrites its input"):
        scored_path(cfg)


def test_evaluate_leaves_the_input_byte_for_byte(tmp_path: Path) -> None:
    problem = Problem(
        id="double",
        source="test",
        statement="Print twice the number.",
        mode="stdin",
        public_tests=[TestCase(input="2\n", output="4\n")],
        hidden_tests=[TestCase(input="5\n", output="10\n")],
    )
    write_jsonl(tmp_path / "problems.jsonl", [problem])
    code = "print(int(input()) * 2)"
    trajectory = Trajectory(
        problem_id="double",
        sample=0,
        messages=[Message(role="user", content="q"), Message(role="assistant", content=code)],
        attempts=[Attempt(turn=1, response=code, code=code)],
    )
    source = tmp_path / "eval.jsonl"
    write_jsonl(source, [trajectory])
    before = source.read_bytes()

    argv = [
        "evaluate",
        "--trajectories",
        str(source),
        "--problems",
        str(tmp_path / "problems.jsonl"),
    ]
    assert main([*argv, "--report", str(tmp_path / "report")]) == 0

    assert source.read_bytes() == before
    (scored,) = read_jsonl(tmp_path / "eval.scored.jsonl", Trajectory)
    assert scored.attempts[0].hidden is not None and scored.attempts[0].hidden.passed
