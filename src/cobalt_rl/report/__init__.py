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
``evaluate`` and ``hacking``, neither reads it; the pipeline calls it. The package exports
the entry points, one writer per command that writes files; the rest is in its module.
"""

from cobalt_rl.report.experiment import write_experiment_report
from cobalt_rl.report.hacking import write_hacking_report
from cobalt_rl.report.metrics import write_report
from cobalt_rl.report.run import write_run_report

__all__ = ["write_experiment_report", "write_hacking_report", "write_report", "write_run_report"]
