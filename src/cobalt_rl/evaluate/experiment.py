"""The experiment's statistics: Pass@1 by turn across seeds with t-intervals, feedback use,
and each method's difference from the base paired by problem with bootstrap intervals.

Used by ``cobalt experiment`` (:mod:`cobalt_rl.pipeline.experiment`), which records one cell
per training or evaluation (:class:`TrainCell`, :class:`EvalCell`, :class:`RepairCell`, each
under the name :func:`train_cell` / :func:`eval_cell` / :func:`repair_cell` gives it);
:func:`aggregate` is a pure function of those cells, so it can be re-run on a finished
experiment's ``stages/`` markers. :mod:`cobalt_rl.report.experiment` writes its
:class:`ExperimentResults` (``results.json``, ``results.md`` and the plots).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.evaluate.metrics import RepairRate

__all__ = [
    "CurvePoint",
    "EvalCell",
    "ExperimentCells",
    "ExperimentResults",
    "MethodDifference",
    "ModelResults",
    "PairedDifference",
    "RepairCell",
    "ScriptedRepair",
    "SeedTurn",
    "TrainCell",
    "TrainingSummary",
    "Trend",
    "aggregate",
    "eval_cell",
    "fit_trend",
    "paired_bootstrap",
    "repair_cell",
    "seed_interval",
    "train_cell",
]

BASE = "base"
"""The untrained model's label among the evaluated models."""

# Two-sided 97.5% quantiles of Student's t by degrees of freedom (1..30), for seed CIs.
_T975 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]  # fmt: skip


def _t975(df: int) -> float:
    """Student's t 97.5% quantile: the table to 30 degrees of freedom, beyond it the first
    Cornish-Fisher term over the normal's 1.96 (within 0.2% of the exact value from 31 on)."""
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df)


def seed_interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of a 95% t-interval across seeds (0 for one seed)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    t = _t975(len(values) - 1)
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


class Trend(BaseModel):
    """A least-squares line through a training curve: its slope per unit of x and the slope's
    95% t-interval. The interval treats the steps' deviations from the line as independent:
    a step's reward comes from fresh samples, but a curve that wanders (the model drifting)
    would need a wider one."""

    model_config = ConfigDict(frozen=True)

    slope: float
    low: float
    high: float
    points: int
    intercept: float

    @property
    def rises(self) -> bool:
        """Whether the whole interval is above zero."""
        return self.low > 0


def fit_trend(xs: Sequence[float], ys: Sequence[float]) -> Trend | None:
    """The least-squares slope of ``ys`` on ``xs`` and its 95% interval; None with fewer than
    three points or no spread in ``xs`` (no interval to give)."""
    n = len(xs)
    if n != len(ys):
        raise ValueError(f"fit_trend: {n} x values but {len(ys)} y values")
    if n < 3:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = my - slope * mx
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    half = _t975(n - 2) * math.sqrt(residual / (n - 2) / sxx)
    return Trend(slope=slope, low=slope - half, high=slope + half, points=n, intercept=intercept)


class CurvePoint(BaseModel):
    """One training step of a method's curve, from its ``metrics.jsonl``."""

    model_config = ConfigDict(frozen=True)

    step: int
    seconds: float = Field(description="training seconds up to the end of this step")
    reward: float = Field(description="the step's mean reward (the method's own)")
    solved: float | None = Field(None, description="share of completions passing all tests")
    signal: float | None = Field(None, description="share of groups whose rewards differ")


class PairedDifference(BaseModel):
    """``other - base`` averaged over the problems both hold, with a 95% interval."""

    model_config = ConfigDict(frozen=True)

    diff: float
    low: float
    high: float
    problems: int = Field(description="problems paired")


def paired_bootstrap(
    base: Mapping[str, float],
    other: Mapping[str, float],
    iterations: int = 10_000,
    seed: int = 0,
) -> PairedDifference:
    """The mean paired difference ``other - base`` over the problems both hold, and its 95%
    percentile-bootstrap interval (problems resampled with replacement).

    Pairing by problem removes the between-problem variance that two independent samples
    carry: the interval is about the models' difference, not about which problems were drawn.

    Raises:
        ValueError: no problem is held by both sides.
    """
    import random

    shared = sorted(set(base) & set(other))
    if not shared:
        raise ValueError("no problem is held by both sides: nothing to pair")
    diffs = [other[p] - base[p] for p in shared]
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(diffs, k=len(diffs))) for _ in range(iterations))
    return PairedDifference(
        diff=statistics.fmean(diffs),
        low=means[int(0.025 * (iterations - 1))],
        high=means[round(0.975 * (iterations - 1))],
        problems=len(shared),
    )


# The cells: what one training or evaluation of the experiment leaves in its marker.


def train_cell(seed: int, method: str) -> str:
    return f"seed{seed}-train-{method}"


def eval_cell(seed: int, set_name: str, label: str) -> str:
    return f"seed{seed}-eval-{set_name}-{label}"


def repair_cell(seed: int, set_name: str, label: str) -> str:
    return f"seed{seed}-repair-{set_name}-{label}"


class TrainCell(BaseModel):
    """One method trained with one seed."""

    model_config = ConfigDict(frozen=True)

    final: str = Field(description="the trained model's directory")
    steps: int
    train_seconds: float = Field(description="seconds spent in training steps")
    mean_reward: float | None = None
    seconds: float = Field(0.0, description="wall-clock of the cell (its marker's)")


class EvalCell(BaseModel):
    """One model rolled out on one held-out set with one seed, scored on hidden tests."""

    model_config = ConfigDict(frozen=True)

    tokens: int
    attempts: int
    programs: int
    problems: int
    pass_at_1: list[float] = Field(description="by turn")
    public_solved: list[float] = Field(description="by turn")
    repair: list[RepairRate] = Field(default_factory=list)
    per_problem: dict[str, list[float]] = Field(default_factory=dict)


class RepairCell(BaseModel):
    """One model's repairs of one set's held-out scripted failures with one seed."""

    model_config = ConfigDict(frozen=True)

    programs: int
    failures: int = Field(description="scripted failures (each repaired repair_samples times)")
    repair_at_1: float = Field(description="Pass@1 of the repair (turn 2)")
    per_problem: dict[str, list[float]] = Field(default_factory=dict)


@dataclass
class ExperimentCells:
    """The finished cells of an experiment, by cell name (:func:`train_cell`...)."""

    train: dict[str, TrainCell] = field(default_factory=dict)
    eval: dict[str, EvalCell] = field(default_factory=dict)
    repair: dict[str, RepairCell] = field(default_factory=dict)


# The results: what ``results.json`` holds.


class SeedTurn(BaseModel):
    """Pass@1 at one turn across seeds."""

    model_config = ConfigDict(frozen=True)

    turn: int
    mean: float
    ci: float = Field(description="half-width of a 95% t-interval across seeds")
    per_seed: list[float]


class ScriptedRepair(BaseModel):
    """repair@1 on a set's held-out scripted failures, across seeds."""

    model_config = ConfigDict(frozen=True)

    mean: float
    ci: float = Field(description="half-width of a 95% t-interval across seeds")
    per_seed: list[float]
    failures: int


class ModelResults(BaseModel):
    """One model on one held-out set, over seeds."""

    model_config = ConfigDict(frozen=True)

    problems: int
    turns: list[SeedTurn]
    repair: list[RepairRate] = Field(description="own failures repaired, pooled over seeds")
    repair_at_1: ScriptedRepair | None = Field(None, description="when it was evaluated")


class TrainingSummary(BaseModel):
    """One method's training runs, one value per seed."""

    model_config = ConfigDict(frozen=True)

    steps: list[int]
    train_seconds: list[float]
    wall_seconds: list[float]
    reward_trend: list[Trend | None] = Field(
        default_factory=list, description="per seed: the reward's slope per step"
    )
    solved_trend: list[Trend | None] = Field(
        default_factory=list, description="per seed: the solved rate's slope per step"
    )
    signal: list[float | None] = Field(
        default_factory=list, description="per seed: mean share of groups with a signal"
    )


class MethodDifference(BaseModel):
    """A method minus the base on one set, paired by problem (seeds averaged)."""

    model_config = ConfigDict(frozen=True)

    pass_at_1_last: PairedDifference | None = Field(None, description="at the last turn")
    repair_at_1: PairedDifference | None = Field(None, description="when it was evaluated")


class ExperimentResults(BaseModel):
    """The experiment's results (``results.json``)."""

    model_config = ConfigDict(frozen=True)

    seeds: list[int]
    train_seconds: float = Field(description="every method's wall-clock budget")
    sets: dict[str, dict[str, ModelResults]] = Field(description="by eval set, then model")
    training: dict[str, TrainingSummary] = Field(description="by method")
    paired: dict[str, dict[str, MethodDifference]] = Field(
        default_factory=dict, description="by eval set, then method"
    )
    samples: int = Field(description="samples per problem per seed")


def aggregate(
    cells: ExperimentCells,
    *,
    seeds: Sequence[int],
    methods: Sequence[str],
    eval_sets: Sequence[str],
    train_seconds: float,
    samples: int,
    curves: Mapping[str, Sequence[Sequence[CurvePoint]]] | None = None,
) -> ExperimentResults:
    """Per eval set, model and turn: Pass@1 per seed, mean and 95% CI across seeds; feedback
    use; each method minus the base, paired by problem; and, from ``curves`` (per method, one
    curve per seed), each training curve's trends."""
    training = {
        method: _training(cells, seeds, method, (curves or {}).get(method, []))
        for method in methods
    }
    return ExperimentResults(
        seeds=list(seeds),
        train_seconds=train_seconds,
        sets={
            set_name: {
                label: _model_results(cells, seeds, set_name, label) for label in (BASE, *methods)
            }
            for set_name in eval_sets
        },
        training=training,
        paired={
            set_name: {method: _paired(cells, seeds, set_name, method) for method in methods}
            for set_name in eval_sets
        },
        samples=samples,
    )


def _training(
    cells: ExperimentCells,
    seeds: Sequence[int],
    method: str,
    curves: Sequence[Sequence[CurvePoint]],
) -> TrainingSummary:
    """One method's training over seeds: steps, seconds, and its curves' trends per step."""
    trained = [cells.train[train_cell(s, method)] for s in seeds]
    reward, solved, signal = [], [], []
    for curve in curves:
        reward.append(fit_trend([p.step for p in curve], [p.reward for p in curve]))
        known = [p for p in curve if p.solved is not None]
        solved.append(fit_trend([p.step for p in known], [p.solved or 0.0 for p in known]))
        shares = [p.signal for p in curve if p.signal is not None]
        signal.append(statistics.fmean(shares) if shares else None)
    return TrainingSummary(
        steps=[t.steps for t in trained],
        train_seconds=[t.train_seconds for t in trained],
        wall_seconds=[t.seconds for t in trained],
        reward_trend=reward,
        solved_trend=solved,
        signal=signal,
    )


def _model_results(
    cells: ExperimentCells, seeds: Sequence[int], set_name: str, label: str
) -> ModelResults:
    runs = [cells.eval[eval_cell(s, set_name, label)] for s in seeds]
    turns = []
    for turn in range(min(len(run.pass_at_1) for run in runs)):
        values = [run.pass_at_1[turn] for run in runs]
        mean, half = seed_interval(values)
        turns.append(SeedTurn(turn=turn + 1, mean=mean, ci=half, per_seed=values))
    return ModelResults(
        problems=runs[0].problems,
        turns=turns,
        repair=_pooled_repair(runs),
        repair_at_1=_repair_at_1(cells, seeds, set_name, label),
    )


def _pooled_repair(runs: Sequence[EvalCell]) -> list[RepairRate]:
    """Repair rates by turn on the models' own trajectories, pooled over seeds."""
    repaired: dict[int, int] = {}
    failures: dict[int, int] = {}
    for run in runs:
        for row in run.repair:
            repaired[row.turn] = repaired.get(row.turn, 0) + row.repaired
            failures[row.turn] = failures.get(row.turn, 0) + row.failures
    return [
        RepairRate(
            turn=turn,
            rate=repaired[turn] / failures[turn] if failures[turn] else 0.0,
            failures=failures[turn],
            repaired=repaired[turn],
        )
        for turn in sorted(failures)
    ]


def _repair_at_1(
    cells: ExperimentCells, seeds: Sequence[int], set_name: str, label: str
) -> ScriptedRepair | None:
    """repair@1 on the set's held-out scripted failures, by seed, when they were evaluated."""
    names = [repair_cell(s, set_name, label) for s in seeds]
    if not all(name in cells.repair for name in names):
        return None
    values = [cells.repair[name].repair_at_1 for name in names]
    mean, half = seed_interval(values)
    failures = cells.repair[names[0]].failures
    return ScriptedRepair(mean=mean, ci=half, per_seed=values, failures=failures)


def _per_problem(per_problem: Sequence[Mapping[str, list[float]]], turn: int) -> dict[str, float]:
    """By problem: its Pass@1 at ``turn`` (1-based; -1: the last), averaged over the cells
    (seeds), so that every model is compared with the base on the same problems."""
    values: dict[str, list[float]] = {}
    for cell in per_problem:
        for problem, by_turn in cell.items():
            values.setdefault(problem, []).append(by_turn[turn - 1 if turn > 0 else -1])
    return {problem: statistics.fmean(v) for problem, v in values.items()}


def _paired_on(
    base: Sequence[Mapping[str, list[float]]] | None,
    other: Sequence[Mapping[str, list[float]]] | None,
    turn: int,
) -> PairedDifference | None:
    if base is None or other is None:
        return None
    base_rates, other_rates = _per_problem(base, turn), _per_problem(other, turn)
    return paired_bootstrap(base_rates, other_rates) if base_rates and other_rates else None


def _paired(
    cells: ExperimentCells, seeds: Sequence[int], set_name: str, method: str
) -> MethodDifference:
    """``method`` minus base, paired by problem, with 95% bootstrap intervals: Pass@1 at the
    last turn, and repair@1 on scripted failures (turn 2 of those episodes) when evaluated."""

    def evaluated(label: str) -> list[dict[str, list[float]]] | None:
        names = [eval_cell(s, set_name, label) for s in seeds]
        found = all(n in cells.eval for n in names)
        return [cells.eval[n].per_problem for n in names] if found else None

    def repaired(label: str) -> list[dict[str, list[float]]] | None:
        names = [repair_cell(s, set_name, label) for s in seeds]
        found = all(n in cells.repair for n in names)
        return [cells.repair[n].per_problem for n in names] if found else None

    return MethodDifference(
        pass_at_1_last=_paired_on(evaluated(BASE), evaluated(method), -1),
        repair_at_1=_paired_on(repaired(BASE), repaired(method), 2),
    )
