"""What the stages of a run share: :class:`Run`, a run directory with its config, problem
sets, generators, sandbox, rollouts and scoring; and :class:`StageLog`, the markers of
finished steps that make a run resumable.

Both runners build on them: ``cobalt run`` (:mod:`cobalt_rl.pipeline.runner`) and ``cobalt
experiment`` (:mod:`cobalt_rl.pipeline.experiment`).

What a stage shows: its ``[name] starting`` and ``[name] done`` lines through ``echo``, and
between them one live progress line on the console (:func:`cobalt_rl.console.active`):
problems, attempts, tokens/s, public pass rate and ETA for rollouts; steps, reward and ETA
while a trainer logs to a ``metrics.jsonl`` in the run directory. The last progress line
is repeated in the ``done`` line. Libraries' output goes to ``<run_dir>/run.log``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cobalt_rl import console
from cobalt_rl.episode.config import RolloutConfig
from cobalt_rl.episode.rollout import RolloutProgress
from cobalt_rl.evaluate.metrics import EvalMetrics
from cobalt_rl.llm.base import Generator
from cobalt_rl.llm.registry import GeneratorConfig
from cobalt_rl.pipeline.config import RunConfig, checkpoint_generator
from cobalt_rl.records import Problem
from cobalt_rl.sandbox.base import Sandbox

__all__ = ["BASE", "Evaluation", "GeneratorFactory", "Run", "StageLog", "write_config"]

BASE = "base"
"""The model name a stage uses for the run's base (reference) model; any other model name
is a checkpoint directory relative to the run directory (``train/final``)."""

GeneratorFactory = Callable[[GeneratorConfig], Generator]
"""Builds a generator from its config (:func:`cobalt_rl.llm.make_generator` by default;
tests pass a scripted one)."""


StatusWatch = Callable[[float], str | None]
"""Polled while a step runs, with the step's start (``time.time()``): a progress line, or
None when it has nothing to say."""


class StageLog:
    """The markers of finished steps (``stages/<name>.json``: seconds and summary), and the
    console's progress line while a step runs (``watch`` is polled every second)."""

    def __init__(
        self, directory: Path, echo: Callable[[str], None], watch: StatusWatch | None = None
    ):
        self.directory = directory
        self.echo = echo
        self.watch = watch

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
        with self._ticking(name):
            summary = body()
        seconds = time.perf_counter() - started
        last = console.active().end_status()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.marker(name).write_text(
            json.dumps({"seconds": seconds, **summary}, indent=2, default=str)
        )
        done = f"[{name}] done in {_duration(seconds)}"
        self.echo(f"{done}: {_without_eta(last).strip()}" if last else done)
        sys.stdout.flush()
        return {"seconds": seconds, **summary}

    def _ticking(self, name: str) -> _Ticker:
        return _Ticker(name, self.watch)


class _Ticker:
    """A thread that keeps the step's progress line alive: what ``watch`` reports, else (on a
    terminal only) the time elapsed, so a long step without counters still shows it runs."""

    def __init__(self, name: str, watch: StatusWatch | None, every: float = 1.0):
        self.name = name
        self.watch = watch
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"status-{name}", daemon=True)
        self._started = time.time()

    def __enter__(self) -> _Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        line = self.watch(self._started) if self.watch is not None else None
        if line is not None:  # the last step a trainer logged, for the done line
            console.active().status(line)

    def _run(self) -> None:
        screen = console.active()
        own = ""  # the line this ticker last showed (a rollout's own lines take precedence)
        while not self._stop.wait(self.every):
            line = self.watch(self._started) if self.watch is not None else None
            if line is not None:
                own = line
                screen.status(line)
            elif screen.is_tty() and screen.current_status() in ("", own):
                own = f"  [{self.name}] {_duration(time.time() - self._started)}"
                screen.status(own)


def _duration(seconds: float) -> str:
    """``42 s``, ``3m05s``, ``1h02m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _without_eta(line: str) -> str:
    return line.split(", ETA")[0]


def _eta(done: float, total: float, elapsed: float) -> str:
    """Time left at the rate so far (``?`` before anything is done)."""
    if done <= 0 or total <= done:
        return "?" if total > done else "0 s"
    return _duration(elapsed / done * (total - done))


def rollout_status(name: str, progress: Any, started: float, done_before: int) -> str:
    """The progress line of a rollout: problems, attempts, tokens/s, public pass rate, ETA
    (at the rate of this session: problems done before a resume do not count)."""
    elapsed = max(1e-6, time.perf_counter() - started)
    fresh = progress.problems_done - done_before
    todo = progress.problems_total - done_before
    return (
        f"  {name}: {progress.problems_done}/{progress.problems_total} problems, "
        f"{progress.attempts} attempts, {progress.tokens / elapsed:.0f} tokens/s, "
        f"public pass {progress.pass_rate:.2f}, ETA {_eta(fresh, todo, elapsed)}"
    )


def _signal(row: dict[str, Any]) -> str:
    """The share of GRPO groups whose rewards differ (the rest give no gradient), from TRL's
    ``frac_reward_zero_std``."""
    if "frac_reward_zero_std" not in row:
        return ""
    return f", signal in {1.0 - float(row['frac_reward_zero_std']):.0%} of groups"


def training_status(run_dir: Path, max_steps: int | None) -> StatusWatch:
    """A watch on the trainers' logs in ``run_dir`` (``*/metrics.jsonl`` written since the
    step began): steps, mean reward, solved and pass rates, the share of groups that carry a
    learning signal, and ETA."""

    def watch(since: float) -> str | None:
        logs = [p for p in run_dir.glob("*/metrics.jsonl") if p.stat().st_mtime >= since]
        if not logs:
            return None
        rows = []
        for line in logs[0].read_bytes().splitlines():
            try:
                row = json.loads(line)
            except ValueError:  # the last line, being written
                continue
            if isinstance(row, dict) and "reward" in row:
                rows.append(row)
        if not rows:
            return None
        last = rows[-1]
        step, elapsed = int(last.get("step", len(rows))), time.time() - since
        first_step = int(rows[0].get("step", 1)) - 1  # a resumed trainer starts past 0
        total = f"/{max_steps}" if max_steps else ""
        eta = f", ETA {_eta(step - first_step, (max_steps or 0) - first_step, elapsed)}"
        return (
            f"  {logs[0].parent.name}: step {step}{total}, reward {last['reward']:.3f}"
            + (f", solved {last['solved_rate']:.2f}" if "solved_rate" in last else "")
            + (f", pass rate {last['pass_rate']:.2f}" if "pass_rate" in last else "")
            + _signal(last)
            + (eta if max_steps else "")
        )

    return watch


@dataclass(frozen=True)
class Evaluation:
    """Trajectories scored on hidden tests: their metrics, and what they cost (the programs
    run, and the tokens and attempts of the rollout when the model was rolled out here)."""

    metrics: EvalMetrics
    programs: int
    tokens: int = 0
    attempts: int = 0

    def cost(self) -> dict[str, int]:
        """Tokens generated, attempts made, programs run (rollout and scoring): a stage's
        summary."""
        return {"tokens": self.tokens, "attempts": self.attempts, "programs": self.programs}


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
        watch = training_status(self.dir, cfg.train.max_steps)
        self.log = StageLog(self.dir / "stages", echo, watch)
        self._generator_factory = generator_factory
        console.active().attach_log(self.dir / "run.log")

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

    def progress_line(self, name: str) -> Callable[[RolloutProgress], None]:
        """A rollout's progress callback: the console's live line for the file ``name``."""
        started, done_before = time.perf_counter(), -1
        screen = console.active()

        def show(progress: RolloutProgress) -> None:
            nonlocal done_before
            if done_before < 0:  # the first report: what a resumed rollout found done
                done_before = progress.problems_done
            screen.status(rollout_status(name, progress, started, done_before))

        return show

    def roll_out(
        self, model: str, problems: list[Problem], out: Path, rollout: RolloutConfig
    ) -> dict[str, Any]:
        """Multi-turn episodes of ``model`` on ``problems``, appended to ``out``."""
        from cobalt_rl.episode.rollout import run_rollout

        gen = self.generator(model)
        try:
            with self.sandbox() as sandbox:
                progress = run_rollout(
                    problems, gen, sandbox, str(out), rollout, self.progress_line(out.name)
                )
                programs = sandbox.stats["programs"]
        finally:
            gen.close()
        return {"tokens": progress.tokens, "attempts": progress.attempts, "programs": programs}

    def score(
        self, trajectories: Path, problems: list[Problem], report: Path, label: str
    ) -> Evaluation:
        """Score every attempt on hidden tests; write the per-turn report."""
        from cobalt_rl.evaluate import compute_metrics, score_trajectories
        from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl
        from cobalt_rl.report.metrics import write_report

        by_id = {p.id: p for p in problems}
        with self.sandbox() as sandbox:
            scored = score_trajectories(
                list(read_jsonl(trajectories, Trajectory)), by_id, sandbox, profile=self.cfg.profile
            )
            programs = sandbox.stats["programs"]
        write_jsonl(trajectories, scored)
        metrics = compute_metrics(scored, by_id)
        write_report(metrics, report, label=label)
        screen = console.active()  # the stage's done line ends with the result
        by_turn = ", ".join(f"{rate:.3f}" for rate in metrics.pass_at_1())
        shown = screen.current_status() or f"  {trajectories.name}"
        screen.set_status(f"{_without_eta(shown)}; hidden Pass@1 by turn {by_turn}")
        return Evaluation(metrics, programs)

    def evaluate(
        self,
        model: str,
        problems: list[Problem],
        out: Path,
        report: Path,
        label: str,
        rollout: RolloutConfig,
    ) -> Evaluation:
        """Roll ``model`` out on held-out ``problems`` and score it on hidden tests."""
        cost = self.roll_out(model, problems, out, rollout)
        scored = self.score(out, problems, report, label)
        return Evaluation(
            scored.metrics,
            programs=cost["programs"] + scored.programs,
            tokens=cost["tokens"],
            attempts=cost["attempts"],
        )


def write_config(cfg: Any, path: Path) -> None:
    """The resolved config, as YAML, where the run keeps it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(json.loads(cfg.model_dump_json()), sort_keys=False))
