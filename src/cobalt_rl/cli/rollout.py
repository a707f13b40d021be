"""``cobalt rollout``: multi-turn trajectories with execution feedback on public tests."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.cli.flags import add_command, config_from_yaml_and_args
from cobalt_rl.episode.config import RolloutConfig
from cobalt_rl.llm.registry import GeneratorConfig
from cobalt_rl.sandbox.factory import SandboxConfig, default_sandbox_config

__all__ = ["RolloutCommand", "register", "run"]


class RolloutCommand(BaseModel):
    """Options of ``cobalt rollout``: the files, the rollout (a
    :class:`~cobalt_rl.episode.config.RolloutConfig`, its flags unprefixed: ``--turns``,
    ``--temperature``, ``--max-new-tokens``...), the generator (``--backend``, ``--model``...)
    and the sandbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    problems: Path = Field(description="Problems JSONL to roll out on.")
    out: Path = Field(description="Trajectories JSONL (appended per problem; resumes).")
    limit: int | None = Field(None, ge=1, description="Use only the first N problems.")
    rollout: RolloutConfig = Field(
        default_factory=RolloutConfig,
        description="The episodes and their sampling.",
        json_schema_extra={"cli_flatten": True},
    )
    generator: GeneratorConfig = Field(
        default_factory=lambda: _embedded(),
        description="The model and its backend.",
        json_schema_extra={"cli_flatten": True},
    )
    sandbox: SandboxConfig = Field(
        default_factory=default_sandbox_config,
        description="Where programs run, and their limits.",
    )


def _from_file(loaded: dict[str, Any]) -> dict[str, Any]:
    """A YAML file's options: a run config's ``rollout`` section (with the run's profile and
    sampling defaults), generator and sandbox, or the command's own keys."""
    from cobalt_rl.pipeline.config import given_fields, rollout_section
    from cobalt_rl.profiles import DEFAULT_PROFILE

    data = {k: v for k, v in loaded.items() if k in RolloutCommand.model_fields}
    data["rollout"] = rollout_section(
        loaded.get("rollout"),
        RolloutConfig(),
        loaded.get("profile", DEFAULT_PROFILE),
        given_fields(loaded.get("sampling")),
        "rollout",
    )
    return data


def _embedded() -> GeneratorConfig:
    from cobalt_rl.llm.registry import parse_generator_config

    return parse_generator_config({"backend": "embedded"})


def register(sub: Any) -> None:
    add_command(
        sub,
        "rollout",
        RolloutCommand,
        run,
        config_file=True,
        from_yaml=("problems", "out"),
    )


def load_config(args: argparse.Namespace) -> RolloutCommand:
    cfg: RolloutCommand = config_from_yaml_and_args(
        RolloutCommand, args.config, "rollout", args, read=_from_file
    )
    return cfg


def run(args: argparse.Namespace) -> int:
    """Collect multi-turn trajectories with execution feedback.

    Roll out SAMPLES trajectories of up to TURNS attempts per problem; each attempt runs on
    the public tests and the feedback becomes the next user turn.
    """
    cfg = load_config(args)  # validated before any model loads
    import time

    from cobalt_rl import console
    from cobalt_rl.episode.rollout import RolloutProgress, run_rollout
    from cobalt_rl.llm import make_generator
    from cobalt_rl.pipeline.run import rollout_status
    from cobalt_rl.problems import load_problems
    from cobalt_rl.sandbox.factory import make_sandbox

    problems = load_problems(cfg.problems)
    if cfg.limit:
        problems = problems[: cfg.limit]
    screen = console.active()
    started = time.perf_counter()
    done_before: list[int] = []

    def show(progress: RolloutProgress) -> None:
        if not done_before:  # problems a resumed file already held
            done_before.append(progress.problems_done)
        screen.status(rollout_status("rollout", progress, started, done_before[0]))

    generator = make_generator(cfg.generator)
    try:
        with closing(make_sandbox(cfg.sandbox)) as sandbox:
            progress = run_rollout(problems, generator, sandbox, str(cfg.out), cfg.rollout, show)
    finally:
        generator.close()
        screen.end_status()
    print(
        f"rollout: {progress.problems_done}/{progress.problems_total} problems, "
        f"{progress.attempts} new attempts (public pass rate {progress.pass_rate:.3f}), "
        f"{progress.tokens} tokens; trajectories in {cfg.out}"
    )
    return 0
