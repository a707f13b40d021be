"""The worker's main loop: serve the host's requests over a pair of pipes.

A request is one program and the inputs of one or more of its tests (a 4-byte big-endian
length, then JSON); the reply is one report per test (:meth:`.child.Child.run_test`). The
worker pre-imports the modules solutions commonly use and primes the compiler, so a child it
forks finds them ready.

Usage: ``python DIR SCRATCH [DIR ...] [--namespaced]`` (``DIR``, this package's directory; see
``__main__.py``): ``SCRATCH`` is the program's working directory; it and every ``DIR`` are
private to this worker and wiped after every child (never pass a shared directory).
``--namespaced`` says the worker has private pid and IPC namespaces: its processes die with
the namespace, and every System V IPC object in it belongs to its programs (so it may remove
them all).
"""

# ruff: noqa: I001  (imports are ordered for pre-warming, not style)
from __future__ import annotations

import io
import json
import os
import signal
import struct
import sys
import time
from typing import Any

# Pre-warm: modules a solution is likely to import, so a forked child finds them loaded.
import array  # noqa: F401
import bisect  # noqa: F401
import collections  # noqa: F401
import copy  # noqa: F401
import datetime  # noqa: F401
import decimal  # noqa: F401
import fractions  # noqa: F401
import functools  # noqa: F401
import heapq  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import operator  # noqa: F401
import random  # noqa: F401
import re  # noqa: F401
import statistics  # noqa: F401
import string  # noqa: F401
import typing  # noqa: F401

from .child import Child, Setup, Stdio, write_all
from .cleanup import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_PDEATHSIG, prctl
from .harness import compile_program

MIN_TEST_S = 0.05  # a test is not started with less of the program's budget left than this


def _read_exact(fd: int, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def _recv(fd: int) -> dict[str, Any]:
    (n,) = struct.unpack(">I", _read_exact(fd, 4))
    request: dict[str, Any] = json.loads(_read_exact(fd, n))
    return request


def _send(fd: int, obj: dict[str, Any]) -> None:
    data = json.dumps(obj).encode()
    write_all(fd, struct.pack(">I", len(data)) + data)


def run_request(setup: Setup, req: dict[str, Any], me: int) -> dict[str, Any]:
    """Run a program on the inputs of ``req``, one after another, within its time budget.

    Consecutive tests share one child until one ends it (see :class:`.child.Child`). A test is
    given ``timeout_s`` or what is left of ``budget_s`` if that is less; tests that would start with
    less than :data:`MIN_TEST_S` left are not run (``{"skipped": "budget"}``), and a test the
    budget cut short (killed before ``timeout_s``) says so (``"budget_cut": true``).

    Budget time is wall-clock time, or with ``lanes`` (the time each of k lanes has used so
    far, for a program whose tests count as running k at a time) lane time: each test goes to
    the lane that is free first and uses what it takes there; ``budget_s`` is then what every
    lane may use, and the reply carries the lanes after these tests (``"lanes"``).

    With ``stop_after_timeout`` the tests after one killed for time are not run
    (``{"skipped": "timeout"}``).
    """
    inputs: list[str] = req["inputs"]
    timeout_s = req["limits"]["timeout_s"]
    budget_s = req.get("budget_s", timeout_s)
    lanes: list[float] | None = list(req["lanes"]) if req.get("lanes") else None
    budget_end = time.perf_counter() + budget_s
    results: list[dict[str, Any]] = []
    child = None
    try:
        while len(results) < len(inputs):
            if lanes is not None:
                lane = lanes.index(min(lanes))
                remaining = budget_s - lanes[lane]
            else:
                remaining = budget_end - time.perf_counter()
            if remaining < MIN_TEST_S:
                results += [{"skipped": "budget"}] * (len(inputs) - len(results))
                break
            if child is None:
                child = Child(setup, req, inputs[len(results) :])
            limit = min(timeout_s, remaining)
            reply = child.run_test(limit)
            if not reply.get("retry"):
                if reply.get("killed_for") == "timeout" and limit < timeout_s:
                    reply["budget_cut"] = True
                if lanes is not None:
                    lanes[lane] += float(reply.get("seconds", 0.0))
                results.append(reply)
                if req.get("stop_after_timeout") and reply.get("killed_for") == "timeout":
                    results += [{"skipped": "timeout"}] * (len(inputs) - len(results))
                    break
            if not child.alive:
                child.close(me)
                child = None
    finally:
        if child is not None:
            child.close(me)
    return {"results": results, **({"lanes": lanes} if lanes is not None else {})}


_WARMUP_PROGRAM = """
import sys
from collections import Counter, defaultdict, deque


class Solution:
    def solve(self, nums: list[int], k: int = 2) -> list[int]:
        seen = {x: i for i, x in enumerate(nums) if x % k == 0}
        return sorted(v for v in seen.values() if v > 0) or [sum(nums), len(nums)]


def main() -> None:
    data = sys.stdin.read().split()
    n = int(data[0]) if data else 0
    total, best = 0, float("-inf")
    for i in range(n):
        total += i * i
        best = max(best, total)
    while n > 1:
        n //= 2
    q = deque([1, 2, 3])
    print(f"{total} {best!r}", Counter("abca").most_common(1), dict(defaultdict(int)), q)
    try:
        [][0]
    except IndexError as e:
        print(str(e)[:3])
    lam = lambda a, *b, **c: (a, b, c)  # noqa: E731
    print(lam(1, 2, x=3), [x for x in range(3)], {1, 2} | {3}, b"x" + bytes(2))


if __name__ == "__main__":
    main()
"""


def _warm_up(setup: Setup, me: int) -> None:
    """Prime the compiler and the run path: a child's first compile is ~2 ms slower when the
    parent has never compiled anything (copy-on-write faults in the parser's memory)."""
    lim = {
        "timeout_s": 5,
        "cpu_s": 6,
        "memory_bytes": 0,
        "output_bytes": 1 << 16,
        "stderr_bytes": 1 << 12,
        "file_bytes": 1 << 20,
        "processes": 64,
        "open_files": 64,
    }
    compile_program(_WARMUP_PROGRAM)
    for mode, test_input in (("stdin", "5\n"), ("functional", "[1, 2, 3]\n2")):
        request = {"code": _WARMUP_PROGRAM, "mode": mode, "fn_name": "solve", "limits": lim}
        run_request(setup, {**request, "inputs": [test_input] * 2, "budget_s": 10.0}, me)
    import gc

    gc.collect()
    gc.freeze()  # keep the collector from touching (and so copying) inherited objects


def _parse_args(argv: list[str]) -> tuple[list[str], bool]:
    """The private directories (the scratch one first) and whether we are namespaced."""
    flags = [a for a in argv if a.startswith("--")]
    dirs = [a for a in argv if not a.startswith("--")]
    if not dirs or any(not os.path.isdir(d) for d in dirs) or set(flags) - {"--namespaced"}:
        sys.stderr.write(
            "usage: worker SCRATCH [DIR ...] [--namespaced]  (private directories, wiped "
            "after every test)\n"
        )
        sys.exit(2)
    return dirs, "--namespaced" in flags


def _setup_stdio() -> tuple[int, int, Stdio]:
    """Move the host's pipes off fds 0/1 (returned) and build the children's stdio objects.

    fd 0 becomes a placeholder memfd, so the stdin wrapper records what a child's stdin (a
    memfd) is: seekable. fd 1 stays a pipe, like a child's stdout.
    """
    proto_in, proto_out = os.dup(0), os.dup(1)
    placeholder = os.memfd_create("stdin")
    os.dup2(placeholder, 0)
    os.close(placeholder)
    stdio = (
        io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"),
        io.TextIOWrapper(
            io.BufferedWriter(io.FileIO(1, "w", closefd=False), 1 << 16), encoding="utf-8"
        ),
        io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False),
            encoding="utf-8",
            errors="backslashreplace",
            write_through=True,
        ),
    )
    return proto_in, proto_out, stdio


def main(argv: list[str]) -> None:
    dirs, namespaced = _parse_args(argv)
    me = os.getpid()
    prctl(PR_SET_DUMPABLE, 0)  # programs (same uid) may not ptrace or read our memory
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans re-parent to us, so we can reap them
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # As Python's default: a write to a closed pipe fails with EPIPE (a child that died
    # before reading its "go" must not kill us), and a child starts with the same.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    sys.setrecursionlimit(10_000)  # inherited by the children
    proto_in, proto_out, stdio = _setup_stdio()
    setup = Setup(scratch=dirs[0], wipe_dirs=tuple(dirs), namespaced=namespaced, stdio=stdio)
    _warm_up(setup, me)
    _send(proto_out, {"ready": True, "pid": me, "uid": os.getuid()})
    while True:
        try:
            req = _recv(proto_in)
        except EOFError:
            return
        if req.get("op") == "ping":
            _send(proto_out, {"pong": True})
            continue
        try:
            reply = run_request(setup, req, me)
        except Exception as e:
            reply = {"worker_error": f"{type(e).__name__}: {e}"}
        del req
        _send(proto_out, reply)
