"""LocalSandbox: the three modes, how a program's tests run, limits, the cache, isolation."""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest
from sandbox_helpers import FAST, NORMAL, needs_bwrap, statuses, stdin_request, worker_uids

from cobalt_rl.errors import IsolationUnavailableError, SandboxError
from cobalt_rl.records import Mode, Status, TestCase
from cobalt_rl.sandbox import ExecRequest, Isolation, Limits, LocalSandbox, detect_isolation, local
from cobalt_rl.sandbox import isolation as isolation_module

P, W, R, T = Status.PASSED, Status.WRONG_ANSWER, Status.RUNTIME_ERROR, Status.TIMEOUT


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=FAST, cache_size=0) as pool:
        yield pool


def functional(code: str, fn_name: str, tests: list[tuple[str, str]]) -> ExecRequest:
    return ExecRequest(
        code=code,
        tests=[TestCase(input=i, output=o) for i, o in tests],
        mode=Mode.FUNCTIONAL,
        fn_name=fn_name,
    )


def script(code: str, *tests: str) -> ExecRequest:
    return ExecRequest(code=code, tests=[TestCase(input=t) for t in tests], mode=Mode.SCRIPT)


pytestmark = needs_bwrap

# ------------------------------------------------------------------------------ stdin


def test_stdin_pass_and_wrong_answer(sandbox: LocalSandbox) -> None:
    result = sandbox.run(stdin_request(NORMAL, [("3\n", "6\n"), ("4\n", "9\n")]))
    assert statuses(result) == [P, W]
    assert result.outcomes[1].output == "8\n"
    assert result.pass_rate == 0.5


def test_stdin_reading_styles(sandbox: LocalSandbox) -> None:
    code = """import os, sys
first = sys.stdin.readline()
sys.stdin.seek(0)  # a file, as with `python solution.py < input`
whole = sys.stdin.read()
raw = os.read(0, os.fstat(0).st_size) if os.lseek(0, 0, 0) == 0 else b""
print(first.strip(), len(whole), len(raw), sys.stdin.buffer is not None)
"""
    tests = [("ab\ncd\n", "ab 6 6 True\n"), ("xyz\n", "xyz 4 4 True\n")]
    assert statuses(sandbox.run(stdin_request(code, tests))) == [P, P]


def test_stdin_fast_io_wrapper_is_flushed(sandbox: LocalSandbox) -> None:
    """Programs that replace sys.stdout with their own buffer (competitive-programming
    templates) and never flush it still have their output read."""
    code = """import io, os, sys
class FastOut(io.IOBase):
    def __init__(self):
        self.buffer = io.BytesIO()
    def write(self, s):
        return self.buffer.write(s.encode())
    def flush(self):
        os.write(1, self.buffer.getvalue())
        self.buffer = io.BytesIO()
sys.stdout = FastOut()
print(int(input()) * 2)
"""
    assert statuses(sandbox.run(stdin_request(code, [("3\n", "6\n"), ("5\n", "10\n")]))) == [P, P]


def test_stdin_exit_codes(sandbox: LocalSandbox) -> None:
    tests = [("0\n", "ok\n"), ("1\n", "ok\n"), ("2\n", "ok\n")]
    code = """import sys, os
n = int(input())
print("ok", flush=True)
if n == 0:
    sys.exit(0)
if n == 1:
    sys.exit(3)
os._exit(0)
"""
    assert statuses(sandbox.run(stdin_request(code, tests))) == [P, R, P]


def test_unicode_and_invalid_utf8_output(sandbox: LocalSandbox) -> None:
    code = (
        "import sys\nprint('héllo ✓')\nsys.stdout.flush()\nsys.stdout.buffer.write(b'\\xff\\n')\n"
    )
    result = sandbox.run(stdin_request(code, [("", "héllo ✓\n\ufffd\n")]))
    assert statuses(result) == [P]


def test_writable_scratch_directory(sandbox: LocalSandbox) -> None:
    code = "import os\nopen('notes.txt', 'w').write('x')\nprint(os.getcwd(), os.environ['HOME'])\n"
    assert sandbox.run(stdin_request(code, [("", "/tmp /tmp\n")])).passed


# ------------------------------------------------------------------------- functional


def test_functional_plain_function(sandbox: LocalSandbox) -> None:
    request = functional(
        "def add(a, b):\n    return a + b\n", "add", [("1\n2", "3"), ("[1]\n[2]", "[1, 2]")]
    )
    assert statuses(sandbox.run(request)) == [P, P]


def test_functional_class_solution_method(sandbox: LocalSandbox) -> None:
    code = (
        "from typing import List\n\nclass Solution:\n"
        "    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
        "        seen = {}\n"
        "        for i, x in enumerate(nums):\n"
        "            if target - x in seen:\n"
        "                return [seen[target - x], i]\n"
        "            seen[x] = i\n"
    )
    request = functional(code, "twoSum", [("[2, 7, 11, 15]\n9", "[0, 1]"), ("[3, 3]\n6", "[0, 2]")])
    assert statuses(sandbox.run(request)) == [P, W]


def test_functional_tuples_and_sets_are_compared_as_lists(sandbox: LocalSandbox) -> None:
    request = functional(
        "def f(n):\n    return (n, n + 1) if n else {3, 1, 2}\n",
        "f",
        [("1", "[1, 2]"), ("0", "[1, 2, 3]")],
    )
    assert statuses(sandbox.run(request)) == [P, P]


def test_functional_missing_function(sandbox: LocalSandbox) -> None:
    result = sandbox.run(functional("def g():\n    return 1\n", "f", [("1", "1")]))
    assert statuses(result) == [R]
    assert "NameError: function 'f' is not defined" in result.outcomes[0].stderr


def test_functional_exit_before_returning_is_an_error(sandbox: LocalSandbox) -> None:
    result = sandbox.run(functional("import sys\ndef f(x):\n    sys.exit(0)\n", "f", [("1", "1")]))
    assert statuses(result) == [R]


def test_functional_state_does_not_leak_between_tests(sandbox: LocalSandbox) -> None:
    """Each test runs the program afresh (a new module namespace): module state restarts."""
    code = "calls = []\n\ndef f(x):\n    calls.append(x)\n    return len(calls)\n"
    assert statuses(sandbox.run(functional(code, "f", [("1", "1")] * 4))) == [P] * 4


# ----------------------------------------------------------------------------- script


def test_script_mode_runs_the_test_code_after_the_program(sandbox: LocalSandbox) -> None:
    code = "def inc(x):\n    return x + 1\n"
    request = script(code, "assert inc(1) == 2\n", "assert inc(1) == 3\n", "raise SystemExit(0)\n")
    result = sandbox.run(request)
    assert statuses(result) == [P, R, R]
    assert "AssertionError" in result.outcomes[1].stderr
    assert "SystemExit" in result.outcomes[2].stderr  # exited before the tests finished


def test_script_mode_humaneval_shape(sandbox: LocalSandbox) -> None:
    code = "def candidate_sort(xs):\n    return sorted(xs)\n"
    test = (
        "def check(f):\n    assert f([3, 1, 2]) == [1, 2, 3]\n    assert f([]) == []\n\n"
        "check(candidate_sort)\n"
    )
    assert sandbox.run(script(code, test)).passed


# ------------------------------------------------------------------- how tests are run


def test_a_crash_fails_only_its_test(sandbox: LocalSandbox) -> None:
    code = """import ctypes
n = int(input())
if n == 2:
    ctypes.string_at(0)
if n == 3:
    x = b"x" * (1 << 30)
print(n * 2)
"""
    tests = [(f"{n}\n", f"{n * 2}\n") for n in range(1, 6)]
    result = sandbox.run(stdin_request(code, tests))
    assert statuses(result) == [P, R, Status.MEMORY, P, P]


def test_a_timeout_fails_only_its_test(sandbox: LocalSandbox) -> None:
    code = "n = int(input())\nwhile n == 2:\n    pass\nprint(n)\n"
    result = sandbox.run(stdin_request(code, [("1\n", "1\n"), ("2\n", "2\n"), ("3\n", "3\n")]))
    assert statuses(result) == [P, T, P]


def test_stdin_module_state_is_fresh_for_every_test(sandbox: LocalSandbox) -> None:
    code = (
        "import sys\nseen = getattr(sys, 'seen', 0)\nsys.seen = seen + 1\nprint(int(input()) * 2)\n"
    )
    # sys is process state: shared by a program's tests (as in LiveCodeBench's evaluator)
    result = sandbox.run(stdin_request(code, [("1\n", "2\n"), ("2\n", "4\n")]))
    assert statuses(result) == [P, P]
    counter = "count = 0\ncount += 1\nprint(count)\n"
    assert statuses(sandbox.run(stdin_request(counter, [("", "1\n")] * 3))) == [P, P, P]


def test_killing_the_worker_mid_request_charges_only_that_test(sandbox: LocalSandbox) -> None:
    code = "import os\nn = int(input())\nif n == 2:\n    os.kill(os.getppid(), 9)\nprint(n)\n"
    tests = [(f"{n}\n", f"{n}\n") for n in (1, 2, 3)]
    result = sandbox.run(stdin_request(code, tests))
    assert statuses(result) == [P, R, P]
    assert result.outcomes[1].detail == "the program killed its sandbox worker"


def test_large_inputs_are_sent_in_chunks(sandbox: LocalSandbox) -> None:
    size = local.CHUNK_CHARS // 2 + 1
    code = "import sys\nprint(len(sys.stdin.read()))\n"
    tests = [("x" * (size + i), f"{size + i}\n") for i in range(5)]
    assert statuses(sandbox.run(stdin_request(code, tests))) == [P] * 5


def test_syntax_error_fails_every_test(sandbox: LocalSandbox) -> None:
    result = sandbox.run(stdin_request("print(\n", [("", "")] * 3))
    assert statuses(result) == [Status.SYNTAX_ERROR] * 3
    assert all("SyntaxError" in o.stderr for o in result.outcomes)


def test_null_bytes_are_a_syntax_error(sandbox: LocalSandbox) -> None:
    assert statuses(sandbox.run(stdin_request("print(1)\x00"))) == [Status.SYNTAX_ERROR]


def test_no_tests(sandbox: LocalSandbox) -> None:
    result = sandbox.run(ExecRequest(code="print(1)", tests=[], mode=Mode.STDIN))
    assert result.outcomes == [] and not result.passed


# ---------------------------------------------------------------------------- limits


def test_stop_on_first_failure(sandbox: LocalSandbox) -> None:
    request = stdin_request(
        NORMAL, [("1\n", "2\n"), ("2\n", "5\n"), ("3\n", "6\n")], stop_on_first_failure=True
    )
    result = sandbox.run(request)
    assert statuses(result) == [P, W, Status.SKIPPED]
    assert "Expected Output:\n5" in result.feedback


def test_stop_after_timeout_reports_the_rest_as_timeouts_without_running_them(
    sandbox: LocalSandbox,
) -> None:
    """A program that hangs on its second input: with the flag, the three tests after the
    hang are reported as timeouts at once; without it each pays the limit (or passes)."""
    limits = Limits(timeout_s=0.5, program_timeout_s=10.0)
    code = "n = int(input())\nwhile n == 2:\n    pass\nprint(n * 2)\n"
    tests = [("1\n", "2\n"), ("2\n", "4\n"), ("2\n", "4\n"), ("2\n", "4\n"), ("5\n", "10\n")]
    start = time.monotonic()
    stopped = sandbox.run(stdin_request(code, tests, limits=limits, stop_after_timeout=True))
    stopped_s = time.monotonic() - start
    T = Status.TIMEOUT
    assert statuses(stopped) == [P, T, T, T, T]
    assert [o.detail for o in stopped.outcomes[2:]] == ["not run: an earlier test timed out"] * 3
    start = time.monotonic()
    full = sandbox.run(stdin_request(code, tests, limits=limits))
    full_s = time.monotonic() - start
    assert statuses(full) == [P, T, T, T, P]  # the last test passes when it runs
    assert full_s - stopped_s > 0.8  # two hangs of 0.5 s not paid


def test_program_time_budget(sandbox: LocalSandbox) -> None:
    limits = Limits(timeout_s=1.0, program_timeout_s=1.0)
    code = "import time\ntime.sleep(0.4)\nprint(int(input()) * 2)\n"
    tests = [(f"{n}\n", f"{2 * n}\n") for n in range(5)]
    start = time.monotonic()
    result = sandbox.run(stdin_request(code, tests, limits=limits))
    assert time.monotonic() - start < 2.0
    got = statuses(result)
    assert got[0] is P and got[-1] is T
    assert got == sorted(got, key=lambda s: s is T)  # passes, then timeouts
    assert result.outcomes[-1].detail == "program time budget exhausted"
    assert sum(o.seconds for o in result.outcomes) <= 1.2  # the budget, give or take polling


def test_request_limits_override_the_sandbox_default(sandbox: LocalSandbox) -> None:
    limits = Limits(timeout_s=0.2, program_timeout_s=1.0)
    request = stdin_request("import time\ntime.sleep(0.5)\nprint(6)\n", limits=limits)
    result = sandbox.run(request)
    assert statuses(result) == [T]
    assert "0.2 seconds" in result.feedback
    assert sandbox.run(stdin_request("import time\ntime.sleep(0.5)\nprint(6)\n")).passed


# ----------------------------------------------------------------------------- cache


def test_identical_requests_are_answered_from_the_cache() -> None:
    with LocalSandbox(workers=1, limits=FAST) as pool:
        request = stdin_request(NORMAL, [("1\n", "2\n"), ("2\n", "5\n")])
        first = pool.run(request)
        assert pool.stats["cache_hits"] == 0
        again = pool.run(stdin_request(NORMAL, [("1\n", "2\n"), ("2\n", "5\n")]))
        assert pool.stats["cache_hits"] == 1
        assert again == first
        assert pool.stats["programs"] == 1  # ran once
        other_limits = stdin_request(NORMAL, [("1\n", "2\n"), ("2\n", "5\n")], limits=Limits())
        pool.run(other_limits)
        assert pool.stats["cache_hits"] == 1 and pool.stats["programs"] == 2


def test_identical_requests_in_flight_share_one_run() -> None:
    with LocalSandbox(workers=2, limits=FAST) as pool:
        request = stdin_request("import time\ntime.sleep(0.2)\n" + NORMAL)
        first, second = pool.submit(request), pool.submit(request)
        assert first.result() == second.result()
        assert pool.stats["programs"] == 1 and pool.stats["cache_hits"] == 1


def test_cache_can_be_disabled() -> None:
    with LocalSandbox(workers=1, limits=FAST, cache_size=0) as pool:
        pool.run(stdin_request(NORMAL))
        pool.run(stdin_request(NORMAL))
        assert pool.stats["programs"] == 2 and pool.stats["cache_hits"] == 0


# --------------------------------------------------------------------------- the pool


def test_run_batch_keeps_order_and_reports_progress(sandbox: LocalSandbox) -> None:
    requests = [stdin_request(NORMAL, [(f"{n}\n", f"{2 * n}\n")]) for n in range(8)]
    requests[5] = stdin_request(NORMAL, [("5\n", "11\n")])
    seen: list[int] = []
    lock = threading.Lock()

    def progress(n: int) -> None:
        with lock:
            seen.append(n)

    results = sandbox.run_batch(requests, progress=progress)
    assert [r.passed for r in results] == [True] * 5 + [False] + [True] * 2
    assert sum(seen) == 8


def test_stats_count_programs_and_tests() -> None:
    with LocalSandbox(workers=1, limits=FAST, cache_size=0) as pool:
        pool.run(stdin_request(NORMAL, [("1\n", "2\n")] * 3))
        pool.run(stdin_request(NORMAL + "\n"))
        assert pool.stats == {"programs": 2, "tests": 4, "cache_hits": 0, "worker_restarts": 0}


def test_a_closed_sandbox_refuses_work() -> None:
    pool = LocalSandbox(workers=1, limits=FAST)
    pool.close()
    pool.close()  # twice is fine
    with pytest.raises(SandboxError):
        pool.run(stdin_request(NORMAL))


@pytest.mark.skipif(os.geteuid() != 0, reason="workers switch uid only when started as root")
def test_every_worker_has_its_own_uid(sandbox: LocalSandbox) -> None:
    with LocalSandbox(workers=2, limits=FAST) as other:
        mine, theirs = worker_uids(sandbox), worker_uids(other)
        assert len(mine) == 2 and len(theirs) == 2
        assert not mine & theirs


# ------------------------------------------------------------------------- isolation


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make bubblewrap look missing; re-probe the real machine afterwards."""
    real_which = shutil.which

    def which(name: str, *args: object, **kwargs: object) -> str | None:
        return None if name == "bwrap" else real_which(name)

    monkeypatch.setattr(isolation_module.shutil, "which", which)
    isolation_module._available.cache_clear()
    yield
    monkeypatch.undo()
    isolation_module._available.cache_clear()


def test_detect_isolation_prefers_bwrap() -> None:
    assert detect_isolation() is Isolation.BWRAP


@pytest.mark.usefixtures("no_bwrap")
def test_missing_bwrap_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cobalt_rl.sandbox.isolation"):
        level = detect_isolation()
    assert level in (Isolation.UNSHARE, Isolation.NONE)
    assert "SANDBOX WARNING" in caplog.text
    assert "bubblewrap (bwrap) is not installed" in caplog.text


@pytest.mark.usefixtures("no_bwrap")
def test_require_isolation_refuses_to_fall_back() -> None:
    with pytest.raises(IsolationUnavailableError, match="apt-get install bubblewrap"):
        detect_isolation(require_full=True)
    with pytest.raises(IsolationUnavailableError):
        LocalSandbox(workers=1, require_isolation=True)


@pytest.mark.usefixtures("no_bwrap")
def test_the_fallback_level_still_runs_programs() -> None:
    with LocalSandbox(workers=1, limits=FAST, cache_size=0) as pool:
        assert pool.isolation is not Isolation.BWRAP
        assert pool.run(stdin_request(NORMAL, [("2\n", "4\n"), ("3\n", "6\n")])).passed
        assert statuses(pool.run(stdin_request("while True:\n    pass\n"))) == [T]


# ------------------------------------------------------------------------------ start-up errors


def _with_interpreter(
    monkeypatch: pytest.MonkeyPatch, interpreter: str, before: list[str] | None = None
) -> None:
    """Workers started with ``interpreter`` in place of the real one (and ``before`` it)."""
    real = local.worker_command

    def command(*args: object, **kwargs: object) -> isolation_module.WorkerCommand:
        cmd = real(*args, **kwargs)  # type: ignore[arg-type]
        at = cmd.argv.index("-I") - 1
        argv = [*cmd.argv[:at], *(before or []), interpreter, *cmd.argv[at + 1 :]]
        return isolation_module.WorkerCommand(argv, cmd.scratch, cmd.host_scratch)

    monkeypatch.setattr(local, "worker_command", command)


def _fake_interpreter(directory: str) -> str:
    """A stand-in interpreter that fails at once, saying why on stderr."""
    fake = os.path.join(directory, "python")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho 'the worker says why' >&2\nexit 3\n")
    os.chmod(fake, 0o755)
    return fake


def test_a_worker_that_dies_at_start_reports_its_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)  # readable by the worker's uid
        _with_interpreter(monkeypatch, _fake_interpreter(directory))
        # was: ValueError("seek of closed file"), the stderr read after kill() closed it
        with pytest.raises(SandboxError, match=r"did not start.*the worker says why") as error:
            LocalSandbox(workers=1, isolation=Isolation.NONE, cache_size=0)
    assert "Cause:" not in str(error.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root-started worker switches uid")
def test_an_interpreter_the_sandbox_user_cannot_read_is_named_as_the_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with tempfile.TemporaryDirectory() as directory:  # 0700, like a private home
        _with_interpreter(monkeypatch, _fake_interpreter(directory))
        with pytest.raises(SandboxError) as error:
            LocalSandbox(workers=1, isolation=Isolation.NONE, cache_size=0)
    message = str(error.value)
    assert "Permission denied" in message  # what the worker said
    assert "cannot be read by the sandbox's unprivileged uid" in message
    assert f"{directory} has mode 0700" in message and f"chmod o+x {directory}" in message


@needs_bwrap
def test_an_interpreter_outside_usr_is_bound_open_and_after_the_scratch_mounts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An interpreter under /tmp (a checkout there) or under a private home: bubblewrap must
    create its parents 0755 (it makes them 0700) and bind it after the sandbox's own /tmp,
    which would cover it."""
    monkeypatch.setattr(isolation_module, "_python_roots", lambda: ["/tmp/clone/.python/3.10"])
    argv = isolation_module._bwrap_argv(20_000, 8)
    bind = argv.index("/tmp/clone/.python/3.10")
    assert argv[bind - 1] == "--ro-bind"
    assert argv.index("/tmp") < bind  # the scratch /tmp is mounted first
    for parent in ("/tmp/clone", "/tmp/clone/.python"):
        at = argv.index(parent)
        assert argv[at - 3 : at] == ["--perms", "0755", "--dir"] and at < bind
    # /tmp itself keeps its own mount's mode (1777): no --dir made over it
    assert not any(a == "--dir" and b == "/tmp" for a, b in itertools.pairwise(argv))
