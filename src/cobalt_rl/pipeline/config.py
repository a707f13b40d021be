"""A run's config (``configs/*.yaml``): typed sections, each the model of its own stage.

A run config composes the stages' own configs rather than repeating their fields:
``generator`` is a :data:`~cobalt_rl.llm.GeneratorConfig` (the reference/base model),
``sandbox`` a :data:`~cobalt_rl.sandbox.SandboxConfig` with its limits, ``rollout`` and
``eval`` are :class:`~cobalt_rl.episode.rollout.EpisodeConfig`, ``contexts`` the
:class:`~cobalt_rl.contexts.build.ContextSettings`, and ``train`` a full
:data:`~cobalt_rl.train.config.TrainConfig` whose paths and model the run fills in (its
contexts, its run directory, the base model, the run's sandbox) before it is validated, so a
bad option is reported when the file is read, before any model loads.

One top-level ``profile`` (:mod:`cobalt_rl.profiles`: ``reference`` or ``cobalt-rl``) reaches
every stage config that has one (rollout, eval, contexts, train and its validation, the
hacking eval); a section may repeat it but not contradict it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.contexts.build import ContextSettings
from cobalt_rl.contexts.replay_reference import ReplayConfig
from cobalt_rl.episode.config import RolloutConfig
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.llm.registry import GeneratorConfig
from cobalt_rl.profiles import DEFAULT_PROFILE, PROFILE_FIELD_DOC, Profile, with_profile
from cobalt_rl.records import Problem
from cobalt_rl.sandbox.factory import SandboxConfig, default_sandbox_config
from cobalt_rl.train.config import TrainConfig, ValidationOptions, train_config_class

__all__ = [
    "HackingConfig",
    "ProblemSet",
    "RunConfig",
    "SourceOptions",
    "checkpoint_generator",
    "load_run_config",
    "policy_model",
    "with_profile",
]


class SourceOptions(BaseModel):
    """A problem source's own options (each names the sources that take it; unset: the
    source's default). ``split`` is a field of :class:`ProblemSet`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: date | None = Field(
        None,
        description="livecodebench: keep problems whose contest date is on or after this day, "
        "YYYY-MM-DD (contamination control).",
    )
    until: date | None = Field(
        None,
        description="livecodebench: keep problems whose contest date is on or before this day.",
    )
    release: str | None = Field(
        None,
        description="livecodebench: the files of a version tag of code_generation_lite "
        "(release_v6: test..test6.jsonl; v6: test6.jsonl, the Cobalt paper's window).",
    )
    num_public: int | None = Field(
        None,
        ge=0,
        description="taco, cobalt: at most this many public tests per problem, the statement's "
        "examples first; the rest are hidden (unset: taco 2; cobalt 4, for rows without "
        "public_test_cases).",
    )
    unwrap_single: bool | None = Field(
        None, description="taco: unwrap call-based expected outputs stored as one-element lists."
    )
    include_generated: bool | None = Field(
        None,
        description="codecontests: also use the generated tests as hidden tests (unset: yes).",
    )

    def given(self) -> dict[str, Any]:
        """The options set, as the converter's keyword arguments."""
        return self.model_dump(exclude_none=True)


class ProblemSet(BaseModel):
    """Where a problem set comes from (any ``cobalt problems convert`` source)."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field("bundled", description="A problem source name (see `cobalt problems`).")
    input: Path | None = Field(None, description="Dataset file, for sources that read one.")
    split: str | None = Field(None, description="Split, for the bundled source.")
    limit: int | None = Field(None, ge=1, description="Keep only the first N problems.")
    options: SourceOptions = Field(
        default_factory=SourceOptions,
        description="The source's own options, e.g. {since: 2025-02-01} for livecodebench "
        "(`cobalt problems convert --help` lists them).",
    )
    require_public_tests: bool = Field(
        False, description="Keep only problems with public tests (feedback needs them)."
    )

    @model_validator(mode="before")
    @classmethod
    def _check_options(cls, data: Any) -> Any:
        """Options the named source does not take are refused, naming the ones it does."""
        from cobalt_rl.problems import SOURCES, source_options

        if not isinstance(data, dict):
            return data
        source, options = data.get("source", "bundled"), data.get("options")
        given = set(given_fields(options))
        if source in SOURCES and given:  # an unknown source is reported when it is converted
            accepted = [o for o in source_options(source) if o != "split"]
            unknown = sorted(given - set(accepted))
            if unknown:
                raise ValueError(
                    f"source {source!r} does not take option(s) {', '.join(unknown)}; "
                    f"its options: {', '.join(accepted) or 'none'} (split is a field of its own)"
                )
        return data

    def load(self) -> tuple[list[Problem], str]:
        """The problems this set names (options, split, filter and limit applied) and the
        converter's summary line."""
        from cobalt_rl.problems import convert

        options = {**self.options.given(), **({"split": self.split} if self.split else {})}
        converted = convert(self.source, self.input, **options)
        problems = [
            p for p in converted.problems if p.public_tests or not self.require_public_tests
        ]
        return (problems[: self.limit] if self.limit else problems), converted.summary()


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
    eval: RolloutConfig | None = Field(
        None, description="Rollouts on the perturbed held-out problems; unset: the eval section."
    )
    judge: GeneratorConfig | None = Field(
        None,
        description="Optional LLM judge classifying hacking turns (a generator config); "
        "unset: rule-based classification only.",
    )


def policy_model(generator: GeneratorConfig) -> str | None:
    """What the trainer loads as the policy for a base model rolled out by ``generator``:
    'embedded', a checkpoint directory or Hub id; None when it names no weights (a served
    model behind an OpenAI-compatible API)."""
    if generator.backend == "embedded":
        return "embedded"
    if generator.backend in ("transformers", "vllm"):
        return str(getattr(generator, "model", None) or "") or None
    return None


def checkpoint_generator(base: GeneratorConfig, checkpoint: Path) -> GeneratorConfig:
    """How a trained checkpoint is rolled out: with vLLM when the base model is, else with
    transformers, keeping the base generator's device and batching where it has them."""
    from cobalt_rl.llm.registry import parse_generator_config

    if base.backend == "vllm":
        data = {**base.model_dump(exclude={"model"}), "model": str(checkpoint)}
        return parse_generator_config(data, where="the trained model's generator")
    shared = {"device", "dtype", "batch_size", "num_threads"}
    kept = {k: v for k, v in base.model_dump().items() if k in shared}
    if base.backend in ("embedded", "transformers"):
        kept = {k: v for k, v in kept.items() if k != "dtype" or v != "auto"}
    data = {**kept, "backend": "transformers", "model": str(checkpoint)}
    return parse_generator_config(data, where="the trained model's generator")


class RunConfig(BaseModel):
    """A whole run (``configs/*.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    run_dir: Path = Field(description="Where every artifact of the run goes.")
    profile: Profile = Field(DEFAULT_PROFILE, description=PROFILE_FIELD_DOC)
    estimated_minutes: float | None = Field(
        None, description="Announced before the run starts (measured on the target machine)."
    )
    generator: GeneratorConfig = Field(
        description="The reference/base model and how it is rolled out (backend embedded, "
        "transformers, vllm or openai, with the backend's options). Trained checkpoints are "
        "rolled out with vllm when it is the backend, else with transformers.",
    )
    sandbox: SandboxConfig = Field(
        default_factory=default_sandbox_config,
        description="Where programs run, and their limits; training too unless its section "
        "names its own.",
    )
    train_problems: ProblemSet = Field(default_factory=lambda: ProblemSet(split="train"))
    eval_problems: ProblemSet = Field(default_factory=lambda: ProblemSet(split="test"))
    sampling: SamplingParams | None = Field(
        None,
        description="Defaults for the sampling of every stage (rollout, training and its "
        "validation, evaluation, the hacking eval); a stage's own `sampling:` overrides them "
        "field by field. E.g. one reply cap for all: `sampling: {max_new_tokens: 448}`.",
    )
    rollout: RolloutConfig = Field(
        default_factory=RolloutConfig, description="Reference trajectories (offline data)."
    )
    contexts: ContextSettings = Field(default_factory=ContextSettings)
    tokenizer_filter: bool = Field(True, description="Measure prompt lengths with the policy.")
    stage_processes: Literal["auto", "own", "shared"] = Field(
        "auto",
        description="Where the stages that load a model (rollouts, training, evaluations) run: "
        "own: each in a fresh process, which gives all of its GPU memory back when it ends "
        "(TRL's colocated vLLM leaves RANK/WORLD_SIZE set and vLLM in-process, and a second "
        "engine in the same process finds the GPU still held); shared: all in this process; "
        "auto: own on a machine with a CUDA GPU, shared otherwise.",
    )
    train: TrainConfig = Field(
        description="`cobalt train` options; contexts, out, model and sandbox default to the "
        "run's own.",
    )
    eval: RolloutConfig = Field(
        default_factory=lambda: RolloutConfig(samples=4),
        description="Multi-turn evaluation on the held-out problems.",
    )
    hacking: HackingConfig | None = Field(
        None,
        description="In-context reward hacking stages (see cobalt_rl.pipeline.stages); "
        "unset: none.",
    )
    replay: ReplayConfig | None = Field(
        None,
        description="A replay reference mixed into the training contexts (known-wrong "
        "attempts, their real feedback, a passing attempt); unset: none.",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_train(cls, data: Any) -> Any:
        """The train section's paths, model and sandbox, from the run's own."""
        if not isinstance(data, dict) or "run_dir" not in data:
            return data
        data = dict(data)
        data.setdefault("generator", {"backend": "embedded"})
        profile = data.get("profile", DEFAULT_PROFILE)
        sampling = given_fields(data.get("sampling"))
        for name in ("rollout", "eval"):
            default = cls.model_fields[name].get_default(call_default_factory=True)
            data[name] = rollout_section(data.get(name), default, profile, sampling, name)
        data["contexts"] = with_profile(data.get("contexts") or {}, profile, "contexts")
        hacking = given_fields(data.get("hacking"))
        if hacking.get("eval") is not None:
            data["hacking"] = {
                **hacking,
                "eval": rollout_section(
                    hacking["eval"], RolloutConfig(), profile, sampling, "hacking.eval"
                ),
            }
        data["train"] = train_defaults(
            data.get("train") or {},
            run_dir=Path(data["run_dir"]),
            generator=data["generator"],
            sandbox=data.get("sandbox"),
            profile=profile,
            sampling=sampling,
        )
        return data

    @property
    def hacking_enabled(self) -> bool:
        return self.hacking is not None and self.hacking.enabled


def given_fields(section: Any) -> dict[str, Any]:
    """The fields a section sets (a mapping as written, or a model's explicitly set fields)."""
    if isinstance(section, BaseModel):
        return section.model_dump(exclude_unset=True)
    return dict(section) if isinstance(section, dict) else {}


def with_sampling(section: Any, default: SamplingParams, run: dict[str, Any]) -> dict[str, Any]:
    """A stage's ``sampling`` from its default, the run's ``sampling:`` over it, and the
    stage's own fields over both. Of the default only what it sets (a value decided under
    a profile, the stop at the program's end, is decided afresh under this run's)."""
    return {**default.model_dump(exclude_unset=True), **run, **given_fields(section)}


def rollout_section(
    section: Any, default: RolloutConfig, profile: Any, sampling: dict[str, Any], where: str
) -> Any:
    """A rollout-style section (``rollout``, ``eval``, ``hacking.eval``, validation) completed
    from its run: the profile on its episode, the run's sampling defaults under its own."""
    if section is not None and not isinstance(section, dict | BaseModel):
        return section  # the field's own validation says what is wrong
    given = {**default.model_dump(exclude_unset=True), **given_fields(section)}
    episode = with_profile(given.get("episode") or {}, profile, f"{where}.episode")
    return {
        **given,
        "episode": episode,
        "sampling": with_sampling(given.get("sampling"), default.sampling, sampling),
    }


def train_section(train: Any, profile: Any, sampling: dict[str, Any]) -> dict[str, Any]:
    """A train section given the profile and sampling defaults set above it (a run's, or a
    file's top level for ``cobalt train --config``): the profile on the trainer (and its
    episode and validation rollouts), the sampling defaults under its own."""
    filled = with_profile(train, profile, "train") if profile is not None else given_fields(train)
    variant = train_config_class(filled.get("mode"))
    default_sampling = variant.model_fields["sampling"].get_default(call_default_factory=True)
    filled["sampling"] = with_sampling(filled.get("sampling"), default_sampling, sampling)
    validation = filled.get("validation")
    if isinstance(validation, dict | BaseModel):
        validation = given_fields(validation)
        default = ValidationOptions.model_fields["rollout"].get_default(call_default_factory=True)
        rollout = rollout_section(
            validation.get("rollout"),
            default,
            filled.get("profile", DEFAULT_PROFILE),
            sampling,
            "train.validation.rollout",
        )
        filled["validation"] = {**validation, "rollout": rollout}
    return filled


def train_defaults(
    train: dict[str, Any],
    *,
    run_dir: Path,
    generator: Any,
    sandbox: Any,
    out: Path | None = None,
    profile: Any = None,
    sampling: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A train section completed from its run: the contexts or problems the mode reads, the
    output directory, the policy (the base model), the sandbox, and the run's profile and
    sampling defaults (:func:`train_section`)."""
    if not isinstance(train, dict | BaseModel):
        return train  # the field's own validation says what is wrong
    filled = train_section(train, profile, sampling or {})
    variant = train_config_class(filled.get("mode"))
    for name, path in (("contexts", "contexts.jsonl"), ("problems", "problems-train.jsonl")):
        if name in variant.model_fields:  # what this mode trains on
            filled.setdefault(name, run_dir / path)
    filled.setdefault("out", out or run_dir / "train")
    if "model" not in filled:
        model = _model_of(generator)
        if model is None:
            raise ValueError(
                "the base model is served (openai backend), so training cannot load it: "
                "set train.model to its checkpoint directory or Hub id"
            )
        filled["model"] = model
    if sandbox is not None:
        filled.setdefault("sandbox", sandbox)
    return filled


def _model_of(generator: Any) -> str | None:
    if isinstance(generator, dict):
        backend = generator.get("backend", "embedded")
        if backend == "embedded":
            return "embedded"
        return str(generator["model"]) if backend != "openai" and "model" in generator else None
    return policy_model(generator) if generator is not None else None


def load_run_config(path: Path) -> RunConfig:
    """Read and validate a run config (every section typed) before anything loads."""
    from cobalt_rl.config_io import read_yaml_mapping, validate_config

    return validate_config(RunConfig, read_yaml_mapping(path), where=str(path))
