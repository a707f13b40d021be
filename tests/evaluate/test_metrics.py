"""Per-turn Pass@k on hand-made scored trajectories, worked out on paper."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cobalt_rl.evaluate import compute_metrics
from cobalt_rl.evaluate.metrics import pass_at_k
from cobalt_rl.records import (
    Attempt,
    ExecResult,
    Message,
    Problem,
    Status,
    TestCase,
    TestOutcome,
    Trajectory,
)
from cobalt_rl.report.metrics import read_metrics, write_report


def result(*passed: bool) -> ExecResult:
    return ExecResult(
        outcomes=[TestOutcome(status=Status.PASSED if p else Status.WRONG_ANSWER) for p in passed]
    )


def problem(pid: str, difficulty: str = "easy") -> Problem:
    return Problem(
        id=pid,
        source="t",
        statement="s",
        mode="stdin",
        difficulty=difficulty,
        public_tests=[TestCase(input="1", output="1")],
        hidden_tests=[TestCase(input="2", output="2"), TestCase(input="3", output="3")],
    )


def traj(
    pid: str, sample: int, hidden: list[tuple[bool, bool]], public_ok: list[bool]
) -> Trajectory:
    attempts = [
        Attempt(turn=i + 1, response="r", code="c", public=result(p), hidden=result(*h))
        for i, (h, p) in enumerate(zip(hidden, public_ok, strict=True))
    ]
    return Trajectory(
        problem_id=pid,
        sample=sample,
        messages=[Message(role="user", content="q")],
        attempts=attempts,
    )


def test_pass_at_k_estimator() -> None:
    assert pass_at_k(4, 0, 1) == 0.0
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(4, 3, 2) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_per_turn_uses_latest_attempt_at_or_before_t() -> None:
    problems = {"a": problem("a"), "b": problem("b", "medium")}
    trajs = [
        # a/0 solves at turn 2; a/1 never; b/0 solves at turn 1 and stops there (1 attempt);
        # b/1 solves at turn 3.
        traj("a", 0, [(False, False), (True, True), (True, True)], [False, True, True]),
        traj("a", 1, [(False, True), (False, True), (False, True)], [True, True, True]),
        traj("b", 0, [(True, True)], [True]),
        traj("b", 1, [(False, False), (False, False), (True, True)], [False, False, True]),
    ]
    turns = compute_metrics(trajs, problems, ks=[2]).turns
    assert [t.turn for t in turns] == [1, 2, 3]
    # turn 1: a: 0/2, b: 1/2 -> (0 + 0.5) / 2
    assert turns[0].pass_at_1 == pytest.approx(0.25)
    # turn 2: a: 1/2, b: 1/2 (b/0 keeps its turn-1 program)
    assert turns[1].pass_at_1 == pytest.approx(0.5)
    # turn 3: a: 1/2, b: 2/2
    assert turns[2].pass_at_1 == pytest.approx(0.75)
    assert turns[2].pass_at_k[2] == pytest.approx(1.0)
    assert turns[0].by_difficulty == {"easy": 0.0, "medium": 0.5}
    # public solved at turn 1: a/1 and b/0 of 4 samples; hidden pass rate: (0 + .5 + 1 + 0)/4
    assert turns[0].public_solved == pytest.approx(0.5)
    assert turns[0].hidden_pass_rate == pytest.approx(0.375)


def test_report_files(tmp_path: Path) -> None:
    problems = {"a": problem("a")}
    m = compute_metrics([traj("a", 0, [(True, True)], [True])], problems)
    paths = write_report(m, tmp_path / "report", label="base", compare=[("other", m)])
    assert json.loads(paths["metrics"].read_text())["label"] == "base"
    assert "| 1 | 1.000 ± 0.000" in paths["table"].read_text()
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_json_keeps_its_keys_and_reads_back(tmp_path: Path) -> None:
    problems = {"a": problem("a"), "b": problem("b")}
    trajs = [
        traj("a", 0, [(False, False), (True, True)], [False, True]),
        traj("b", 0, [(False, True), (False, True)], [True, True]),
    ]
    metrics = compute_metrics(trajs, problems, ks=[1])
    # a fails turn 1 and is repaired at turn 2; b fails both.
    (repair,) = metrics.repair
    assert (repair.turn, repair.failures, repair.repaired, repair.rate) == (1, 2, 1, 0.5)
    assert metrics.per_problem == {"a": [0.0, 1.0], "b": [0.0, 0.0]}
    paths = write_report(metrics, tmp_path, label="base")
    data = json.loads(paths["metrics"].read_text())
    assert list(data) == [
        "label", "problems", "trajectories", "samples_per_problem", "turns", "repair",
        "per_problem",
    ]  # fmt: skip
    assert list(data["turns"][0]) == [
        "turn", "pass_at_1", "pass_at_1_ci", "pass_at_k", "public_pass_rate",
        "hidden_pass_rate", "public_solved", "by_difficulty",
    ]  # fmt: skip
    assert data["turns"][0]["pass_at_k"] == {"1": 0.0}
    assert data["repair"] == [{"turn": 1, "rate": 0.5, "failures": 2, "repaired": 1}]
    found = read_metrics(paths["metrics"])
    assert found is not None and found.label == "base"
    assert found.model_dump(exclude={"label"}) == metrics.model_dump()


def test_metrics_written_before_repair_and_pairing_still_read(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    old = compute_metrics([traj("a", 0, [(True, True)], [True])], {"a": problem("a")})
    path.write_text(json.dumps(old.model_dump(mode="json", exclude={"repair", "per_problem"})))
    found = read_metrics(path)
    assert found is not None and found.label is None
    assert found.repair == [] and found.per_problem == {} and found.turns == old.turns
    assert read_metrics(tmp_path / "absent.json") is None


def test_training_curves_show_the_solved_rate_and_the_share_of_groups_with_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import contextmanager

    from cobalt_rl.report import plots

    drawn: dict[str, list[float]] = {}
    real = plots._figure

    @contextmanager
    def recording(path: Path, **subplots: Any) -> Any:
        with real(path, **subplots) as (fig, axes):
            yield fig, axes
            for ax in axes.flat:
                drawn[ax.get_title()] = list(ax.lines[0].get_ydata())

    monkeypatch.setattr(plots, "_figure", recording)
    rows = [
        {"step": 1, "loss": 0.1, "reward": 0.2, "solved_rate": 0.0, "frac_reward_zero_std": 1.0},
        {"step": 2, "loss": 0.1, "reward": 0.4, "solved_rate": 0.25, "frac_reward_zero_std": 0.5},
    ]
    assert plots.plot_training_curves(rows, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
    assert drawn["solved (all tests pass)"] == [0.0, 0.25]
    assert drawn["groups with a learning signal"] == [0.0, 0.5]
