"""Evaluation: score attempts on hidden tests, per-turn Pass@k, public-vs-hidden gap, report."""

from cobalt_rl.evaluate.metrics import TurnMetrics, compute_metrics, pass_at_k
from cobalt_rl.evaluate.report import plot_pass_at_1, write_report
from cobalt_rl.evaluate.score import score_trajectories

__all__ = [
    "TurnMetrics",
    "compute_metrics",
    "pass_at_k",
    "plot_pass_at_1",
    "score_trajectories",
    "write_report",
]
