"""``cobalt contexts``: contextual-bandit prompts cut from trajectories."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.cli.flags import add_command, model_from_args
from cobalt_rl.contexts.build import ContextSettings

__all__ = ["ContextsConfig", "register"]


class ContextsConfig(BaseModel):
    """Options of ``cobalt contexts``: the files, the tokenizer, and the procedure's numbers
    (:class:`~cobalt_rl.contexts.build.ContextSettings`, documented there once; its flags
    unprefixed: ``--top-n``, ``--keep-m``...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: ContextSettings = Field(
        default_factory=ContextSettings,
        description="How contexts are built (defaults: the paper's).",
        json_schema_extra={"cli_flatten": True},
    )
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


def _contexts(args: argparse.Namespace) -> int:
    """Cut trajectories into contextual-bandit prompts (Cobalt).

    Build training or validation contexts from trajectories: drop problems solved at once,
    keep improving trajectories, max-variance down-sample, one context per prefix, drop
    over-long prompts. Prints the count kept at each filter.
    """
    cfg = model_from_args(ContextsConfig, args)
    from cobalt_rl.contexts.build import build_contexts
    from cobalt_rl.llm.tokens import token_counter
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl
    from cobalt_rl.sandbox import LocalSandbox

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
            trajectories, problems, cfg.settings, count, perturbed, sandbox
        )
    write_jsonl(cfg.out, contexts)
    print(f"contexts ({cfg.settings.split}):\n{report.summary()}")
    print(f"wrote {len(contexts)} to {cfg.out}")
    return 0


def register(sub: Any) -> None:
    add_command(sub, "contexts", ContextsConfig, _contexts)
