"""Evaluation: score attempts on hidden tests; per-turn Pass@k, public-vs-hidden gap and
repair rates; the experiment's statistics over seeds. The files they end up in are written
by :mod:`cobalt_rl.report`.

The package exports the two steps, :func:`score_trajectories` then :func:`compute_metrics`,
and their result; the per-turn pieces (:func:`~cobalt_rl.evaluate.metrics.pass_at_k`...) are
in :mod:`~cobalt_rl.evaluate.metrics`, the statistics over seeds in
:mod:`~cobalt_rl.evaluate.experiment`.
"""

from cobalt_rl.evaluate.metrics import EvalMetrics, compute_metrics
from cobalt_rl.evaluate.score import score_trajectories

__all__ = ["EvalMetrics", "compute_metrics", "score_trajectories"]
