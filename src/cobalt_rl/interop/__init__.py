"""Other tools' file formats, read into our records and written back from them.

- :mod:`.cobalt_reference`: the Cobalt reference repository's (OSU-NLP-Group/cobalt)
  multi-turn trajectories and bandit contexts. Its problem rows are a problem source
  (``cobalt problems convert --source cobalt``, :mod:`cobalt_rl.problems.cobalt`).
"""

from __future__ import annotations

from cobalt_rl.interop.cobalt_reference import (
    Translated,
    export_contexts,
    export_trajectories,
    import_contexts,
    import_trajectories,
    write_rows,
)

__all__ = [
    "Translated",
    "export_contexts",
    "export_trajectories",
    "import_contexts",
    "import_trajectories",
    "write_rows",
]
