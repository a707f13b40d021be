"""``cobalt experiment CONFIG.yaml``: base vs Cobalt vs the online baselines, over seeds.

The learning experiment (``configs/experiment.yaml``): one offline dataset (the reference
model's trajectories on the training problems, scored, cut into contexts: the first stages of
``cobalt run``, in ``shared/``), then for every seed and every method (each a full
:data:`~cobalt_rl.train.config.TrainConfig`: ``bandit`` is Cobalt, ``multiturn`` online
multi-turn GRPO) a training run with the SAME wall-clock budget, then multi-turn evaluation of
the base model and every trained model on every held-out set, scored on hidden tests. Results
are aggregated over seeds (:mod:`cobalt_rl.evaluate.experiment`): Pass@1 by turn, mean and a
95% t-interval across seeds, plus each seed's value, written (:mod:`cobalt_rl.report.experiment`)
to ``results.json``, ``results.md``, ``pass_at_1.png``, ``feedback_use.png`` and
``training.png``.

Every cell leaves a marker under ``stages/``; a run started again skips finished cells and
resumes unfinished ones (rollouts append, training restarts from its last checkpoint).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.episode.config import RolloutConfig
from cobalt_rl.errors import ConfigError
from cobalt_rl.evaluate.experiment import (
    CurvePoint,
    EvalCell,
    ExperimentCells,
    RepairCell,
    TrainCell,
    eval_cell,
    repair_cell,
    train_cell,
)
from cobalt_rl.pipeline.config import ProblemSet, RunConfig, given_fields, train_defaults
from cobalt_rl.pipeline.process import call_in_own_process, own_processes, run_in_own_process
from cobalt_rl.pipeline.run import BASE, GeneratorFactory, Run, StageLog, write_config
from cobalt_rl.profiles import DEFAULT_PROFILE
from cobalt_rl.train.config import TrainConfig

__all__ = ["EvalSet", "ExperimentConfig", "load_experiment_config", "run_experiment"]

SHARED_STAGES = ("problems", "rollout", "score", "replay", "contexts")
"""The stages of ``cobalt run`` that make the offline data every method and seed shares."""

CellT = TypeVar("CellT", TrainCell, EvalCell, RepairCell)
"""What one cell of the experiment records in its marker."""


class EvalSet(ProblemSet):
    """A held-out problem set for evaluation (only problems with public tests, by default:
    feedback needs them)."""

    @model_validator(mode="before")
    @classmethod
    def _public_tests_by_default(cls, data: Any) -> Any:
        """``require_public_tests`` defaults to true here (ProblemSet's field)."""
        if isinstance(data, dict) and "require_public_tests" not in data:
            return {**data, "require_public_tests": True}
        return data


class ExperimentConfig(BaseModel):
    """The learning experiment (``configs/experiment.yaml``): a run config for the shared
    offline data and the evaluations, the methods trained on it, and the seeds."""

    model_config = ConfigDict(extra="forbid")

    out_dir: Path = Field(description="Where every artifact of the experiment goes.")
    estimated_minutes: float | None = Field(None, description="Announced before it starts.")
    run: RunConfig = Field(
        description="The shared offline data and how every model is rolled out and evaluated: "
        "a `cobalt run` config (profile, generator, sandbox, sampling, train_problems, "
        "rollout, replay, contexts, eval) whose run_dir is OUT_DIR/shared; its `train` "
        "section is unused (each method has its own).",
    )
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="Training/eval seeds.")
    eval_sets: dict[str, EvalSet] = Field(
        default_factory=lambda: {"bundled-test": EvalSet(split="test")},
        min_length=1,
        description="Held-out sets by name.",
    )
    methods: dict[str, TrainConfig] = Field(
        min_length=1,
        description="Trained methods by name, each a `cobalt train` config (mode, ...); the "
        "file's `train:` mapping is shared by every method under its own options.",
    )
    train_seconds: float = Field(
        gt=0, description="Wall-clock budget of every training run (equal for all methods)."
    )
    repair_samples: int = Field(
        1,
        ge=0,
        description="Repairs sampled per held-out scripted failure (each eval set's problems' "
        "known-wrong solutions with their real feedback), for repair@1; 0: none. With 67 "
        "failures on the bundled test split, 8 resolve a 5-point difference "
        "(docs/results.md).",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        """The shared run (its directory, the first eval set as its held-out problems), and
        each method: the shared ``train`` options, its own over them, and the run's paths,
        model, sandbox, profile, sampling and the time budget."""
        if not isinstance(data, dict) or "out_dir" not in data:
            return data
        data = dict(data)
        shared = data.pop("train", None) or {}
        methods = data.get("methods", {"cobalt": {"mode": "bandit"}})
        run = data.get("run") or {}
        if not isinstance(shared, dict) or not isinstance(methods, dict):
            return data
        if not isinstance(run, dict):
            return data  # the field's own validation says what is wrong
        if BASE in methods:
            raise ValueError(f"'{BASE}' is the untrained model: name methods otherwise")
        out_dir = Path(data["out_dir"])
        first = next(iter((data.get("eval_sets") or {"bundled-test": {"split": "test"}}).values()))
        run = {"train": {}, "eval_problems": first, **run, "run_dir": out_dir / "shared"}
        run.setdefault("generator", {"backend": "embedded"})
        data["run"] = run
        data["methods"] = {
            name: train_defaults(
                {**shared, **options, "max_seconds": data.get("train_seconds")}
                if isinstance(options, dict)
                else options,
                run_dir=out_dir / "shared",
                generator=run["generator"],
                sandbox=run.get("sandbox"),
                out=out_dir / name,
                profile=run.get("profile", DEFAULT_PROFILE),
                sampling=given_fields(run.get("sampling")),
            )
            for name, options in methods.items()
        }
        return data

    def train_config(self, method: str, seed: int) -> TrainConfig:
        """``method``'s training config for ``seed`` (its own output directory)."""
        out = self.out_dir / f"seed-{seed}" / method
        return self.methods[method].model_copy(update={"seed": seed, "out": out})

    def eval_rollout(self, seed: int, turns: int | None = None) -> RolloutConfig:
        """The run's evaluation rollouts, sampled with ``seed`` (and ``turns`` where given)."""
        rollout = self.run.eval
        update: dict[str, Any] = {"sampling": rollout.sampling.model_copy(update={"seed": seed})}
        if turns is not None:
            update["episode"] = rollout.episode.model_copy(update={"turns": turns})
        return rollout.model_copy(update=update)


def load_experiment_config(path: Path) -> ExperimentConfig:
    """Read and validate an experiment config (every method's training too)."""
    from cobalt_rl.config_io import read_yaml_mapping, validate_config

    return validate_config(ExperimentConfig, read_yaml_mapping(path), where=str(path))


class _Experiment:
    """The cells of one experiment: the shared offline data, training and evaluation."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        echo: Callable[[str], None],
        generator_factory: GeneratorFactory | None,
    ):
        self.cfg = cfg
        self.echo = echo
        self.shared = Run(cfg.run, echo, generator_factory)
        self.cells = StageLog(cfg.out_dir / "stages", echo)
        self.own_processes = own_processes(cfg.run, generator_factory is not None)

    def prepare(self) -> None:
        """The shared offline data, then the held-out sets."""
        from cobalt_rl.pipeline.stages import stages_for

        for stage in stages_for(self.shared.cfg):
            if stage.name in SHARED_STAGES:
                body = (
                    partial(run_in_own_process, self.shared.cfg, stage.name)
                    if self.own_processes and stage.loads_model
                    else partial(stage.body, self.shared)
                )
                self.cells.step(f"shared-{stage.name}", body)
        self.cells.step("eval-sets", self.write_eval_sets)

    def write_eval_sets(self) -> dict[str, Any]:
        from cobalt_rl.records import write_jsonl

        counts = {}
        for name, eval_set in self.cfg.eval_sets.items():
            problems, _ = eval_set.load()
            if not problems:
                raise ConfigError(f"eval set {name!r} has no problems")
            write_jsonl(self.cfg.out_dir / f"problems-{name}.jsonl", problems)
            counts[name] = len(problems)
            self.echo(f"  {name}: {len(problems)} problems")
        return counts

    def cell(self, name: str, kind: type[CellT], method: str, *args: Any) -> CellT:
        """Run the cell ``name`` (this object's ``method`` with ``args``) once, in a process
        of its own where the run says so; a finished one is read back from its marker."""

        def body() -> dict[str, Any]:
            if self.own_processes:
                what = f"cell {name!r}"
                result = call_in_own_process(_cell_in_child, (self.cfg, method, args), what)
            else:
                result = getattr(self, method)(*args)
            # The marker's own wall-clock is the cell's ``seconds``: the body's is left out.
            dumped: dict[str, Any] = result.model_dump(mode="json", exclude={"seconds"})
            return dumped

        return kind.model_validate(self.cells.step(name, body))

    def train(self, method: str, seed: int) -> TrainCell:
        from cobalt_rl.train import train

        config = self.cfg.train_config(method, seed)
        final = train(config)
        steps = logged_steps(config.out / "metrics.jsonl")
        rewards = [r["reward"] for r in steps if "reward" in r]
        return TrainCell(
            final=str(final),
            steps=len(steps),
            train_seconds=sum(r.get("step_seconds", 0.0) for r in steps),
            mean_reward=statistics.fmean(rewards) if rewards else None,
        )

    def evaluate(self, model: str, label: str, seed: int, set_name: str) -> EvalCell:
        from cobalt_rl.problems import load_problems

        seed_dir = self.cfg.out_dir / f"seed-{seed}"
        problems = load_problems(self.cfg.out_dir / f"problems-{set_name}.jsonl")
        result = self.shared.evaluate(
            model,
            problems,
            seed_dir / f"eval-{set_name}-{label}.jsonl",
            seed_dir / "report" / f"{set_name}-{label}",
            label,
            self.cfg.eval_rollout(seed),
        )
        metrics = result.metrics
        return EvalCell(
            tokens=result.tokens,
            attempts=result.attempts,
            programs=result.programs,
            problems=len(problems),
            pass_at_1=metrics.pass_at_1(),
            public_solved=[turn.public_solved for turn in metrics.turns],
            repair=metrics.repair,
            per_problem=metrics.per_problem,
        )

    def evaluate_repair(self, model: str, label: str, seed: int, set_name: str) -> RepairCell:
        """repair@1: each held-out scripted failure (a known-wrong program, run for real, its
        feedback shown) gets one repair from ``model``, scored on hidden tests."""
        from cobalt_rl.contexts.replay_reference import replay_rollout, scripted_failures
        from cobalt_rl.problems import load_problems

        seed_dir = self.cfg.out_dir / f"seed-{seed}"
        problems = load_problems(self.cfg.out_dir / f"problems-{set_name}.jsonl")
        sequences = scripted_failures(problems, self.cfg.repair_samples)
        out = seed_dir / f"repair-{set_name}-{label}.jsonl"
        episode = self.cfg.eval_rollout(seed, turns=2)
        generator = self.shared.generator(model)
        try:
            with self.shared.sandbox() as sandbox:
                replay_rollout(
                    problems,
                    sequences,
                    sandbox,
                    out,
                    episode,
                    then=generator,
                    on_progress=self.shared.progress_line(out.name),
                )
        finally:
            generator.close()
        scored = self.shared.score(
            out, problems, seed_dir / "report" / f"repair-{set_name}-{label}", label
        )
        by_turn = scored.metrics.pass_at_1()
        return RepairCell(
            programs=scored.programs,
            failures=sum(len(v) for v in sequences.values()) // self.cfg.repair_samples,
            repair_at_1=by_turn[1] if len(by_turn) > 1 else 0.0,
            per_problem=scored.metrics.per_problem,
        )

    def has_scripted_failures(self, set_name: str) -> bool:
        from cobalt_rl.contexts.replay_reference import scripted_failures
        from cobalt_rl.problems import load_problems

        problems = load_problems(self.cfg.out_dir / f"problems-{set_name}.jsonl")
        return self.cfg.repair_samples > 0 and bool(scripted_failures(problems))

    def run_seed(self, seed: int, cells: ExperimentCells) -> None:
        """Train every method for ``seed``, then evaluate base and trained models."""
        models = {BASE: BASE}
        for method in self.cfg.methods:
            name = train_cell(seed, method)
            cells.train[name] = self.cell(name, TrainCell, "train", method, seed)
            models[method] = cells.train[name].final
        for label, model in models.items():
            model = model if model == BASE else str(Path(model).resolve())
            for set_name in self.cfg.eval_sets:
                name = eval_cell(seed, set_name, label)
                args = (model, label, seed, set_name)
                cells.eval[name] = self.cell(name, EvalCell, "evaluate", *args)
                if self.has_scripted_failures(set_name):
                    name = repair_cell(seed, set_name, label)
                    cells.repair[name] = self.cell(name, RepairCell, "evaluate_repair", *args)


def _cell_in_child(cfg: ExperimentConfig, method: str, args: tuple[Any, ...]) -> Any:
    """An experiment's cell in a process of its own (:mod:`cobalt_rl.pipeline.process`)."""
    return getattr(_Experiment(cfg, print, None), method)(*args)


def logged_steps(log: Path) -> list[dict[str, Any]]:
    """A training run's step rows from its ``metrics.jsonl``, one per step in step order: a
    run killed between logging a step and checkpointing it logs that step again when it
    resumes, and the later row is the one training went on from."""
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    return [row for _, row in sorted({r["step"]: r for r in rows if "loss" in r}.items())]


def training_curves(cfg: ExperimentConfig) -> dict[str, list[list[CurvePoint]]]:
    """Per method and seed, one point per step read from each training run's
    ``metrics.jsonl`` (a step logged twice: the later row): training seconds so far, the
    step's mean reward, solved rate and share of groups with a signal. The reward is the one
    the method trains on (VeRPO: its mean dense turn reward)."""
    curves: dict[str, list[list[CurvePoint]]] = {}
    for method in cfg.methods:
        for seed in cfg.seeds:
            log = cfg.out_dir / f"seed-{seed}" / method / "metrics.jsonl"
            points, elapsed = [], 0.0
            for row in logged_steps(log) if log.is_file() else []:
                elapsed += float(row.get("step_seconds", 0.0))
                # VeRPO trains on its per-turn dense reward; TRL's "reward" column holds
                # only the episode's all-tests outcome there
                reward = row.get("verpo/dense_reward", row.get("reward"))
                if reward is None:
                    continue
                zero_std = row.get("frac_reward_zero_std")
                points.append(
                    CurvePoint(
                        step=int(row["step"]),
                        seconds=elapsed,
                        reward=float(reward),
                        solved=row.get("solved_rate"),
                        signal=None if zero_std is None else 1.0 - float(zero_std),
                    )
                )
            curves.setdefault(method, []).append(points)
    return curves


def run_experiment(
    cfg: ExperimentConfig,
    echo: Callable[[str], None] = print,
    generator_factory: GeneratorFactory | None = None,
) -> Path:
    """Run (or resume) the whole experiment; returns the results markdown's path."""
    from cobalt_rl.evaluate.experiment import aggregate
    from cobalt_rl.report.experiment import write_experiment_report

    write_config(cfg, cfg.out_dir / "config.yaml")
    from cobalt_rl.train.memory import preflight

    for method in cfg.methods.values():  # every method's training must fit, before any loads
        preflight(method)
    experiment = _Experiment(cfg, echo, generator_factory)
    experiment.prepare()
    cells = ExperimentCells()
    for seed in cfg.seeds:
        experiment.run_seed(seed, cells)
    results = aggregate(
        cells,
        seeds=cfg.seeds,
        methods=list(cfg.methods),
        eval_sets=list(cfg.eval_sets),
        train_seconds=cfg.train_seconds,
        samples=cfg.run.eval.samples,
        curves=(curves := training_curves(cfg)),
    )
    markdown = write_experiment_report(results, curves, cfg.out_dir)
    echo(f"results: {markdown}")
    return markdown
