"""Evaluation: score attempts on hidden tests; per-turn Pass@k, public-vs-hidden gap and
repair rates; the experiment's statistics over seeds. The files they end up in are written
by :mod:`cobalt_rl.report`."""

from cobalt_rl.evaluate.metrics import (
    EvalMetrics,
    RepairRate,
    TurnMetrics,
    compute_metrics,
    pass_at_k,
)
from cobalt_rl.evaluate.score import score_trajectories

__all__ = [
    "EvalMetrics",
    "RepairRate",
    "TurnMetrics",
    "compute_metrics",
    "pass_at_k",
    "score_trajectories",
]
