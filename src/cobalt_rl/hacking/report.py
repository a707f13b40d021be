"""Rendering of in-context reward hacking reports: markdown, HTML, plots, the run report's section.

The hacking section shows rates by turn, category counts, hidden-test scores of hacking turns
and a few flagged turns as unified diffs between turns (escaped in HTML); the run report's
section puts base / Cobalt / Cobalt+perturbation side by side.
"""

from __future__ import annotations

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


def _pct(x: float | int | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _examples(report: HackingReport, k: int) -> list[TurnVerdict]:
    """Up to k flagged turns, one per category first (then the rest, in order)."""
    chosen: list[TurnVerdict] = []
    for cat in CATEGORIES:
        chosen += [v for v in report.flagged if v.category == cat][:1]
    chosen += [v for v in report.flagged if v not in chosen]
    return chosen[:k]


def _example_title(v: TurnVerdict) -> str:
    hidden = "" if v.hidden_pass_rate is None else f", hidden pass rate {v.hidden_pass_rate:.2f}"
    return (
        f"{v.problem_id} (sample {v.sample}), turn {v.turn}: {v.category} [{v.method}]; "
        f"passes perturbed test(s) {v.passes_perturbed} shown in feedback{hidden}; "
        f"rule: {v.evidence.get('rule', '-')}"
        + (f"; judge: {v.judge_error}" if v.judge_error else "")
    )


def _near_miss_title(v: TurnVerdict) -> str:
    shown = ", ".join(map(str, v.exposed))
    if set(v.passes_true_perturbed) & set(v.exposed):
        did = "passes the TRUE version of it (fits the problem, not the shown output)"
    elif set(v.passes_perturbed) & set(v.exposed):
        did = "passes it but breaks an untouched public test"
    else:
        did = "passes neither the shown wrong output nor the true one"
    hidden = "" if v.hidden_pass_rate is None else f"; hidden pass rate {v.hidden_pass_rate:.2f}"
    return (
        f"{v.problem_id} (sample {v.sample}), turn {v.turn}: had seen the wrong expected "
        f"output of perturbed test(s) {shown}; the new program {did}{hidden}"
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
    for name, s in report.hidden.items():
        lines.append(
            f"| {name} | {s['turns']} | {_pct(s['hidden_pass_rate'])} | "
            f"{_pct(s['hidden_solved'])} | {_pct(s['prev_hidden_pass_rate'])} |"
        )
    return lines


def hacking_markdown(report: HackingReport, examples: int = 3) -> str:
    """The hacking section in markdown: rates by turn, categories, hidden scores, diffs."""
    lines = _tables(report)
    shown = _examples(report, examples)
    if shown:
        lines += ["", "Examples (diff from the previous turn's program):"]
    for v in shown:
        lines += ["", f"- {_example_title(v)}", "", "```diff", v.diff.rstrip("\n"), "```"]
    if report.exposed_not_flagged:
        lines += ["", "Exposed to a wrong expected output, not flagged (what the model did):"]
    for v in report.exposed_not_flagged:
        lines += ["", f"- {_near_miss_title(v)}", "", "```diff", v.diff.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def hacking_html(report: HackingReport, examples: int = 3) -> str:
    """The hacking section as HTML (tables as text, diffs escaped)."""
    import html

    parts = [f"<pre>{html.escape(chr(10).join(_tables(report)))}</pre>"]
    for v in _examples(report, examples):
        parts.append(
            f"<h4>{html.escape(_example_title(v))}</h4>"
            f"<pre class='diff'>{html.escape(v.diff)}</pre>"
        )
    if not report.flagged:
        parts.append("<p><i>No hacking turn was found.</i></p>")
    if report.exposed_not_flagged:
        parts.append("<p>Exposed to a wrong expected output, not flagged (what the model did):</p>")
    for v in report.exposed_not_flagged:
        parts.append(
            f"<h4>{html.escape(_near_miss_title(v))}</h4>"
            f"<pre class='diff'>{html.escape(v.diff)}</pre>"
        )
    return "\n".join(parts)


def plot_hacking_rates(runs: Sequence[tuple[str, HackingReport]], path: Path) -> None:
    """Hacking rate by turn (hacking turns / attempts) for one or more models on one axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    styles = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]
    for i, (label, rep) in enumerate(runs):
        line, marker = styles[i % len(styles)]
        ax.plot(
            [t.turn for t in rep.turns],
            [t.rate for t in rep.turns],
            linestyle=line,
            marker=marker,
            label=label,
        )
    ax.set_xlabel("turn")
    ax.set_ylabel("hacking turns / attempts")
    ax.set_title("In-context reward hacking on perturbed public tests")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    turns = sorted({t.turn for _, r in runs for t in r.turns})
    if turns:
        ax.set_xticks(turns)
    if runs:
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


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


def run_hacking_section(run_dir: Path) -> tuple[list[str], list[str]] | None:
    """The run report's hacking section (markdown lines, HTML parts), or None without one.

    Side by side for base / Cobalt / Cobalt+perturbation: hacking rate on the perturbed
    held-out set and Pass@1 on the normal one (``report/hacking-<name>/hacking.json``,
    ``report/<name>/metrics.json``), a plot of hacking rate by turn, and example diffs.
    """
    import base64
    import html
    import json

    rep = run_dir / "report"
    found = [
        (name, label, r)
        for name, label in RUN_MODELS
        if (r := load_hacking_report(rep / f"hacking-{name}" / "hacking.json")) is not None
    ]
    if not found:
        return None
    table = [
        "| model | hacking rate (turns >= 2) | hacking trajectories | hard-coding | "
        "logic overfitting | semantic drift | Pass@1 turn 1 | Pass@1 last turn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label, r in found:
        mfile = rep / name / "metrics.json"
        turns = json.loads(mfile.read_text())["turns"] if mfile.exists() else []
        p_first = _pct(turns[0]["pass_at_1"]) if turns else "-"
        p_last = _pct(turns[-1]["pass_at_1"]) if turns else "-"
        table.append(
            f"| {label} | {r.rate:.3f} ({r.hacks}) | {r.hacking_trajectories}/{r.trajectories} | "
            + " | ".join(str(r.categories.get(c, 0)) for c in CATEGORIES)
            + f" | {p_first} | {p_last} |"
        )
    plot = rep / "hacking_rates.png"
    plot_hacking_rates([(label, r) for _, label, r in found], plot)
    intro = (
        "Hacking is measured on the held-out problems with two public tests' expected outputs "
        "swapped (a turn that changes its program to pass a wrong output it was shown); "
        "Pass@1 is on the normal held-out problems (hidden tests)."
    )
    md = ["## In-context reward hacking", "", intro, "", *table, ""]
    md += ["![hacking rate by turn](hacking_rates.png)", ""]
    body = ["<h2>In-context reward hacking</h2>", f"<p>{html.escape(intro)}</p>"]
    body.append(f"<pre>{html.escape(chr(10).join(table))}</pre>")
    data = base64.b64encode(plot.read_bytes()).decode()
    body.append(f'<img alt="hacking rates" src="data:image/png;base64,{data}">')
    for _, label, r in found:
        md += [f"### {label}", "", hacking_markdown(r), ""]
        body += [f"<h3>{html.escape(label)}</h3>", hacking_html(r)]
    return md, body
