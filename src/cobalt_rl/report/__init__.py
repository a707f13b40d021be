"""Every file the report writes, one module per output:

- :mod:`~cobalt_rl.report.metrics`: one model's ``metrics.json``, ``pass_at_1.md`` and
  ``pass_at_1.png`` (``cobalt evaluate``, each evaluation of a run), and its tables;
- :mod:`~cobalt_rl.report.hacking`: one model's ``hacking.json`` / ``hacking.md``, and the run
  report's hacking section;
- :mod:`~cobalt_rl.report.inputs`, :mod:`~cobalt_rl.report.markdown`,
  :mod:`~cobalt_rl.report.html`, :mod:`~cobalt_rl.report.run`: the run report, read from a
  run directory, then written as ``report/report.md`` and ``report/index.html``;
- :mod:`~cobalt_rl.report.experiment`: ``cobalt experiment``'s ``results.json``/``results.md``;
- :mod:`~cobalt_rl.report.plots`: every PNG; :mod:`~cobalt_rl.report.blocks`: tables and
  embedded images, in markdown and HTML.

The numbers come from :mod:`cobalt_rl.evaluate` and :mod:`cobalt_rl.hacking` as typed models
and become JSON only here, where a file is written. Imports go one way: this package reads
``evaluate`` and ``hacking``, neither reads it; the pipeline calls it.
"""

from cobalt_rl.report.blocks import Table, embedded_png, html_table, markdown_rows
from cobalt_rl.report.experiment import results_markdown, write_experiment_report
from cobalt_rl.report.hacking import (
    HackingSection,
    hacking_html,
    hacking_markdown,
    load_hacking_report,
    read_hacking_section,
    write_hacking_report,
)
from cobalt_rl.report.inputs import Headline, RunPlots, RunReport, headline, read_run_report
from cobalt_rl.report.metrics import MetricsFile, markdown_table, read_metrics, write_report
from cobalt_rl.report.plots import (
    FeedbackUseDrawn,
    plot_feedback_use,
    plot_hacking_rates,
    plot_pass_at_1,
    plot_results,
    plot_training,
    plot_training_curves,
)
from cobalt_rl.report.run import write_run_report

__all__ = [
    "FeedbackUseDrawn",
    "HackingSection",
    "Headline",
    "MetricsFile",
    "RunPlots",
    "RunReport",
    "Table",
    "embedded_png",
    "hacking_html",
    "hacking_markdown",
    "headline",
    "html_table",
    "load_hacking_report",
    "markdown_rows",
    "markdown_table",
    "plot_feedback_use",
    "plot_hacking_rates",
    "plot_pass_at_1",
    "plot_results",
    "plot_training",
    "plot_training_curves",
    "read_hacking_section",
    "read_metrics",
    "read_run_report",
    "results_markdown",
    "write_experiment_report",
    "write_hacking_report",
    "write_report",
    "write_run_report",
]
