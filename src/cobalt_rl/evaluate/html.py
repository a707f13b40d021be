"""The run report people look at: ``report/index.html`` (self-contained) and ``report.md``.

Sections: per-turn Pass@1 of base vs trained (plot and table, with problems, samples and a
95% interval), training curves (reward, pass rate, KL, completion length, format failures),
the public-vs-hidden gap, example trajectories rendered as conversations with their
feedback, and cost (wall time per stage, tokens generated, programs executed). Plots are
embedded as base64 PNGs so the page reads offline.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cobalt_rl.evaluate.report import markdown_table, plot_pass_at_1
from cobalt_rl.records import Trajectory, read_jsonl

__all__ = ["plot_training_curves", "write_run_report"]

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


def _conversation_html(t: Trajectory) -> str:
    parts = [f"<h4>{html.escape(t.problem_id)} (sample {t.sample})</h4>"]
    for m in t.messages[1:]:
        parts.append(
            f'<div class="msg {m.role}"><b>{m.role}</b><pre>'
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
    train_rows = []
    metrics_file = run_dir / "train" / "metrics.jsonl"
    if metrics_file.exists():
        train_rows = [json.loads(line) for line in metrics_file.read_text().splitlines() if line]
    curves = rep / "training_curves.png"
    has_curves = plot_training_curves(train_rows, curves)
    found = {p.stem: p for p in sorted((run_dir / "stages").glob("*.json"))}
    order = [n for n in stage_order if n in found] + [n for n in found if n not in stage_order]
    stages = {name: json.loads(found[name].read_text()) for name in order}

    md = [
        "# cobalt-rl run report",
        "",
        f"Run directory: `{run_dir}`",
        "",
        "## Multi-turn Pass@1 on held-out problems (hidden tests)",
        "",
        "![Pass@1 by turn](pass_at_1_base_vs_trained.png)",
        "",
    ]
    for label, m in runs:
        md += [f"### {label}", "", markdown_table(m), ""]
    gap = ["| model | turn | public solved | hidden Pass@1 | gap |", "|---|---|---|---|---|"]
    for label, m in runs:
        for t in m["turns"]:
            gap.append(
                f"| {label} | {t['turn']} | {t['public_solved']:.3f} | "
                f"{t['pass_at_1']:.3f} | {t['public_solved'] - t['pass_at_1']:+.3f} |"
            )
    md += [
        "## Public vs hidden",
        "",
        "Share of samples passing every public test vs Pass@1 on "
        "hidden tests; a large positive gap means overfitting to the public tests.",
        "",
        *gap,
        "",
    ]
    if has_curves:
        md += ["## Training curves", "", "![training curves](training_curves.png)", ""]
    from cobalt_rl.hacking.report import run_hacking_section

    hacking = run_hacking_section(run_dir)
    if hacking is not None:
        md += hacking[0]
    cost = ["| stage | seconds | tokens | programs executed |", "|---|---|---|---|"]
    for name, s in stages.items():
        cost.append(
            f"| {name} | {s.get('seconds', 0):.0f} | {s.get('tokens', '')} | "
            f"{s.get('programs', '')} |"
        )
    md += ["## Cost", "", *cost, ""]
    (rep / "report.md").write_text("\n".join(md) + "\n")

    examples = _examples(run_dir / "eval-trained.jsonl") or _examples(run_dir / "eval-base.jsonl")
    body = [
        "<h1>cobalt-rl run report</h1>",
        f"<p>Run directory: <code>{html.escape(str(run_dir))}</code></p>",
        "<h2>Multi-turn Pass@1 on held-out problems (hidden tests)</h2>",
        _img(plot),
    ]
    for label, m in runs:
        body.append(f"<h3>{label}</h3><pre>{html.escape(markdown_table(m))}</pre>")
    body += ["<h2>Public vs hidden</h2>", f"<pre>{html.escape(chr(10).join(gap))}</pre>"]
    if has_curves:
        body += ["<h2>Training curves</h2>", _img(curves)]
    if hacking is not None:
        body += hacking[1]
    body += [
        "<h2>Example trajectories</h2>",
        *(_conversation_html(t) for t in examples),
        "<h2>Cost</h2>",
        f"<pre>{html.escape(chr(10).join(cost))}</pre>",
    ]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>cobalt-rl report</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:6px}"
        ".msg.assistant pre{background:#eef5ff}.msg.user pre{background:#fff6e6}"
        "img{max-width:100%}</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    (rep / "index.html").write_text(page)
    return {"html": rep / "index.html", "markdown": rep / "report.md", "plot": plot}
