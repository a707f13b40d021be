"""The warm worker that runs INSIDE the sandbox (stdlib only; it cannot import cobalt_rl).

One worker lives in each bubblewrap sandbox. It pre-imports the modules solutions commonly
use, then serves requests from the host over its stdin/stdout (a 4-byte big-endian length,
then JSON). For each test it forks a child from the warm interpreter (~2 ms instead of the
10–45 ms of a fresh interpreter); the child drops into rlimits, runs the program, and reports
through a private pipe. The worker itself enforces the wall-clock limit, caps output, kills
every process the program left behind, and wipes /tmp before the next test.

The worker never sees expected outputs: the host compares outputs outside the sandbox, so a
program that inspects its own memory (a fork of the worker's) finds no answers to copy.

Exit codes of a child tell the worker what happened (the child's reporting code runs after the
program, so a program can forge only its own failure):
  0 ran to the end, 1 raised, 2 syntax error, 3 MemoryError, 4 function not found.
"""

# ruff: noqa: I001  (imports are ordered for pre-warming, not style)
import ctypes
import json
import os
import resource
import select
import signal
import struct
import sys
import time
import traceback
from typing import Any, NoReturn

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
import io
import itertools  # noqa: F401
import math  # noqa: F401
import operator  # noqa: F401
import random
import re  # noqa: F401
import statistics  # noqa: F401
import string  # noqa: F401
import typing  # noqa: F401

EXIT_OK, EXIT_RAISED, EXIT_SYNTAX, EXIT_MEMORY, EXIT_NO_FUNCTION = 0, 1, 2, 3, 4
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SOLUTION_FILE = "solution.py"
SCRATCH: str = ""  # the writable scratch directory: argv[1], required (it is wiped per test)

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


def _read_exact(fd: int, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def _recv() -> dict[str, Any]:
    (n,) = struct.unpack(">I", _read_exact(0, 4))
    request: dict[str, Any] = json.loads(_read_exact(0, n))
    return request


def _send(obj: dict[str, Any]) -> None:
    data = json.dumps(obj).encode()
    os.write(1, struct.pack(">I", len(data)) + data)


# ----------------------------------------------------------------------------- child side


def _set_limits(lim: dict[str, Any]) -> None:
    cpu = max(1, int(lim["cpu_s"]))
    pairs = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_FSIZE, (lim["file_bytes"], lim["file_bytes"])),
        (resource.RLIMIT_NOFILE, (lim["open_files"], lim["open_files"])),
        (resource.RLIMIT_NPROC, (lim["processes"], lim["processes"])),
        (resource.RLIMIT_CORE, (0, 0)),
    ]
    if lim["memory_bytes"] > 0:
        pairs.append((resource.RLIMIT_AS, (lim["memory_bytes"], lim["memory_bytes"])))
    for which, value in pairs:
        resource.setrlimit(which, value)


def _clean_traceback(exc: BaseException) -> str:
    """Format ``exc`` keeping only frames of the program (not of this worker)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != SOLUTION_FILE:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _to_jsonable(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def _child(req: dict[str, Any], stdin_fd: int, out_w: int, err_w: int, res_w: int) -> NoReturn:
    """Run the program in this (forked) process. Never returns."""
    os.setsid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.dup2(stdin_fd, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    keep = res_w
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)
    res = os.fdopen(keep, "w")
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False), 1 << 16))
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
    os.chdir(SCRATCH)
    random.seed()
    sys.setrecursionlimit(10_000)
    _set_limits(req["limits"])

    mode = req["mode"]
    try:
        compiled = compile(req["code"], SOLUTION_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:  # ValueError: source holds null bytes
        sys.stderr.write("".join(traceback.format_exception_only(type(e), e)))
        _finish(EXIT_SYNTAX)
    name = "__main__" if mode == "stdin" else "solution"
    namespace = {"__name__": name, "__builtins__": __builtins__}
    status = EXIT_OK
    try:
        exec(compiled, namespace)
        if mode == "functional":
            fn_name = req["fn_name"]
            cls = namespace.get("Solution")
            if isinstance(cls, type) and hasattr(cls, fn_name):
                fn = getattr(cls(), fn_name)
            elif callable(namespace.get(fn_name)):
                fn = namespace[fn_name]
            else:
                sys.stderr.write(f"NameError: function {fn_name!r} is not defined\n")
                _finish(EXIT_NO_FUNCTION)
            args = [json.loads(line) for line in req["input"].split("\n") if line.strip()]
            value = fn(*args)
            res.write(json.dumps(value, default=_to_jsonable))
        elif mode == "script":
            exec(compile(req["input"], "test.py", "exec", dont_inherit=True), namespace)
            res.write("completed")
        res.flush()
    except SystemExit as e:
        if e.code is None or e.code == 0:
            if mode != "stdin":  # exited before returning a value / finishing the tests
                status = EXIT_RAISED
                sys.stderr.write("SystemExit: the program exited before the tests finished\n")
        else:
            if not isinstance(e.code, int):
                sys.stderr.write(f"{e.code}\n")
            status = EXIT_RAISED
    except MemoryError:
        status = EXIT_MEMORY
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
    _finish(status)


def _finish(status: int) -> NoReturn:
    try:
        sys.stdout.flush()
    except BaseException:
        if status == EXIT_OK:
            status = EXIT_RAISED
    os._exit(status)


# ---------------------------------------------------------------------------- worker side


def _descendants(me: int) -> set[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the field after the parenthesised command name is the state, then the ppid
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    frontier = {me}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_strays(me: int) -> None:
    """Kill every process descended from the worker (orphans re-parent to us: subreaper)."""
    for _ in range(100):
        strays = _descendants(me)
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.001)
        _reap()


def _wipe_scratch() -> None:
    for root, dirs, files in os.walk(SCRATCH, topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            path = os.path.join(root, name)
            try:
                if os.path.islink(path):
                    os.unlink(path)
                else:
                    os.chmod(path, 0o700)
                    os.rmdir(path)
            except OSError:
                pass


def _drain(fd: int, buf: bytearray, cap: int) -> tuple[bool, bool]:
    """Read what is available from ``fd`` into ``buf``; return (eof, over_cap)."""
    try:
        chunk = os.read(fd, 1 << 16)
    except BlockingIOError:
        return False, False
    if not chunk:
        return True, False
    if len(buf) <= cap:
        buf += chunk
    return False, len(buf) > cap


def run_test(req: dict[str, Any], me: int) -> dict[str, Any]:
    lim = req["limits"]
    stdin_fd = os.memfd_create("stdin")
    if req["mode"] == "stdin":
        data = req["input"].encode()
        view = memoryview(data)
        while view:
            view = view[os.write(stdin_fd, view) :]
        os.lseek(stdin_fd, 0, os.SEEK_SET)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (out_r, err_r, res_r):
                os.close(fd)
            _child(req, stdin_fd, out_w, err_w, res_w)
        finally:
            os._exit(70)
    for fd in (stdin_fd, out_w, err_w, res_w):
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
    caps = {out_r: lim["output_bytes"], err_r: lim["stderr_bytes"], res_r: lim["output_bytes"]}
    for fd in bufs:
        os.set_blocking(fd, False)
    open_fds = set(bufs)
    poller = select.poll()
    for fd in (*bufs, pidfd):
        poller.register(fd, select.POLLIN)
    deadline = start + lim["timeout_s"]
    killed_for = None
    exited = False
    status_word = 0
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            killed_for = "timeout"
            break
        events = poller.poll(max(1, int(remaining * 1000)))
        over = False
        for fd, _ in events:
            if fd == pidfd:
                exited = True
                continue
            if fd in open_fds:
                eof, over_cap = _drain(fd, bufs[fd], caps[fd])
                if eof:
                    open_fds.discard(fd)
                    poller.unregister(fd)
                if over_cap and fd != err_r:
                    over = True
        if over:
            killed_for = "output"
            break
        if exited:
            break
    elapsed = time.perf_counter() - start
    if killed_for is not None:
        for kill in (os.kill, os.killpg):  # the program may have left its process group
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    _, status_word = os.waitpid(pid, 0)
    _kill_strays(me)
    for fd in list(open_fds):  # the program's own output that is still buffered in pipes
        while True:
            eof, _ = _drain(fd, bufs[fd], caps[fd])
            if eof or not select.select([fd], [], [], 0)[0]:
                break
    for fd in (*bufs, pidfd):
        os.close(fd)
    _wipe_scratch()
    out = bytes(bufs[out_r])
    reply = {
        "stdout": out[: lim["output_bytes"]].decode("utf-8", "replace"),
        "stderr": bytes(bufs[err_r])[: lim["stderr_bytes"]].decode("utf-8", "replace"),
        "result": bytes(bufs[res_r])[: lim["output_bytes"]].decode("utf-8", "replace"),
        "seconds": elapsed,
        "killed_for": killed_for,
        "exit_code": os.WEXITSTATUS(status_word) if os.WIFEXITED(status_word) else None,
        "signal": os.WTERMSIG(status_word) if os.WIFSIGNALED(status_word) else None,
        "output_over_cap": len(out) > lim["output_bytes"],
    }
    return reply


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


def _warm_up(me: int) -> None:
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
    compile(_WARMUP_PROGRAM, SOLUTION_FILE, "exec", dont_inherit=True)
    for mode in ("stdin", "functional"):
        run_test(
            {
                "code": _WARMUP_PROGRAM,
                "mode": mode,
                "fn_name": "solve",
                "input": "5\n" if mode == "stdin" else "[1, 2, 3]\n2",
                "limits": lim,
            },
            me,
        )
    import gc

    gc.collect()
    gc.freeze()  # keep the collector from touching (and so copying) inherited objects


def main() -> None:
    global SCRATCH
    if len(sys.argv) != 2 or not sys.argv[1] or not os.path.isdir(sys.argv[1]):
        sys.stderr.write("usage: worker.py SCRATCH_DIR (a private directory, wiped per test)\n")
        sys.exit(2)
    SCRATCH = sys.argv[1]
    me = os.getpid()
    _prctl(PR_SET_DUMPABLE, 0)  # programs (same uid) may not ptrace or read our memory
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans re-parent to us, so we can reap them
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _warm_up(me)
    _send({"ready": True, "pid": me, "uid": os.getuid()})
    while True:
        try:
            req = _recv()
        except EOFError:
            return
        if req.get("op") == "ping":
            _send({"pong": True})
            continue
        try:
            reply = run_test(req, me)
        except Exception as e:
            reply = {"worker_error": f"{type(e).__name__}: {e}"}
        _send(reply)


if __name__ == "__main__":
    main()
