"""The run report as markdown (``report/report.md``): the same sections as the HTML page, with
the plots beside it as files."""

from __future__ import annotations

from cobalt_rl.report.blocks import markdown_rows
from cobalt_rl.report.hacking import section_markdown
from cobalt_rl.report.inputs import GAP_NOTE, RunPlots, RunReport
from cobalt_rl.report.metrics import markdown_table

__all__ = ["run_markdown"]


def run_markdown(report: RunReport, plots: RunPlots) -> str:
    """Headlines, Pass@1 by turn per model, public vs hidden, training curves, the hacking
    section and the cost of each stage."""
    lines = ["# cobalt-rl run report", ""]
    for found in report.headlines:
        lines += [f"**{found.sentence()}** {found.verdict()}", ""]
    lines += [
        f"Run directory: `{report.run_dir}`",
        "",
        "## Multi-turn Pass@1 on held-out problems (hidden tests)",
        "",
        f"![Pass@1 by turn]({plots.pass_at_1.name})",
        "",
    ]
    for label, metrics in report.models.items():
        lines += [f"### {label}", "", markdown_table(metrics), ""]
    lines += ["## Public vs hidden", "", GAP_NOTE, "", *markdown_rows(report.gap_table()), ""]
    if plots.training is not None:
        lines += ["## Training curves", "", f"![training curves]({plots.training.name})", ""]
    if report.hacking is not None and plots.hacking is not None:
        lines += section_markdown(report.hacking, plots.hacking)
    lines += ["## Cost", "", *markdown_rows(report.cost_table()), ""]
    return "\n".join(lines) + "\n"
