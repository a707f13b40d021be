"""Grade solutions from any source: run each against its problem's tests in the sandbox.

This is the library side of ``cobalt execute``. Solutions are JSONL lines
``{"problem_id": ..., "code": ..., "solution_id": ...}``; results are JSONL lines of
:class:`SolutionResult`, appended as they finish so an interrupted run resumes without
re-running what is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.errors import RecordError
from cobalt_rl.profiles import DEFAULT_PROFILE, Profile
from cobalt_rl.records import JsonlWriter, Problem, Status, read_jsonl
from cobalt_rl.sandbox.base import ExecRequest, Sandbox, TestSelection
from cobalt_rl.sandbox.grading import Grading

__all__ = ["Solution", "SolutionResult", "TestSummary", "execute_solutions", "run_execute"]


class Solution(BaseModel):
    """One program to grade. ``solution_id`` defaults to its line number in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    problem_id: str
    code: str
    solution_id: str | None = None


class TestSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    __test__ = False

    status: Status
    seconds: float


class SolutionResult(BaseModel):
    """The grade of one solution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    problem_id: str
    solution_id: str
    passed: bool
    pass_rate: float = Field(ge=0.0, le=1.0)
    tests: list[TestSummary]
    feedback: str


def _load_solutions(path: Path, problems: dict[str, Problem]) -> list[Solution]:
    solutions = []
    for lineno, sol in enumerate(read_jsonl(path, Solution), start=1):
        if sol.problem_id not in problems:
            raise RecordError(
                path,
                lineno,
                f"unknown problem_id {sol.problem_id!r} (not in the problems file)",
                field="problem_id",
            )
        if sol.solution_id is None:
            sol = sol.model_copy(update={"solution_id": str(lineno)})
        solutions.append(sol)
    return solutions


def execute_solutions(
    sandbox: Sandbox,
    problems: dict[str, Problem],
    solutions: Sequence[Solution],
    tests: TestSelection = "all",
    profile: Profile | str = DEFAULT_PROFILE,
    grading: Grading | None = None,
    stop_on_first_failure: bool = False,
    chunk: int = 64,
) -> Iterator[SolutionResult]:
    """Grade ``solutions`` under ``profile``'s rules (its grading unless ``grading`` is given,
    its test concurrency and program budget), yielding results in order (batched ``chunk`` at
    a time)."""
    options = {"grading": grading} if grading is not None else {}
    for start in range(0, len(solutions), chunk):
        part = solutions[start : start + chunk]
        requests = [
            ExecRequest.for_problem(
                problems[s.problem_id],
                s.code,
                tests,
                profile=profile,
                stop_on_first_failure=stop_on_first_failure,
                **options,
            )
            for s in part
        ]
        for sol, res in zip(part, sandbox.run_batch(requests), strict=True):
            yield SolutionResult(
                problem_id=sol.problem_id,
                solution_id=sol.solution_id or "",
                passed=res.passed,
                pass_rate=res.pass_rate,
                tests=[TestSummary(status=o.status, seconds=o.seconds) for o in res.outcomes],
                feedback=res.feedback,
            )


def run_execute(
    sandbox: Sandbox,
    problems_path: Path,
    solutions_path: Path,
    out: Path,
    tests: TestSelection = "all",
    profile: Profile | str = DEFAULT_PROFILE,
    grading: Grading | None = None,
    stop_on_first_failure: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[SolutionResult]:
    """Grade every solution of ``solutions_path`` not yet in ``out``; append results there.

    Returns every result in ``out`` (earlier and new). ``progress(done, total)`` is called as
    results are written.
    """
    problems = {p.id: p for p in read_jsonl(problems_path, Problem)}
    solutions = _load_solutions(solutions_path, problems)
    # Open the writer before reading what is done: it moves a torn last line (a kill
    # mid-write) aside, so the read below sees only complete results.
    with JsonlWriter(out, SolutionResult) as writer:
        done: dict[tuple[str, str], SolutionResult] = {}
        for r in read_jsonl(out, SolutionResult):
            done[(r.problem_id, r.solution_id)] = r
        todo = [s for s in solutions if (s.problem_id, s.solution_id or "") not in done]
        total = len(solutions)
        if progress:
            progress(total - len(todo), total)
        results = execute_solutions(
            sandbox, problems, todo, tests, profile, grading, stop_on_first_failure
        )
        for r in results:
            writer.write(r)
            done[(r.problem_id, r.solution_id)] = r
            if progress:
                progress(len(done), total)
    return [done[(s.problem_id, s.solution_id or "")] for s in solutions]
