"""One model's evaluation report: ``metrics.json``, a markdown table and a PNG plot of
Pass@1 by turn; and the tables the run report shows for each model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from cobalt_rl.evaluate.metrics import EvalMetrics
from cobalt_rl.report.blocks import Table, markdown_rows
from cobalt_rl.report.plots import plot_pass_at_1

__all__ = [
    "MetricsFile",
    "difficulty_table",
    "markdown_table",
    "metrics_summary",
    "read_metrics",
    "turn_table",
    "write_report",
]


class MetricsFile(EvalMetrics):
    """What a ``metrics.json`` holds: one model's metrics and the label it was written under."""

    label: str | None = None


def turn_table(metrics: EvalMetrics) -> Table:
    """Per turn: Pass@1 (± 95% CI), Pass@k, public vs hidden pass rates."""
    ks = sorted({k for turn in metrics.turns for k in turn.pass_at_k})
    head = [
        "turn",
        "Pass@1",
        *[f"Pass@{k}" for k in ks],
        "public solved",
        "public pass rate",
        "hidden pass rate",
    ]
    rows = []
    for turn in metrics.turns:
        row = [str(turn.turn), f"{turn.pass_at_1:.3f} ± {turn.pass_at_1_ci:.3f}"]
        row += [f"{turn.pass_at_k.get(k, float('nan')):.3f}" for k in ks]
        row += [
            f"{turn.public_solved:.3f}",
            f"{turn.public_pass_rate:.3f}",
            f"{turn.hidden_pass_rate:.3f}",
        ]
        rows.append(row)
    return Table(head, rows)


def difficulty_table(metrics: EvalMetrics) -> Table | None:
    """Pass@1 by turn and difficulty; None when the problems have one difficulty."""
    levels = sorted({level for turn in metrics.turns for level in turn.by_difficulty})
    if len(levels) < 2:
        return None
    rows = [
        [str(turn.turn), *(f"{turn.by_difficulty.get(d, float('nan')):.3f}" for d in levels)]
        for turn in metrics.turns
    ]
    return Table(["turn", *levels], rows)


def metrics_summary(metrics: EvalMetrics) -> str:
    """``8 problems, 16 trajectories (samples per problem: [2]).``"""
    return (
        f"{metrics.problems} problems, {metrics.trajectories} trajectories "
        f"(samples per problem: {metrics.samples_per_problem})."
    )


def markdown_table(metrics: EvalMetrics) -> str:
    """Per-turn table: Pass@1 (± 95% CI), Pass@k, public vs hidden pass rates; by
    difficulty when the problems have several."""
    lines = markdown_rows(turn_table(metrics))
    by_difficulty = difficulty_table(metrics)
    if by_difficulty is not None:
        lines += ["", "Pass@1 by difficulty:", "", *markdown_rows(by_difficulty)]
    return metrics_summary(metrics) + "\n\n" + "\n".join(lines) + "\n"


def read_metrics(path: Path) -> MetricsFile | None:
    """A ``metrics.json`` written by :func:`write_report`, or None if absent."""
    return MetricsFile.model_validate_json(path.read_text()) if path.exists() else None


def write_report(
    metrics: EvalMetrics,
    out_dir: Path,
    label: str = "model",
    compare: Sequence[tuple[str, EvalMetrics]] = (),
) -> dict[str, Path]:
    """Write ``metrics.json``, ``pass_at_1.md`` and ``pass_at_1.png`` into ``out_dir``
    (``compare``: other runs drawn on the same plot)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "metrics": out_dir / "metrics.json",
        "table": out_dir / "pass_at_1.md",
        "plot": out_dir / "pass_at_1.png",
    }
    # The label leads, as in every metrics.json written so far (a MetricsFile keeps its own out).
    fields = metrics.model_dump(mode="json", exclude={"label"})
    paths["metrics"].write_text(json.dumps({"label": label, **fields}, indent=2) + "\n")
    paths["table"].write_text(f"# {label}\n\n" + markdown_table(metrics))
    plot_pass_at_1([(label, metrics), *compare], paths["plot"])
    return paths
