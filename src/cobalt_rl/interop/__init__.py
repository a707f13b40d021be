"""Other tools' file formats, read into our records and written back from them.

- :mod:`.cobalt_reference`: the Cobalt reference repository's (OSU-NLP-Group/cobalt)
  multi-turn trajectories and bandit contexts. Its problem rows are a problem source
  (``cobalt problems convert --source cobalt``, :mod:`cobalt_rl.problems.cobalt`).
"""

from __future__ import annotations

from cobalt_rl.interop import cobalt_reference
from cobalt_rl.interop.cobalt_reference import *  # noqa: F403  (its public names)

__all__ = cobalt_reference.__all__
