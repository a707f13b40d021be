"""``cobalt execute``: grade solutions against problems' tests in the sandbox."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.cli.flags import add_command, model_from_args
from cobalt_rl.profiles import DEFAULT_PROFILE, PROFILE_FIELD_DOC, Profile
from cobalt_rl.sandbox.config import SandboxConfig, default_sandbox_config
from cobalt_rl.sandbox.grading import Grading

__all__ = ["ExecuteConfig", "GradingFlags", "register", "run"]


class GradingFlags(BaseModel):
    """The flags every command that grades programs takes: the rules (the profile) and where
    the programs run (the sandbox)."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile = Field(DEFAULT_PROFILE, description=PROFILE_FIELD_DOC)
    sandbox: SandboxConfig = Field(
        default_factory=default_sandbox_config,
        description="Where programs run (backend local, ray, http or sandboxfusion) and their "
        "limits (see cobalt_rl.sandbox.config).",
    )


class ExecuteConfig(GradingFlags):
    """Options of ``cobalt execute``: the files, the tests to run and how they are compared,
    and the grading flags."""

    problems: Path = Field(description="Problems JSONL (as written by `cobalt problems convert`).")
    solutions: Path = Field(
        description='Solutions JSONL: {"problem_id": ..., "code": ..., "solution_id": ...} a line.'
    )
    out: Path = Field(description="Results JSONL (appended; finished solutions are not re-run).")
    tests: Literal["public", "hidden", "all"] = Field(
        "all", description="Which tests to run: public, hidden, or all (true public + hidden)."
    )
    grading: Grading | None = Field(
        None,
        description="How outputs are compared, overriding the profile's rule (unset: the "
        "profile's: livecodebench under cobalt-rl, strip under reference; see "
        "cobalt_rl.sandbox.grading).",
    )
    stop_on_first_failure: bool = Field(
        False, description="Stop a program at its first failing test (LiveCodeBench grading)."
    )
    require_isolation: bool = Field(
        False, description="Refuse to run unless bubblewrap isolation is available."
    )


def register(sub: Any) -> None:
    add_command(sub, "execute", ExecuteConfig, run)


def run(args: argparse.Namespace) -> int:
    """Grade solutions against problems' tests in the sandbox.

    Run each solution against its problem's tests in the sandbox and write one result line
    per solution (passed, pass_rate, per-test status and seconds, feedback).
    """
    cfg = model_from_args(ExecuteConfig, args)
    from cobalt_rl import console
    from cobalt_rl.sandbox.factory import make_sandbox
    from cobalt_rl.sandbox.solutions import run_execute

    screen = console.active()

    def progress(done: int, total: int) -> None:
        screen.status(f"  executing: {done}/{total} programs", force=done == total)

    sandbox_cm = make_sandbox(cfg.sandbox, require_isolation=cfg.require_isolation)
    with closing(sandbox_cm) as sandbox:
        results = run_execute(
            sandbox,
            cfg.problems,
            cfg.solutions,
            cfg.out,
            cfg.tests,
            cfg.profile,
            cfg.grading,
            cfg.stop_on_first_failure,
            progress,
        )
    screen.end_status()
    passed = sum(r.passed for r in results)
    n = len(results)
    mean = sum(r.pass_rate for r in results) / n if n else 0.0
    isolation = getattr(sandbox, "isolation", None)
    where = f"isolation: {isolation.value}" if isolation is not None else cfg.sandbox.backend
    print(
        f"{n} solutions: {passed} passed every test ({passed / n:.1%}), mean pass rate "
        f"{mean:.3f}; {where}; results in {cfg.out}"
        if n
        else f"no solutions in {cfg.solutions}"
    )
    return 0
