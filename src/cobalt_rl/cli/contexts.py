"""``cobalt contexts`` and ``cobalt perturb``: bandit prompts from trajectories; perturbed tests."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.config import add_command, model_from_args
from cobalt_rl.contexts.build import ContextSettings

__all__ = ["ContextsConfig", "PerturbConfig", "register"]


class ContextsConfig(ContextSettings):
    """Options of ``cobalt contexts``: the files, the tokenizer, and the procedure's numbers
    (the fields of :class:`~cobalt_rl.contexts.build.ContextSettings`, documented there once)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trajectories: Path = Field(description="Trajectories JSONL (ideally scored by evaluate).")
    problems: Path = Field(description="Problems JSONL the trajectories were rolled out on.")
    out: Path = Field(description="Contexts JSONL to write (replaced atomically).")
    perturbed_trajectories: Path | None = Field(
        None, description="Trajectories rolled out on perturbed problems, to mix in."
    )
    tokenizer: str = Field(
        "embedded",
        description="Policy tokenizer for prompt lengths: 'embedded' (SmolLM2), a checkpoint "
        "directory, or 'none' to skip the length filter.",
    )
    cache_dir: Path | None = Field(None, description="embedded: converted-model cache dir.")

    @property
    def settings(self) -> ContextSettings:
        """The procedure's numbers alone."""
        return ContextSettings(**{k: getattr(self, k) for k in ContextSettings.model_fields})


class PerturbConfig(BaseModel):
    """Options of ``cobalt perturb``."""

    model_config = ConfigDict(extra="forbid")

    problems: Path = Field(description="Problems JSONL to perturb.")
    out: Path = Field(description="Perturbed problems JSONL (originals kept on each record).")
    seed: int = Field(0, description="Seed for choosing the pair of tests to swap.")


def _contexts(args: argparse.Namespace) -> int:
    cfg = model_from_args(ContextsConfig, args)
    from cobalt_rl.contexts.build import build_contexts
    from cobalt_rl.llm.tokens import token_counter
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl
    from cobalt_rl.sandbox import LocalSandbox

    settings = cfg.settings
    problems = {p.id: p for p in load_problems(cfg.problems)}
    trajectories = list(read_jsonl(cfg.trajectories, Trajectory))
    perturbed = (
        list(read_jsonl(cfg.perturbed_trajectories, Trajectory))
        if cfg.perturbed_trajectories
        else []
    )
    count = token_counter(cfg.tokenizer, cfg.cache_dir)
    with LocalSandbox() as sandbox:
        contexts, report = build_contexts(
            trajectories, problems, settings, count, perturbed, sandbox
        )
    write_jsonl(cfg.out, contexts)
    print(f"contexts ({settings.split}):\n{report.summary()}\nwrote {len(contexts)} to {cfg.out}")
    return 0


def _perturb(args: argparse.Namespace) -> int:
    cfg = model_from_args(PerturbConfig, args)
    from cobalt_rl.hacking.perturb import perturb_problems
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import write_jsonl

    report = perturb_problems(load_problems(cfg.problems), seed=cfg.seed)
    print(report.summary())
    for pid, why in report.skipped[:20]:
        print(f"  not perturbed: {pid}: {why}")
    write_jsonl(cfg.out, report.perturbed)
    print(f"wrote {len(report.perturbed)} perturbed problems to {cfg.out}")
    return 0


def register(sub: Any) -> None:
    add_command(
        sub,
        "contexts",
        ContextsConfig,
        _contexts,
        help="cut trajectories into contextual-bandit prompts (Cobalt)",
        description="Build training or validation contexts from trajectories: drop problems "
        "solved at once, keep improving trajectories, max-variance down-sample, one context "
        "per prefix, drop over-long prompts. Prints the count kept at each filter.",
    )
    add_command(
        sub,
        "perturb",
        PerturbConfig,
        _perturb,
        help="swap two public tests' expected outputs (reward-hacking probe and defence)",
        description="Write perturbed copies of problems: two public tests with different "
        "expected outputs swap them, so no correct program passes both.",
    )
