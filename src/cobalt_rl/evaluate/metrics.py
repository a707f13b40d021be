"""Per-turn metrics: Pass@k with the unbiased estimator, public vs hidden pass rates, repair.

"Turn t" means the latest attempt at or before t (a trajectory that stopped early keeps its
last program), as in the paper's per-turn curves. A sample *solves* a problem at turn t when
that program passes every hidden test. For each problem with n samples of which c solve it,
Pass@k = 1 - C(n-c, k) / C(n, k) (Chen et al. 2021, the unbiased estimator), averaged over
problems.

The results are frozen models (:class:`EvalMetrics` holds the rest); they become JSON only
where a file is written (:mod:`cobalt_rl.report.metrics`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from math import comb, sqrt

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.records import Attempt, Problem, Trajectory

__all__ = [
    "EvalMetrics",
    "RepairRate",
    "TurnMetrics",
    "compute_metrics",
    "pass_at_k",
    "per_problem_pass",
    "repair_rates",
]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased Pass@k for n samples with c correct (requires k <= n)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def _at_turn(attempts: Sequence[Attempt], turn: int) -> Attempt | None:
    """The latest attempt at or before ``turn`` (None: the trajectory has none yet)."""
    chosen = None
    for attempt in attempts:
        if attempt.turn <= turn:
            chosen = attempt
    return chosen


def _solved(attempt: Attempt | None) -> bool:
    return attempt is not None and attempt.hidden is not None and attempt.hidden.passed


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


class TurnMetrics(BaseModel):
    """Metrics at one turn position."""

    model_config = ConfigDict(frozen=True)

    turn: int
    pass_at_1: float
    pass_at_1_ci: float = Field(description="95% normal half-width over problems")
    pass_at_k: dict[int, float] = Field(default_factory=dict)
    public_pass_rate: float = Field(description="mean share of public tests passed")
    hidden_pass_rate: float = Field(description="mean share of hidden tests passed")
    public_solved: float = Field(description="share of samples passing every public test")
    by_difficulty: dict[str, float] = Field(default_factory=dict)


class RepairRate(BaseModel):
    """Feedback use at one turn: of the attempts at ``turn`` that fail the hidden tests and
    are followed by another attempt, the share whose next attempt passes them."""

    model_config = ConfigDict(frozen=True)

    turn: int
    rate: float = Field(description="repaired / failures (0 without failures)")
    failures: int = Field(description="failed attempts followed by another attempt")
    repaired: int = Field(description="of those, the ones whose next attempt passes")


class EvalMetrics(BaseModel):
    """Everything measured on one model's scored trajectories (``metrics.json``)."""

    model_config = ConfigDict(frozen=True)

    problems: int
    trajectories: int
    samples_per_problem: list[int] = Field(description="the distinct sample counts")
    turns: list[TurnMetrics]
    # Absent from metrics files written before repair rates and pairing were measured.
    repair: list[RepairRate] = Field(default_factory=list)
    per_problem: dict[str, list[float]] = Field(
        default_factory=dict, description="by problem, its Pass@1 at each turn"
    )

    def pass_at_1(self) -> list[float]:
        """Pass@1 by turn."""
        return [turn.pass_at_1 for turn in self.turns]


def _turn_metrics(
    turn: int,
    by_problem: dict[str, list[Trajectory]],
    problems: dict[str, Problem],
    ks: Sequence[int],
) -> TurnMetrics:
    per_problem: list[float] = []
    at_k: dict[int, list[float]] = defaultdict(list)
    by_difficulty: dict[str, list[float]] = defaultdict(list)
    public_rates, hidden_rates, public_solved = [], [], []
    for problem_id, samples in by_problem.items():
        solved = 0
        for trajectory in samples:
            attempt = _at_turn(trajectory.attempts, turn)
            if attempt is None:
                continue
            solved += _solved(attempt)
            if attempt.public is not None:
                public_rates.append(attempt.public.pass_rate)
                public_solved.append(float(attempt.public.passed))
            if attempt.hidden is not None:
                hidden_rates.append(attempt.hidden.pass_rate)
        pass_1 = pass_at_k(len(samples), solved, 1)
        per_problem.append(pass_1)
        by_difficulty[problems[problem_id].difficulty or "unknown"].append(pass_1)
        for k in ks:
            if k <= len(samples):
                at_k[k].append(pass_at_k(len(samples), solved, k))
    mean = _mean(per_problem)
    variance = (
        sum((x - mean) ** 2 for x in per_problem) / (len(per_problem) - 1)
        if len(per_problem) > 1
        else 0.0
    )
    return TurnMetrics(
        turn=turn,
        pass_at_1=mean,
        pass_at_1_ci=1.96 * sqrt(variance / len(per_problem)) if per_problem else 0.0,
        pass_at_k={k: _mean(values) for k, values in at_k.items() if values},
        public_pass_rate=_mean(public_rates),
        hidden_pass_rate=_mean(hidden_rates),
        public_solved=_mean(public_solved),
        by_difficulty={level: _mean(v) for level, v in sorted(by_difficulty.items())},
    )


def compute_metrics(
    trajectories: Sequence[Trajectory],
    problems: dict[str, Problem],
    ks: Sequence[int] = (),
) -> EvalMetrics:
    """Per-turn metrics of scored trajectories (``Attempt.hidden`` filled)."""
    by_problem: dict[str, list[Trajectory]] = defaultdict(list)
    for trajectory in trajectories:
        by_problem[trajectory.problem_id].append(trajectory)
    max_turn = max((a.turn for t in trajectories for a in t.attempts), default=0)
    return EvalMetrics(
        problems=len(by_problem),
        trajectories=len(trajectories),
        samples_per_problem=sorted({len(samples) for samples in by_problem.values()}),
        turns=[_turn_metrics(turn, by_problem, problems, ks) for turn in range(1, max_turn + 1)],
        repair=repair_rates(trajectories),
        per_problem=per_problem_pass(trajectories, max_turn),
    )


def repair_rates(trajectories: Sequence[Trajectory]) -> list[RepairRate]:
    """For each turn t: of the attempts at turn t that fail the hidden tests and are followed
    by an attempt at turn t+1, the share whose next attempt passes them (feedback use, on the
    model's own failures)."""
    max_turn = max((a.turn for t in trajectories for a in t.attempts), default=0)
    rates: list[RepairRate] = []
    for turn in range(1, max_turn):
        failures = repaired = 0
        for trajectory in trajectories:
            by_turn = {a.turn: a for a in trajectory.attempts}
            now, after = by_turn.get(turn), by_turn.get(turn + 1)
            if now is None or after is None or _solved(now):
                continue
            failures += 1
            repaired += _solved(after)
        rate = repaired / failures if failures else 0.0
        rates.append(RepairRate(turn=turn, rate=rate, failures=failures, repaired=repaired))
    return rates


def per_problem_pass(trajectories: Sequence[Trajectory], turns: int) -> dict[str, list[float]]:
    """By problem: the share of its samples solving it at each turn 1..``turns`` (its Pass@1
    by turn), for paired comparisons between models on the same problems."""
    by_problem: dict[str, list[Trajectory]] = defaultdict(list)
    for trajectory in trajectories:
        by_problem[trajectory.problem_id].append(trajectory)
    return {
        problem_id: [
            sum(_solved(_at_turn(t.attempts, turn)) for t in samples) / len(samples)
            for turn in range(1, turns + 1)
        ]
        for problem_id, samples in sorted(by_problem.items())
    }
