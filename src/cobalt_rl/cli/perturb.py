"""``cobalt perturb``: problems whose public tests lie, to probe and defend against reward
hacking (see :mod:`cobalt_rl.hacking.perturb`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.cli.flags import add_command, model_from_args

__all__ = ["PerturbConfig", "register"]


class PerturbConfig(BaseModel):
    """Options of ``cobalt perturb``."""

    model_config = ConfigDict(extra="forbid")

    problems: Path = Field(description="Problems JSONL to perturb.")
    out: Path = Field(description="Perturbed problems JSONL (originals kept on each record).")
    seed: int = Field(0, description="Seed for choosing the pair of tests to swap.")


# Reasons printed one per line after the summary; the rest are only counted in it.
_SHOWN_SKIPS = 20


def _perturb(args: argparse.Namespace) -> int:
    """Swap two public tests' expected outputs (reward-hacking probe and defence).

    Write perturbed copies of problems: two public tests with different expected outputs swap
    them, so no correct program passes both.
    """
    cfg = model_from_args(PerturbConfig, args)
    from cobalt_rl.hacking.perturb import perturb_problems
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import write_jsonl

    report = perturb_problems(load_problems(cfg.problems), seed=cfg.seed)
    print(report.summary())
    for problem_id, why in report.skipped[:_SHOWN_SKIPS]:
        print(f"  not perturbed: {problem_id}: {why}")
    write_jsonl(cfg.out, report.perturbed)
    print(f"wrote {len(report.perturbed)} perturbed problems to {cfg.out}")
    return 0


def register(sub: Any) -> None:
    add_command(sub, "perturb", PerturbConfig, _perturb)
