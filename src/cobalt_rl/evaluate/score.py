"""Score every attempt of every trajectory on the problem's HIDDEN tests (one sandbox batch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cobalt_rl.errors import RecordError
from cobalt_rl.profiles import DEFAULT_PROFILE, Profile
from cobalt_rl.records import Attempt, ExecResult, Problem, Status, TestOutcome, Trajectory
from cobalt_rl.sandbox.base import ExecRequest, Sandbox

__all__ = ["score_trajectories"]


def _no_code(problem: Problem) -> ExecResult:
    return ExecResult(
        outcomes=[
            TestOutcome(status=Status.RUNTIME_ERROR, detail="no code block in the reply")
            for _ in problem.hidden_tests
        ]
    )


def score_trajectories(
    trajectories: Sequence[Trajectory],
    problems: dict[str, Problem],
    sandbox: Sandbox,
    rescore: bool = False,
    progress: Callable[[int], None] | None = None,
    profile: Profile | str = DEFAULT_PROFILE,
) -> list[Trajectory]:
    """Return the trajectories with ``Attempt.hidden`` filled in.

    Attempts that already carry a hidden result keep it unless ``rescore``. Identical code
    on the same problem runs once (the sandbox's cache).

    Raises:
        RecordError: a trajectory names a problem that is not in ``problems``.
    """
    requests: list[ExecRequest] = []
    where: list[tuple[int, int]] = []
    for ti, traj in enumerate(trajectories):
        problem = problems.get(traj.problem_id)
        if problem is None:
            raise RecordError(
                "trajectories", ti + 1, f"unknown problem {traj.problem_id!r}", "problem_id"
            )
        for ai, att in enumerate(traj.attempts):
            if att.code is None or (att.hidden is not None and not rescore):
                continue
            requests.append(ExecRequest.for_problem(problem, att.code, "hidden", profile=profile))
            where.append((ti, ai))
    results = sandbox.run_batch(requests) if requests else []
    if progress:
        progress(len(results))
    found = dict(zip(where, results, strict=True))
    scored = []
    for ti, traj in enumerate(trajectories):
        problem = problems[traj.problem_id]
        attempts: list[Attempt] = []
        for ai, att in enumerate(traj.attempts):
            if (ti, ai) in found:
                att = att.model_copy(update={"hidden": found[(ti, ai)]})
            elif att.code is None:
                att = att.model_copy(update={"hidden": _no_code(problem)})
            attempts.append(att)
        scored.append(traj.model_copy(update={"attempts": attempts}))
    return scored
