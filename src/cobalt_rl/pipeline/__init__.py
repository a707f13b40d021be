"""Runners: ``cobalt run`` (:mod:`~cobalt_rl.pipeline.run`) and ``cobalt experiment``."""

from cobalt_rl.pipeline.run import *  # noqa: F403  (temporary while the package is rebuilt)
from cobalt_rl.pipeline.run import _Run  # noqa: F401
