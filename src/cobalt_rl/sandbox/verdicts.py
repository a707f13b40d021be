"""Verdicts: a test's status decided from the report of the process that ran it.

Every backend ends here. The local worker (and the Ray actors and HTTP services, which run
local sandboxes) reports each test as a dict (:meth:`cobalt_rl.sandbox._worker.child.Child.
run_test`); the SandboxFusion backend translates a ``run_code`` answer into the same dict.
:func:`judge` turns it into a :class:`~cobalt_rl.records.TestOutcome` from the process state
alone (a kill for time or output, a signal, the harness's exit code) and, for a test that ran
to the end, from comparing its output with the expected one here on the host. The exit codes
are the harness's own (:mod:`cobalt_rl.sandbox._worker.harness`), declared there once.

Time-outs charged to the program's total budget (a test not started, or stopped before its own
limit, because the program's tests together used the budget up) carry their own ``detail``
(:data:`~cobalt_rl.sandbox.feedback.BUDGET_NOT_STARTED`, :data:`~cobalt_rl.sandbox.feedback.
BUDGET_CUT`), so feedback never blames the per-test limit for them. Under a profile whose
program fails whole when its budget runs out (``reference``; :mod:`cobalt_rl.profiles`),
:func:`exec_result` then marks every test timed out, as the reference's evaluator does.

Under ``reference``, a test's stdout and stderr are read as the reference's evaluator reads
them (``remote_reward_server.py``, ``run_single_test``: ``subprocess.Popen(..., text=True)``):
universal newlines, so ``\\r\\n`` and a lone ``\\r`` become ``\\n`` before the output is
graded (``1\\r\\n2\\r\\n`` passes for ``1\\n2``) and shown; the expected output is
taken as it is, as there. What a test keeps of a stream (:data:`EXCERPT_CHARS`) is then cut
from the stripped text, the stripping the reference's feedback does before its own
400-character cut, so that the cut's head and tail are the reference's whatever whitespace
the stream starts or ends with.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from typing import Any

from cobalt_rl.profiles import Profile, profile_spec
from cobalt_rl.records import ExecResult, Mode, Status, TestCase, TestOutcome
from cobalt_rl.sandbox._worker.harness import EXIT_MEMORY, EXIT_OK, EXIT_SYNTAX
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.feedback import (
    BUDGET_CUT,
    BUDGET_NOT_STARTED,
    clip_middle,
    is_budget_outcome,
    reference_budget_feedback,
    reference_clean_traceback,
    render_feedback,
)
from cobalt_rl.sandbox.grading import compare_stdout, compare_value
from cobalt_rl.sandbox.limits import Limits

__all__ = [
    "EXCERPT_CHARS",
    "budget_exhausted",
    "exec_result",
    "judge",
    "skipped_after_failure",
    "skipped_after_timeout",
]

EXCERPT_CHARS = 2000


def _excerpt(text: str) -> str:
    return clip_middle(text, EXCERPT_CHARS)


def _read_as_text(stream: str) -> str:
    """``stream`` as a text-mode pipe reads it (universal newlines; see the module docstring)."""
    return stream.replace("\r\n", "\n").replace("\r", "\n")


def _reference_excerpt(text: str, is_stderr: bool = False) -> str:
    """What a test keeps of a stream under ``reference``: the stripped text (for stderr, with
    the reference's ``clean_traceback`` applied, as its feedback does) cut to
    :data:`EXCERPT_CHARS`, between one character of each whitespace end, so that a stream of
    whitespace alone stays non-empty (the reference tests ``if stderr:`` before stripping)."""
    core = text.strip()
    if is_stderr:
        core = reference_clean_traceback(core)
    if not core:
        return text[:1]
    lead = text[0] if text[0].isspace() else ""
    trail = text[-1] if text[-1].isspace() else ""
    return lead + _excerpt(core) + trail


def judge(
    reply: dict[str, Any], test: TestCase, request: ExecRequest, timeout_s: float
) -> TestOutcome:
    """Decide a test's status from the worker's report of the process (never from its text).

    ``timeout_s`` is the test's wall-clock limit (it tells a CPU-limit kill from the kernel's
    out-of-memory kill).
    """
    seconds = float(reply.get("seconds", 0.0))
    stdout, stderr = reply.get("stdout", ""), reply.get("stderr", "")
    reference = request.profile is Profile.REFERENCE
    if reference:
        stdout, stderr = _read_as_text(stdout), _read_as_text(stderr)
    shown = reply.get("result", "") if request.mode is Mode.FUNCTIONAL else stdout

    def outcome(status: Status, detail: str = "") -> TestOutcome:
        return TestOutcome(
            status=status,
            output=_reference_excerpt(shown) if reference else _excerpt(shown),
            stderr=_reference_excerpt(stderr, is_stderr=True) if reference else _excerpt(stderr),
            seconds=round(seconds, 6),
            detail=detail,
        )

    if "worker_error" in reply:
        return outcome(Status.SANDBOX_ERROR, reply["worker_error"])
    killed_for = reply.get("killed_for")
    if killed_for == "timeout":
        budget_cut = bool(reply.get("budget_cut"))
        return outcome(Status.TIMEOUT, BUDGET_CUT if budget_cut else "wall-clock limit")
    if killed_for == "output" or reply.get("output_over_cap"):
        return outcome(Status.OUTPUT_LIMIT, "output limit")
    sig = reply.get("signal")
    if sig is not None:
        if sig == signal.SIGXCPU:
            return outcome(Status.TIMEOUT, "CPU-time limit (SIGXCPU)")
        if sig == signal.SIGXFSZ:
            return outcome(Status.OUTPUT_LIMIT, "file-size limit (SIGXFSZ)")
        if sig == signal.SIGKILL:
            # Not our kill (we report those above): the CPU hard limit or the kernel's OOM
            # killer. Tell them apart by the time used.
            if seconds >= timeout_s:
                return outcome(Status.TIMEOUT, "killed (CPU-time hard limit)")
            return outcome(Status.MEMORY, "killed by SIGKILL (out of memory)")
        return outcome(Status.RUNTIME_ERROR, f"killed by signal {signal.Signals(sig).name}")
    code = reply.get("exit_code")
    if code == EXIT_SYNTAX:
        return outcome(Status.SYNTAX_ERROR, "syntax error")
    if code == EXIT_MEMORY:
        return outcome(Status.MEMORY, "MemoryError")
    if code != EXIT_OK:
        return outcome(Status.RUNTIME_ERROR, f"exit code {code}")
    if request.mode is Mode.STDIN:
        ok = compare_stdout(stdout, test.output, request.grading)
    elif request.mode is Mode.FUNCTIONAL:
        ok = compare_value(reply.get("result", ""), test.output, request.grading)
    else:
        if reply.get("result") != "completed":
            return outcome(Status.RUNTIME_ERROR, "the tests did not run to the end")
        ok = True
    return outcome(Status.PASSED if ok else Status.WRONG_ANSWER)


def budget_exhausted() -> TestOutcome:
    """A test not started because the program's time budget ran out."""
    return TestOutcome(status=Status.TIMEOUT, detail=BUDGET_NOT_STARTED)


def skipped_after_timeout() -> TestOutcome:
    """A test not run because an earlier one timed out (``stop_after_timeout``): a timeout."""
    return TestOutcome(status=Status.TIMEOUT, detail="not run: an earlier test timed out")


def skipped_after_failure() -> TestOutcome:
    """A test not run because an earlier one failed (``stop_on_first_failure``)."""
    return TestOutcome(status=Status.SKIPPED, detail="earlier failure")


def exec_result(
    request: ExecRequest, outcomes: Sequence[TestOutcome], limits: Limits
) -> ExecResult:
    """The result of ``request``: its outcomes and the feedback the model is shown."""
    outcomes = list(outcomes)
    if profile_spec(request.profile).whole_program_budget and any(
        is_budget_outcome(o) for o in outcomes
    ):
        # The reference (remote_reward_server.py, Evaluator.__call__): when the program's
        # tests do not all finish within its deadline, its result is one failing entry.
        whole = [
            o.model_copy(update={"status": Status.TIMEOUT, "detail": BUDGET_NOT_STARTED})
            for o in outcomes
        ]
        return ExecResult(outcomes=whole, feedback=reference_budget_feedback())
    feedback = render_feedback(
        request.tests,
        outcomes,
        request.mode,
        request.fn_name,
        limits.timeout_s,
        profile=request.profile,
        program_timeout_s=limits.program_timeout_s,
    )
    return ExecResult(outcomes=outcomes, feedback=feedback)
