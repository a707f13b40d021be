"""Evaluation report: ``metrics.json``, a markdown table and a PNG plot of Pass@1 by turn."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "Table",
    "difficulty_table",
    "markdown_rows",
    "markdown_table",
    "metrics_summary",
    "plot_pass_at_1",
    "turn_table",
    "write_report",
]


Table = tuple[list[str], list[list[str]]]
"""A table as its header and rows of cells (text), rendered as markdown or HTML."""


def turn_table(metrics: Mapping[str, Any]) -> Table:
    """Per turn: Pass@1 (± 95% CI), Pass@k, public vs hidden pass rates."""
    turns = metrics["turns"]
    ks = sorted({int(k) for t in turns for k in t["pass_at_k"]})
    head = [
        "turn",
        "Pass@1",
        *[f"Pass@{k}" for k in ks],
        "public solved",
        "public pass rate",
        "hidden pass rate",
    ]
    rows = []
    for t in turns:
        row = [str(t["turn"]), f"{t['pass_at_1']:.3f} ± {t['pass_at_1_ci']:.3f}"]
        row += [
            f"{t['pass_at_k'].get(k, t['pass_at_k'].get(str(k), float('nan'))):.3f}" for k in ks
        ]
        row += [
            f"{t['public_solved']:.3f}",
            f"{t['public_pass_rate']:.3f}",
            f"{t['hidden_pass_rate']:.3f}",
        ]
        rows.append(row)
    return head, rows


def difficulty_table(metrics: Mapping[str, Any]) -> Table | None:
    """Pass@1 by turn and difficulty; None when the problems have one difficulty."""
    turns = metrics["turns"]
    levels = sorted({d for t in turns for d in t["by_difficulty"]})
    if len(levels) < 2:
        return None
    rows = [
        [str(t["turn"]), *(f"{t['by_difficulty'].get(d, float('nan')):.3f}" for d in levels)]
        for t in turns
    ]
    return ["turn", *levels], rows


def metrics_summary(metrics: Mapping[str, Any]) -> str:
    """``8 problems, 16 trajectories (samples per problem: [2]).``"""
    return (
        f"{metrics['problems']} problems, {metrics['trajectories']} trajectories "
        f"(samples per problem: {metrics['samples_per_problem']})."
    )


def markdown_rows(table: Table) -> list[str]:
    """A table as markdown lines."""
    head, rows = table
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def markdown_table(metrics: Mapping[str, Any]) -> str:
    """Per-turn table: Pass@1 (± 95% CI), Pass@k, public vs hidden pass rates; by
    difficulty when the problems have several."""
    lines = markdown_rows(turn_table(metrics))
    by_difficulty = difficulty_table(metrics)
    if by_difficulty is not None:
        lines += ["", "Pass@1 by difficulty:", "", *markdown_rows(by_difficulty)]
    return metrics_summary(metrics) + "\n\n" + "\n".join(lines) + "\n"


def plot_pass_at_1(runs: Sequence[tuple[str, Mapping[str, Any]]], path: Path) -> None:
    """Plot Pass@1 by turn (with 95% CI bands) for one or more runs on one axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    styles = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]  # overlapping runs stay visible
    for i, (label, metrics) in enumerate(runs):
        line, marker = styles[i % len(styles)]
        turns = [t["turn"] for t in metrics["turns"]]
        ys = [t["pass_at_1"] for t in metrics["turns"]]
        ci = [t["pass_at_1_ci"] for t in metrics["turns"]]
        ax.plot(turns, ys, linestyle=line, marker=marker, label=label)
        ax.fill_between(
            turns,
            [max(0.0, y - c) for y, c in zip(ys, ci, strict=True)],
            [min(1.0, y + c) for y, c in zip(ys, ci, strict=True)],
            alpha=0.15,
        )
    ax.set_xlabel("turn")
    ax.set_ylabel("Pass@1 (hidden tests)")
    ax.set_title("Multi-turn Pass@1 by turn")
    # A rate: CI bands are clipped to [0, 1]; the axis stops a little above the highest band.
    top = max(
        (min(1.0, t["pass_at_1"] + t["pass_at_1_ci"]) for _, m in runs for t in m["turns"]),
        default=1.0,
    )
    ax.set_ylim(0, min(1.02, top * 1.1 + 0.02))
    ax.grid(alpha=0.3)
    if runs:
        ax.set_xticks(sorted({t["turn"] for _, m in runs for t in m["turns"]}))
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_report(
    metrics: Mapping[str, Any],
    out_dir: Path,
    label: str = "model",
    compare: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> dict[str, Path]:
    """Write ``metrics.json``, ``pass_at_1.md`` and ``pass_at_1.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "metrics": out_dir / "metrics.json",
        "table": out_dir / "pass_at_1.md",
        "plot": out_dir / "pass_at_1.png",
    }
    paths["metrics"].write_text(json.dumps({"label": label, **metrics}, indent=2) + "\n")
    paths["table"].write_text(f"# {label}\n\n" + markdown_table(metrics))
    plot_pass_at_1([(label, metrics), *compare], paths["plot"])
    return paths
