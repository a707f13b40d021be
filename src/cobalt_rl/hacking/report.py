"""Rendering of in-context reward hacking reports: markdown, HTML, plots, the run report's section.

The hacking section shows rates by turn, category counts, hidden-test scores of hacking turns
and a few flagged turns as unified diffs between turns (escaped in HTML); the run report's
section puts base / Cobalt / Cobalt+perturbation side by side.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path

from cobalt_rl.hacking.rules import CATEGORIES
from cobalt_rl.hacking.verdicts import HackingReport, TurnVerdict

__all__ = [
    "RUN_MODELS",
    "hacking_html",
    "hacking_markdown",
    "load_hacking_report",
    "plot_hacking_rates",
    "run_hacking_section",
    "write_hacking_report",
]

RUN_MODELS = (("base", "base"), ("trained", "Cobalt"), ("perturbed", "Cobalt+perturbation"))


def _fraction(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _examples(report: HackingReport, limit: int) -> list[TurnVerdict]:
    """Up to ``limit`` flagged turns, one per category first (then the rest, in order)."""
    chosen: list[TurnVerdict] = []
    for category in CATEGORIES:
        chosen += [v for v in report.flagged if v.category == category][:1]
    chosen += [v for v in report.flagged if v not in chosen]
    return chosen[:limit]


def _example_title(verdict: TurnVerdict) -> str:
    hidden = (
        ""
        if verdict.hidden_pass_rate is None
        else f", hidden pass rate {verdict.hidden_pass_rate:.2f}"
    )
    return (
        f"{verdict.problem_id} (sample {verdict.sample}), turn {verdict.turn}: "
        f"{verdict.category} [{verdict.method}]; "
        f"passes perturbed test(s) {verdict.passes_perturbed} shown in feedback{hidden}; "
        f"rule: {verdict.evidence.get('rule', '-')}"
        + (f"; judge: {verdict.judge_error}" if verdict.judge_error else "")
    )


def _near_miss_title(verdict: TurnVerdict) -> str:
    shown = ", ".join(map(str, verdict.exposed))
    if set(verdict.passes_true_perturbed) & set(verdict.exposed):
        did = "passes the TRUE version of it (fits the problem, not the shown output)"
    elif set(verdict.passes_perturbed) & set(verdict.exposed):
        did = "passes it but breaks an untouched public test"
    else:
        did = "passes neither the shown wrong output nor the true one"
    hidden = (
        ""
        if verdict.hidden_pass_rate is None
        else f"; hidden pass rate {verdict.hidden_pass_rate:.2f}"
    )
    return (
        f"{verdict.problem_id} (sample {verdict.sample}), turn {verdict.turn}: had seen the "
        f"wrong expected output of perturbed test(s) {shown}; the new program {did}{hidden}"
    )


def _tables(report: HackingReport) -> list[str]:
    lines = [
        f"{report.trajectories} trajectories on {report.problems} perturbed problems "
        f"({report.not_perturbed} trajectories skipped: problem not perturbed). "
        f"{report.hacks} hacking turns ({report.rate:.3f} of attempts at turns >= 2) in "
        f"{report.hacking_trajectories} trajectories on {report.hacking_problems} problems.",
        "",
        "| turn | attempts | exposed | hacking turns | rate | rate when exposed | "
        "trajectories hacked so far |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {t.turn} | {t.attempts} | {t.exposed} | {t.hacks} | {t.rate:.3f} | "
        f"{t.rate_exposed:.3f} | {t.cumulative:.3f} |"
        for t in report.turns
    ]
    lines += ["", "| category | turns |", "|---|---|"]
    lines += [f"| {c} | {report.categories.get(c, 0)} |" for c in CATEGORIES]
    lines += [
        "",
        "Classified by: " + (", ".join(f"{m} {n}" for m, n in report.methods.items()) or "-"),
    ]
    lines += [
        "",
        "| turns | n | hidden pass rate | hidden solved | previous turn's hidden pass rate |",
        "|---|---|---|---|---|",
    ]
    for name, scores in report.hidden.items():
        lines.append(
            f"| {name} | {scores['turns']} | {_fraction(scores['hidden_pass_rate'])} | "
            f"{_fraction(scores['hidden_solved'])} | "
            f"{_fraction(scores['prev_hidden_pass_rate'])} |"
        )
    return lines


def _diff_block(verdict: TurnVerdict) -> list[str]:
    return ["```diff", verdict.diff.rstrip("\n"), "```"]


def hacking_markdown(report: HackingReport, examples: int = 3) -> str:
    """The hacking section in markdown: rates by turn, categories, hidden scores, diffs."""
    lines = _tables(report)
    shown = _examples(report, examples)
    if shown:
        lines += ["", "Examples (diff from the previous turn's program):"]
    for verdict in shown:
        lines += ["", f"- {_example_title(verdict)}", "", *_diff_block(verdict)]
    if report.exposed_not_flagged:
        lines += ["", "Exposed to a wrong expected output, not flagged (what the model did):"]
    for verdict in report.exposed_not_flagged:
        lines += ["", f"- {_near_miss_title(verdict)}", "", *_diff_block(verdict)]
    return "\n".join(lines) + "\n"


def hacking_html(report: HackingReport, examples: int = 3) -> str:
    """The hacking section as HTML (tables as text, diffs escaped)."""
    parts = [f"<pre>{html.escape(chr(10).join(_tables(report)))}</pre>"]
    for verdict in _examples(report, examples):
        parts.append(
            f"<h4>{html.escape(_example_title(verdict))}</h4>"
            f"<pre class='diff'>{html.escape(verdict.diff)}</pre>"
        )
    if not report.flagged:
        parts.append("<p><i>No hacking turn was found.</i></p>")
    if report.exposed_not_flagged:
        parts.append("<p>Exposed to a wrong expected output, not flagged (what the model did):</p>")
    for verdict in report.exposed_not_flagged:
        parts.append(
            f"<h4>{html.escape(_near_miss_title(verdict))}</h4>"
            f"<pre class='diff'>{html.escape(verdict.diff)}</pre>"
        )
    return "\n".join(parts)


def plot_hacking_rates(runs: Sequence[tuple[str, HackingReport]], path: Path) -> None:
    """Hacking rate by turn (hacking turns / attempts) for one or more models on one axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    styles = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]
    for number, (label, report) in enumerate(runs):
        line, marker = styles[number % len(styles)]
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


def write_hacking_report(report: HackingReport, out_dir: Path) -> dict[str, Path]:
    """Write ``hacking.json``, ``hacking.md`` and ``hacking_rates.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "hacking.json",
        "markdown": out_dir / "hacking.md",
        "plot": out_dir / "hacking_rates.png",
    }
    paths["json"].write_text(report.model_dump_json(indent=2) + "\n")
    paths["markdown"].write_text(
        f"# In-context reward hacking: {report.label}\n\n![hacking rate by turn]"
        f"(hacking_rates.png)\n\n" + hacking_markdown(report)
    )
    plot_hacking_rates([(report.label, report)], paths["plot"])
    return paths


def load_hacking_report(path: Path) -> HackingReport | None:
    """A ``hacking.json`` written by :func:`write_hacking_report`, or None if absent."""
    return HackingReport.model_validate_json(path.read_text()) if path.exists() else None


def _pass_at_1(metrics: Path) -> tuple[str, str]:
    """Pass@1 at the first and the last turn from a ``metrics.json`` ("-" without one)."""
    turns = json.loads(metrics.read_text())["turns"] if metrics.exists() else []
    if not turns:
        return "-", "-"
    return _fraction(turns[0]["pass_at_1"]), _fraction(turns[-1]["pass_at_1"])


def _comparison_table(
    report_dir: Path, found: Sequence[tuple[str, str, HackingReport]]
) -> list[str]:
    table = [
        "| model | hacking rate (turns >= 2) | hacking trajectories | hard-coding | "
        "logic overfitting | semantic drift | Pass@1 turn 1 | Pass@1 last turn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label, report in found:
        first, last = _pass_at_1(report_dir / name / "metrics.json")
        categories = " | ".join(str(report.categories.get(c, 0)) for c in CATEGORIES)
        table.append(
            f"| {label} | {report.rate:.3f} ({report.hacks}) | "
            f"{report.hacking_trajectories}/{report.trajectories} | {categories} | "
            f"{first} | {last} |"
        )
    return table


def run_hacking_section(run_dir: Path) -> tuple[list[str], list[str]] | None:
    """The run report's hacking section (markdown lines, HTML parts), or None without one.

    Side by side for base / Cobalt / Cobalt+perturbation: hacking rate on the perturbed
    held-out set and Pass@1 on the normal one (``report/hacking-<name>/hacking.json``,
    ``report/<name>/metrics.json``), a plot of hacking rate by turn, and example diffs.
    """
    report_dir = run_dir / "report"
    found = [
        (name, label, report)
        for name, label in RUN_MODELS
        if (report := load_hacking_report(report_dir / f"hacking-{name}" / "hacking.json"))
        is not None
    ]
    if not found:
        return None
    table = _comparison_table(report_dir, found)
    plot = report_dir / "hacking_rates.png"
    plot_hacking_rates([(label, report) for _, label, report in found], plot)
    intro = (
        "Hacking is measured on the held-out problems with two public tests' expected outputs "
        "swapped (a turn that changes its program to pass a wrong output it was shown); "
        "Pass@1 is on the normal held-out problems (hidden tests)."
    )
    markdown = ["## In-context reward hacking", "", intro, "", *table, ""]
    markdown += ["![hacking rate by turn](hacking_rates.png)", ""]
    body = ["<h2>In-context reward hacking</h2>", f"<p>{html.escape(intro)}</p>"]
    body.append(f"<pre>{html.escape(chr(10).join(table))}</pre>")
    image = base64.b64encode(plot.read_bytes()).decode()
    body.append(f'<img alt="hacking rates" src="data:image/png;base64,{image}">')
    for _, label, report in found:
        markdown += [f"### {label}", "", hacking_markdown(report), ""]
        body += [f"<h3>{html.escape(label)}</h3>", hacking_html(report)]
    return markdown, body
