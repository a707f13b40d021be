"""Export for other training engines: verl on Ray (``cobalt export verl``).

- :mod:`~cobalt_rl.export.verl`: verl's side, the rows it reads and the reward it calls;
  imported by the generated reward module in verl's environment, so it loads on its own with
  cobalt-rl's records, rewards and sandbox (pure Python and pydantic).
- :mod:`~cobalt_rl.export.verl_launch`: the export itself: its config, the reward module's
  text, the launch script, the README, and :func:`export_verl` that writes them all.

``verl_launch`` imports ``verl``, never the reverse.
"""

from cobalt_rl.export.verl import (
    LazySandbox,
    context_to_verl_row,
    parse_ground_truth,
    verl_compute_score,
    verl_compute_score_batch,
    verl_schema,
    write_verl_parquet,
)
from cobalt_rl.export.verl_launch import VerlExport, VerlExportConfig, export_verl

__all__ = [
    "LazySandbox",
    "VerlExport",
    "VerlExportConfig",
    "context_to_verl_row",
    "export_verl",
    "parse_ground_truth",
    "verl_compute_score",
    "verl_compute_score_batch",
    "verl_schema",
    "write_verl_parquet",
]
