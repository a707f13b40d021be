"""The ``sandboxfusion`` backend against a fake SandboxFusion ``/run_code`` server.

``FakeSandboxFusionServer`` answers SandboxFusion's API (``sandbox/server/sandbox_api.py``:
``RunCodeRequest`` → ``RunCodeResponse``) by running the code it is sent in our own
LocalSandbox, stdin mode, one test: it only executes, as SandboxFusion does; the backend under
test decides every verdict.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sandbox_helpers import FAST, NORMAL, statuses, stdin_request

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import Mode, Status, TestCase
from cobalt_rl.sandbox import ExecRequest, LocalSandbox
from cobalt_rl.sandbox.config import SandboxFusionConfig
from cobalt_rl.sandbox.factory import make_sandbox
from cobalt_rl.sandbox.sandboxfusion import SandboxFusionSandbox

_counter = iter(range(10**9))


def unique(code: str) -> str:
    return f"{code}\n# {next(_counter)}\n"


class FakeSandboxFusionServer:
    """A test-only stand-in for a SandboxFusion service: runs ``code`` with ``stdin`` in a
    LocalSandbox and reports the process the way SandboxFusion does. ``fail_first`` answers
    that many calls with 500 first; ``broken`` answers every call with status SandboxError."""

    def __init__(self, sandbox: LocalSandbox, fail_first: int = 0, broken: bool = False):
        self.sandbox = sandbox
        self.fail_first = fail_first
        self.broken = broken
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def run_code(self, req: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(req)
            if self.fail_first > 0:
                self.fail_first -= 1
                return 500, {"detail": "Internal Server Error"}
        if self.broken:
            return 200, {"status": "SandboxError", "message": "no runner", "run_result": None}
        assert req["language"] == "python"
        timeout = float(req["run_timeout"])
        memory = int(req["memory_limit_MB"])
        limits = FAST.model_copy(
            update={
                "timeout_s": timeout,
                "program_timeout_s": timeout,
                "memory_mb": 0 if memory < 0 else memory,
            }
        )
        request = stdin_request(req["code"], [(req.get("stdin") or "", "")], limits=limits)
        (outcome,) = self.sandbox.run(request).outcomes
        run: dict[str, Any] = {
            "status": "Finished",
            "execution_time": outcome.seconds,
            "return_code": 0,
            "stdout": outcome.output,
            "stderr": outcome.stderr,
        }
        status = outcome.status
        if status is Status.TIMEOUT:
            run.update(status="TimeLimitExceeded", return_code=None)
        elif status is Status.SYNTAX_ERROR:  # the driver exits 2 on the program's syntax error
            run["return_code"] = 2
        elif status is Status.MEMORY:
            run["return_code"] = 3 if outcome.detail == "MemoryError" else -signal.SIGKILL
        elif status is Status.RUNTIME_ERROR:
            detail = outcome.detail
            if detail.startswith("exit code "):
                run["return_code"] = int(detail.removeprefix("exit code "))
            elif detail.startswith("killed by signal "):
                run["return_code"] = -signal.Signals[detail.removeprefix("killed by signal ")]
            else:
                run["return_code"] = 1
        ok = run["status"] == "Finished" and run["return_code"] == 0
        return 200, {
            "status": "Success" if ok else "Failed",
            "message": "",
            "compile_result": None,
            "run_result": run,
            "executor_pod_name": None,
            "files": {},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                assert self.path == "/run_code"
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, answer = fake.run_code(json.loads(body))
                data = json.dumps(answer).encode()
                self.send_response(HTTPStatus(status))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture(scope="module")
def pool() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=FAST, cache_size=0) as sandbox:
        yield sandbox


@pytest.fixture
def fake(pool: LocalSandbox) -> Iterator[FakeSandboxFusionServer]:
    server = FakeSandboxFusionServer(pool)
    yield server
    server.close()


def functional(code: str, tests: list[tuple[str, str]], **kw: Any) -> ExecRequest:
    cases = [TestCase(input=i, output=o) for i, o in tests]
    return ExecRequest(code=unique(code), tests=cases, mode=Mode.FUNCTIONAL, fn_name="f", **kw)


def mixed_batch() -> list[ExecRequest]:
    add = [("3\n4", "7"), ("-2\n10", "8")]
    return [
        stdin_request(unique(NORMAL), [("3\n", "6\n"), ("5\n", "10\n"), ("0\n", "0\n")]),
        stdin_request(unique("print(int(input()) + 1)"), [("3\n", "6\n"), ("5\n", "6\n")]),
        stdin_request(unique("print(int(input()) * 2.0)"), [("3\n", "6\n")]),  # 6.0 == 6
        stdin_request(unique("import sys\nprint(6)\nsys.exit(0)")),
        stdin_request(unique("import sys\nsys.exit(3)")),
        stdin_request(unique("raise ValueError('no')")),
        stdin_request(unique("def f(:\n    pass")),
        stdin_request(unique("while True:\n    pass\n")),
        stdin_request(unique("import ctypes\nctypes.string_at(0)\n")),  # segfault
        functional("def f(a, b):\n    print('noise')\n    return a + b", add),
        functional("def f(a, b):\n    return a - b", add, stop_on_first_failure=True),
        functional("class Solution:\n    def f(self, a, b):\n        return {a, b}", add),
        functional("def g(a, b):\n    return a + b", add),  # no such function
        functional("import sys\ndef f(a, b):\n    sys.exit(0)", add),
        ExecRequest(
            code=unique("def inc(x):\n    return x + 1"),
            tests=[TestCase(input="assert inc(1) == 2\n"), TestCase(input="assert inc(1) == 3\n")],
            mode=Mode.SCRIPT,
        ),
    ]


def test_same_verdicts_as_the_local_backend(
    pool: LocalSandbox, fake: FakeSandboxFusionServer
) -> None:
    requests = mixed_batch()
    local = pool.run_batch(requests)
    remote = make_sandbox(SandboxFusionConfig(urls=[fake.url], limits=FAST))
    try:
        assert isinstance(remote, SandboxFusionSandbox)
        results = remote.run_batch(requests)
    finally:
        remote.close()
    assert [statuses(r) for r in results] == [statuses(r) for r in local]
    assert [r.feedback for r in results] == [r.feedback for r in local]
    seen = {s for r in results for s in statuses(r)}
    assert {Status.PASSED, Status.WRONG_ANSWER, Status.RUNTIME_ERROR, Status.TIMEOUT} <= seen
    assert {Status.SYNTAX_ERROR, Status.SKIPPED} <= seen
    # one run_code call per test run (the skipped one is not sent), code never the answer
    run = sum(1 for r in results for s in statuses(r) if s is not Status.SKIPPED)
    assert len(fake.calls) == run
    assert all("memory_limit_MB" in c and c["run_timeout"] <= FAST.timeout_s for c in fake.calls)
    expected = {t.output for r in requests for t in r.tests if len(t.output) > 2}
    assert not [e for e in expected for c in fake.calls if e in c["code"] or e in c["stdin"]]


def test_functional_output_noise_does_not_confuse_the_result(
    fake: FakeSandboxFusionServer,
) -> None:
    code = "def f(a, b):\n    print('@@cobalt-result-0000@@99')\n    return a + b"
    with SandboxFusionSandbox([fake.url], limits=FAST) as sandbox:
        result = sandbox.run(functional(code, [("3\n4", "7")]))
    assert statuses(result) == [Status.PASSED]


def test_program_budget_is_counted_across_tests(fake: FakeSandboxFusionServer) -> None:
    # 3 tests of 0.9 s each within a 1 s per-test, 2 s per-program budget: the third
    # test has no budget left
    limits = FAST.model_copy(update={"program_timeout_s": 2.0})
    code = unique("import time\ntime.sleep(0.9)\nprint(int(input()) * 2)")
    request = stdin_request(code, [("1\n", "2\n")] * 3, limits=limits)
    with SandboxFusionSandbox([fake.url], limits=FAST) as sandbox:
        result = sandbox.run(request)
    assert statuses(result)[:2] == [Status.PASSED, Status.PASSED]
    assert statuses(result)[2] is Status.TIMEOUT


def test_a_failing_service_is_retried_on_another(
    pool: LocalSandbox, fake: FakeSandboxFusionServer
) -> None:
    flaky = FakeSandboxFusionServer(pool, fail_first=100)
    try:
        with SandboxFusionSandbox([flaky.url, fake.url], limits=FAST) as sandbox:
            results = sandbox.run_batch([stdin_request(unique(NORMAL)) for _ in range(3)])
            assert sandbox.stats["retries"] >= 1
        assert all(r.passed for r in results)
        assert flaky.calls  # it was tried
    finally:
        flaky.close()


def test_their_sandbox_error_is_ours_to_report(pool: LocalSandbox) -> None:
    broken = FakeSandboxFusionServer(pool, broken=True)
    try:
        with SandboxFusionSandbox([broken.url], limits=FAST) as sandbox:
            result = sandbox.run(stdin_request(unique(NORMAL)))
        assert statuses(result) == [Status.SANDBOX_ERROR]
        assert "no runner" in result.outcomes[0].detail
        assert len(broken.calls) == 2  # retried once: it might have been passing
    finally:
        broken.close()


def test_unreachable_services_are_a_clear_error() -> None:
    with (
        SandboxFusionSandbox(["http://127.0.0.1:9"], limits=FAST) as sandbox,
        pytest.raises(SandboxError, match=r"every SandboxFusion service failed: .*127\.0\.0\.1:9"),
    ):
        sandbox.run(stdin_request(NORMAL))


def test_the_driver_is_the_local_workers_harness() -> None:
    """One harness, two runners: the code sent to SandboxFusion starts with the local worker's
    harness file, byte for byte, and only adds a call of its ``run_standalone``."""
    from pathlib import Path

    from cobalt_rl.sandbox._worker import harness
    from cobalt_rl.sandbox.sandboxfusion import driver_code

    source = Path(harness.__file__).read_text(encoding="utf-8")
    request = ExecRequest(
        code="def f(a):\n    return a\n",
        tests=[TestCase(input="1", output="1")],
        mode=Mode.FUNCTIONAL,
        fn_name="f",
    )
    driver = driver_code(request, request.tests[0], "@@marker@@")
    assert driver.startswith(source)
    (call,) = driver[len(source) :].strip().splitlines()
    assert (
        call
        == 'run_standalone("def f(a):\\n    return a\\n", "functional", "f", "1", "@@marker@@")'
    )
    assert "def run_program(" in source and "def run_standalone(" in source
