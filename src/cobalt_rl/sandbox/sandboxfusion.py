"""The ``sandboxfusion`` backend: programs run on an existing SandboxFusion deployment
(bytedance/SandboxFusion) through its ``POST /run_code`` API; verdicts are decided here.

One ``run_code`` call per test: ``{"code", "language": "python", "stdin", "run_timeout",
"memory_limit_MB"}`` → ``{"status": "Success" | "Failed" | "SandboxError", "message",
"run_result": {"status": "Finished" | "Error" | "TimeLimitExceeded", "return_code", "stdout",
"stderr", "execution_time"}}`` (``sandbox/server/sandbox_api.py`` of SandboxFusion).

The code sent (:func:`driver_code`) is the local worker's own program harness,
:mod:`cobalt_rl.sandbox._worker.harness`, read from its file and followed by one call of its
``run_standalone``: the program is compiled, run and its result reported by the very code the
local backend runs (exit 2 on a syntax error, 3 on ``MemoryError``, 1 on any other exception
or a non-zero ``SystemExit``; a functional or script result is printed after a marker line).
The process's state (exit code, signal, SandboxFusion's time-limit status) is translated into
the report our worker gives, and the same :func:`~cobalt_rl.sandbox.verdicts.judge` decides
the status with the same grading, on this host: SandboxFusion never sees an expected output.

Differences from the local backend, by construction: each test runs in a fresh interpreter
(SandboxFusion's), so a program cannot carry state between its tests; the program's time
budget (``program_timeout_s``) is counted here and includes the HTTP round trips; output over
``output_bytes`` is judged after the fact (SandboxFusion does not stop the program at the cap).
Isolation is whatever the SandboxFusion deployment provides.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import cache
from importlib.resources import files
from typing import Any

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import ExecResult, Mode, Status, TestCase, TestOutcome
from cobalt_rl.sandbox._client import MAX_COOLDOWN_S, Service, ServiceClient, ServiceFailed
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.cached import FutureSandbox
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.verdicts import (
    budget_exhausted,
    exec_result,
    judge,
    skipped_after_failure,
    skipped_after_timeout,
)

__all__ = ["SandboxFusionSandbox", "driver_code", "harness_source"]

log = logging.getLogger(__name__)

MIN_TEST_S = 0.05  # as the local worker: a test is not started with less budget left
HTTP_SLACK_S = 30.0  # a run_code call may take this much longer than its run_timeout
IN_FLIGHT_PER_URL = 8


def driver_code(request: ExecRequest, test: TestCase, marker: str) -> str:
    """The program ``request.code`` wrapped to run on ``test`` in one fresh interpreter: the
    harness's source as it is, then a call of its ``run_standalone``."""
    arguments = [
        request.code,
        request.mode.value,
        request.fn_name or "",
        "" if request.mode is Mode.STDIN else test.input,
        marker,
    ]
    # A JSON string is a Python literal.
    call = f"run_standalone({', '.join(json.dumps(value) for value in arguments)})"
    return f"{harness_source()}\n\n{call}\n"


@cache
def harness_source() -> str:
    """The text of :mod:`cobalt_rl.sandbox._worker.harness`, the local worker's own."""
    return (files("cobalt_rl.sandbox._worker") / "harness.py").read_text(encoding="utf-8")


def _signal_of(return_code: int) -> int | None:
    """The signal that ended the process: negative codes (Python's subprocess), or 128+N
    from a shell (our driver itself exits only with 0 to 4)."""
    if return_code < 0:
        return -return_code
    if 128 < return_code < 128 + 65:
        return return_code - 128
    return None


def to_worker_reply(
    answer: dict[str, Any], request: ExecRequest, limits: Limits, marker: str
) -> dict[str, Any]:
    """Translate a ``run_code`` answer into the report our worker gives for one test."""
    run = answer.get("run_result") or {}
    if answer.get("status") == "SandboxError" or run.get("status") in (None, "Error"):
        message = str(answer.get("message") or run.get("stderr") or "no run_result")
        return {"worker_error": f"SandboxFusion: {message[:500]}"}
    stdout, stderr = run.get("stdout") or "", run.get("stderr") or ""
    reply: dict[str, Any] = {
        "stderr": stderr[: limits.stderr_bytes],
        "seconds": float(run.get("execution_time") or 0.0),
        "killed_for": None,
        "exit_code": None,
        "signal": None,
        "result": "",
    }
    if run["status"] == "TimeLimitExceeded":
        reply["killed_for"] = "timeout"
    else:
        code = run.get("return_code")
        if code is None:
            return {"worker_error": "SandboxFusion gave no return code"}
        sig = _signal_of(int(code))
        reply["signal"], reply["exit_code"] = (sig, None) if sig else (None, int(code))
    cut = stdout.rfind("\n" + marker)
    if cut >= 0:
        reply["result"] = stdout[cut + 1 + len(marker) :]
        stdout = stdout[:cut]
    reply["output_over_cap"] = len(stdout.encode("utf-8", "replace")) > limits.output_bytes
    reply["stdout"] = stdout[: limits.output_bytes]
    return reply


class SandboxFusionSandbox(FutureSandbox):
    """Runs requests on SandboxFusion services (implements ``Sandbox``).

    Args:
        urls: base URLs of SandboxFusion services (``http://host:8080``); calls are spread
            over them, and one that fails is left alone for a while.
        limits: limits for requests that carry none.
        token: sent as ``Authorization: Bearer`` when set (for a proxy in front).
        max_in_flight: programs run at once (default: 8 per url); each program's tests run
            one after another.
        request_timeout_s: deadline of one ``run_code`` call (default: the test's limit + 30 s).
    """

    def __init__(
        self,
        urls: Sequence[str],
        limits: Limits | None = None,
        token: str | None = None,
        max_in_flight: int | None = None,
        request_timeout_s: float | None = None,
    ):
        self._client = ServiceClient(urls, token, "sandboxfusion")
        self._services = self._client.services
        self.limits = limits or Limits()
        self.request_timeout_s = request_timeout_s
        self.max_in_flight = max_in_flight or IN_FLIGHT_PER_URL * len(self._services)
        self._client.start(self.max_in_flight, "sandboxfusion")
        self._lock = threading.Lock()
        self._next = 0
        self._counts = {"programs": 0, "tests": 0, "calls": 0, "retries": 0}

    def close(self) -> None:
        """Stop sending; wait for the programs in flight. Safe to call twice."""
        self._client.close()

    @property
    def stats(self) -> dict[str, int]:
        """Programs and tests run, ``run_code`` calls answered, retries."""
        with self._lock:
            return dict(self._counts)

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule ``request`` (its tests run one after another)."""
        return self._client.submit(self._execute, request)

    def run_batch(
        self,
        requests: Sequence[ExecRequest],
        progress: Callable[[int], None] | None = None,
    ) -> list[ExecResult]:
        """Run ``requests`` (programs in parallel, each one's tests in order)."""
        self._client.check_open()
        return super().run_batch(requests, progress)

    def _execute(self, request: ExecRequest) -> ExecResult:
        limits = request.limits or self.limits
        budget_end = time.monotonic() + limits.program_timeout_s
        outcomes: list[TestOutcome] = []
        failed = timed_out = False
        for test in request.tests:
            if failed and request.stop_on_first_failure:
                outcomes.append(skipped_after_failure())
                continue
            if timed_out and request.stop_after_timeout:
                outcomes.append(skipped_after_timeout())
                continue
            remaining = budget_end - time.monotonic()
            if remaining < MIN_TEST_S:
                outcome = budget_exhausted()
            else:
                timeout_s = min(limits.timeout_s, remaining)
                marker = f"@@cobalt-result-{secrets.token_hex(8)}@@"
                answer = self._run_code(
                    driver_code(request, test, marker), test, request, limits, timeout_s
                )
                reply = to_worker_reply(answer, request, limits, marker)
                outcome = judge(reply, test, request, timeout_s)
            outcomes.append(outcome)
            failed = failed or outcome.status is not Status.PASSED
            timed_out = timed_out or outcome.status is Status.TIMEOUT
        with self._lock:
            self._counts["programs"] += 1
            self._counts["tests"] += len(outcomes)
        return exec_result(request, outcomes, limits)

    def _run_code(
        self, code: str, test: TestCase, request: ExecRequest, limits: Limits, timeout_s: float
    ) -> dict[str, Any]:
        body = json.dumps(
            {
                "code": code,
                "language": "python",
                "stdin": test.input if request.mode is Mode.STDIN else "",
                "run_timeout": timeout_s,
                "memory_limit_MB": limits.memory_mb or -1,
            }
        ).encode()
        deadline = self.request_timeout_s or timeout_s + HTTP_SLACK_S
        errors: dict[str, str] = {}
        retried_theirs = False
        for _attempt in range(2 * len(self._services) + 1):
            self._client.check_running()
            svc = self._pick()
            try:
                status, data = self._client.post(svc, "/run_code", body, deadline)
                with self._lock:
                    self._counts["calls"] += 1
                if status >= 500:
                    raise ServiceFailed(f"{status}: {data[:200].decode('utf-8', 'replace')}")
                if status != 200:
                    raise SandboxError(
                        f"SandboxFusion at {svc.url} refused run_code ({status}): "
                        f"{data[:300].decode('utf-8', 'replace')}"
                    )
                try:
                    answer: dict[str, Any] = json.loads(data)
                except ValueError as e:
                    raise ServiceFailed("the answer is not JSON") from e
                if not isinstance(answer, dict):
                    raise ServiceFailed("the answer is not a JSON object")
                if answer.get("status") == "SandboxError" and not retried_theirs:
                    retried_theirs = True  # their infrastructure, maybe passing: once more
                    errors[svc.url] = str(answer.get("message", ""))[:200]
                    continue
                svc.mark_up()
                return answer
            except ServiceFailed as e:
                errors[svc.url] = str(e)
                with self._lock:
                    self._counts["retries"] += 1
                svc.mark_down(str(e))
                log.warning("SandboxFusion at %s failed (%s); retrying", svc.url, e)
        raise SandboxError(
            "every SandboxFusion service failed: "
            + "; ".join(f"{url}: {err}" for url, err in errors.items())
        )

    def _pick(self) -> Service:
        """The next service in turn that is not cooling down (the soonest due if all are)."""
        while True:
            now = time.monotonic()
            with self._lock:
                n = len(self._services)
                for k in range(n):
                    svc = self._services[(self._next + k) % n]
                    if svc.healthy or svc.down_until <= now:
                        self._next = (self._next + k + 1) % n
                        svc.healthy = True  # due again (if it was down): one try decides
                        return svc
                wait = min(s.down_until for s in self._services) - now
            time.sleep(min(max(wait, 0.05), MAX_COOLDOWN_S))
