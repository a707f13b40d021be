"""Shared helpers for the sandbox tests: request builders and a check for leftover processes."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from cobalt_rl.records import ExecResult, Mode, Status, TestCase
from cobalt_rl.sandbox import ExecRequest, Isolation, Limits, LocalSandbox, detect_isolation

FAST = Limits(timeout_s=1.0, program_timeout_s=3.0, memory_mb=256)
NORMAL = "print(int(input()) * 2)"


def bwrap_works() -> bool:
    return shutil.which("bwrap") is not None and detect_isolation() is Isolation.BWRAP


needs_bwrap = pytest.mark.skipif(not bwrap_works(), reason="needs a working bubblewrap")


def stdin_request(
    code: str, tests: list[tuple[str, str]] | None = None, **kw: object
) -> ExecRequest:
    cases = [TestCase(input=i, output=o) for i, o in (tests or [("3\n", "6\n")])]
    return ExecRequest.model_validate({"code": code, "tests": cases, "mode": Mode.STDIN, **kw})


def statuses(result: ExecResult) -> list[Status]:
    return [o.status for o in result.outcomes]


def worker_uids(sandbox: LocalSandbox) -> set[int]:
    return {w.uid for w in sandbox._all if w.uid is not None}


def processes_by_uid(uids: set[int]) -> dict[int, list[int]]:
    """Host pids of the processes running as each of ``uids`` (read from the host's /proc)."""
    found: dict[int, list[int]] = {uid: [] for uid in uids}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                uid = int(f.read().split(b"\nUid:", 1)[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
        if uid in found:
            found[uid].append(int(entry))
    return found


def assert_only_idle_workers(sandbox: LocalSandbox, earlier_uids: set[int] = frozenset()) -> None:
    """Every process a program started is gone: each worker's uid runs exactly one process
    (the idle worker) and uids of replaced workers run none. Waits up to 3 s: a replaced
    sandbox's processes die with its pid namespace, asynchronously."""
    current = worker_uids(sandbox)
    deadline = time.monotonic() + 3.0
    while True:
        found = processes_by_uid(current | set(earlier_uids))
        extra = {
            uid: pids for uid, pids in found.items() if len(pids) != (1 if uid in current else 0)
        }
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"processes outlived their program (uid: host pids): {extra}"
