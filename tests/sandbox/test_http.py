"""The HTTP sandbox service and the ``http`` backend: same verdicts as the local pool, bounds,
auth, health, drain, fail-over between services, and ``cobalt sandbox serve`` as a process."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import FAST, NORMAL, needs_bwrap, statuses, stdin_request

from cobalt_rl.cli import main as cli_main
from cobalt_rl.errors import SandboxError
from cobalt_rl.records import Mode, Status, TestCase
from cobalt_rl.sandbox import ExecRequest, LocalSandbox
from cobalt_rl.sandbox.config import HttpSandboxConfig
from cobalt_rl.sandbox.factory import make_sandbox
from cobalt_rl.sandbox.http import HttpSandbox
from cobalt_rl.sandbox.service import SandboxService, ServiceLimits

TOKEN = "test-token-0123456789"
_counter = iter(range(10**9))


def unique(code: str) -> str:
    """``code`` made distinct (so no cache answers it)."""
    return f"{code}\n# {next(_counter)}\n"


@pytest.fixture(scope="module")
def service() -> Iterator[SandboxService]:
    sandbox = LocalSandbox(workers=2, limits=FAST, cache_size=0)
    bounds = ServiceLimits(max_body_bytes=64 << 10, max_batch=64)
    with SandboxService(sandbox, token=TOKEN, bounds=bounds) as svc:
        yield svc


@pytest.fixture(scope="module")
def client(service: SandboxService) -> Iterator[HttpSandbox]:
    with HttpSandbox([service.url], token=TOKEN, limits=FAST) as sandbox:
        yield sandbox


def call(
    url: str, method: str, path: str, body: bytes | None = None, token: str | None = TOKEN
) -> tuple[int, dict[str, object]]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def batch_body(*requests: ExecRequest) -> bytes:
    return json.dumps({"requests": [r.model_dump(mode="json") for r in requests]}).encode()


def mixed_batch() -> list[ExecRequest]:
    """Passing, failing, erroring, timing-out and hostile programs, in all three modes."""
    functional = [("3\n4", "7"), ("-2\n10", "8")]
    hostile = [
        "import os\nos.kill(os.getppid(), 9)\n",  # kills its worker
        "while True:\n    pass\n",  # infinite loop
        textwrap.dedent(
            """
            import os
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
            """
        ),  # fork bomb
        "print('x' * (4 << 20))\n",  # floods stdout
    ]
    return [
        stdin_request(unique(NORMAL), [("3\n", "6\n"), ("5\n", "10\n")]),
        stdin_request(unique("print(int(input()) + 1)"), [("3\n", "6\n"), ("5\n", "6\n")]),
        stdin_request(unique("raise ValueError('no')")),
        stdin_request(unique("def f(:\n    pass")),
        *(stdin_request(unique(code)) for code in hostile),
        ExecRequest(
            code=unique("def add(a, b):\n    return a + b"),
            tests=[TestCase(input=i, output=o) for i, o in functional],
            mode=Mode.FUNCTIONAL,
            fn_name="add",
        ),
        ExecRequest(
            code=unique("def add(a, b):\n    return a - b"),
            tests=[TestCase(input=i, output=o) for i, o in functional],
            mode=Mode.FUNCTIONAL,
            fn_name="add",
            stop_on_first_failure=True,
        ),
        ExecRequest(
            code=unique("def inc(x):\n    return x + 1"),
            tests=[TestCase(input="assert inc(1) == 2\n"), TestCase(input="assert inc(1) == 3\n")],
            mode=Mode.SCRIPT,
        ),
    ]


# -------------------------------------------------------------------------- verdicts


@needs_bwrap
def test_same_verdicts_as_the_local_backend(
    service: SandboxService, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = mixed_batch()
    local = service.sandbox.run_batch(requests)  # the same pool, directly (no cache)
    monkeypatch.setenv("COBALT_SANDBOX_TOKEN", TOKEN)
    remote = make_sandbox(HttpSandboxConfig(urls=[service.url], limits=FAST))
    try:
        assert isinstance(remote, HttpSandbox)
        results = remote.run_batch(requests)
    finally:
        remote.close()
    assert [statuses(r) for r in results] == [statuses(r) for r in local]
    assert [r.feedback for r in results] == [r.feedback for r in local]
    # the batch holds every kind of outcome, so the comparison above means something
    seen = {s for r in results for s in statuses(r)}
    assert {Status.PASSED, Status.WRONG_ANSWER, Status.RUNTIME_ERROR, Status.TIMEOUT} <= seen
    assert {Status.SYNTAX_ERROR, Status.OUTPUT_LIMIT, Status.SKIPPED} <= seen


def test_the_clients_limits_travel_with_each_request(
    service: SandboxService, client: HttpSandbox
) -> None:
    # The service's default is FAST (1 s a test); a client asking for 3 s gets them.
    slow = unique("import time\ntime.sleep(1.5)\nprint(int(input()) * 2)")
    roomy = FAST.model_copy(update={"timeout_s": 3.0, "program_timeout_s": 3.0})
    with HttpSandbox([service.url], token=TOKEN, limits=roomy) as patient:
        assert patient.run(stdin_request(slow)).passed
    assert statuses(client.run(stdin_request(slow + " "))) == [Status.TIMEOUT]


def test_many_concurrent_batches_share_the_pool(client: HttpSandbox) -> None:
    def one(k: int) -> list[bool]:
        code = f"print({k} + int(input()))"
        batch = [stdin_request(unique(code), [("3\n", f"{k + 3}\n")]) for _ in range(5)]
        return [r.passed for r in client.run_batch(batch)]

    outcomes: list[list[bool]] = []
    threads = [threading.Thread(target=lambda k=k: outcomes.append(one(k))) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == [[True] * 5] * 6


# ------------------------------------------------------------------ bounds and auth


def test_health_needs_no_token(service: SandboxService) -> None:
    status, body = call(service.url, "GET", "/healthz", token=None)
    assert status == 200
    assert body["status"] == "ok" and body["workers"] == 2


def test_requests_without_or_with_a_wrong_token_are_refused(service: SandboxService) -> None:
    body = batch_body(stdin_request(unique(NORMAL)))
    for token in (None, "wrong", TOKEN + "x", ""):
        status, answer = call(service.url, "POST", "/v1/run", body, token=token)
        assert status == 401, token
        assert "token" in str(answer["error"])
    assert call(service.url, "GET", "/v1/stats", token="wrong")[0] == 401
    status, answer = call(service.url, "POST", "/v1/run", body)
    assert status == 200 and answer["results"][0]["outcomes"][0]["status"] == "passed"


def test_a_client_with_a_wrong_token_gets_a_clear_error(service: SandboxService) -> None:
    with (
        HttpSandbox([service.url], token="wrong", limits=FAST) as bad,
        pytest.raises(SandboxError, match="401"),
    ):
        bad.run(stdin_request(unique(NORMAL)))


def test_oversize_body_is_refused_with_413(service: SandboxService) -> None:
    big = stdin_request(unique("x = 1\n" + "#" * (100 << 10)))
    status, answer = call(service.url, "POST", "/v1/run", batch_body(big))
    assert status == 413
    assert "exceeds the service's limit" in str(answer["error"])


def test_client_splits_a_batch_too_large_for_the_service(
    service: SandboxService, client: HttpSandbox
) -> None:
    # each request ~20 KiB: 8 of them are over the service's 64 KiB, so chunks are halved
    padding = "#" * (20 << 10)
    requests = [
        stdin_request(unique(f"print({k} + int(input()))\n{padding}"), [("1\n", f"{k + 1}\n")])
        for k in range(8)
    ]
    before = client.stats["splits"]
    with HttpSandbox([service.url], token=TOKEN, limits=FAST, chunk_requests=8) as one_chunk:
        results = one_chunk.run_batch(requests)
        assert one_chunk.stats["splits"] > 0
    assert client.stats["splits"] == before
    assert [r.passed for r in results] == [True] * 8
    # one request alone over the limit: a clear error, not a retry loop
    with pytest.raises(SandboxError, match="larger than"):
        client.run(stdin_request(unique("x = 1\n" + "#" * (100 << 10))))


def test_too_many_requests_in_a_batch_is_refused(service: SandboxService) -> None:
    tiny = stdin_request("print(1)", [("", "1\n")])
    status, answer = call(service.url, "POST", "/v1/run", batch_body(*[tiny] * 65))
    assert status == 413
    assert "65 requests" in str(answer["error"])


def test_bad_json_is_a_400_naming_the_problem(service: SandboxService) -> None:
    status, answer = call(service.url, "POST", "/v1/run", b"{not json")
    assert status == 400 and "not JSON" in str(answer["error"])
    bad_mode = {"requests": [{"code": "print(1)", "tests": [], "mode": "cobol"}]}
    status, answer = call(service.url, "POST", "/v1/run", json.dumps(bad_mode).encode())
    assert status == 400 and "requests.0.mode" in str(answer["error"])
    status, answer = call(service.url, "POST", "/v1/run", json.dumps({"reqs": []}).encode())
    assert status == 400 and "requests" in str(answer["error"])


def test_limits_above_the_services_ceiling_are_refused(service: SandboxService) -> None:
    greedy = stdin_request(
        NORMAL, limits=FAST.model_copy(update={"timeout_s": 1000.0, "program_timeout_s": 1000.0})
    )
    status, answer = call(service.url, "POST", "/v1/run", batch_body(greedy))
    assert status == 400
    assert "requests.0.limits" in str(answer["error"]) and "timeout_s" in str(answer["error"])
    unlimited = stdin_request(NORMAL, limits=FAST.model_copy(update={"memory_mb": 0}))
    status, answer = call(service.url, "POST", "/v1/run", batch_body(unlimited))
    assert status == 400 and "memory_mb" in str(answer["error"])


def test_unknown_paths_and_methods(service: SandboxService) -> None:
    assert call(service.url, "GET", "/v2/nothing")[0] == 404
    assert call(service.url, "GET", "/v1/run")[0] == 405
    status, stats = call(service.url, "GET", "/v1/stats")
    assert status == 200 and stats["service"]["batches"] >= 0  # type: ignore[index]


def test_a_busy_service_pushes_back_and_the_client_waits() -> None:
    sandbox = LocalSandbox(workers=1, limits=FAST, cache_size=0)
    with SandboxService(sandbox, bounds=ServiceLimits(max_pending=2)) as service:
        slow = "import time\ntime.sleep(0.2)\nprint({k})"
        requests = [stdin_request(unique(slow.format(k=k)), [("", f"{k}\n")]) for k in range(6)]
        with HttpSandbox([service.url], limits=FAST, chunk_requests=2) as client:
            results = client.run_batch(requests)  # chunks of 2, two in flight: one is refused
            assert client.stats["retries"] >= 1
        assert [r.passed for r in results] == [True] * 6
        assert service.counters["rejected"] >= 1


# ------------------------------------------------------------------------ drain


def test_drain_finishes_the_batch_in_flight_and_refuses_new_ones() -> None:
    sandbox = LocalSandbox(workers=1, limits=FAST, cache_size=0)
    service = SandboxService(sandbox).start()
    slow = stdin_request(unique("import time\ntime.sleep(0.8)\n" + NORMAL))
    answers: list[tuple[int, dict[str, object]]] = []
    sender = threading.Thread(
        target=lambda: answers.append(call(service.url, "POST", "/v1/run", batch_body(slow)))
    )
    sender.start()
    deadline = time.monotonic() + 10
    while service.health()["in_flight_batches"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    drained: list[bool] = []
    drainer = threading.Thread(target=lambda: drained.append(service.drain(timeout_s=30)))
    drainer.start()
    while not service.draining:
        time.sleep(0.01)
    health = call(service.url, "GET", "/healthz")
    refused = call(service.url, "POST", "/v1/run", batch_body(stdin_request(unique(NORMAL))))
    sender.join()
    drainer.join()
    assert health[0] == 503 and health[1]["status"] == "draining"
    assert refused[0] == 503 and "draining" in str(refused[1]["error"])
    ((status, answer),) = answers
    assert status == 200
    assert answer["results"][0]["outcomes"][0]["status"] == "passed"  # type: ignore[index]
    assert drained == [True]


# -------------------------------------------------------------- services as processes


def start_service(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen[bytes], str]:
    """``cobalt sandbox serve`` in its own process group; returns it and its URL."""
    token_file = tmp_path / f"token-{next(_counter)}"
    token_file.write_text(TOKEN + "\n")
    argv = [sys.executable, "-m", "cobalt_rl.cli.main", "sandbox", "serve", "--port", "0"]
    argv += [
        "--token-file",
        str(token_file),
        "--limits-timeout-s",
        "1",
        "--limits-program-timeout-s",
        "3",
    ]
    proc = subprocess.Popen(
        [*argv, *flags], stderr=subprocess.PIPE, start_new_session=True, env=dict(os.environ)
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline().decode()
        if "serving on " in line:
            url = line.split("serving on ")[1].strip()
            # keep reading its log so the pipe never fills
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, url
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"cobalt sandbox serve did not start (exit {proc.poll()})")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_cli_service_drains_on_sigterm_and_exits_0(tmp_path: Path) -> None:
    proc, url = start_service(tmp_path, "--workers", "1")
    try:
        with HttpSandbox([url], token=TOKEN, limits=FAST) as client:
            slow = stdin_request(unique("import time\ntime.sleep(0.8)\n" + NORMAL))
            future = client.submit(slow)
            deadline = time.monotonic() + 10
            while call(url, "GET", "/healthz")[1]["in_flight_batches"] == 0:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            proc.send_signal(signal.SIGTERM)
            assert future.result(timeout=30).passed  # the batch in flight was answered
        assert proc.wait(timeout=30) == 0
    finally:
        stop(proc)


@pytest.mark.slow
def test_failover_when_a_service_dies_mid_batch(tmp_path: Path) -> None:
    first, url1 = start_service(tmp_path, "--workers", "1")
    second, url2 = start_service(tmp_path, "--workers", "1")
    try:
        with HttpSandbox([url1, url2], token=TOKEN, limits=FAST, chunk_requests=2) as client:
            # each program prints its own number: a result in the wrong place would fail
            requests = [
                stdin_request(unique(f"import time\ntime.sleep(0.2)\nprint({k})"), [("", f"{k}\n")])
                for k in range(16)
            ]
            killer = threading.Timer(0.6, lambda: os.killpg(first.pid, signal.SIGKILL))
            killer.start()
            results = client.run_batch(requests)
            killer.join()
            assert first.poll() is not None  # it really died mid-batch
            assert [statuses(r) for r in results] == [[Status.PASSED]] * 16
            assert client.stats["retries"] >= 1
            assert client.stats["programs"] == 16
            # the dead service is left alone: the next batch all goes to the live one
            more = [stdin_request(unique(f"print({k})"), [("", f"{k}\n")]) for k in range(4)]
            assert all(r.passed for r in client.run_batch(more))
    finally:
        stop(first)
        stop(second)


def test_every_service_down_is_a_clear_error() -> None:
    dead = ["http://127.0.0.1:9", "http://127.0.0.1:7"]  # discard/echo: nothing listens
    with pytest.raises(SandboxError, match=r"no sandbox service answers: .*127\.0\.0\.1:9"):
        HttpSandbox(dead, limits=FAST)
    with HttpSandbox(dead[:1], limits=FAST, check_health=False) as blind:
        start = time.monotonic()
        with pytest.raises(SandboxError, match="every sandbox service failed"):
            blind.run(stdin_request(NORMAL))
        assert time.monotonic() - start < 20


def test_serve_refuses_a_public_address_without_a_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COBALT_SANDBOX_TOKEN", raising=False)
    assert cli_main.main(["sandbox", "serve", "--host", "0.0.0.0"]) == 1
    err = capsys.readouterr().err
    assert "--token-file" in err and "--allow-unauthenticated" in err
