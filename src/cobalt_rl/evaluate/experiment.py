"""The experiment's statistics and plots: Pass@1 by turn across seeds with t-intervals,
feedback use with paired bootstrap intervals, training curves.

Used by ``cobalt experiment`` (:mod:`cobalt_rl.pipeline.experiment`); pure functions of the
cells' summaries, so they can be re-run on a finished experiment's ``stages/`` markers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "aggregate",
    "paired_bootstrap",
    "plot_feedback_use",
    "plot_results",
    "plot_training",
    "results_markdown",
    "seed_interval",
]

# Two-sided 97.5% quantiles of Student's t by degrees of freedom (1..30), for seed CIs.
_T975 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]  # fmt: skip


def seed_interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of a 95% t-interval across seeds (0 for one seed)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    t = _T975[min(len(values) - 1, len(_T975)) - 1]
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


def paired_bootstrap(
    base: Mapping[str, float],
    other: Mapping[str, float],
    iterations: int = 10_000,
    seed: int = 0,
) -> dict[str, float | int]:
    """The mean paired difference ``other - base`` over the problems both hold, and its 95%
    percentile-bootstrap interval (problems resampled with replacement).

    Pairing by problem removes the between-problem variance that two independent samples
    carry: the interval is about the models' difference, not about which problems were drawn.
    """
    import random

    shared = sorted(set(base) & set(other))
    if not shared:
        raise ValueError("no problem is held by both sides: nothing to pair")
    diffs = [other[p] - base[p] for p in shared]
    mean = statistics.fmean(diffs)
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(diffs, k=len(diffs))) for _ in range(iterations))
    low = means[int(0.025 * (iterations - 1))]
    high = means[round(0.975 * (iterations - 1))]
    return {"diff": mean, "low": low, "high": high, "problems": len(shared)}


def aggregate(
    cells: dict[str, dict[str, Any]],
    *,
    seeds: Sequence[int],
    methods: Sequence[str],
    eval_sets: Sequence[str],
    train_seconds: float,
    samples: int,
) -> dict[str, Any]:
    """Per eval set, model and turn: Pass@1 per seed, mean and 95% CI across seeds.

    ``cells`` holds each training and evaluation cell's summary, named
    ``seed<S>-train-<method>`` and ``seed<S>-eval-<set>-<model>``.
    """
    labels = ["base", *methods]
    out: dict[str, Any] = {"seeds": list(seeds), "train_seconds": train_seconds, "sets": {}}
    out["training"] = {
        m: {
            "steps": [cells[f"seed{s}-train-{m}"]["steps"] for s in seeds],
            "train_seconds": [cells[f"seed{s}-train-{m}"]["train_seconds"] for s in seeds],
            "wall_seconds": [cells[f"seed{s}-train-{m}"]["seconds"] for s in seeds],
        }
        for m in methods
    }
    for set_name in eval_sets:
        per_model: dict[str, Any] = {}
        for label in labels:
            runs = [cells[f"seed{s}-eval-{set_name}-{label}"] for s in seeds]
            n_turns = min(len(r["pass_at_1"]) for r in runs)
            turns = []
            for t in range(n_turns):
                values = [r["pass_at_1"][t] for r in runs]
                mean, half = seed_interval(values)
                turns.append({"turn": t + 1, "mean": mean, "ci": half, "per_seed": values})
            per_model[label] = {
                "problems": runs[0]["problems"],
                "turns": turns,
                "repair": _pooled_repair(runs),
                **_repair_at_1(cells, seeds, set_name, label),
            }
        out["sets"][set_name] = per_model
        out.setdefault("paired", {})[set_name] = {
            method: _paired(cells, seeds, set_name, method) for method in methods
        }
    out["samples"] = samples
    return out


def _pooled_repair(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Repair rates by turn on the models' own trajectories, pooled over seeds."""
    pooled: dict[int, list[int]] = {}
    for run in runs:
        for row in run.get("repair", []):
            counts = pooled.setdefault(row["turn"], [0, 0])
            counts[0] += row["repaired"]
            counts[1] += row["failures"]
    return [
        {"turn": turn, "rate": repaired / failures if failures else 0.0, "failures": failures}
        for turn, (repaired, failures) in sorted(pooled.items())
    ]


def _repair_at_1(
    cells: Mapping[str, Mapping[str, Any]], seeds: Sequence[int], set_name: str, label: str
) -> dict[str, Any]:
    """repair@1 on the set's held-out scripted failures, by seed, when they were evaluated."""
    names = [f"seed{s}-repair-{set_name}-{label}" for s in seeds]
    if not all(name in cells for name in names):
        return {}
    values = [cells[name]["repair_at_1"] for name in names]
    mean, half = seed_interval(values)
    failures = cells[names[0]]["failures"]
    return {"repair_at_1": {"mean": mean, "ci": half, "per_seed": values, "failures": failures}}


def _per_problem(
    cells: Mapping[str, Mapping[str, Any]], names: Sequence[str], turn: int
) -> dict[str, float]:
    """By problem: its Pass@1 at ``turn`` (1-based; -1: the last), averaged over the cells
    (seeds), so that every model is compared with the base on the same problems."""
    values: dict[str, list[float]] = {}
    for name in names:
        for problem, by_turn in cells[name].get("per_problem", {}).items():
            values.setdefault(problem, []).append(by_turn[turn - 1 if turn > 0 else -1])
    return {problem: statistics.fmean(v) for problem, v in values.items()}


def _paired(
    cells: Mapping[str, Mapping[str, Any]], seeds: Sequence[int], set_name: str, method: str
) -> dict[str, Any]:
    """``method`` minus base, paired by problem, with 95% bootstrap intervals: Pass@1 at the
    last turn, and repair@1 on scripted failures (turn 2 of those episodes) when evaluated."""
    paired: dict[str, Any] = {}
    for key, kind, turn in (("pass_at_1_last", "eval", -1), ("repair_at_1", "repair", 2)):
        base_names = [f"seed{s}-{kind}-{set_name}-base" for s in seeds]
        names = [f"seed{s}-{kind}-{set_name}-{method}" for s in seeds]
        if not all(n in cells for n in base_names + names):
            continue
        base, other = _per_problem(cells, base_names, turn), _per_problem(cells, names, turn)
        if base and other:
            paired[key] = paired_bootstrap(base, other)
    return paired


def results_markdown(results: dict[str, Any]) -> str:
    seeds = results["seeds"]
    lines = [
        f"Seeds: {', '.join(map(str, seeds))}; {results['samples']} sample(s) per problem per "
        f"seed; every method trained for {results['train_seconds']:g} s of wall-clock. "
        "Pass@1 on hidden tests by turn: mean over seeds ± half-width of a 95% t-interval "
        "across seeds; per-seed values in brackets.",
        "",
    ]
    for set_name, per_model in results["sets"].items():
        n_turns = max(len(m["turns"]) for m in per_model.values())
        problems = next(iter(per_model.values()))["problems"]
        lines += [f"### {set_name} ({problems} problems)", ""]
        lines.append("| model | " + " | ".join(f"turn {t + 1}" for t in range(n_turns)) + " |")
        lines.append("|---|" + "---|" * n_turns)
        for label, m in per_model.items():
            cols = [
                f"{t['mean']:.3f} ± {t['ci']:.3f} [{', '.join(f'{v:.2f}' for v in t['per_seed'])}]"
                for t in m["turns"]
            ]
            lines.append(f"| {label} | " + " | ".join(cols) + " |")
        lines.append("")
        lines += _feedback_use_lines(per_model, results.get("paired", {}).get(set_name, {}))
    lines += ["### Training at equal wall-clock", "", "| method | steps per seed | seconds |"]
    lines.append("|---|---|---|")
    for m, tr in results["training"].items():
        lines.append(
            f"| {m} | {', '.join(map(str, tr['steps']))} | "
            f"{', '.join(f'{s:.0f}' for s in tr['wall_seconds'])} |"
        )
    return "\n".join(lines) + "\n"


def _feedback_use_lines(per_model: Mapping[str, Any], paired: Mapping[str, Any]) -> list[str]:
    """Repair on own trajectories, repair@1 on scripted failures, paired differences."""
    lines = [
        "Feedback use: repair rate = share of failed attempts fixed by the next attempt (own "
        "trajectories, pooled over seeds; failures in brackets); repair@1 = Pass@1 of one "
        "repair of a held-out scripted failure (known-wrong program + its real feedback).",
        "",
        "| model | repair rate t1→t2 | repair@1 (scripted failures) |",
        "|---|---|---|",
    ]
    for label, model in per_model.items():
        first = model["repair"][0] if model.get("repair") else None
        rate = f"{first['rate']:.3f} [{first['failures']}]" if first else "–"
        scripted = model.get("repair_at_1")
        repair = (
            f"{scripted['mean']:.3f} ± {scripted['ci']:.3f} ({scripted['failures']} failures)"
            if scripted
            else "–"
        )
        lines.append(f"| {label} | {rate} | {repair} |")
    lines.append("")
    if paired:
        lines += [
            "Paired by problem (method − base, seeds averaged), 95% bootstrap interval over "
            "problems:",
            "",
            "| method | Pass@1, last turn | repair@1 |",
            "|---|---|---|",
        ]
        for method, diffs in paired.items():
            cols = [
                f"{d['diff']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] (n={d['problems']})"
                if (d := diffs.get(key))
                else "–"
                for key in ("pass_at_1_last", "repair_at_1")
            ]
            lines.append(f"| {method} | " + " | ".join(cols) + " |")
        lines.append("")
    return lines


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_results(results: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    sets = list(results["sets"].items())
    fig, axes = plt.subplots(1, len(sets), figsize=(5.5 * len(sets), 4), squeeze=False)
    styles = ["-o", "--s", ":^", "-.D", "-v"]
    for ax, (set_name, per_model) in zip(axes[0], sets, strict=True):
        tops: list[float] = []
        for i, (label, m) in enumerate(per_model.items()):
            turns = [t["turn"] + 0.04 * (i - 1) for t in m["turns"]]
            means = [t["mean"] for t in m["turns"]]
            lower = [min(y, t["ci"]) for y, t in zip(means, m["turns"], strict=True)]
            upper = [min(1.0 - y, t["ci"]) for y, t in zip(means, m["turns"], strict=True)]
            tops.append(max(y + u for y, u in zip(means, upper, strict=True)))
            ax.errorbar(
                turns,
                means,
                yerr=[lower, upper],
                fmt=styles[i % len(styles)],
                capsize=3,
                label=label,
            )
        ax.set_title(f"{set_name} ({next(iter(per_model.values()))['problems']} problems)")
        ax.set_xlabel("turn")
        ax.set_ylabel("Pass@1 (hidden tests)")
        ax.set_xticks(sorted({t["turn"] for m in per_model.values() for t in m["turns"]}))
        ax.set_ylim(0, min(1.02, max(0.1, max(tops, default=1.0) * 1.1 + 0.02)))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Pass@1 by turn, mean ± 95% CI over seeds {results['seeds']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_feedback_use(results: dict[str, Any], path: Path) -> dict[str, Any]:
    """Feedback use, one row of panels per eval set: repair@1 on held-out scripted failures
    and the repair rate (turn 1 -> 2) on the models' own trajectories, per model; and each
    method minus the base, paired by problem, with 95% bootstrap intervals (Pass@1 at the last
    turn, repair@1). Returns the numbers drawn, by set."""
    plt = _pyplot()
    sets = list(results["sets"].items())
    fig, axes = plt.subplots(len(sets), 2, figsize=(11, 4 * len(sets)), squeeze=False)
    drawn: dict[str, Any] = {}
    for (left, right), (set_name, per_model) in zip(axes, sets, strict=True):
        labels = list(per_model)
        scripted = [per_model[m].get("repair_at_1", {}).get("mean", math.nan) for m in labels]
        own = [
            per_model[m]["repair"][0]["rate"] if per_model[m].get("repair") else math.nan
            for m in labels
        ]
        xs = range(len(labels))
        left.bar([x - 0.2 for x in xs], scripted, width=0.4, label="repair@1, scripted failures")
        left.bar([x + 0.2 for x in xs], own, width=0.4, label="repair rate t1→t2, own failures")
        left.set_xticks(list(xs), labels)
        left.set_ylabel("share repaired")
        left.set_title(f"{set_name}: feedback use by model")
        left.legend(fontsize=8)
        left.grid(alpha=0.3, axis="y")
        rows: list[tuple[str, str, float, float, float]] = []
        for method, diffs in results.get("paired", {}).get(set_name, {}).items():
            for key, name in (("pass_at_1_last", "Pass@1 last turn"), ("repair_at_1", "repair@1")):
                if d := diffs.get(key):
                    rows.append((method, name, d["diff"], d["low"], d["high"]))
        for y, (_method, name, diff, low, high) in enumerate(rows):
            marker = "o" if name.startswith("Pass") else "s"
            right.errorbar([diff], [y], xerr=[[diff - low], [high - diff]], fmt=marker, capsize=3)
        right.axvline(0.0, color="grey", linewidth=1)
        right.set_yticks(range(len(rows)), [f"{m}: {n}" for m, n, *_ in rows])
        right.invert_yaxis()
        right.set_xlabel("method − base (paired by problem, 95% bootstrap interval)")
        right.set_title(f"{set_name}: difference from the base")
        right.grid(alpha=0.3, axis="x")
        drawn[set_name] = {"labels": labels, "scripted": scripted, "own": own, "paired": rows}
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
