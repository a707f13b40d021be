"""Per-turn metrics: Pass@k with the unbiased estimator, public vs hidden pass rates.

"Turn t" means the latest attempt at or before t (a trajectory that stopped early keeps its
last program), as in the paper's per-turn curves. A sample *solves* a problem at turn t when
that program passes every hidden test. For each problem with n samples of which c solve it,
Pass@k = 1 - C(n-c, k) / C(n, k) (Chen et al. 2021, the unbiased estimator), averaged over
problems.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from math import comb, sqrt

from pydantic import BaseModel, Field

from cobalt_rl.records import Attempt, Problem, Trajectory

__all__ = ["TurnMetrics", "compute_metrics", "pass_at_k", "per_problem_pass", "repair_rates"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased Pass@k for n samples with c correct (requires k <= n)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def _at_turn(attempts: Sequence[Attempt], t: int) -> Attempt | None:
    chosen = None
    for a in attempts:
        if a.turn <= t:
            chosen = a
    return chosen


class TurnMetrics(BaseModel):
    """Metrics at one turn position."""

    turn: int
    pass_at_1: float
    pass_at_1_ci: float = Field(description="95% normal half-width over problems")
    pass_at_k: dict[int, float] = Field(default_factory=dict)
    public_pass_rate: float = Field(description="mean share of public tests passed")
    hidden_pass_rate: float = Field(description="mean share of hidden tests passed")
    public_solved: float = Field(description="share of samples passing every public test")
    by_difficulty: dict[str, float] = Field(default_factory=dict)


def compute_metrics(
    trajectories: Sequence[Trajectory],
    problems: dict[str, Problem],
    ks: Sequence[int] = (),
) -> dict[str, object]:
    """Per-turn metrics of scored trajectories (``Attempt.hidden`` filled)."""
    by_problem: dict[str, list[Trajectory]] = defaultdict(list)
    for t in trajectories:
        by_problem[t.problem_id].append(t)
    max_turn = max((a.turn for t in trajectories for a in t.attempts), default=0)
    turns: list[TurnMetrics] = []
    for turn in range(1, max_turn + 1):
        per_problem: list[float] = []
        kvals: dict[int, list[float]] = defaultdict(list)
        diff: dict[str, list[float]] = defaultdict(list)
        pub, hid, pub_solved = [], [], []
        for pid, trajs in by_problem.items():
            n = len(trajs)
            c = 0
            for tr in trajs:
                a = _at_turn(tr.attempts, turn)
                if a is None:
                    continue
                if a.hidden is not None and a.hidden.passed:
                    c += 1
                if a.public is not None:
                    pub.append(a.public.pass_rate)
                    pub_solved.append(float(a.public.passed))
                if a.hidden is not None:
                    hid.append(a.hidden.pass_rate)
            p1 = pass_at_k(n, c, 1)
            per_problem.append(p1)
            diff[problems[pid].difficulty or "unknown"].append(p1)
            for k in ks:
                if k <= n:
                    kvals[k].append(pass_at_k(n, c, k))
        m = sum(per_problem) / len(per_problem) if per_problem else 0.0
        var = (
            sum((x - m) ** 2 for x in per_problem) / (len(per_problem) - 1)
            if len(per_problem) > 1
            else 0.0
        )
        turns.append(
            TurnMetrics(
                turn=turn,
                pass_at_1=m,
                pass_at_1_ci=1.96 * sqrt(var / len(per_problem)) if per_problem else 0.0,
                pass_at_k={k: sum(v) / len(v) for k, v in kvals.items() if v},
                public_pass_rate=sum(pub) / len(pub) if pub else 0.0,
                hidden_pass_rate=sum(hid) / len(hid) if hid else 0.0,
                public_solved=sum(pub_solved) / len(pub_solved) if pub_solved else 0.0,
                by_difficulty={d: sum(v) / len(v) for d, v in sorted(diff.items())},
            )
        )
    samples = sorted({len(v) for v in by_problem.values()})
    return {
        "problems": len(by_problem),
        "trajectories": len(trajectories),
        "samples_per_problem": samples,
        "turns": [t.model_dump() for t in turns],
        "repair": repair_rates(trajectories),
        "per_problem": per_problem_pass(trajectories, max_turn),
    }


def _solved(attempt: Attempt | None) -> bool:
    return attempt is not None and attempt.hidden is not None and attempt.hidden.passed


def repair_rates(trajectories: Sequence[Trajectory]) -> list[dict[str, float | int]]:
    """For each turn t: of the attempts at turn t that fail the hidden tests and are followed
    by an attempt at turn t+1, the share whose next attempt passes them (feedback use, on the
    model's own failures). ``failures`` is that denominator."""
    max_turn = max((a.turn for t in trajectories for a in t.attempts), default=0)
    rates: list[dict[str, float | int]] = []
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
        rates.append({"turn": turn, "rate": rate, "failures": failures, "repaired": repaired})
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
