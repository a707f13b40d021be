"""``cobalt experiment``'s results page: ``results.json``, ``results.md`` (Pass@1 by turn over
seeds, feedback use, paired differences, training at equal wall-clock with each curve's slope)
and its three plots
(``pass_at_1.png``, ``feedback_use.png``, ``training.png``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from cobalt_rl.evaluate.experiment import (
    CurvePoint,
    ExperimentResults,
    MethodDifference,
    ModelResults,
    Trend,
)
from cobalt_rl.report.plots import plot_feedback_use, plot_results, plot_training

__all__ = ["results_markdown", "write_experiment_report"]


def results_markdown(results: ExperimentResults) -> str:
    """The results as markdown: per eval set, Pass@1 by turn of every model over seeds and
    feedback use; then each method's training."""
    lines = [
        f"Seeds: {', '.join(map(str, results.seeds))}; {results.samples} sample(s) per problem "
        f"per seed; every method trained for {results.train_seconds:g} s of wall-clock. "
        "Pass@1 on hidden tests by turn: mean over seeds ± half-width of a 95% t-interval "
        "across seeds; per-seed values in brackets.",
        "",
    ]
    for set_name, per_model in results.sets.items():
        n_turns = max(len(m.turns) for m in per_model.values())
        problems = next(iter(per_model.values())).problems
        lines += [f"### {set_name} ({problems} problems)", ""]
        lines.append("| model | " + " | ".join(f"turn {t + 1}" for t in range(n_turns)) + " |")
        lines.append("|---|" + "---|" * n_turns)
        for label, model in per_model.items():
            cols = [
                f"{t.mean:.3f} ± {t.ci:.3f} [{', '.join(f'{v:.2f}' for v in t.per_seed)}]"
                for t in model.turns
            ]
            lines.append(f"| {label} | " + " | ".join(cols) + " |")
        lines.append("")
        lines += _feedback_use_lines(per_model, results.paired.get(set_name, {}))
    lines += _training_lines(results)
    return "\n".join(lines) + "\n"


def _training_lines(results: ExperimentResults) -> list[str]:
    """Steps and seconds per method, and each training curve's least-squares slope per 100
    steps with its 95% interval (per seed)."""
    lines = [
        "### Training at equal wall-clock",
        "",
        "Slopes: least-squares change per 100 steps of the step's mean reward (the method's "
        "own) and solved rate, with a 95% t-interval; signal: mean share of groups whose "
        "rewards differ. One value per seed.",
        "",
        "| method | steps per seed | seconds | reward slope / 100 steps | "
        "solved-rate slope / 100 steps | signal |",
        "|---|---|---|---|---|---|",
    ]
    for method, training in results.training.items():
        signal = [f"{s:.0%}" if s is not None else "–" for s in training.signal]
        lines.append(
            f"| {method} | {', '.join(map(str, training.steps))} | "
            f"{', '.join(f'{s:.0f}' for s in training.wall_seconds)} | "
            f"{_trends(training.reward_trend)} | {_trends(training.solved_trend)} | "
            f"{', '.join(signal) or '–'} |"
        )
    return lines


def _trends(trends: Sequence[Trend | None]) -> str:
    return (
        ", ".join(
            f"{100 * t.slope:+.3f} [{100 * t.low:+.3f}, {100 * t.high:+.3f}] (n={t.points})"
            if t
            else "–"
            for t in trends
        )
        or "–"
    )


def _feedback_use_lines(
    per_model: Mapping[str, ModelResults], paired: Mapping[str, MethodDifference]
) -> list[str]:
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
        first = model.repair[0] if model.repair else None
        rate = f"{first.rate:.3f} [{first.failures}]" if first else "–"
        scripted = model.repair_at_1
        repair = (
            f"{scripted.mean:.3f} ± {scripted.ci:.3f} ({scripted.failures} failures)"
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
                f"{d.diff:+.3f} [{d.low:+.3f}, {d.high:+.3f}] (n={d.problems})" if d else "–"
                for d in (diffs.pass_at_1_last, diffs.repair_at_1)
            ]
            lines.append(f"| {method} | " + " | ".join(cols) + " |")
        lines.append("")
    return lines


def write_experiment_report(
    results: ExperimentResults,
    curves: Mapping[str, Sequence[Sequence[CurvePoint]]],
    out_dir: Path,
) -> Path:
    """Write ``results.json``, the three plots (``curves``: each method's training curve by
    seed, see :func:`~cobalt_rl.report.plots.plot_training`) and ``results.md`` into
    ``out_dir``; returns the markdown's path."""
    # A measure that was not taken (repair@1 without scripted failures) is left out, not null.
    data = results.model_dump(mode="json", exclude_none=True)
    (out_dir / "results.json").write_text(json.dumps(data, indent=2))
    plot_results(results, out_dir / "pass_at_1.png")
    plot_feedback_use(results, out_dir / "feedback_use.png")
    plot_training(curves, out_dir / "training.png")
    markdown = out_dir / "results.md"
    markdown.write_text(results_markdown(results))
    return markdown
