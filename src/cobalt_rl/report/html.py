"""The run report people look at: ``report/index.html``, one self-contained page.

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

import html

from cobalt_rl.records import Attempt, Trajectory
from cobalt_rl.report.blocks import embedded_png, html_table
from cobalt_rl.report.hacking import section_html
from cobalt_rl.report.inputs import GAP_NOTE, RunPlots, RunReport
from cobalt_rl.report.metrics import difficulty_table, metrics_summary, turn_table

__all__ = ["CSS", "run_html"]

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


def _cut(attempt: Attempt | None, reply: str) -> str | None:
    """Why a reply looks cut at the token cap, or None: the generator's finish reason when
    the record keeps it; for older records, a code block left open."""
    if attempt is not None and attempt.finish_reason is not None:
        return "cut at the token cap" if attempt.finish_reason == "length" else None
    if reply.count("```") % 2 == 1:
        return "code block left open: likely cut at the token cap"
    return None


def _conversation_html(trajectory: Trajectory) -> str:
    parts = [f"<h4>{html.escape(trajectory.problem_id)} (sample {trajectory.sample})</h4>"]
    replies = 0
    for message in trajectory.messages[1:]:
        note = ""
        if message.role == "assistant":
            attempts = trajectory.attempts
            attempt = attempts[replies] if replies < len(attempts) else None
            replies += 1
            cut = _cut(attempt, message.content)
            if cut:
                note = f' <span class="cut">{html.escape(cut)}</span>'
        parts.append(
            f'<div class="msg {message.role}"><b>{message.role}</b>{note}<pre>'
            f"{html.escape(message.content[:3000])}</pre></div>"
        )
    verdicts = ", ".join(
        f"turn {a.turn}: hidden {a.hidden.pass_rate:.2f}" if a.hidden else f"turn {a.turn}: -"
        for a in trajectory.attempts
    )
    parts.append(f"<p><i>{html.escape(verdicts)}</i></p>")
    return "\n".join(parts)


def _pass_at_1_html(report: RunReport, plots: RunPlots) -> list[str]:
    """The plot of Pass@1 by turn, then each model's tables."""
    parts = [
        "<h2>Multi-turn Pass@1 on held-out problems (hidden tests)</h2>",
        embedded_png(plots.pass_at_1),
    ]
    for label, metrics in report.models.items():
        parts += [
            f"<h3>{html.escape(label)}</h3>",
            f"<p>{html.escape(metrics_summary(metrics))}</p>",
        ]
        parts.append(html_table(turn_table(metrics)))
        by_difficulty = difficulty_table(metrics)
        if by_difficulty is not None:
            parts.append(html_table(by_difficulty, "Pass@1 by difficulty"))
    return parts


def run_html(report: RunReport, plots: RunPlots) -> str:
    """The whole page: headlines, Pass@1, public vs hidden, training curves, the hacking
    section, example trajectories and cost."""
    body = ["<h1>cobalt-rl run report</h1>"]
    for found in report.headlines:
        body.append(
            f'<p class="headline"><b>{html.escape(found.sentence())}</b><br>'
            f"{html.escape(found.verdict())}</p>"
        )
    body.append(f"<p>Run directory: <code>{html.escape(str(report.run_dir))}</code></p>")
    body += _pass_at_1_html(report, plots)
    body += ["<h2>Public vs hidden</h2>", f"<p>{html.escape(GAP_NOTE)}</p>"]
    body.append(html_table(report.gap_table()))
    if plots.training is not None:
        body += ["<h2>Training curves</h2>", embedded_png(plots.training)]
    if report.hacking is not None and plots.hacking is not None:
        body += section_html(report.hacking, plots.hacking)
    body += [
        "<h2>Example trajectories</h2>",
        *(_conversation_html(t) for t in report.examples),
        "<h2>Cost</h2>",
        html_table(report.cost_table()),
    ]
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>cobalt-rl report</title>"
        f"<style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>"
    )
