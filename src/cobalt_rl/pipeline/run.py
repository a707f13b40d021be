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

With a ``hacking`` section (in-context reward hacking, :mod:`cobalt_rl.hacking.detect`),
these run before the report (:data:`HACKING_STAGES`): ``perturb`` (perturbed copies of both
problem sets), ``rollout_perturbed`` (the reference model on the perturbed training
problems), ``contexts_perturbed`` and ``train_perturbed`` (a second policy trained with that
share of perturbed-feedback contexts mixed in: the paper's defence), ``eval_perturbed`` (its
Pass@1 on the held-out problems), and ``hacking_base`` / ``hacking_trained`` /
``hacking_perturbed`` (each model rolled out on the perturbed held-out problems, scored, and
its hacking turns detected); the report then shows base / Cobalt / Cobalt+perturbation side
by side. Without the section the run is exactly the one above.

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
from contextlib import closing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.contexts import ContextSettings
from cobalt_rl.errors import ConfigError
from cobalt_rl.records import Problem
from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.sandbox.factory import SandboxConfig

__all__ = [
    "ALL_STAGES",
    "HACKING_STAGES",
    "STAGES",
    "EpisodeConfig",
    "HackingConfig",
    "ProblemSet",
    "RunConfig",
    "load_run_config",
    "run_pipeline",
    "stages_for",
]

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
HACKING_STAGES = [
    "perturb",
    "rollout_perturbed",
    "contexts_perturbed",
    "train_perturbed",
    "eval_perturbed",
    "hacking_base",
    "hacking_trained",
    "hacking_perturbed",
]
ALL_STAGES = STAGES[:-1] + HACKING_STAGES + STAGES[-1:]


class ProblemSet(BaseModel):
    """Where a problem set comes from (any ``cobalt problems convert`` source)."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field("bundled", description="A problem source name (see `cobalt problems`).")
    input: Path | None = Field(None, description="Dataset file, for sources that read one.")
    split: str | None = Field(None, description="Split, for the bundled source.")
    limit: int | None = Field(None, ge=1, description="Keep only the first N problems.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="The source's own options, e.g. {since: 2025-02-01} for livecodebench "
        "(`cobalt problems convert --help` lists them).",
    )

    @model_validator(mode="after")
    def _check_options(self) -> ProblemSet:
        from cobalt_rl.problems import SOURCES, source_options

        if self.source in SOURCES:  # an unknown source is reported when it is converted
            accepted = [o for o in source_options(self.source) if o != "split"]
            unknown = sorted(set(self.options) - set(accepted))
            if unknown:
                raise ValueError(
                    f"source {self.source!r} does not take option(s) {', '.join(unknown)}; "
                    f"its options: {', '.join(accepted) or 'none'} (split is a field of its own)"
                )
        return self


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


class HackingConfig(BaseModel):
    """In-context reward hacking: measure it, and train with the perturbation defence."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run the hacking stages (false: skip them).")
    perturbed_fraction: float = Field(
        0.25,
        gt=0.0,
        lt=1.0,
        description="Share of the second policy's training contexts drawn from trajectories "
        "with perturbed feedback (our default; the fraction is a knob of the paper's defence).",
    )
    seed: int = Field(0, description="Seed for choosing which public tests are swapped.")
    eval: EpisodeConfig | None = Field(
        None, description="Rollouts on the perturbed held-out problems; unset: the eval section."
    )
    judge: dict[str, Any] | None = Field(
        None,
        description="Optional LLM judge classifying hacking turns: a generator config "
        "(backend, model, base_url...); unset: rule-based classification only.",
    )


class RunConfig(BaseModel):
    """A whole run (``configs/*.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    run_dir: Path = Field(description="Where every artifact of the run goes.")
    estimated_minutes: float | None = Field(
        None, description="Announced before the run starts (measured on the target machine)."
    )
    model: str = Field("embedded", description="Reference/base model: 'embedded' or a path.")
    backend: Literal["embedded", "transformers", "vllm", "openai"] = Field(
        "embedded",
        description="Generator backend for rollouts of the reference/base model "
        "(embedded: the bundled model; transformers/vllm: `model` is a checkpoint or Hub id; "
        "openai: `model` is the served name). Trained checkpoints are rolled out with vllm "
        "when it is the backend, else with transformers.",
    )
    generator: dict[str, Any] = Field(
        default_factory=dict,
        description="More generator options (see GeneratorConfig: tensor_parallel_size, "
        "gpu_memory_utilization, max_model_len, base_url, api_key_env, dtype...).",
    )
    sandbox: SandboxConfig = Field(
        default_factory=SandboxConfig,
        description="Where programs run (local, ray, http, sandboxfusion); training too "
        "unless its section names its own.",
    )
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
    hacking: HackingConfig | None = Field(
        None,
        description="In-context reward hacking stages (see the module docs); unset: none.",
    )

    @property
    def hacking_enabled(self) -> bool:
        return self.hacking is not None and self.hacking.enabled

    def train_config(self) -> Any:
        from cobalt_rl.config import validate_config
        from cobalt_rl.train.config import TrainConfig

        data = {
            "contexts": self.run_dir / "contexts.jsonl",
            "out": self.run_dir / "train",
            "model": self.model,
            "sandbox": self.sandbox.model_dump(),
            **self.train,
        }
        return validate_config(TrainConfig, data, where="the config's train section")

    def generator_config(self, model: str) -> Any:
        """How ``model`` (the base model, or a trained checkpoint) is rolled out."""
        from cobalt_rl.config import validate_config
        from cobalt_rl.llm import GeneratorConfig

        if model == "embedded":
            data: dict[str, Any] = {"backend": "embedded"}
        elif model == self.model and self.backend != "embedded":
            data = {"backend": self.backend, "model": model}
        else:  # a trained checkpoint (a local directory)
            backend = "vllm" if self.backend == "vllm" else "transformers"
            data = {"backend": backend, "model": model}
        data = {
            "device": self.device,
            "num_threads": 0,
            "batch_size": self.rollout.batch_size,
            **self.generator,
            **data,
        }
        return validate_config(GeneratorConfig, data, where="the config's generator options")


def load_run_config(path: Path) -> RunConfig:
    """Read and validate a run config (and its train section) before anything loads."""
    from cobalt_rl.config import read_yaml_mapping, validate_config

    cfg = validate_config(RunConfig, read_yaml_mapping(path), where=str(path))
    cfg.train_config()
    cfg.generator_config(cfg.model)
    if cfg.hacking is not None and cfg.hacking.judge is not None:
        from cobalt_rl.llm import GeneratorConfig

        validate_config(GeneratorConfig, cfg.hacking.judge, where=f"{path}: hacking.judge")
    return cfg


def stages_for(cfg: RunConfig) -> list[str]:
    """The stages a run of ``cfg`` goes through, in order."""
    return ALL_STAGES if cfg.hacking_enabled else STAGES


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
        from cobalt_rl.llm import make_generator

        return make_generator(self.cfg.generator_config(model))

    def sandbox(self) -> closing[Sandbox]:
        """The run's sandbox (closed when the ``with`` block ends)."""
        from cobalt_rl.sandbox.factory import make_sandbox

        return closing(make_sandbox(self.cfg.sandbox))

    def episodes(
        self, model: str, problems: list[Problem], out: Path, ep: EpisodeConfig
    ) -> dict[str, Any]:
        from cobalt_rl.llm import SamplingParams
        from cobalt_rl.rollout import EpisodeSettings, RolloutProgress, run_rollout

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
            with self.sandbox() as sandbox:
                prog = run_rollout(problems, gen, sandbox, str(out), settings, sampling, show)
                programs = _programs(sandbox)
        finally:
            gen.close()
        return {"tokens": prog.tokens, "attempts": prog.attempts, "programs": programs}

    def score(
        self, trajectories: Path, problems: list[Problem], report: Path, label: str
    ) -> dict[str, Any]:
        from cobalt_rl.evaluate import compute_metrics, score_trajectories, write_report
        from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl

        by_id = {p.id: p for p in problems}
        with self.sandbox() as sandbox:
            scored = score_trajectories(list(read_jsonl(trajectories, Trajectory)), by_id, sandbox)
            programs = _programs(sandbox)
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
            opts = {**ps.options, **({"split": ps.split} if ps.split else {})}
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

        count = None
        if self.cfg.tokenizer_filter:
            from cobalt_rl.llm.tokens import token_counter

            count = token_counter("embedded" if self.cfg.model == "embedded" else self.cfg.model)
        problems = {p.id: p for p in self.problems("train")}
        trajs = list(read_jsonl(self.path("rollout-train.jsonl"), Trajectory))
        with self.sandbox() as sandbox:
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

    # -- in-context reward hacking (only with a `hacking` section) ---------------------------

    def stage_perturb(self) -> dict[str, Any]:
        from cobalt_rl.hacking.perturb import perturb_problems
        from cobalt_rl.records import write_jsonl

        assert self.cfg.hacking is not None
        out = {}
        for which in ("train", "eval"):
            rep = perturb_problems(self.problems(which), seed=self.cfg.hacking.seed)
            if not rep.perturbed:
                raise ConfigError(
                    f"no {which} problem could be perturbed ({rep.summary()}): hacking needs "
                    "problems with two public tests whose expected outputs differ"
                )
            write_jsonl(self.path(f"problems-{which}-perturbed.jsonl"), rep.perturbed)
            self.echo(f"  {which}: {rep.summary()}")
            out[which] = len(rep.perturbed)
        return out

    def stage_rollout_perturbed(self) -> dict[str, Any]:
        return self.episodes(
            self.cfg.model,
            self.problems("train-perturbed"),
            self.path("rollout-train-perturbed.jsonl"),
            self.cfg.rollout,
        )

    def stage_contexts_perturbed(self) -> dict[str, Any]:
        from cobalt_rl.contexts import build_contexts
        from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl

        assert self.cfg.hacking is not None
        count = None
        if self.cfg.tokenizer_filter:
            from cobalt_rl.llm.tokens import token_counter

            count = token_counter("embedded" if self.cfg.model == "embedded" else self.cfg.model)
        settings = self.cfg.contexts.model_copy(
            update={"perturbed_fraction": self.cfg.hacking.perturbed_fraction}
        )
        problems = {p.id: p for p in self.problems("train")}  # contexts reward TRUE tests
        trajs = list(read_jsonl(self.path("rollout-train.jsonl"), Trajectory))
        ptb = list(read_jsonl(self.path("rollout-train-perturbed.jsonl"), Trajectory))
        with self.sandbox() as sandbox:
            contexts, report = build_contexts(
                trajs, problems, settings, count, perturbed_trajectories=ptb, sandbox=sandbox
            )
        if not contexts:
            raise ConfigError("no contexts were kept: roll out more samples or problems")
        write_jsonl(self.path("contexts-perturbed.jsonl"), contexts)
        self.echo(report.summary())
        return {
            "contexts": len(contexts),
            "perturbed": sum(c.perturbed for c in contexts),
            "counts": report.counts,
        }

    def stage_train_perturbed(self) -> dict[str, Any]:
        from cobalt_rl.train.bandit import train_bandit

        tcfg = self.cfg.train_config().model_copy(
            update={
                "contexts": self.dir / "contexts-perturbed.jsonl",
                "out": self.dir / "train-perturbed",
            }
        )
        return {"final": str(train_bandit(tcfg))}

    def stage_eval_perturbed(self) -> dict[str, Any]:
        return self._eval(str(self.dir / "train-perturbed" / "final"), "perturbed")

    def stage_hacking_base(self) -> dict[str, Any]:
        return self._hacking(self.cfg.model, "base", "base")

    def stage_hacking_trained(self) -> dict[str, Any]:
        return self._hacking(str(self.dir / "train" / "final"), "trained", "Cobalt")

    def stage_hacking_perturbed(self) -> dict[str, Any]:
        return self._hacking(
            str(self.dir / "train-perturbed" / "final"), "perturbed", "Cobalt+perturbation"
        )

    def _hacking(self, model: str, name: str, label: str) -> dict[str, Any]:
        """Roll ``model`` out on the perturbed held-out problems; score; detect hacking."""
        from cobalt_rl.evaluate import score_trajectories
        from cobalt_rl.hacking.detect import analyze_hacking
        from cobalt_rl.hacking.report import write_hacking_report
        from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl

        h = self.cfg.hacking
        assert h is not None
        out = self.path(f"hacking-{name}.jsonl")
        problems = self.problems("eval-perturbed")
        cost = self.episodes(model, problems, out, h.eval or self.cfg.eval)
        by_id = {p.id: p for p in problems}
        judge, judge_name = None, "judge"
        if h.judge is not None:
            from cobalt_rl.llm import GeneratorConfig, make_generator

            gcfg = GeneratorConfig.model_validate(h.judge)
            judge, judge_name = make_generator(gcfg), gcfg.model or gcfg.backend
        try:
            with self.sandbox() as sandbox:
                scored = score_trajectories(list(read_jsonl(out, Trajectory)), by_id, sandbox)
                report = analyze_hacking(scored, by_id, sandbox, judge, judge_name, label)
                cost["programs"] += _programs(sandbox)
        finally:
            if judge is not None:
                judge.close()
        write_jsonl(out, scored)
        write_hacking_report(report, self.path(f"report/hacking-{name}"))
        self.echo(
            f"  {label}: {report.hacks} hacking turns, rate {report.rate:.3f} "
            f"({report.hacking_trajectories}/{report.trajectories} trajectories)"
        )
        return {**cost, "hacks": report.hacks, "rate": report.rate}

    def stage_report(self) -> dict[str, Any]:
        from cobalt_rl.evaluate.html import write_run_report

        paths = write_run_report(self.dir)
        return {k: str(v) for k, v in paths.items()}


def run_pipeline(
    cfg: RunConfig, from_stage: str | None = None, echo: Callable[[str], None] = print
) -> Path:
    """Run (or resume) every stage; returns the report's path."""
    stages = stages_for(cfg)
    if from_stage is not None and from_stage not in stages:
        raise ConfigError(
            f"unknown stage {from_stage!r} for this config; stages: {', '.join(stages)}"
        )
    run = _Run(cfg, echo)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / "config.yaml").write_text(
        yaml.safe_dump(json.loads(cfg.model_dump_json()), sort_keys=False)
    )
    if from_stage is not None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for stage in stages[stages.index(from_stage) :]:
            marker = run._marker(stage)
            if marker.exists():
                marker.unlink()
            for name in _outputs(stage):
                p = cfg.run_dir / name
                if p.exists():
                    shutil.move(str(p), str(p) + f".old-{stamp}")
    for stage in stages:
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
        "perturb": ["problems-train-perturbed.jsonl", "problems-eval-perturbed.jsonl"],
        "rollout_perturbed": ["rollout-train-perturbed.jsonl"],
        "contexts_perturbed": ["contexts-perturbed.jsonl"],
        "train_perturbed": ["train-perturbed"],
        "eval_perturbed": ["eval-perturbed.jsonl", "report/perturbed"],
        "hacking_base": ["hacking-base.jsonl", "report/hacking-base"],
        "hacking_trained": ["hacking-trained.jsonl", "report/hacking-trained"],
        "hacking_perturbed": ["hacking-perturbed.jsonl", "report/hacking-perturbed"],
    }[stage]


def _programs(sandbox: Sandbox) -> int:
    """Programs the sandbox ran (backends that keep no count report 0)."""
    stats = getattr(sandbox, "stats", None)
    return int(stats.get("programs", 0)) if isinstance(stats, dict) else 0
