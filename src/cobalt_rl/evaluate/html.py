"""The run report people look at: ``report/index.html`` (self-contained) and ``report.md``.

At the top, the headline: trained vs base Pass@1 at the last turn, with the paired
difference and its 95% interval (problems resampled, each problem's pass rate paired across
the two models: :func:`~cobalt_rl.evaluate.experiment.paired_bootstrap`), and how many
problems and samples it rests on. Then: per-turn Pass@1 of base vs trained (plot and
tables), training curves (reward, pass rate, KL, completion length, format failures), the
public-vs-hidden gap, example trajectories rendered as conversations with their feedback
(a reply cut at the token cap is marked), and cost (wall time per stage, tokens generated,
programs executed). Tables are HTML tables; plots are embedded as base64 PNGs, so the page
is one file that reads offline.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cobalt_rl.evaluate.report import (
    Table,
    difficulty_table,
    markdown_rows,
    markdown_table,
    metrics_summary,
    plot_pass_at_1,
    turn_table,
)
from cobalt_rl.records import Attempt, Trajectory, read_jsonl

__all__ = ["Headline", "headline", "html_table", "plot_training_curves", "write_run_report"]

CURVES = [
    ("reward", "reward (mean)"),
    ("pass_rate", "pass rate of completions"),
    ("kl", "KL to reference"),
    ("completions/mean_length", "completion length (tokens)"),
    ("format_failure_rate", "format failures (no code)"),
]


def plot_training_curves(rows: list[dict[str, Any]], path: Path) -> bool:
    """Plot the training curves in ``rows`` (metrics.jsonl); False when there is nothing."""
    rows = [r for r in rows if "loss" in r]
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(k, t) for k, t in CURVES if any(k in r for r in rows)]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 2.8), dpi=110)
    axes = axes if len(shown) > 1 else [axes]
    for ax, (key, title) in zip(axes, shown, strict=True):
        pts = [(r["step"], r[key]) for r in rows if key in r]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def html_table(table: Table, caption: str | None = None) -> str:
    """A :data:`~cobalt_rl.evaluate.report.Table` as an HTML ``<table>``."""
    head, rows = table
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>")
    parts.append("</thead><tbody>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _markdown_pre_as_table(block: str) -> str:
    """A ``<pre>`` holding only a markdown table (the hacking section's) as an HTML table;
    any other block unchanged."""
    if not (block.startswith("<pre>") and block.endswith("</pre>")):
        return block
    lines = html.unescape(block[len("<pre>") : -len("</pre>")]).strip().splitlines()
    if len(lines) < 2 or not all(line.startswith("|") and line.endswith("|") for line in lines):
        return block
    if set(lines[1].replace("|", "").replace(" ", "")) - set("-:"):
        return block
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return html_table((cells[0], cells[2:]))


@dataclass(frozen=True)
class Headline:
    """Trained vs base Pass@1 at the last turn both reached, paired by problem."""

    label: str
    turn: int
    base: float
    other: float
    diff: float
    low: float | None
    high: float | None
    problems: int
    samples: list[int]

    def sentence(self) -> str:
        fewest, most = (min(self.samples), max(self.samples)) if self.samples else (0, 0)
        samples = str(fewest) if fewest == most else f"{fewest}-{most}"
        text = (
            f"{self.label} vs base at turn {self.turn} (the last): Pass@1 {self.base:.3f} → "
            f"{self.other:.3f}, paired difference {self.diff:+.3f}"
        )
        if self.low is not None and self.high is not None:
            text += f" (95% interval {self.low:+.3f} to {self.high:+.3f})"
        return f"{text}; {self.problems} problems × {samples} samples, paired by problem."

    def verdict(self) -> str:
        if self.low is None or self.high is None:
            return "No interval: the metrics hold no per-problem results (re-run the report)."
        if self.low > 0:
            return "The interval is above zero: the trained model is better on these problems."
        if self.high < 0:
            return "The interval is below zero: the trained model is worse on these problems."
        return (
            "The interval includes zero: no difference can be told apart at this size "
            "(more problems or samples narrow it)."
        )


def headline(
    base: dict[str, Any], other: dict[str, Any], label: str = "trained"
) -> Headline | None:
    """Compare two models' ``metrics.json`` at the last turn both reached (None: no turns)."""
    from cobalt_rl.evaluate.experiment import paired_bootstrap

    turn = min(len(base["turns"]), len(other["turns"]))
    if not turn:
        return None
    base_rate, other_rate = base["turns"][turn - 1], other["turns"][turn - 1]
    low = high = None
    diff = other_rate["pass_at_1"] - base_rate["pass_at_1"]
    problems = min(base["problems"], other["problems"])
    per_base, per_other = base.get("per_problem"), other.get("per_problem")
    if per_base and per_other and set(per_base) & set(per_other):
        paired = paired_bootstrap(
            {p: rates[turn - 1] for p, rates in per_base.items()},
            {p: rates[turn - 1] for p, rates in per_other.items()},
        )
        diff, low, high = float(paired["diff"]), float(paired["low"]), float(paired["high"])
        problems = int(paired["problems"])
    samples = sorted(set(base["samples_per_problem"]) | set(other["samples_per_problem"]))
    return Headline(
        label, turn, base_rate["pass_at_1"], other_rate["pass_at_1"], diff, low, high,
        problems, samples,
    )  # fmt: skip


def _cut(attempt: Attempt | None, reply: str) -> str | None:
    """Why a reply looks cut at the token cap, or None: the generator's finish reason when
    the record keeps it; for older records, a code block left open."""
    if attempt is not None and attempt.finish_reason is not None:
        return "cut at the token cap" if attempt.finish_reason == "length" else None
    if reply.count("```") % 2 == 1:
        return "code block left open: likely cut at the token cap"
    return None


def _conversation_html(t: Trajectory) -> str:
    parts = [f"<h4>{html.escape(t.problem_id)} (sample {t.sample})</h4>"]
    replies = 0
    for m in t.messages[1:]:
        note = ""
        if m.role == "assistant":
            attempt = t.attempts[replies] if replies < len(t.attempts) else None
            replies += 1
            cut = _cut(attempt, m.content)
            if cut:
                note = f' <span class="cut">{html.escape(cut)}</span>'
        parts.append(
            f'<div class="msg {m.role}"><b>{m.role}</b>{note}<pre>'
            f"{html.escape(m.content[:3000])}</pre></div>"
        )
    verdicts = ", ".join(
        f"turn {a.turn}: hidden {a.hidden.pass_rate:.2f}" if a.hidden else f"turn {a.turn}: -"
        for a in t.attempts
    )
    parts.append(f"<p><i>{html.escape(verdicts)}</i></p>")
    return "\n".join(parts)


def _examples(path: Path, k: int = 3) -> list[Trajectory]:
    if not path.exists():
        return []
    trajs = list(read_jsonl(path, Trajectory))

    # Prefer trajectories that used feedback: improved on hidden tests after turn 1.
    def gain(t: Trajectory) -> float:
        rates = [a.hidden.pass_rate for a in t.attempts if a.hidden]
        return (max(rates) - rates[0]) if rates else 0.0

    return sorted(trajs, key=lambda t: (-gain(t), t.problem_id, t.sample))[:k]


def _training_rows(path: Path) -> list[dict[str, Any]]:
    """The trainer's log, one row per step: a torn last line (a kill mid-write) is skipped,
    and a step logged again after a resume keeps its last row."""
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = []
    for line in path.read_bytes().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    by_step = {(r.get("step"), "loss" in r): r for r in rows}
    return sorted(by_step.values(), key=lambda r: (r.get("step") or 0, "loss" not in r))


CSS = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:0 12px;color:#222}"
    "pre{white-space:pre-wrap;background:#f6f6f6;padding:6px}"
    ".msg.assistant pre{background:#eef5ff}.msg.user pre{background:#fff6e6}"
    "img{max-width:100%}"
    "table{border-collapse:collapse;margin:8px 0 16px}"
    "th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}"
    "th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
    "caption{text-align:left;font-weight:bold;padding:4px 0}"
    ".headline{background:#f3f8f0;border-left:4px solid #4a8f3c;padding:8px 14px;"
    "font-size:1.1em}"
    ".cut{background:#ffe0e0;color:#900;font-size:.85em;padding:1px 6px;border-radius:3px}"
)


def write_run_report(run_dir: Path, stage_order: Sequence[str] = ()) -> dict[str, Path]:
    """Write ``report/index.html`` and ``report/report.md`` for the run in ``run_dir``.

    The cost table lists the stages in ``stage_order`` (the run's own list), then any other
    finished stage found under ``stages/``.
    """
    rep = run_dir / "report"
    rep.mkdir(parents=True, exist_ok=True)
    runs = [
        (label, m)
        for label in ("base", "trained", "perturbed")  # perturbed: a `hacking` run's 2nd policy
        if (m := _load(rep / label / "metrics.json")) is not None
    ]
    plot = rep / "pass_at_1_base_vs_trained.png"
    plot_pass_at_1(runs, plot)
    train_rows = _training_rows(run_dir / "train" / "metrics.jsonl")
    curves = rep / "training_curves.png"
    has_curves = plot_training_curves(train_rows, curves)
    found = {p.stem: p for p in sorted((run_dir / "stages").glob("*.json"))}
    order = [n for n in stage_order if n in found] + [n for n in found if n not in stage_order]
    stages = {name: json.loads(found[name].read_text()) for name in order}
    by_label = dict(runs)
    headlines = [
        h
        for label, name in (("trained", "Cobalt-trained"), ("perturbed", "Cobalt+perturbation"))
        if "base" in by_label and label in by_label
        if (h := headline(by_label["base"], by_label[label], name)) is not None
    ]

    gap: Table = (["model", "turn", "public solved", "hidden Pass@1", "gap"], [])
    for label, m in runs:
        for t in m["turns"]:
            gap[1].append(
                [label, str(t["turn"]), f"{t['public_solved']:.3f}", f"{t['pass_at_1']:.3f}",
                 f"{t['public_solved'] - t['pass_at_1']:+.3f}"]
            )  # fmt: skip
    cost: Table = (["stage", "seconds", "tokens", "programs executed"], [])
    for name, summary in stages.items():
        cost[1].append(
            [name, f"{summary.get('seconds', 0):.0f}", str(summary.get("tokens", "")),
             str(summary.get("programs", ""))]
        )  # fmt: skip
    gap_note = (
        "Share of samples passing every public test vs Pass@1 on hidden tests; a large "
        "positive gap means overfitting to the public tests."
    )
    from cobalt_rl.hacking.report import run_hacking_section

    hacking = run_hacking_section(run_dir)

    md = ["# cobalt-rl run report", ""]
    for h in headlines:
        md += [f"**{h.sentence()}** {h.verdict()}", ""]
    md += [
        f"Run directory: `{run_dir}`",
        "",
        "## Multi-turn Pass@1 on held-out problems (hidden tests)",
        "",
        "![Pass@1 by turn](pass_at_1_base_vs_trained.png)",
        "",
    ]
    for label, m in runs:
        md += [f"### {label}", "", markdown_table(m), ""]
    md += ["## Public vs hidden", "", gap_note, "", *markdown_rows(gap), ""]
    if has_curves:
        md += ["## Training curves", "", "![training curves](training_curves.png)", ""]
    if hacking is not None:
        md += hacking[0]
    md += ["## Cost", "", *markdown_rows(cost), ""]
    (rep / "report.md").write_text("\n".join(md) + "\n")

    examples = _examples(run_dir / "eval-trained.jsonl") or _examples(run_dir / "eval-base.jsonl")
    body = ["<h1>cobalt-rl run report</h1>"]
    for h in headlines:
        body.append(
            f'<p class="headline"><b>{html.escape(h.sentence())}</b><br>'
            f"{html.escape(h.verdict())}</p>"
        )
    body += [
        f"<p>Run directory: <code>{html.escape(str(run_dir))}</code></p>",
        "<h2>Multi-turn Pass@1 on held-out problems (hidden tests)</h2>",
        _img(plot),
    ]
    for label, m in runs:
        body += [f"<h3>{html.escape(label)}</h3>", f"<p>{html.escape(metrics_summary(m))}</p>"]
        body.append(html_table(turn_table(m)))
        by_difficulty = difficulty_table(m)
        if by_difficulty is not None:
            body.append(html_table(by_difficulty, "Pass@1 by difficulty"))
    body += ["<h2>Public vs hidden</h2>", f"<p>{html.escape(gap_note)}</p>", html_table(gap)]
    if has_curves:
        body += ["<h2>Training curves</h2>", _img(curves)]
    if hacking is not None:
        body += [_markdown_pre_as_table(block) for block in hacking[1]]
    body += [
        "<h2>Example trajectories</h2>",
        *(_conversation_html(t) for t in examples),
        "<h2>Cost</h2>",
        html_table(cost),
    ]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>cobalt-rl report</title>"
        f"<style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    (rep / "index.html").write_text(page)
    return {"html": rep / "index.html", "markdown": rep / "report.md", "plot": plot}
