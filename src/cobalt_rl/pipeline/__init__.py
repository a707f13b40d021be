"""The runners: ``cobalt run`` and ``cobalt experiment``.

- :mod:`~cobalt_rl.pipeline.config`: the run config (typed sections) and problem sets;
- :mod:`~cobalt_rl.pipeline.stages`: the stages of a run, as data, in the algorithm's order;
- :mod:`~cobalt_rl.pipeline.run`: :class:`Run`, a run directory and what its stages
  share (generators, sandbox, rollouts, scoring), and the markers that make runs resumable;
- :mod:`~cobalt_rl.pipeline.runner`: :func:`run_pipeline`, ``cobalt run`` over the stage list;
- :mod:`~cobalt_rl.pipeline.experiment`: the learning experiment over methods and seeds.
"""

from cobalt_rl.pipeline.config import HackingConfig, ProblemSet, RunConfig, load_run_config
from cobalt_rl.pipeline.run import BASE, GeneratorFactory, Run
from cobalt_rl.pipeline.runner import run_pipeline
from cobalt_rl.pipeline.stages import (
    ALL_STAGES,
    HACKING_STAGES,
    STAGES,
    Stage,
    stage_list,
    stages_for,
)

__all__ = [
    "ALL_STAGES",
    "BASE",
    "HACKING_STAGES",
    "STAGES",
    "GeneratorFactory",
    "HackingConfig",
    "ProblemSet",
    "Run",
    "RunConfig",
    "Stage",
    "load_run_config",
    "run_pipeline",
    "stage_list",
    "stages_for",
]
