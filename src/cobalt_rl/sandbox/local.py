"""The local sandbox backend: a pool of warm, isolated workers on this machine's cores.

Each worker is one interpreter inside its own sandbox (see :mod:`cobalt_rl.sandbox.isolation`)
that forks a child per program to run its tests, and a new one after any test that ends the
child (:mod:`cobalt_rl.sandbox._worker`); verdicts are decided here
(:mod:`cobalt_rl.sandbox.verdicts`). The host keeps one thread per
worker; a program's tests run one after another on one worker, programs run in parallel
across workers. The host sends only the program and the test *inputs* (several tests per
round trip, up to :data:`CHUNK_CHARS` of input; one at a time when the request stops at the
first failure); it compares outputs itself, so expected outputs never enter the sandbox.

A request's ``test_concurrency`` k > 1 (the reference's evaluator runs a program's tests 4 at a
time) is honoured in the budget, not in processes: the tests still run one after another, but
each is charged to the first free of k lanes, and the program's budget is what each lane may
use. So a verdict is the one k tests at a time on free cores would get, and does not depend on
how busy this machine is; the wall-clock cost of a program is up to k times its budget.

A worker that dies (a program killed it) or stops answering (it should not; the worker
enforces the time limits itself) is killed and replaced; the program that was running is
charged with the failure (the tests of that round trip are re-run one at a time to find the
one that did it), the rest of the batch goes on. Identical requests are answered from a
content-addressed cache, and identical requests in flight share one execution.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import select
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import ExecResult, Status, TestCase, TestOutcome
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.cached import FutureSandbox, ResultCache
from cobalt_rl.sandbox.isolation import Isolation, detect_isolation, lease_uid, worker_command
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.verdicts import (
    budget_exhausted,
    exec_result,
    judge,
    skipped_after_failure,
    skipped_after_timeout,
)

__all__ = ["LocalSandbox"]

log = logging.getLogger(__name__)

HOST_SLACK_S = 5.0  # extra time the host waits for a worker beyond the tests' own limits
PER_TEST_SLACK_S = 0.25  # and per test of a round trip (a new child, cleaning up after it)
CHUNK_CHARS = 1 << 18  # test input sent to a worker per round trip (it is held in memory)
CHUNK_TESTS = 64
START_TIMEOUT_S = 30.0


class _WorkerGone(Exception):
    """The worker process died or stopped answering."""

    def __init__(self, hung: bool):
        self.hung = hung


class _Worker:
    """Host-side handle of one sandboxed worker process."""

    def __init__(self, index: int, level: Isolation, scratch_mb: int):
        self.index = index
        self._lease = lease_uid()
        cmd = worker_command(level, index, scratch_mb, uid=self._lease.uid if self._lease else None)
        self._host_scratch = cmd.host_scratch
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        try:
            self.proc = subprocess.Popen(
                cmd.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                start_new_session=True,
                bufsize=0,
            )
        except OSError as e:
            if self._lease:
                self._lease.release()
            raise SandboxError(f"cannot start sandbox worker {index}: {e}") from e
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        try:
            hello = self._recv(START_TIMEOUT_S)
        except _WorkerGone as e:
            uid = self._lease.uid if self._lease else None
            self.kill(wait_only=True)  # its stderr is complete once it has exited
            self._stderr.seek(0)
            tail = self._stderr.read()[-2000:].decode("utf-8", "replace").strip()
            self.kill()
            raise SandboxError(
                f"sandbox worker {index} did not start ({level.value} isolation): "
                f"{tail or 'no error output'}{_unreadable_interpreter(cmd.argv, uid)}"
            ) from e
        self.uid = hello.get("uid")

    def _read_exact(self, n: int, deadline: float) -> bytes:
        buf = b""
        while len(buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _WorkerGone(hung=True)
            ready, _, _ = select.select([self._out], [], [], remaining)
            if not ready:
                raise _WorkerGone(hung=True)
            chunk = os.read(self._out, n - len(buf))
            if not chunk:
                raise _WorkerGone(hung=False)
            buf += chunk
        return buf

    def _recv(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        (n,) = struct.unpack(">I", self._read_exact(4, deadline))
        reply: dict[str, Any] = json.loads(self._read_exact(n, deadline))
        return reply

    def call(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        data = json.dumps(message).encode()
        try:
            os.write(self._in, struct.pack(">I", len(data)))
            view = memoryview(data)
            while view:
                view = view[os.write(self._in, view) :]
        except (BrokenPipeError, OSError) as e:
            raise _WorkerGone(hung=False) from e
        return self._recv(timeout)

    def kill(self, wait_only: bool = False) -> None:
        """Stop the worker and release what it held; ``wait_only``: stop it and wait for it,
        keeping its stderr file open to be read."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if wait_only:
            return
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self._host_scratch:
            shutil.rmtree(self._host_scratch, ignore_errors=True)
        self._stderr.close()
        if self._lease:
            # The sandbox's processes die with its pid namespace as bwrap exits; a later
            # worker of this process gets this uid only after every other uid in the range.
            self._lease.release()


def _unreadable_interpreter(argv: list[str], uid: int | None) -> str:
    """Why a worker that runs as ``uid`` cannot start its interpreter, when the cause is a
    directory on the interpreter's path that other users may not enter; "" otherwise.

    Decided from the file modes and the command, not from the worker's error text. Only a
    worker that switches to its own uid (started as root) is refused. Under bubblewrap the
    directories above the bound interpreter are made open inside the sandbox, so only the
    host's modes inside the bound tree count; without it, every directory on the path does
    (a Python under a private home such as ``/root/.pyenv``).
    """
    if uid is None or "-I" not in argv:
        return ""
    interpreter = Path(argv[argv.index("-I") - 1])
    resolved = interpreter.resolve()
    paths = [*interpreter.parents, resolved, *resolved.parents]
    if Path(argv[0]).name == "bwrap":
        bound = [Path(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "--ro-bind"]
        paths = [p for p in paths if any(p == b or b in p.parents for b in bound)]
    for path in paths:
        with contextlib.suppress(OSError):
            if path != path.parent and not path.stat().st_mode & stat.S_IXOTH:
                mode = stat.S_IMODE(path.stat().st_mode)
                return (
                    f"\nCause: the interpreter {interpreter} cannot be read by the sandbox's "
                    f"unprivileged uid {uid}: {path} has mode {mode:04o}. Run cobalt-rl with a "
                    f"Python every user can read, or allow it: chmod o+x {path}"
                )
    return ""


class LocalSandbox(FutureSandbox):
    """A pool of warm sandboxed workers on this machine (implements ``Sandbox``).

    Args:
        workers: number of workers (default: one per CPU core).
        limits: default limits for requests that carry none.
        isolation: force a level; default: the strongest available.
        require_isolation: refuse to run without bubblewrap.
        cache_size: results kept in the content-addressed cache (0 disables it).
    """

    def __init__(
        self,
        workers: int | None = None,
        limits: Limits | None = None,
        isolation: Isolation | None = None,
        require_isolation: bool = False,
        cache_size: int = 100_000,
    ):
        self.limits = limits or Limits()
        self.isolation = isolation or detect_isolation(require_full=require_isolation)
        if require_isolation and self.isolation is not Isolation.BWRAP:
            from cobalt_rl.errors import IsolationUnavailableError

            raise IsolationUnavailableError("full isolation (bwrap) was required")
        self.num_workers = workers or os.cpu_count() or 1
        if self.num_workers < 1:
            raise SandboxError(f"workers must be >= 1, got {self.num_workers}")
        self._lock = threading.Lock()
        self._cache = ResultCache(
            self._start, self._check_open, self.limits, cache_size, self._lock
        )
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._executor = ThreadPoolExecutor(self.num_workers, thread_name_prefix="sandbox")
        # Workers are started from threads that live as long as the sandbox: bubblewrap's
        # --die-with-parent ties a worker's life to the *thread* that spawned it.
        self._spawner = ThreadPoolExecutor(
            min(self.num_workers, 8), thread_name_prefix="sandbox-spawn"
        )
        self._closed = False
        self._counts = {"programs": 0, "tests": 0, "worker_restarts": 0}
        self._start_workers()

    # -- lifecycle -------------------------------------------------------------------------

    def _start_workers(self) -> None:
        futures = [
            self._spawner.submit(_Worker, i, self.isolation, self.limits.scratch_mb)
            for i in range(self.num_workers)
        ]
        errors = []
        for f in futures:
            try:
                w = f.result()
            except SandboxError as e:
                errors.append(e)
                continue
            self._all.append(w)
            self._idle.put(w)
        if errors:
            self.close()
            raise errors[0]

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        self._count("worker_restarts")
        new = self._spawner.submit(
            _Worker, worker.index, self.isolation, self.limits.scratch_mb
        ).result()
        with self._lock:
            self._all = [new if w is worker else w for w in self._all]
        return new

    def close(self) -> None:
        """Stop every worker. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        for w in self._all:
            w.kill()
        self._spawner.shutdown(wait=True)

    # -- running ---------------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """Programs and tests run, cache hits, workers replaced."""
        with self._lock:
            return {**self._counts, "cache_hits": self._cache.hits}

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule ``request``; the future resolves to its ``ExecResult``."""
        return self._cache.submit(request)

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")

    def _start(self, request: ExecRequest, key: str) -> Future[ExecResult]:
        return self._executor.submit(self._execute, request)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def _execute(self, request: ExecRequest) -> ExecResult:
        limits = request.limits or self.limits
        worker = self._idle.get()
        try:
            worker, outcomes = self._run_tests(worker, request, limits)
        finally:
            self._idle.put(worker)
        self._count("programs")
        self._count("tests", len(outcomes))
        return exec_result(request, outcomes, limits)

    def _chunks(self, request: ExecRequest) -> list[list[TestCase]]:
        if request.stop_on_first_failure:  # the host decides failures: one test at a time
            return [[t] for t in request.tests]
        chunks: list[list[TestCase]] = []
        size = 0
        for test in request.tests:
            if not chunks or size + len(test.input) > CHUNK_CHARS or len(chunks[-1]) >= CHUNK_TESTS:
                chunks.append([])
                size = 0
            chunks[-1].append(test)
            size += len(test.input)
        return chunks

    def _run_tests(
        self, worker: _Worker, request: ExecRequest, limits: Limits
    ) -> tuple[_Worker, list[TestOutcome]]:
        """Run ``request``'s tests on ``worker`` (replaced if it dies); return the worker now
        in use and one outcome per test."""
        budget_end = time.monotonic() + limits.program_timeout_s
        # Lane time used by each of the k lanes (see the module docstring); None: wall clock.
        lanes = [0.0] * request.test_concurrency if request.test_concurrency > 1 else None
        worker_limits = limits.for_worker()
        outcomes: list[TestOutcome] = []
        pending = self._chunks(request)
        failed = timed_out = False
        while pending:
            chunk = pending.pop(0)
            if failed and request.stop_on_first_failure:
                outcomes.append(skipped_after_failure())
                continue
            if timed_out and request.stop_after_timeout:
                outcomes += [skipped_after_timeout() for _ in chunk]
                continue
            if lanes is not None:
                budget = sum(limits.program_timeout_s - lane for lane in lanes)
            else:
                budget = budget_end - time.monotonic()
            message = {
                "op": "run",
                "code": request.code,
                "mode": request.mode.value,
                "fn_name": request.fn_name,
                "inputs": [t.input for t in chunk],
                "limits": worker_limits,
                "budget_s": budget if lanes is None else limits.program_timeout_s,
                **({"lanes": lanes} if lanes is not None else {}),
                **({"stop_after_timeout": True} if request.stop_after_timeout else {}),
            }
            wait = (
                min(len(chunk) * limits.timeout_s, budget)
                + HOST_SLACK_S
                + PER_TEST_SLACK_S * len(chunk)
            )
            try:
                answer = worker.call(message, wait)
            except _WorkerGone as gone:
                worker = self._replace(worker)
                if len(chunk) > 1:  # find the test that did it: run them one at a time
                    pending[:0] = [[t] for t in chunk]
                    continue
                outcomes.append(
                    TestOutcome(
                        status=Status.TIMEOUT if gone.hung else Status.RUNTIME_ERROR,
                        detail="the sandbox worker stopped answering"
                        if gone.hung
                        else "the program killed its sandbox worker",
                    )
                )
                failed = True
                continue
            replies = answer.get("results") or [answer] * len(chunk)  # or a worker_error
            if lanes is not None and answer.get("lanes"):
                lanes = [float(lane) for lane in answer["lanes"]]
            test_limit = limits.timeout_s if lanes is not None else min(limits.timeout_s, budget)
            for test, reply in zip(chunk, replies, strict=True):
                if reply.get("skipped") == "budget":
                    result = budget_exhausted()
                elif reply.get("skipped") == "timeout":
                    result = skipped_after_timeout()
                else:
                    result = judge(reply, test, request, test_limit)
                outcomes.append(result)
                failed = failed or result.status is not Status.PASSED
                timed_out = timed_out or result.status is Status.TIMEOUT
        return worker, outcomes
