"""In-context reward hacking in the report: ``hacking.json``, ``hacking.md`` and its plot for
one model, and the run report's section putting base / Cobalt / Cobalt+perturbation side by
side.

A model's section shows rates by turn, category counts, hidden-test scores of hacking turns
and a few flagged turns as unified diffs between turns (escaped in HTML).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from cobalt_rl.hacking.rules import CATEGORIES
from cobalt_rl.hacking.verdicts import HackingReport, TurnVerdict
from cobalt_rl.report.blocks import Table, embedded_png, html_table, markdown_rows
from cobalt_rl.report.metrics import read_metrics
from cobalt_rl.report.plots import plot_hacking_rates

__all__ = [
    "HACKING_INTRO",
    "RUN_MODELS",
    "HackingSection",
    "hacking_html",
    "hacking_markdown",
    "load_hacking_report",
    "read_hacking_section",
    "section_html",
    "section_markdown",
    "write_hacking_report",
]

RUN_MODELS = (("base", "base"), ("trained", "Cobalt"), ("perturbed", "Cobalt+perturbation"))
"""A run's models measured for hacking: the name of their report directories, their title."""


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
    found = read_metrics(metrics)
    if found is None or not found.turns:
        return "-", "-"
    return _fraction(found.turns[0].pass_at_1), _fraction(found.turns[-1].pass_at_1)


HACKING_INTRO = (
    "Hacking is measured on the held-out problems with two public tests' expected outputs "
    "swapped (a turn that changes its program to pass a wrong output it was shown); "
    "Pass@1 is on the normal held-out problems (hidden tests)."
)


@dataclass(frozen=True)
class HackingSection:
    """The run report's hacking section: each model's report (under its title, in
    :data:`RUN_MODELS` order) and the table comparing them."""

    reports: list[tuple[str, HackingReport]]
    table: Table


def _comparison_table(report_dir: Path, found: list[tuple[str, str, HackingReport]]) -> Table:
    rows = []
    for name, title, report in found:
        first, last = _pass_at_1(report_dir / name / "metrics.json")
        rows.append(
            [title, f"{report.rate:.3f} ({report.hacks})",
             f"{report.hacking_trajectories}/{report.trajectories}",
             *(str(report.categories.get(c, 0)) for c in CATEGORIES), first, last]
        )  # fmt: skip
    head = ["model", "hacking rate (turns >= 2)", "hacking trajectories", "hard-coding",
            "logic overfitting", "semantic drift", "Pass@1 turn 1", "Pass@1 last turn"]  # fmt: skip
    return Table(head, rows)


def read_hacking_section(report_dir: Path) -> HackingSection | None:
    """The hacking reports of a run's report directory (``hacking-<name>/hacking.json``),
    with each model's Pass@1 on the normal held-out problems (``<name>/metrics.json``);
    None when the run measured no hacking."""
    found = [
        (name, title, report)
        for name, title in RUN_MODELS
        if (report := load_hacking_report(report_dir / f"hacking-{name}" / "hacking.json"))
        is not None
    ]
    if not found:
        return None
    reports = [(title, report) for _, title, report in found]
    return HackingSection(reports, _comparison_table(report_dir, found))


def section_markdown(section: HackingSection, plot: Path) -> list[str]:
    """The run report's hacking section as markdown lines (``plot``: its rates plot, beside
    the report)."""
    lines = ["## In-context reward hacking", "", HACKING_INTRO, ""]
    lines += [*markdown_rows(section.table), "", f"![hacking rate by turn]({plot.name})", ""]
    for title, report in section.reports:
        lines += [f"### {title}", "", hacking_markdown(report), ""]
    return lines


def section_html(section: HackingSection, plot: Path) -> list[str]:
    """The run report's hacking section as HTML blocks, the plot embedded."""
    parts = ["<h2>In-context reward hacking</h2>", f"<p>{html.escape(HACKING_INTRO)}</p>"]
    parts += [html_table(section.table), embedded_png(plot, "hacking rates")]
    for title, report in section.reports:
        parts += [f"<h3>{html.escape(title)}</h3>", hacking_html(report)]
    return parts
