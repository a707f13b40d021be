"""The experiment's statistics on hand-made tables: paired bootstrap, seed intervals, the
aggregate of hand-made cells and the results files written from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cobalt_rl.evaluate.experiment import (
    CurvePoint,
    EvalCell,
    ExperimentCells,
    ExperimentResults,
    RepairCell,
    TrainCell,
    aggregate,
    eval_cell,
    fit_trend,
    paired_bootstrap,
    repair_cell,
    train_cell,
)
from cobalt_rl.evaluate.metrics import RepairRate
from cobalt_rl.report.experiment import write_experiment_report


def test_paired_bootstrap_on_a_hand_made_table() -> None:
    # Ten problems; the other model solves two more than the base and loses none.
    base = {f"p{i}": 0.0 for i in range(10)}
    other = {**base, "p0": 1.0, "p1": 1.0}
    result = paired_bootstrap(base, other, iterations=4000, seed=1)
    assert result.diff == pytest.approx(0.2) and result.problems == 10
    # Resampled means of 0/1 differences with two ones in ten: from 0.0 to ~0.5.
    assert result.low == 0.0 and 0.4 <= result.high <= 0.6
    # Identical models: a zero-width interval at zero.
    same = paired_bootstrap(other, other, iterations=500)
    assert (same.diff, same.low, same.high) == (0.0, 0.0, 0.0)


def test_pairing_uses_only_shared_problems_and_refuses_none() -> None:
    result = paired_bootstrap({"a": 0.0, "b": 1.0}, {"b": 0.0, "c": 1.0}, iterations=100)
    assert result.problems == 1 and result.diff == -1.0
    with pytest.raises(ValueError, match="nothing to pair"):
        paired_bootstrap({"a": 0.0}, {"b": 0.0})


def _cells() -> ExperimentCells:
    """Two seeds, one method, two sets; scripted failures only on set ``a``. The method
    solves p1 where the base does not; base repairs one own failure of two per seed."""
    cells = ExperimentCells()
    for seed in (0, 1):
        cells.train[train_cell(seed, "cobalt")] = TrainCell(
            final="f", steps=3 + seed, train_seconds=50.0, seconds=60.0 + seed
        )
        for set_name in ("a", "b"):
            for label, solved in (("base", 0.0), ("cobalt", 1.0)):
                cells.eval[eval_cell(seed, set_name, label)] = EvalCell(
                    tokens=10, attempts=4, programs=4, problems=2,
                    pass_at_1=[0.0, solved / 2], public_solved=[0.5, 0.5],
                    repair=[RepairRate(turn=1, rate=0.5, failures=2, repaired=1)],
                    per_problem={"p0": [0.0, 0.0], "p1": [0.0, solved]},
                )  # fmt: skip
            cells.repair[repair_cell(seed, "a", "base")] = RepairCell(
                programs=2, failures=2, repair_at_1=0.5, per_problem={"p0": [0.0, 1.0]}
            )
            cells.repair[repair_cell(seed, "a", "cobalt")] = RepairCell(
                programs=2, failures=2, repair_at_1=0.0, per_problem={"p0": [0.0, 0.0]}
            )
    return cells


def test_a_trend_is_the_least_squares_slope_with_a_t_interval() -> None:
    # y = 1 + 2x plus residuals +1, -1, -1, +1 (sum 0, uncorrelated with x): slope stays 2.
    xs, ys = [0.0, 1.0, 2.0, 3.0], [2.0, 2.0, 4.0, 8.0]
    trend = fit_trend(xs, ys)
    assert trend is not None and trend.slope == pytest.approx(2.0)
    assert trend.intercept == pytest.approx(1.0)
    # residual variance 4 / (4 - 2) = 2, sxx 5, t(2) 4.303: half-width 4.303 * sqrt(2 / 5)
    assert trend.high - trend.slope == pytest.approx(4.303 * (2 / 5) ** 0.5)
    assert not trend.rises  # the interval reaches below zero
    exact = fit_trend([0.0, 1.0, 2.0, 3.0], [0.5, 0.6, 0.7, 0.8])
    assert exact is not None and exact.rises and exact.high - exact.low == pytest.approx(0.0)
    many = fit_trend([float(x) for x in range(100)], [x % 3 + 0.01 * x for x in range(100)])
    assert many is not None and many.low < 0.01 < many.high and many.rises
    assert fit_trend([1.0, 2.0], [0.0, 1.0]) is None  # two points: no interval
    assert fit_trend([1.0, 1.0, 1.0], [0.0, 1.0, 2.0]) is None  # no spread in x
    with pytest.raises(ValueError, match="3 x values but 2"):
        fit_trend([1.0, 2.0, 3.0], [0.0, 1.0])


def _curve(rewards: list[float]) -> list[CurvePoint]:
    return [
        CurvePoint(step=i + 1, seconds=10.0 * (i + 1), reward=r, solved=r / 2, signal=0.5)
        for i, r in enumerate(rewards)
    ]


def test_aggregate_over_seeds_and_the_results_files(tmp_path: Path) -> None:
    curves = {"cobalt": [_curve([0.1, 0.2, 0.3, 0.4]), _curve([0.0, 0.0])]}
    results = aggregate(
        _cells(), seeds=[0, 1], methods=["cobalt"], eval_sets=["a", "b"],
        train_seconds=60, samples=1, curves=curves,
    )  # fmt: skip
    assert results.training["cobalt"].steps == [3, 4]
    assert results.training["cobalt"].wall_seconds == [60.0, 61.0]
    base, cobalt = results.sets["a"]["base"], results.sets["a"]["cobalt"]
    assert [(t.turn, t.mean, t.ci) for t in cobalt.turns] == [(1, 0.0, 0.0), (2, 0.5, 0.0)]
    assert base.repair == [RepairRate(turn=1, rate=0.5, failures=4, repaired=2)]  # pooled
    assert base.repair_at_1 is not None and base.repair_at_1.per_seed == [0.5, 0.5]
    assert results.sets["b"]["base"].repair_at_1 is None  # no scripted failures there
    paired = results.paired["a"]["cobalt"]
    assert paired.pass_at_1_last is not None and paired.pass_at_1_last.diff == 0.5
    assert paired.repair_at_1 is not None and paired.repair_at_1.diff == -1.0
    assert results.paired["b"]["cobalt"].repair_at_1 is None

    training = results.training["cobalt"]
    rising = training.reward_trend[0]
    assert rising is not None and rising.slope == pytest.approx(0.1) and rising.rises
    assert training.reward_trend[1] is None  # two steps: no line
    solved = training.solved_trend[0]
    assert solved is not None and solved.slope == pytest.approx(0.05)
    assert training.signal == [0.5, 0.5]

    markdown = write_experiment_report(results, curves, tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    assert list(data) == ["seeds", "train_seconds", "sets", "training", "paired", "samples"]
    assert list(data["sets"]["a"]["base"]) == ["problems", "turns", "repair", "repair_at_1"]
    assert "repair_at_1" not in data["sets"]["b"]["base"]  # left out, not null
    assert data["paired"]["b"]["cobalt"] == {"pass_at_1_last": data["paired"]["b"]["cobalt"]
                                             ["pass_at_1_last"]}  # fmt: skip
    assert ExperimentResults.model_validate(data) == results
    text = markdown.read_text()
    assert "### a (2 problems)" in text
    assert "| cobalt | 3, 4 | 60, 61 | +10.000 [+10.000, +10.000] (n=4), – | " in text
    assert "| +5.000 [+5.000, +5.000] (n=4), – | 50%, 50% |" in text
    assert "| base | 0.500 [4] | 0.500 ± 0.000 (2 failures) |" in text
    for plot in ("pass_at_1.png", "feedback_use.png", "training.png"):
        assert (tmp_path / plot).stat().st_size > 1000
