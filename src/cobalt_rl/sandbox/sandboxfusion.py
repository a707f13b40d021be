"""The ``sandboxfusion`` backend: programs run on an existing SandboxFusion deployment
(bytedance/SandboxFusion) through its ``POST /run_code`` API; verdicts are decided here.

One ``run_code`` call per test: ``{"code", "language": "python", "stdin", "run_timeout",
"memory_limit_MB"}`` → ``{"status": "Success" | "Failed" | "SandboxError", "message",
"run_result": {"status": "Finished" | "Error" | "TimeLimitExceeded", "return_code", "stdout",
"stderr", "execution_time"}}`` (``sandbox/server/sandbox_api.py`` of SandboxFusion).

The code sent is a small driver wrapping the program, the counterpart of our in-sandbox
worker's ``_run_program``: it compiles the program as ``solution.py`` (exit 2 on a syntax
error), runs it in a fresh namespace (``__main__`` for stdin programs), in functional mode
calls ``fn_name`` (a method of ``Solution`` or a function) on the JSON-decoded arguments, one
per input line, and prints the JSON of the returned value after a marker line; in script mode
runs the test code after the program; exit 3 on ``MemoryError``, 1 on any other exception or
a non-zero ``SystemExit``. The process's state (exit code, signal, SandboxFusion's time-limit
status) is translated into the report our worker gives, and the same :func:`judge` decides the
status with the same grading, on this host: SandboxFusion never sees an expected output.

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
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import ExecResult, Mode, Status, TestCase, TestOutcome
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.feedback import render_feedback
from cobalt_rl.sandbox.http import (
    COOLDOWN_S,
    MAX_COOLDOWN_S,
    Connections,
    PooledClient,
    _Retry,
    _Service,
)
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.local import judge

if TYPE_CHECKING:
    from cobalt_rl.sandbox.config import SandboxFusionConfig

__all__ = ["SandboxFusionSandbox", "driver_code"]

log = logging.getLogger(__name__)

MIN_TEST_S = 0.05  # as the local worker: a test is not started with less budget left
HTTP_SLACK_S = 30.0  # a run_code call may take this much longer than its run_timeout
IN_FLIGHT_PER_URL = 8

# The driver, mirroring the local worker's _run_program (cobalt_rl/sandbox/_worker.py).
_DRIVER = r"""
import json, os, sys, traceback

EXIT_OK, EXIT_RAISED, EXIT_SYNTAX, EXIT_MEMORY, EXIT_NO_FUNCTION = 0, 1, 2, 3, 4
SOURCE = __SOURCE__
MODE = __MODE__
FN_NAME = __FN_NAME__
TEST_INPUT = __TEST_INPUT__
MARKER = __MARKER__


def _clean_traceback(exc):
    tb = exc.__traceback__
    driver = globals()  # (whatever file name SandboxFusion gives the driver itself)
    while tb is not None and (
        tb.tb_frame.f_code.co_filename != "solution.py" or tb.tb_frame.f_globals is driver
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _to_jsonable(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def _run(compiled):
    namespace = {"__name__": "__main__" if MODE == "stdin" else "solution",
                 "__builtins__": __builtins__}
    status, result = EXIT_OK, None
    try:
        exec(compiled, namespace)
        if MODE == "functional":
            cls = namespace.get("Solution")
            if isinstance(cls, type) and hasattr(cls, FN_NAME):
                fn = getattr(cls(), FN_NAME)
            elif callable(namespace.get(FN_NAME)):
                fn = namespace[FN_NAME]
            else:
                sys.stderr.write("NameError: function %r is not defined\n" % FN_NAME)
                return EXIT_NO_FUNCTION, None
            args = [json.loads(line) for line in TEST_INPUT.split("\n") if line.strip()]
            result = json.dumps(fn(*args), default=_to_jsonable)
        elif MODE == "script":
            exec(compile(TEST_INPUT, "test.py", "exec", dont_inherit=True), namespace)
            result = "completed"
    except SystemExit as e:
        if e.code is None or e.code == 0:
            if MODE != "stdin":
                status = EXIT_RAISED
                sys.stderr.write("SystemExit: the program exited before the tests finished\n")
        else:
            if not isinstance(e.code, int):
                sys.stderr.write("%s\n" % (e.code,))
            status = EXIT_RAISED
    except MemoryError:
        status, result = EXIT_MEMORY, None
        try:
            sys.stderr.write("MemoryError\n")
        except BaseException:
            pass
    except BaseException as e:
        status = EXIT_RAISED
        try:
            sys.stderr.write(_clean_traceback(e))
        except BaseException:
            pass
    return status, result


def _main():
    out, err = sys.stdout, sys.stderr
    try:
        compiled = compile(SOURCE, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        err.write("".join(traceback.format_exception_only(type(e), e)))
        err.flush()
        os._exit(EXIT_SYNTAX)
    status, result = _run(compiled)
    for stream in {id(s): s for s in (sys.stdout, out, sys.stderr, err)}.values():
        try:
            stream.flush()
        except BaseException:
            if status == EXIT_OK and stream in (sys.stdout, out):
                status = EXIT_RAISED
    if result is not None and status == EXIT_OK:
        try:
            os.write(1, ("\n" + MARKER + result).encode("utf-8", "replace"))
        except BaseException:
            status = EXIT_RAISED
    os._exit(status)


_main()
"""


def driver_code(request: ExecRequest, test: TestCase, marker: str) -> str:
    """The program ``request.code`` wrapped to run on ``test`` in one fresh interpreter."""
    values = {
        "__SOURCE__": request.code,
        "__MODE__": request.mode.value,
        "__FN_NAME__": request.fn_name or "",
        "__TEST_INPUT__": "" if request.mode is Mode.STDIN else test.input,
        "__MARKER__": marker,
    }
    code = _DRIVER
    for name, value in values.items():
        code = code.replace(name, json.dumps(value))  # a JSON string is a Python literal
    return code


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


class SandboxFusionSandbox(PooledClient):
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
        if not urls:
            raise SandboxError("the sandboxfusion backend needs at least one service url")
        self.limits = limits or Limits()
        self._services = [_Service.parse(i, url) for i, url in enumerate(urls)]
        self._conns = Connections()
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self.request_timeout_s = request_timeout_s
        self.max_in_flight = max_in_flight or IN_FLIGHT_PER_URL * len(self._services)
        self._pool = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="sandboxfusion")
        self._lock = threading.Lock()
        self._next = 0
        self._closed = False
        self.stats = {"programs": 0, "tests": 0, "calls": 0, "retries": 0}

    @classmethod
    def from_config(cls, cfg: SandboxFusionConfig) -> SandboxFusionSandbox:
        """The client a :class:`~cobalt_rl.sandbox.config.SandboxFusionConfig` describes."""
        return cls(
            cfg.urls,
            limits=cfg.limits,
            token=cfg.token(),
            max_in_flight=cfg.max_in_flight,
            request_timeout_s=cfg.request_timeout_s,
        )

    def run(self, request: ExecRequest) -> ExecResult:
        return self.run_batch([request])[0]

    def run_batch(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
        """Run ``requests`` (programs in parallel, each one's tests in order)."""
        if self._closed:
            raise SandboxError("the sandbox is closed")
        futures = [self._pool.submit(self._execute, r) for r in requests]
        return [f.result() for f in futures]

    def _execute(self, request: ExecRequest) -> ExecResult:
        limits = request.limits or self.limits
        budget_end = time.monotonic() + limits.program_timeout_s
        outcomes: list[TestOutcome] = []
        failed = False
        for test in request.tests:
            if failed and request.stop_on_first_failure:
                outcomes.append(TestOutcome(status=Status.SKIPPED, detail="earlier failure"))
                continue
            remaining = budget_end - time.monotonic()
            if remaining < MIN_TEST_S:
                outcome = TestOutcome(status=Status.TIMEOUT, detail="program time budget exhausted")
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
        with self._lock:
            self.stats["programs"] += 1
            self.stats["tests"] += len(outcomes)
        feedback = render_feedback(
            request.tests, outcomes, request.mode, request.fn_name, limits.timeout_s
        )
        return ExecResult(outcomes=outcomes, feedback=feedback)

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
            if self._closed:
                raise SandboxError("the sandbox was closed while a batch was running")
            svc = self._pick()
            try:
                status, data = self._conns.post(svc, "/run_code", body, self._headers, deadline)
                with self._lock:
                    self.stats["calls"] += 1
                if status >= 500:
                    raise _Retry(f"{status}: {data[:200].decode('utf-8', 'replace')}")
                if status != 200:
                    raise SandboxError(
                        f"SandboxFusion at {svc.url} refused run_code ({status}): "
                        f"{data[:300].decode('utf-8', 'replace')}"
                    )
                try:
                    answer: dict[str, Any] = json.loads(data)
                except ValueError as e:
                    raise _Retry("the answer is not JSON") from e
                if not isinstance(answer, dict):
                    raise _Retry("the answer is not a JSON object")
                if answer.get("status") == "SandboxError" and not retried_theirs:
                    retried_theirs = True  # their infrastructure, maybe passing: once more
                    errors[svc.url] = str(answer.get("message", ""))[:200]
                    continue
                with self._lock:
                    svc.cooldown = COOLDOWN_S
                return answer
            except _Retry as e:
                errors[svc.url] = str(e)
                with self._lock:
                    self.stats["retries"] += 1
                    svc.healthy = False
                    svc.down_until = time.monotonic() + svc.cooldown
                    svc.cooldown = min(svc.cooldown * 2, MAX_COOLDOWN_S)
                log.warning("SandboxFusion at %s failed (%s); retrying", svc.url, e)
        raise SandboxError(
            "every SandboxFusion service failed: "
            + "; ".join(f"{url}: {err}" for url, err in errors.items())
        )

    def _pick(self) -> _Service:
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
