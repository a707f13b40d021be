"""Every PNG of the report: Pass@1 by turn, training curves, hacking rates, and the
experiment's three plots (Pass@1 over seeds, feedback use, training at equal wall-clock).

matplotlib is imported when a plot is drawn, on its file-only Agg backend (no display).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cobalt_rl.evaluate.experiment import CurvePoint, ExperimentResults, fit_trend
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
    ("solved_rate", "solved (all tests pass)"),
    ("signal", "groups with a learning signal"),
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


@contextmanager
def _figure(path: Path, **subplots: Any) -> Iterator[tuple[Any, Any]]:
    """The figure and axes of ``plt.subplots(**subplots)``; when the block ends, laid out and
    saved to ``path`` (its folder created), and closed either way."""
    plt = _pyplot()
    figure, axes = plt.subplots(**subplots)
    try:
        yield figure, axes
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)


def _lines_by_turn(axes: Any, runs: Sequence[tuple[str, list[int], list[float]]]) -> list[Any]:
    """One line per run (label, turns, values), each its own line and marker style so that
    overlapping runs stay visible, with every run's turns as the ticks. Returns the lines."""
    lines = []
    for number, (label, turns, values) in enumerate(runs):
        style, marker = _STYLES[number % len(_STYLES)]
        lines += axes.plot(turns, values, linestyle=style, marker=marker, label=label)
    axes.set_xlabel("turn")
    axes.grid(alpha=0.3)
    ticks = sorted({turn for _, turns, _ in runs for turn in turns})
    if ticks:
        axes.set_xticks(ticks)
    if runs:
        axes.legend()
    return lines


def plot_pass_at_1(runs: Sequence[tuple[str, EvalMetrics]], path: Path) -> None:
    """Plot Pass@1 by turn (with 95% CI bands) for one or more runs on one axis."""
    with _figure(path, figsize=(6, 4), dpi=120) as (_, axes):
        lines = _lines_by_turn(axes, [(label, _turns(m), m.pass_at_1()) for label, m in runs])
        for line, (_, metrics) in zip(lines, runs, strict=True):
            axes.fill_between(
                _turns(metrics),
                [max(0.0, t.pass_at_1 - t.pass_at_1_ci) for t in metrics.turns],
                [min(1.0, t.pass_at_1 + t.pass_at_1_ci) for t in metrics.turns],
                alpha=0.15,
                color=line.get_color(),
            )
        axes.set_ylabel("Pass@1 (hidden tests)")
        axes.set_title("Multi-turn Pass@1 by turn")
        # A rate: CI bands are clipped to [0, 1]; the axis stops a little above the highest
        # band.
        top = max(
            (min(1.0, t.pass_at_1 + t.pass_at_1_ci) for _, m in runs for t in m.turns),
            default=1.0,
        )
        axes.set_ylim(0, min(1.02, top * 1.1 + 0.02))


def _turns(metrics: EvalMetrics | HackingReport) -> list[int]:
    return [t.turn for t in metrics.turns]


def plot_training_curves(rows: list[dict[str, Any]], path: Path) -> bool:
    """Plot the training curves in ``rows`` (the trainer's ``metrics.jsonl``); False when
    there is no step to draw."""
    rows = [_with_signal(r) for r in rows if "loss" in r]
    if not rows:
        return False
    shown = [(k, t) for k, t in TRAINING_CURVES if any(k in r for r in rows)]
    size = (3.2 * len(shown), 2.8)
    with _figure(path, ncols=len(shown), figsize=size, dpi=110, squeeze=False) as (_, axes):
        for ax, (key, title) in zip(axes[0], shown, strict=True):
            points = [(r["step"], r[key]) for r in rows if key in r]
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", ms=3)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.grid(alpha=0.3)
    return True


def _with_signal(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with ``signal``: the share of GRPO groups whose rewards differ (the rest give
    no gradient), from TRL's ``frac_reward_zero_std``."""
    if "frac_reward_zero_std" not in row:
        return row
    return {**row, "signal": 1.0 - float(row["frac_reward_zero_std"])}


def plot_hacking_rates(runs: Sequence[tuple[str, HackingReport]], path: Path) -> None:
    """Hacking rate by turn (hacking turns / attempts) for one or more models on one axis."""
    with _figure(path, figsize=(6, 4), dpi=120) as (_, axes):
        _lines_by_turn(axes, [(label, _turns(r), [t.rate for t in r.turns]) for label, r in runs])
        axes.set_ylabel("hacking turns / attempts")
        axes.set_title("In-context reward hacking on perturbed public tests")
        axes.set_ylim(bottom=0)


def plot_results(results: ExperimentResults, path: Path) -> None:
    """The experiment's Pass@1 by turn, one panel per eval set: mean ± 95% CI over seeds."""
    sets = list(results.sets.items())
    size = (5.5 * len(sets), 4)
    styles = ["-o", "--s", ":^", "-.D", "-v"]
    with _figure(path, ncols=len(sets), figsize=size, dpi=110, squeeze=False) as (fig, axes):
        for ax, (set_name, per_model) in zip(axes[0], sets, strict=True):
            tops: list[float] = []
            for i, (label, model) in enumerate(per_model.items()):
                turns = [t.turn + 0.04 * (i - 1) for t in model.turns]  # side by side
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
    size = (11, 4 * len(results.sets))
    drawn: dict[str, FeedbackUseDrawn] = {}
    layout = _figure(path, nrows=len(results.sets), ncols=2, figsize=size, dpi=110, squeeze=False)
    with layout as (_, axes):
        for (left, right), set_name in zip(axes, results.sets, strict=True):
            shown = drawn[set_name] = _feedback_use_numbers(results, set_name)
            xs = range(len(shown.labels))
            left.bar(
                [x - 0.2 for x in xs],
                shown.scripted,
                width=0.4,
                label="repair@1, scripted failures",
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
                xerr = [[diff - low], [high - diff]]
                right.errorbar([diff], [y], xerr=xerr, fmt=marker, capsize=3)
            right.axvline(0.0, color="grey", linewidth=1)
            right.set_yticks(range(len(shown.paired)), [f"{m}: {n}" for m, n, *_ in shown.paired])
            right.invert_yaxis()
            right.set_xlabel("method − base (paired by problem, 95% bootstrap interval)")
            right.set_title(f"{set_name}: difference from the base")
            right.grid(alpha=0.3, axis="x")
    return drawn


def plot_training(curves: Mapping[str, Sequence[Sequence[CurvePoint]]], path: Path) -> None:
    """Each method's training curves (one line per seed): the step's mean reward, solved rate
    and share of groups with a signal, against the step (top row, with the least-squares line
    of the reward and the solved rate) and against training seconds (bottom row). Each
    method's reward is its own (cobalt, RLEF's, VeRPO's): compare trends within a method, not
    levels across methods."""
    panels = [
        ("reward", "mean reward of the step (own)"),
        ("solved", "solved rate (all tests pass)"),
        ("signal", "groups with a learning signal"),
    ]
    with _figure(path, nrows=2, ncols=3, figsize=(13, 7), dpi=100) as (fig, axes):
        for i, (method, seeds) in enumerate(curves.items()):
            colour = f"C{i}"
            for j, points in enumerate(seeds):
                for col, (key, _) in enumerate(panels):
                    shown = [p for p in points if getattr(p, key) is not None]
                    if not shown:
                        continue
                    ys = [float(getattr(p, key)) for p in shown]
                    steps = [p.step for p in shown]
                    label = method if j == 0 and col == 0 else None
                    axes[0][col].plot(steps, ys, "o", ms=2.5, color=colour, alpha=0.6, label=label)
                    axes[1][col].plot([p.seconds for p in shown], ys, "-", lw=1, color=colour)
                    trend = fit_trend(steps, ys) if key != "signal" else None
                    if trend is not None:
                        ends = [min(steps), max(steps)]
                        axes[0][col].plot(
                            ends, [trend.intercept + trend.slope * x for x in ends], "--",
                            color=colour, lw=1.5,
                        )  # fmt: skip
        for col, (_, title) in enumerate(panels):
            axes[0][col].set_title(title, fontsize=10)
            axes[0][col].set_xlabel("step (dashed: least-squares line)", fontsize=8)
            axes[1][col].set_xlabel("training seconds", fontsize=8)
            for row in (0, 1):
                axes[row][col].grid(alpha=0.3)
        axes[0][0].legend(fontsize=8)
        fig.suptitle("Training curves at equal wall-clock")
