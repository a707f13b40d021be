"""``cobalt run``'s report: read what the run left (:mod:`~cobalt_rl.report.inputs`), draw
the plots, write ``report/report.md`` and the self-contained ``report/index.html``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cobalt_rl.report.html import run_html
from cobalt_rl.report.inputs import RunPlots, RunReport, read_run_report
from cobalt_rl.report.markdown import run_markdown
from cobalt_rl.report.plots import plot_hacking_rates, plot_pass_at_1, plot_training_curves

__all__ = ["draw_run_plots", "write_run_report"]


def draw_run_plots(report: RunReport, out_dir: Path) -> RunPlots:
    """The run report's PNGs, into ``out_dir``: Pass@1 by turn of every model, the training
    curves and the hacking rates (when the run has them)."""
    pass_at_1 = out_dir / "pass_at_1_base_vs_trained.png"
    plot_pass_at_1(list(report.models.items()), pass_at_1)
    curves = out_dir / "training_curves.png"
    training = curves if plot_training_curves(report.training, curves) else None
    hacking = None
    if report.hacking is not None:
        hacking = out_dir / "hacking_rates.png"
        plot_hacking_rates(report.hacking.reports, hacking)
    return RunPlots(pass_at_1, training, hacking)


def write_run_report(run_dir: Path, stage_order: Sequence[str] = ()) -> dict[str, Path]:
    """Write ``report/index.html`` and ``report/report.md`` for the run in ``run_dir``.

    The cost table lists the stages in ``stage_order`` (the run's own list), then any other
    finished stage found under ``stages/``.
    """
    out_dir = run_dir / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = read_run_report(run_dir, stage_order)
    plots = draw_run_plots(report, out_dir)
    paths = {"html": out_dir / "index.html", "markdown": out_dir / "report.md"}
    paths["markdown"].write_text(run_markdown(report, plots))
    paths["html"].write_text(run_html(report, plots))
    return {**paths, "plot": plots.pass_at_1}
