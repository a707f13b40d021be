"""``cobalt run CONFIG.yaml``: every stage of the method, in order, in one run directory.

:func:`run_pipeline` goes through the config's stage list (:mod:`cobalt_rl.pipeline.stages`)
over one :class:`~cobalt_rl.pipeline.run.Run`: each finished stage leaves
``stages/<name>.json`` (its seconds and summary); a run started again skips finished stages,
and unfinished ones resume (rollouts append, training restarts from its last checkpoint).
``--from STAGE`` re-runs from that stage on: the outputs the list names for the re-run stages
are moved aside to ``<name>.old-<time>``, never deleted. The config is validated, and the
resolved config written to ``config.yaml``, before any model loads. On a GPU each stage that
loads a model runs in a process of its own (:mod:`cobalt_rl.pipeline.process`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from cobalt_rl.errors import ConfigError
from cobalt_rl.pipeline.config import RunConfig
from cobalt_rl.pipeline.process import own_processes, run_in_own_process
from cobalt_rl.pipeline.run import GeneratorFactory, Run, write_config
from cobalt_rl.pipeline.stages import Stage, stages_for

__all__ = ["run_pipeline"]


def run_pipeline(
    cfg: RunConfig,
    from_stage: str | None = None,
    echo: Callable[[str], None] = print,
    generator_factory: GeneratorFactory | None = None,
) -> Path:
    """Run (or resume) every stage of ``cfg``; returns the report's path."""
    run = Run(cfg, echo, generator_factory)
    stages = stages_for(cfg)
    names = [s.name for s in stages]
    if from_stage is not None and from_stage not in names:
        raise ConfigError(
            f"unknown stage {from_stage!r} for this config; stages: {', '.join(names)}"
        )
    write_config(cfg, run.dir / "config.yaml")
    from cobalt_rl.train.memory import preflight

    preflight(cfg.train)  # a run whose training cannot fit stops before any model loads
    if from_stage is not None:
        _move_aside(run, stages[names.index(from_stage) :])
    own = own_processes(cfg, custom_generators=generator_factory is not None)
    for stage in stages:
        if own and stage.loads_model:
            run.log.step(stage.name, partial(run_in_own_process, cfg, stage.name))
        else:
            run.log.step(stage.name, partial(stage.body, run))
    return run.path("report/index.html")


def _move_aside(run: Run, stages: Sequence[Stage]) -> None:
    """Forget the stages to re-run and move their outputs aside (never deleted)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for stage in stages:
        run.log.marker(stage.name).unlink(missing_ok=True)
        for name in stage.outputs:
            output = run.path(name)
            if output.exists():
                shutil.move(str(output), f"{output}.old-{stamp}")
