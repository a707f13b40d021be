"""What the stages of a run share: :class:`Run`, a run directory with its config, problem
sets, generators, sandbox, rollouts and scoring; and :class:`StageLog`, the markers of
finished steps that make a run resumable.

Both runners build on them: ``cobalt run`` (:mod:`cobalt_rl.pipeline.run`) and ``cobalt
experiment`` (:mod:`cobalt_rl.pipeline.experiment`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import yaml

from cobalt_rl.llm.base import Generator
from cobalt_rl.llm.registry import GeneratorConfig
from cobalt_rl.pipeline.config import RunConfig, checkpoint_generator
from cobalt_rl.records import Problem
from cobalt_rl.rollout import EpisodeConfig
from cobalt_rl.sandbox.base import Sandbox

__all__ = ["BASE", "GeneratorFactory", "Run", "StageLog", "write_config"]

BASE = "base"
"""The model name a stage uses for the run's base (reference) model; any other model name
is a checkpoint directory relative to the run directory (``train/final``)."""

GeneratorFactory = Callable[[GeneratorConfig], Generator]
"""Builds a generator from its config (:func:`cobalt_rl.llm.make_generator` by default;
tests pass a scripted one)."""


class StageLog:
    """The markers of finished steps (``stages/<name>.json``: seconds and summary)."""

    def __init__(self, directory: Path, echo: Callable[[str], None]):
        self.directory = directory
        self.echo = echo

    def marker(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def done(self, name: str) -> bool:
        return self.marker(name).exists()

    def read(self, name: str) -> dict[str, Any]:
        summary: dict[str, Any] = json.loads(self.marker(name).read_text())
        return summary

    def step(self, name: str, body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run ``body`` once: a finished step is skipped and its summary read back."""
        if self.done(name):
            self.echo(f"[{name}] already done, skipped")
            return self.read(name)
        self.echo(f"[{name}] starting")
        started = time.perf_counter()
        summary = body()
        seconds = time.perf_counter() - started
        self.directory.mkdir(parents=True, exist_ok=True)
        self.marker(name).write_text(
            json.dumps({"seconds": seconds, **summary}, indent=2, default=str)
        )
        self.echo(f"[{name}] done in {seconds:.0f} s")
        sys.stdout.flush()
        return {"seconds": seconds, **summary}


class Run:
    """One run directory, its config, and what its stages share."""

    def __init__(
        self,
        cfg: RunConfig,
        echo: Callable[[str], None] = print,
        generator_factory: GeneratorFactory | None = None,
    ):
        self.cfg = cfg
        self.dir = cfg.run_dir
        self.echo = echo
        self.log = StageLog(self.dir / "stages", echo)
        self._generator_factory = generator_factory

    def path(self, name: str) -> Path:
        return self.dir / name

    def problems(self, name: str) -> list[Problem]:
        """The problem set ``problems-<name>.jsonl`` the problems stage wrote."""
        from cobalt_rl.problems import load_problems

        return load_problems(self.path(f"problems-{name}.jsonl"))

    def generator_config(self, model: str) -> GeneratorConfig:
        """How ``model`` (:data:`BASE`, or a checkpoint in the run directory) is rolled out."""
        if model == BASE:
            return self.cfg.generator
        return checkpoint_generator(self.cfg.generator, self.path(model))

    def generator(self, model: str) -> Generator:
        """A generator for ``model`` (:data:`BASE` or a checkpoint in the run directory)."""
        return self.make_generator(self.generator_config(model))

    def make_generator(self, config: GeneratorConfig) -> Generator:
        """A generator built by the run's factory (the library's unless one was given)."""
        if self._generator_factory is not None:
            return self._generator_factory(config)
        from cobalt_rl.llm import make_generator

        return make_generator(config)

    def sandbox(self) -> closing[Sandbox]:
        """The run's sandbox (closed when the ``with`` block ends)."""
        from cobalt_rl.sandbox.factory import make_sandbox

        return closing(make_sandbox(self.cfg.sandbox))

    def token_counter(self) -> Callable[..., int] | None:
        """Counts a prompt's tokens with the policy's tokenizer (None: no length filter)."""
        if not self.cfg.tokenizer_filter:
            return None
        from cobalt_rl.llm.tokens import token_counter

        return token_counter(self.cfg.train.model)

    def roll_out(
        self, model: str, problems: list[Problem], out: Path, episode: EpisodeConfig
    ) -> dict[str, Any]:
        """Multi-turn episodes of ``model`` on ``problems``, appended to ``out``."""
        from cobalt_rl.rollout import RolloutProgress, run_rollout

        gen = self.generator(model)

        def show(progress: RolloutProgress) -> None:
            self.echo(
                f"  {out.name}: {progress.problems_done}/{progress.problems_total} problems, "
                f"{progress.attempts} attempts, public pass {progress.pass_rate:.2f}, "
                f"{progress.tokens} tokens"
            )

        try:
            with self.sandbox() as sandbox:
                progress = run_rollout(problems, gen, sandbox, str(out), episode, show)
                programs = sandbox.stats["programs"]
        finally:
            gen.close()
        return {"tokens": progress.tokens, "attempts": progress.attempts, "programs": programs}

    def score(
        self, trajectories: Path, problems: list[Problem], report: Path, label: str
    ) -> dict[str, Any]:
        """Score every attempt on hidden tests; write the per-turn report."""
        from cobalt_rl.evaluate import compute_metrics, score_trajectories, write_report
        from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl

        by_id = {p.id: p for p in problems}
        with self.sandbox() as sandbox:
            scored = score_trajectories(list(read_jsonl(trajectories, Trajectory)), by_id, sandbox)
            programs = sandbox.stats["programs"]
        write_jsonl(trajectories, scored)
        metrics = compute_metrics(scored, by_id)
        write_report(metrics, report, label=label)
        return {"programs": programs, "metrics": metrics}

    def evaluate(
        self,
        model: str,
        problems: list[Problem],
        out: Path,
        report: Path,
        label: str,
        episode: EpisodeConfig,
    ) -> dict[str, Any]:
        """Roll ``model`` out on held-out ``problems`` and score it on hidden tests."""
        cost = self.roll_out(model, problems, out, episode)
        scored = self.score(out, problems, report, label)
        return {**cost, "programs": cost["programs"] + scored["programs"], **scored}


def write_config(cfg: Any, path: Path) -> None:
    """The resolved config, as YAML, where the run keeps it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(json.loads(cfg.model_dump_json()), sort_keys=False))
