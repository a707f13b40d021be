"""``cobalt run CONFIG.yaml``: every stage of the method, in order, in one run directory.

Stages, in the algorithm's order:

1. ``problems``: write the training and evaluation problem sets.
2. ``rollout``: the reference model's multi-turn trajectories on the training problems.
3. ``score``: every training attempt scored on hidden tests (contexts need combined scores).
4. ``contexts``: Cobalt contexts (partial trajectories, filtered and down-sampled).
5. ``train``: bandit GRPO on the contexts.
6. ``eval_base`` / ``eval_trained``: multi-turn rollouts of the base and the trained model on
   the held-out problems, scored on hidden tests.
7. ``report``: ``report/index.html`` and ``report/report.md``.

Each finished stage leaves ``stages/<name>.json`` (its seconds and summary); a run started
again skips finished stages, and unfinished ones resume (rollouts append, training restarts
from its last checkpoint). ``--from STAGE`` re-runs from that stage on: the outputs of the
re-run stages are moved aside to ``<name>.old-<time>``, never deleted. The config is
validated, and the resolved config written to ``config.yaml``, before any model loads.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.contexts import ContextSettings
from cobalt_rl.errors import ConfigError
from cobalt_rl.records import Problem

__all__ = ["STAGES", "EpisodeConfig", "ProblemSet", "RunConfig", "load_run_config", "run_pipeline"]

log = logging.getLogger(__name__)

STAGES = [
    "problems",
    "rollout",
    "score",
    "contexts",
    "train",
    "eval_base",
    "eval_trained",
    "report",
]


class ProblemSet(BaseModel):
    """Where a problem set comes from (any ``cobalt problems convert`` source)."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field("bundled", description="A problem source name (see `cobalt problems`).")
    input: Path | None = Field(None, description="Dataset file, for sources that read one.")
    split: str | None = Field(None, description="Split, for the bundled source.")
    limit: int | None = Field(None, ge=1, description="Keep only the first N problems.")


class EpisodeConfig(BaseModel):
    """How multi-turn rollouts are sampled (reference collection or evaluation)."""

    model_config = ConfigDict(extra="forbid")

    samples: int = Field(16, ge=1, description="Trajectories per problem.")
    turns: int = Field(3, ge=1, description="Most attempts per trajectory.")
    temperature: float = Field(1.0, ge=0, description="Sampling temperature.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass.")
    max_new_tokens: int = Field(512, ge=1, description="Most tokens per reply.")
    stop_on_pass: bool = Field(False, description="End a trajectory once public tests pass.")
    group_size: int = Field(8, ge=1, description="Problems per generation group.")
    batch_size: int = Field(16, ge=1, description="Sequences per generation batch.")
    seed: int = Field(0, description="Sampling seed.")


class RunConfig(BaseModel):
    """A whole run (``configs/*.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    run_dir: Path = Field(description="Where every artifact of the run goes.")
    estimated_minutes: float | None = Field(
        None, description="Announced before the run starts (measured on the target machine)."
    )
    model: str = Field("embedded", description="Reference/base model: 'embedded' or a path.")
    backend: str = Field("embedded", description="Generator backend for rollouts.")
    device: str = Field("cpu", description="cpu, cuda, cuda:N or mps.")
    train_problems: ProblemSet = Field(default_factory=lambda: ProblemSet(split="train"))
    eval_problems: ProblemSet = Field(default_factory=lambda: ProblemSet(split="test"))
    rollout: EpisodeConfig = Field(default_factory=EpisodeConfig)
    contexts: ContextSettings = Field(default_factory=ContextSettings)
    tokenizer_filter: bool = Field(True, description="Measure prompt lengths with the policy.")
    train: dict[str, Any] = Field(
        default_factory=dict, description="`cobalt train` options (see TrainConfig)."
    )
    eval: EpisodeConfig = Field(default_factory=lambda: EpisodeConfig(samples=4, turns=3))

    def train_config(self) -> Any:
        from cobalt_rl.config import validate_config
        from cobalt_rl.train.config import TrainConfig

        data = {
            "contexts": self.run_dir / "contexts.jsonl",
            "out": self.run_dir / "train",
            "model": self.model,
            **self.train,
        }
        return validate_config(TrainConfig, data, where="the config's train section")


def load_run_config(path: Path) -> RunConfig:
    """Read and validate a run config (and its train section) before anything loads."""
    from cobalt_rl.config import validate_config

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping")
    cfg = validate_config(RunConfig, data, where=str(path))
    cfg.train_config()
    return cfg


class _Run:
    def __init__(self, cfg: RunConfig, echo: Callable[[str], None]):
        self.cfg = cfg
        self.dir = cfg.run_dir
        self.echo = echo
        self.cost: dict[str, Any] = {}

    # -- helpers ----------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.dir / name

    def _marker(self, stage: str) -> Path:
        return self.dir / "stages" / f"{stage}.json"

    def done(self, stage: str) -> bool:
        return self._marker(stage).exists()

    def finish(self, stage: str, seconds: float, summary: dict[str, Any]) -> None:
        self._marker(stage).parent.mkdir(parents=True, exist_ok=True)
        self._marker(stage).write_text(json.dumps({"seconds": seconds, **summary}, indent=2))

    def problems(self, which: str) -> list[Problem]:
        from cobalt_rl.problems import load_problems

        return load_problems(self.path(f"problems-{which}.jsonl"))

    def generator(self, model: str) -> Any:
        from cobalt_rl.llm import GeneratorConfig, make_generator

        if model == "embedded":
            gcfg = GeneratorConfig(
                backend="embedded",
                device=self.cfg.device,
                num_threads=0,
                batch_size=self.cfg.rollout.batch_size,
            )
        else:
            gcfg = GeneratorConfig(
                backend="transformers",
                model=model,
                device=self.cfg.device,
                num_threads=0,
                batch_size=self.cfg.rollout.batch_size,
            )
        return make_generator(gcfg)

    def episodes(
        self, model: str, problems: list[Problem], out: Path, ep: EpisodeConfig
    ) -> dict[str, Any]:
        from cobalt_rl.llm import SamplingParams
        from cobalt_rl.rollout import EpisodeSettings, RolloutProgress, run_rollout
        from cobalt_rl.sandbox import LocalSandbox

        settings = EpisodeSettings(
            samples=ep.samples,
            turns=ep.turns,
            stop_on_pass=ep.stop_on_pass,
            group_size=ep.group_size,
        )
        sampling = SamplingParams(
            temperature=ep.temperature,
            top_p=ep.top_p,
            max_new_tokens=ep.max_new_tokens,
            seed=ep.seed,
        )
        gen = self.generator(model)

        def show(p: RolloutProgress) -> None:
            self.echo(
                f"  {out.name}: {p.problems_done}/{p.problems_total} problems, "
                f"{p.attempts} attempts, public pass {p.pass_rate:.2f}, {p.tokens} tokens"
            )

        try:
            with LocalSandbox() as sandbox:
                prog = run_rollout(problems, gen, sandbox, str(out), settings, sampling, show)
                programs = sandbox.stats["programs"]
        finally:
            gen.close()
        return {"tokens": prog.tokens, "attempts": prog.attempts, "programs": programs}

    def score(
        self, trajectories: Path, problems: list[Problem], report: Path, label: str
    ) -> dict[str, Any]:
        from cobalt_rl.evaluate import compute_metrics, score_trajectories, write_report
        from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl
        from cobalt_rl.sandbox import LocalSandbox

        by_id = {p.id: p for p in problems}
        with LocalSandbox() as sandbox:
            scored = score_trajectories(list(read_jsonl(trajectories, Trajectory)), by_id, sandbox)
            programs = sandbox.stats["programs"]
        write_jsonl(trajectories, scored)
        metrics = compute_metrics(scored, by_id)
        write_report(metrics, report, label=label)
        return {"programs": programs, "metrics": metrics}

    # -- stages -----------------------------------------------------------------------------

    def stage_problems(self) -> dict[str, Any]:
        from cobalt_rl.problems import convert
        from cobalt_rl.records import write_jsonl

        out = {}
        for which, ps in (("train", self.cfg.train_problems), ("eval", self.cfg.eval_problems)):
            opts = {"split": ps.split} if ps.split else {}
            conv = convert(ps.source, ps.input, **opts)
            problems = conv.problems[: ps.limit] if ps.limit else conv.problems
            write_jsonl(self.path(f"problems-{which}.jsonl"), problems)
            out[which] = len(problems)
            self.echo(f"  {which}: {len(problems)} problems ({conv.summary()})")
        return out

    def stage_rollout(self) -> dict[str, Any]:
        return self.episodes(
            self.cfg.model,
            self.problems("train"),
            self.path("rollout-train.jsonl"),
            self.cfg.rollout,
        )

    def stage_score(self) -> dict[str, Any]:
        res = self.score(
            self.path("rollout-train.jsonl"),
            self.problems("train"),
            self.path("report/reference"),
            "reference (train problems)",
        )
        return {"programs": res["programs"]}

    def stage_contexts(self) -> dict[str, Any]:
        from cobalt_rl.contexts import build_contexts
        from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl
        from cobalt_rl.sandbox import LocalSandbox

        count = None
        if self.cfg.tokenizer_filter:
            from cobalt_rl.cli.contexts import token_counter

            count = token_counter("embedded" if self.cfg.model == "embedded" else self.cfg.model)
        problems = {p.id: p for p in self.problems("train")}
        trajs = list(read_jsonl(self.path("rollout-train.jsonl"), Trajectory))
        with LocalSandbox() as sandbox:
            contexts, report = build_contexts(
                trajs, problems, self.cfg.contexts, count, sandbox=sandbox
            )
        if not contexts:
            raise ConfigError("no contexts were kept: roll out more samples or problems")
        write_jsonl(self.path("contexts.jsonl"), contexts)
        self.echo(report.summary())
        return {"contexts": len(contexts), "counts": report.counts}

    def stage_train(self) -> dict[str, Any]:
        from cobalt_rl.train.bandit import train_bandit

        final = train_bandit(self.cfg.train_config())
        return {"final": str(final)}

    def stage_eval_base(self) -> dict[str, Any]:
        return self._eval(self.cfg.model, "base")

    def stage_eval_trained(self) -> dict[str, Any]:
        return self._eval(str(self.dir / "train" / "final"), "trained")

    def _eval(self, model: str, label: str) -> dict[str, Any]:
        out = self.path(f"eval-{label}.jsonl")
        problems = self.problems("eval")
        cost = self.episodes(model, problems, out, self.cfg.eval)
        res = self.score(out, problems, self.path(f"report/{label}"), label)
        cost["programs"] += res["programs"]
        return cost

    def stage_report(self) -> dict[str, Any]:
        from cobalt_rl.evaluate.html import write_run_report

        paths = write_run_report(self.dir)
        return {k: str(v) for k, v in paths.items()}


def run_pipeline(
    cfg: RunConfig, from_stage: str | None = None, echo: Callable[[str], None] = print
) -> Path:
    """Run (or resume) every stage; returns the report's path."""
    if from_stage is not None and from_stage not in STAGES:
        raise ConfigError(f"unknown stage {from_stage!r}; stages: {', '.join(STAGES)}")
    run = _Run(cfg, echo)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / "config.yaml").write_text(
        yaml.safe_dump(json.loads(cfg.model_dump_json()), sort_keys=False)
    )
    if from_stage is not None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for stage in STAGES[STAGES.index(from_stage) :]:
            marker = run._marker(stage)
            if marker.exists():
                marker.unlink()
            for name in _outputs(stage):
                p = cfg.run_dir / name
                if p.exists():
                    shutil.move(str(p), str(p) + f".old-{stamp}")
    for stage in STAGES:
        if run.done(stage):
            echo(f"[{stage}] already done, skipped")
            continue
        echo(f"[{stage}] starting")
        t = time.perf_counter()
        summary = getattr(run, f"stage_{stage}")()
        seconds = time.perf_counter() - t
        run.finish(stage, seconds, summary)
        echo(f"[{stage}] done in {seconds:.0f} s")
        sys.stdout.flush()
    return cfg.run_dir / "report" / "index.html"


def _outputs(stage: str) -> list[str]:
    return {
        "problems": ["problems-train.jsonl", "problems-eval.jsonl"],
        "rollout": ["rollout-train.jsonl"],
        "score": ["report/reference"],
        "contexts": ["contexts.jsonl"],
        "train": ["train"],
        "eval_base": ["eval-base.jsonl", "report/base"],
        "eval_trained": ["eval-trained.jsonl", "report/trained"],
        "report": ["report/index.html", "report/report.md"],
    }[stage]
