"""Every PNG of the report: Pass@1 by turn, training curves, hacking rates, and the
experiment's three plots (Pass@1 over seeds, feedback use, training at equal wall-clock).

matplotlib is imported when a plot is drawn, on its file-only Agg backend (no display).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cobalt_rl.evaluate.experiment import ExperimentResults
from cobalt_rl.evaluate.metrics import EvalMetrics
from cobalt_rl.hacking.verdicts import HackingReport

__all__ = [
    "TRAINING_CURVES",
    "FeedbackUseDrawn",
    "plot_feedback_use",
    "plot_hacking_rates",
    "plot_pass_at_1",
    "plot_results",
    "plot_training",
    "plot_training_curves",
]

TRAINING_CURVES = [
    ("reward", "reward (mean)"),
    ("pass_rate", "pass rate of completions"),
    ("kl", "KL to reference"),
    ("completions/mean_length", "completion length (tokens)"),
    ("format_failure_rate", "format failures (no code)"),
]
"""The trainer's logged columns the run report plots, with their titles."""

# Line and marker per run, so that overlapping runs stay visible.
_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_pass_at_1(runs: Sequence[tuple[str, EvalMetrics]], path: Path) -> None:
    """Plot Pass@1 by turn (with 95% CI bands) for one or more runs on one axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for i, (label, metrics) in enumerate(runs):
        line, marker = _STYLES[i % len(_STYLES)]
        turns = [t.turn for t in metrics.turns]
        ys = [t.pass_at_1 for t in metrics.turns]
        ci = [t.pass_at_1_ci for t in metrics.turns]
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
        (min(1.0, t.pass_at_1 + t.pass_at_1_ci) for _, m in runs for t in m.turns),
        default=1.0,
    )
    ax.set_ylim(0, min(1.02, top * 1.1 + 0.02))
    ax.grid(alpha=0.3)
    if runs:
        ax.set_xticks(sorted({t.turn for _, m in runs for t in m.turns}))
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def plot_training_curves(rows: list[dict[str, Any]], path: Path) -> bool:
    """Plot the training curves in ``rows`` (the trainer's ``metrics.jsonl``); False when
    there is no step to draw."""
    rows = [r for r in rows if "loss" in r]
    if not rows:
        return False
    plt = _pyplot()
    shown = [(k, t) for k, t in TRAINING_CURVES if any(k in r for r in rows)]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 2.8), dpi=110)
    axes = axes if len(shown) > 1 else [axes]
    for ax, (key, title) in zip(axes, shown, strict=True):
        points = [(r["step"], r[key]) for r in rows if key in r]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", ms=3)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_hacking_rates(runs: Sequence[tuple[str, HackingReport]], path: Path) -> None:
    """Hacking rate by turn (hacking turns / attempts) for one or more models on one axis."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    for number, (label, report) in enumerate(runs):
        line, marker = _STYLES[number % len(_STYLES)]
        axes.plot(
            [t.turn for t in report.turns],
            [t.rate for t in report.turns],
            linestyle=line,
            marker=marker,
            label=label,
        )
    axes.set_xlabel("turn")
    axes.set_ylabel("hacking turns / attempts")
    axes.set_title("In-context reward hacking on perturbed public tests")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    turns = sorted({t.turn for _, report in runs for t in report.turns})
    if turns:
        axes.set_xticks(turns)
    if runs:
        axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def plot_results(results: ExperimentResults, path: Path) -> None:
    """The experiment's Pass@1 by turn, one panel per eval set: mean ± 95% CI over seeds."""
    plt = _pyplot()
    sets = list(results.sets.items())
    fig, axes = plt.subplots(1, len(sets), figsize=(5.5 * len(sets), 4), squeeze=False)
    styles = ["-o", "--s", ":^", "-.D", "-v"]
    for ax, (set_name, per_model) in zip(axes[0], sets, strict=True):
        tops: list[float] = []
        for i, (label, model) in enumerate(per_model.items()):
            turns = [t.turn + 0.04 * (i - 1) for t in model.turns]  # side by side, not hidden
            means = [t.mean for t in model.turns]
            lower = [min(y, t.ci) for y, t in zip(means, model.turns, strict=True)]
            upper = [min(1.0 - y, t.ci) for y, t in zip(means, model.turns, strict=True)]
            tops.append(max(y + u for y, u in zip(means, upper, strict=True)))
            ax.errorbar(
                turns,
                means,
                yerr=[lower, upper],
                fmt=styles[i % len(styles)],
                capsize=3,
                label=label,
            )
        ax.set_title(f"{set_name} ({next(iter(per_model.values())).problems} problems)")
        ax.set_xlabel("turn")
        ax.set_ylabel("Pass@1 (hidden tests)")
        ax.set_xticks(sorted({t.turn for m in per_model.values() for t in m.turns}))
        ax.set_ylim(0, min(1.02, max(0.1, max(tops, default=1.0) * 1.1 + 0.02)))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Pass@1 by turn, mean ± 95% CI over seeds {results.seeds}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@dataclass(frozen=True)
class FeedbackUseDrawn:
    """The numbers one eval set's feedback-use panels show (NaN: no bar)."""

    labels: list[str]
    scripted: list[float]
    own: list[float]
    paired: list[tuple[str, str, float, float, float]]
    """(method, measure, difference, low, high), top to bottom."""


def _feedback_use_numbers(results: ExperimentResults, set_name: str) -> FeedbackUseDrawn:
    per_model = results.sets[set_name]
    labels = list(per_model)
    scripted = [
        repair.mean if (repair := per_model[m].repair_at_1) is not None else math.nan
        for m in labels
    ]
    own = [per_model[m].repair[0].rate if per_model[m].repair else math.nan for m in labels]
    paired: list[tuple[str, str, float, float, float]] = []
    for method, diffs in results.paired.get(set_name, {}).items():
        for measure, difference in (
            ("Pass@1 last turn", diffs.pass_at_1_last),
            ("repair@1", diffs.repair_at_1),
        ):
            if difference is not None:
                paired.append((method, measure, difference.diff, difference.low, difference.high))
    return FeedbackUseDrawn(labels, scripted, own, paired)


def plot_feedback_use(results: ExperimentResults, path: Path) -> dict[str, FeedbackUseDrawn]:
    """Feedback use, one row of panels per eval set: repair@1 on held-out scripted failures
    and the repair rate (turn 1 -> 2) on the models' own trajectories, per model; and each
    method minus the base, paired by problem, with 95% bootstrap intervals (Pass@1 at the last
    turn, repair@1). Returns the numbers drawn, by set."""
    plt = _pyplot()
    fig, axes = plt.subplots(
        len(results.sets), 2, figsize=(11, 4 * len(results.sets)), squeeze=False
    )
    drawn: dict[str, FeedbackUseDrawn] = {}
    for (left, right), set_name in zip(axes, results.sets, strict=True):
        shown = drawn[set_name] = _feedback_use_numbers(results, set_name)
        xs = range(len(shown.labels))
        left.bar(
            [x - 0.2 for x in xs], shown.scripted, width=0.4, label="repair@1, scripted failures"
        )
        left.bar(
            [x + 0.2 for x in xs], shown.own, width=0.4, label="repair rate t1→t2, own failures"
        )
        left.set_xticks(list(xs), shown.labels)
        left.set_ylabel("share repaired")
        left.set_title(f"{set_name}: feedback use by model")
        left.legend(fontsize=8)
        left.grid(alpha=0.3, axis="y")
        for y, (_method, measure, diff, low, high) in enumerate(shown.paired):
            marker = "o" if measure.startswith("Pass") else "s"
            right.errorbar([diff], [y], xerr=[[diff - low], [high - diff]], fmt=marker, capsize=3)
        right.axvline(0.0, color="grey", linewidth=1)
        right.set_yticks(range(len(shown.paired)), [f"{m}: {n}" for m, n, *_ in shown.paired])
        right.invert_yaxis()
        right.set_xlabel("method − base (paired by problem, 95% bootstrap interval)")
        right.set_title(f"{set_name}: difference from the base")
        right.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return drawn


def plot_training(
    curves: Mapping[str, Sequence[Sequence[tuple[float, float]]]], path: Path
) -> None:
    """Mean training reward per step against training seconds, per method (one line per
    seed). Each method's reward is its own (cobalt, RLEF's, VeRPO's): compare trends within a
    method, not levels across methods."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (method, seeds) in enumerate(curves.items()):
        colour = f"C{i}"
        for j, points in enumerate(seeds):
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, "-o", color=colour, label=method if j == 0 else None)
    ax.set_xlabel("training seconds")
    ax.set_ylabel("mean reward of the step (the method's own reward)")
    ax.set_title("Training curves at equal wall-clock")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
