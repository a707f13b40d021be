"""The warm worker that runs INSIDE the sandbox (stdlib only; it cannot import cobalt_rl).

One worker lives in each sandbox. It pre-imports the modules solutions commonly use, then
serves requests from the host over a pair of pipes (a 4-byte big-endian length, then JSON).
A request is one program and the inputs of one or more of its tests. The worker forks a
child from the warm interpreter (~1 ms instead of the 20–45 ms of a fresh interpreter in a
fresh sandbox); the child drops into rlimits, compiles the program once and runs it on the
tests one at a time, when the worker says so, each in a fresh module namespace with fresh
stdin/stdout/stderr, and reports each test through a private pipe (see :class:`_Child`). A
test the child does not finish cleanly ends it; the next test gets a new child. The worker
enforces the wall-clock limits (per test, and the program's budget across the tests of a
request) and caps output; when a child ends it kills every process the program left behind,
wipes its private writable directories (``/tmp``, and ``/dev/shm`` in bubblewrap) and
removes System V IPC objects.

The worker never sees expected outputs: the host compares outputs outside the sandbox, so a
program that inspects its own memory (a fork of the worker's) finds no answers to copy.

A test's status is a code, reported by the child after the test ran, or the child's exit
status when it died (a program can lie only about its own outcomes, and gains nothing by it:
outputs are still compared on the host):
  0 ran to the end, 1 raised, 2 syntax error, 3 MemoryError, 4 function not found,
  5 the child could not take its next test (the previous test broke its pipes).

Usage: ``worker.py SCRATCH [DIR ...] [--namespaced]``: ``SCRATCH`` is the program's working
directory; it and every ``DIR`` are private to this worker and wiped after every child (never
pass a shared directory). ``--namespaced`` says the worker has private pid and IPC
namespaces: its processes die with the namespace, and every System V IPC object in it belongs
to its programs (so it may remove them all).
"""

# ruff: noqa: I001  (imports are ordered for pre-warming, not style)
import ctypes
import fcntl
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

EXIT_OK, EXIT_RAISED, EXIT_SYNTAX, EXIT_MEMORY, EXIT_NO_FUNCTION, EXIT_HARNESS = 0, 1, 2, 3, 4, 5
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
IPC_RMID = 0
SOLUTION_FILE = "solution.py"
HIGH_FD = 512  # the child's own fds live from here up, above any RLIMIT_NOFILE we set
MIN_TEST_S = 0.05  # a test is not started with less of the program's budget left than this

SCRATCH: str = ""  # the program's working directory (argv[1]); wiped after every test
WIPE_DIRS: list[str] = []  # SCRATCH and the other private writable directories
NAMESPACED = False
PROTO_IN, PROTO_OUT = 0, 1  # the host's pipes; moved off fds 0/1 by main()
# The child's sys.stdin/stdout/stderr, built once by the worker over fds 0/1/2, which a child
# points at its own memfd and pipes before using them. A child that built its own would take
# ~100 more copy-on-write page faults (~0.4 ms) per test. The worker never uses them.
_CHILD_STDIO: tuple[io.TextIOWrapper, io.TextIOWrapper, io.TextIOWrapper] | None = None

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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _recv() -> dict[str, Any]:
    (n,) = struct.unpack(">I", _read_exact(PROTO_IN, 4))
    request: dict[str, Any] = json.loads(_read_exact(PROTO_IN, n))
    return request


def _send(obj: dict[str, Any]) -> None:
    data = json.dumps(obj).encode()
    _write_all(PROTO_OUT, struct.pack(">I", len(data)) + data)


# ----------------------------------------------------------------------------- child side


def _set_limits(lim: dict[str, Any], tests: int) -> None:
    # CPU time adds up over the tests a child runs; the worker's wall-clock limit is the
    # per-test limit, this one only stops threads that burn several cores at once.
    cpu = max(1, int(lim["cpu_s"])) * tests
    pairs = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_FSIZE, (lim["file_bytes"], lim["file_bytes"])),
        (resource.RLIMIT_NOFILE, (lim["open_files"], lim["open_files"])),
        (resource.RLIMIT_NPROC, (lim["processes"], lim["processes"])),
        (resource.RLIMIT_CORE, (0, 0)),
        # POSIX message queues outlive processes and cannot be listed without mounting
        # mqueue: allow none (their memory is charged to this limit).
        (resource.RLIMIT_MSGQUEUE, (0, 0)),
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


def _memfd(data: str) -> int:
    fd = os.memfd_create("stdin")
    _write_all(fd, data.encode())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _high(fd: int) -> int:
    """Move ``fd`` to the lowest free number from :data:`HIGH_FD` up."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, HIGH_FD)
    os.close(fd)
    return new


def _close_all_but(keep: set[int]) -> None:
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 1 << 16)


def _run_program(compiled: Any, mode: str, fn_name: str | None, test_input: str) -> tuple[int, str]:
    """Run the program once on one test, in this process; return (status, result)."""
    name = "__main__" if mode == "stdin" else "solution"
    namespace = {"__name__": name, "__builtins__": __builtins__}
    status, result = EXIT_OK, ""
    try:
        exec(compiled, namespace)
        if mode == "functional":
            cls = namespace.get("Solution")
            if isinstance(cls, type) and hasattr(cls, fn_name or ""):
                fn = getattr(cls(), fn_name or "")
            elif callable(namespace.get(fn_name or "")):
                fn = namespace[fn_name or ""]
            else:
                sys.stderr.write(f"NameError: function {fn_name!r} is not defined\n")
                return EXIT_NO_FUNCTION, ""
            args = [json.loads(line) for line in test_input.split("\n") if line.strip()]
            result = json.dumps(fn(*args), default=_to_jsonable)
        elif mode == "script":
            exec(compile(test_input, "test.py", "exec", dont_inherit=True), namespace)
            result = "completed"
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
        status, result = EXIT_MEMORY, ""
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


def _child(
    req: dict[str, Any], inputs: list[str], ctl: int, out_w: int, err_w: int, res_w: int
) -> NoReturn:
    """Run the program on ``inputs`` in this (forked) process, one test per byte read from
    ``ctl``, reporting each on ``res_w`` (a 4-byte length, then JSON ``[status, result]``).
    Never returns; exits at once when it cannot receive or report (the program closed or
    broke our pipes): with the test's status, or :data:`EXIT_HARNESS` before a test."""
    os.setsid()
    if not NAMESPACED:  # in a pid namespace our processes die with it (see _Worker.kill)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    mode = req["mode"]
    # Every test's stdin is written before the limits apply (RLIMIT_FSIZE covers memfds).
    # Our fds move above RLIMIT_NOFILE, where they use none of the program's allowance.
    stdin_fds = [_high(_memfd(x)) for x in inputs] if mode == "stdin" else [_high(_memfd(""))]
    ctl, res_w = _high(ctl), _high(res_w)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    _close_all_but({ctl, res_w, *stdin_fds})  # the host's pipes among the closed
    assert _CHILD_STDIO is not None
    stdin, stdout, stderr = _CHILD_STDIO
    os.chdir(SCRATCH)
    random.seed()
    _set_limits(req["limits"], len(inputs))
    try:
        compiled = compile(req["code"], SOLUTION_FILE, "exec", dont_inherit=True)
        syntax_error = ""
    except (SyntaxError, ValueError) as e:  # ValueError: source holds null bytes
        compiled = None
        syntax_error = "".join(traceback.format_exception_only(type(e), e))
    for k, test_input in enumerate(inputs):
        try:
            if not os.read(ctl, 1):
                os._exit(EXIT_HARNESS)
            if mode == "stdin":
                os.dup2(stdin_fds[k], 0)
                os.close(stdin_fds[k])
            else:
                os.dup2(stdin_fds[0], 0)
            if k:  # the first test uses the worker's prebuilt objects (see _CHILD_STDIO)
                stdin = io.TextIOWrapper(
                    io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"
                )
                if stdout.closed:
                    stdout = io.TextIOWrapper(
                        io.BufferedWriter(io.FileIO(1, "w", closefd=False), 1 << 16),
                        encoding="utf-8",
                    )
                if stderr.closed:
                    stderr = io.TextIOWrapper(
                        io.FileIO(2, "w", closefd=False), encoding="utf-8", write_through=True
                    )
                os.chdir(SCRATCH)
            sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        except BaseException:  # the previous test broke our stdio or fds
            os._exit(EXIT_HARNESS)
        if compiled is None:
            status, result = EXIT_SYNTAX, ""
            stderr.write(syntax_error)
        else:
            status, result = _run_program(compiled, mode, req["fn_name"], test_input)
        # The program's own sys.stdout first (fast-I/O wrappers buffer until flushed), which
        # may write into ours; its process never exits normally, so nothing else would.
        for stream in (sys.stdout, stdout) if sys.stdout is not stdout else (stdout,):
            try:
                stream.flush()
            except BaseException:
                if status == EXIT_OK:
                    status = EXIT_RAISED
        try:
            frame = json.dumps([status, result]).encode()
            _write_all(res_w, struct.pack(">I", len(frame)) + frame)
        except BaseException:
            os._exit(status)
        if status == EXIT_MEMORY:  # the heap may be broken: the next test gets a new child
            os._exit(status)
    os._exit(EXIT_OK)


# ---------------------------------------------------------------------------- worker side


def _children(me: int) -> list[int] | None:
    """The worker's live children (None when the kernel does not list them)."""
    try:
        fd = os.open(f"/proc/self/task/{me}/children", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = b""
        while chunk := os.read(fd, 1 << 16):
            data += chunk
    finally:
        os.close(fd)
    return [int(pid) for pid in data.split()]


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
    """Kill every process the program left behind.

    The worker is a child subreaper (pid 1 at the ``unshare`` level), so a stray whose parent
    died is re-parented to it: killing the worker's children, reaping them and repeating until
    none is left reaches every descendant, however it forked or ``setsid``-ed. Listing only our
    children (one small read) keeps the common case, no strays, cheap.
    """
    for _ in range(200):
        strays = _children(me)
        if strays is None:
            strays = list(_descendants(me))
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.001)
        _reap()


def _clear_entries(fd: int) -> list[str]:
    """Delete the non-directories in directory ``fd``; return the names of its directories."""
    subdirs = []
    try:
        with os.scandir(fd) as it:
            for entry in it:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        subdirs.append(entry.name)
                    else:
                        os.unlink(entry.name, dir_fd=fd)
                except OSError:
                    pass
    except OSError:
        pass
    return subdirs


def _wipe(top: str) -> None:
    """Delete everything under ``top`` (not ``top`` itself).

    Run when every process of the program is dead, so nothing changes underneath. It undoes
    what a program may do to keep files: directories without permissions (made ``0o700``
    first), trees deeper than ``PATH_MAX`` and than Python's recursion limit (walked through
    directory fds, one open at a time, going back up through ``..``).
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    pending = _clear_entries(fd)
    stack: list[tuple[str, list[str]]] = []  # (name of a directory, its parent's pending)
    while True:
        if pending:
            name = pending.pop()
            try:
                os.chmod(name, 0o700, dir_fd=fd)
                child = os.open(name, flags, dir_fd=fd)
            except OSError:
                continue
            os.close(fd)
            fd = child
            stack.append((name, pending))
            pending = _clear_entries(fd)
            continue
        if not stack:
            os.close(fd)
            return
        name, pending = stack.pop()
        try:
            parent = os.open("..", flags, dir_fd=fd)
        except OSError:
            os.close(fd)
            return
        os.close(fd)
        fd = parent
        try:
            os.rmdir(name, dir_fd=fd)
        except OSError:
            pass


def _remove_ipc() -> None:
    """Remove the System V shared memory, semaphores and message queues programs created.

    They outlive every process (a segment would keep its memory until the sandbox ends, and
    would let the next program read what this one left). Only with ``--namespaced``: the IPC
    namespace is then ours alone.
    """
    for kind in ("shm", "sem", "msg"):
        try:
            fd = os.open(f"/proc/sysvipc/{kind}", os.O_RDONLY)
        except OSError:
            continue
        try:
            data = b""
            while chunk := os.read(fd, 1 << 16):
                data += chunk
        finally:
            os.close(fd)
        for line in data.splitlines()[1:]:  # a header, then "key id perms ..."
            fields = line.split()
            if len(fields) < 2:
                continue
            if kind == "sem":
                _libc.semctl(int(fields[1]), 0, IPC_RMID)
            else:
                getattr(_libc, f"{kind}ctl")(int(fields[1]), IPC_RMID, None)


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


_BAD_FRAME = (-1, "")


class _Child:
    """The worker's side of one forked child that runs a program on consecutive tests.

    The child runs a test each time it reads a byte from ``ctl`` and reports it as a frame on
    ``res``; it waits in between, so everything on its stdout and stderr pipes when a frame
    arrives belongs to that test. A test the child does not finish (timeout, output limit,
    crash, an exit) ends the child; the next test gets a new one.
    """

    def __init__(self, req: dict[str, Any], inputs: list[str]):
        self.lim = req["limits"]
        ctl_r, self.ctl = os.pipe()
        self.out, out_w = os.pipe()
        self.err, err_w = os.pipe()
        self.res, res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                for fd in (self.ctl, self.out, self.err, self.res):
                    os.close(fd)
                _child(req, inputs, ctl_r, out_w, err_w, res_w)
            finally:
                os._exit(70)
        for fd in (ctl_r, out_w, err_w, res_w):
            os.close(fd)
        self.pidfd = os.pidfd_open(self.pid)
        self.open = {self.out, self.err, self.res}
        self.poller = select.poll()
        for fd in self.open:
            os.set_blocking(fd, False)
        for fd in (*self.open, self.pidfd):
            self.poller.register(fd, select.POLLIN)
        self.res_buf = bytearray()
        self.exited = False  # the child process is gone (or killed)
        self.status_word: int | None = None
        self.alive = True  # the child can take another test
        self.tests_done = 0

    def _frame(self) -> tuple[int, str] | None:
        buf = self.res_buf
        if len(buf) < 4:
            return None
        (n,) = struct.unpack_from(">I", buf)
        if len(buf) < 4 + n:
            return None
        try:
            status, result = json.loads(bytes(buf[4 : 4 + n]))
            ok = isinstance(status, int) and isinstance(result, str)
        except (ValueError, TypeError):
            ok = False
        del buf[: 4 + n]
        return (status, result) if ok else _BAD_FRAME

    def _drain_now(self, fd: int, buf: bytearray, cap: int) -> bool:
        """Read what ``fd`` holds now, up to ``cap`` (a process may still be writing);
        return whether ``buf`` went over ``cap``."""
        while fd in self.open and len(buf) <= cap:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                self.open.discard(fd)
                self.poller.unregister(fd)
                break
            buf += chunk
        return len(buf) > cap

    def _end(self) -> int:
        """Kill the child (it may have left its process group) and reap it."""
        if self.status_word is None:
            for kill in (os.kill, os.killpg):
                try:
                    kill(self.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            _, self.status_word = os.waitpid(self.pid, 0)
        self.exited, self.alive = True, False
        return self.status_word

    def run_test(self, timeout_s: float) -> dict[str, Any]:
        """Run the next test; return the report the host judges (``retry``: not started)."""
        lim = self.lim
        out, err = bytearray(), bytearray()
        bufs = {self.out: out, self.err: err, self.res: self.res_buf}
        caps = {
            self.out: lim["output_bytes"],
            self.err: lim["stderr_bytes"],
            self.res: lim["output_bytes"] + 64,  # a frame: the returned value and a header
        }
        fresh = self.tests_done == 0
        start = time.perf_counter()
        try:
            os.write(self.ctl, b"g")
        except OSError:  # the child is gone; its pidfd says so
            pass
        deadline = start + timeout_s
        killed_for = None
        frame = None
        while True:
            frame = self._frame()
            if frame is not None:
                break
            if self.exited:
                for fd in (self.out, self.err, self.res):
                    self._drain_now(fd, bufs[fd], caps[fd])
                frame = self._frame()
                break
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                killed_for = "timeout"
                break
            over = False
            for fd, _ in self.poller.poll(max(1, int(remaining * 1000))):
                if fd == self.pidfd:
                    self.exited = True
                elif fd in self.open:
                    eof, over_cap = _drain(fd, bufs[fd], caps[fd])
                    if eof:
                        self.open.discard(fd)
                        self.poller.unregister(fd)
                    over = over or (over_cap and fd != self.err)
            if over:
                killed_for = "output"
                break
        elapsed = time.perf_counter() - start
        self.tests_done += 1
        over = False
        exit_code: int | None
        sig: int | None
        if frame is not None and frame is not _BAD_FRAME and killed_for is None:
            over = self._drain_now(self.out, out, caps[self.out])  # all of it is there now
            self._drain_now(self.err, err, caps[self.err])
            exit_code, sig = frame[0], None
            # a process of the program still flooding stdout: the next test gets a new child
            self.alive = not self.exited and exit_code != EXIT_MEMORY and not over
            result = frame[1]
        else:
            status_word = self._end()
            over = self._drain_now(self.out, out, caps[self.out])
            self._drain_now(self.err, err, caps[self.err])
            exit_code = os.WEXITSTATUS(status_word) if os.WIFEXITED(status_word) else None
            sig = os.WTERMSIG(status_word) if os.WIFSIGNALED(status_word) else None
            result = ""
            if frame is _BAD_FRAME and killed_for is None:
                exit_code, sig = EXIT_RAISED, None
                err += b"\nthe program wrote into the sandbox's report pipe\n"
            elif killed_for is None and exit_code == EXIT_HARNESS and not fresh:
                return {"retry": True}  # the previous test broke the child before this one
        return {
            "stdout": bytes(out[: lim["output_bytes"]]).decode("utf-8", "replace"),
            "stderr": bytes(err[: lim["stderr_bytes"]]).decode("utf-8", "replace"),
            "result": result[: lim["output_bytes"]],
            "seconds": elapsed,
            "killed_for": killed_for,
            "exit_code": exit_code,
            "signal": sig,
            "output_over_cap": over or len(out) > lim["output_bytes"],
        }

    def close(self, me: int) -> None:
        """End the child, everything it started and everything it left in the sandbox."""
        self._end()
        _kill_strays(me)
        for fd in (self.ctl, self.out, self.err, self.res, self.pidfd):
            os.close(fd)
        for directory in WIPE_DIRS:
            _wipe(directory)
        if NAMESPACED:
            _remove_ipc()


def run_request(req: dict[str, Any], me: int) -> dict[str, Any]:
    """Run a program on the inputs of ``req``, one after another, within its time budget.

    Consecutive tests share one child until one ends it (see :class:`_Child`). A test is given
    ``timeout_s`` or what is left of ``budget_s`` if that is less; tests that would start with
    less than :data:`MIN_TEST_S` left are not run (``{"skipped": "budget"}``).
    """
    inputs: list[str] = req["inputs"]
    timeout_s = req["limits"]["timeout_s"]
    budget_end = time.perf_counter() + req.get("budget_s", timeout_s)
    results: list[dict[str, Any]] = []
    child = None
    try:
        while len(results) < len(inputs):
            remaining = budget_end - time.perf_counter()
            if remaining < MIN_TEST_S:
                results += [{"skipped": "budget"}] * (len(inputs) - len(results))
                break
            if child is None:
                child = _Child(req, inputs[len(results) :])
            reply = child.run_test(min(timeout_s, remaining))
            if not reply.get("retry"):
                results.append(reply)
            if not child.alive:
                child.close(me)
                child = None
    finally:
        if child is not None:
            child.close(me)
    return {"results": results}


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
    for mode, test_input in (("stdin", "5\n"), ("functional", "[1, 2, 3]\n2")):
        request = {"code": _WARMUP_PROGRAM, "mode": mode, "fn_name": "solve", "limits": lim}
        run_request({**request, "inputs": [test_input] * 2, "budget_s": 10.0}, me)
    import gc

    gc.collect()
    gc.freeze()  # keep the collector from touching (and so copying) inherited objects


def _parse_args(argv: list[str]) -> None:
    global SCRATCH, NAMESPACED
    flags = [a for a in argv if a.startswith("--")]
    dirs = [a for a in argv if not a.startswith("--")]
    if not dirs or any(not os.path.isdir(d) for d in dirs) or set(flags) - {"--namespaced"}:
        sys.stderr.write(
            "usage: worker.py SCRATCH [DIR ...] [--namespaced]  (private directories, wiped "
            "after every test)\n"
        )
        sys.exit(2)
    SCRATCH = dirs[0]
    WIPE_DIRS[:] = dirs
    NAMESPACED = "--namespaced" in flags


def _setup_stdio() -> None:
    """Move the host's pipes off fds 0/1 and build the children's stdio objects.

    fd 0 becomes a placeholder memfd, so the stdin wrapper records what a child's stdin (a
    memfd) is: seekable. fd 1 stays a pipe, like a child's stdout.
    """
    global PROTO_IN, PROTO_OUT, _CHILD_STDIO
    PROTO_IN, PROTO_OUT = os.dup(0), os.dup(1)
    placeholder = os.memfd_create("stdin")
    os.dup2(placeholder, 0)
    os.close(placeholder)
    _CHILD_STDIO = (
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


def main() -> None:
    _parse_args(sys.argv[1:])
    me = os.getpid()
    _prctl(PR_SET_DUMPABLE, 0)  # programs (same uid) may not ptrace or read our memory
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans re-parent to us, so we can reap them
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # As Python's default: a write to a closed pipe fails with EPIPE (a child that died
    # before reading its "go" must not kill us), and a child starts with the same.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    sys.setrecursionlimit(10_000)  # inherited by the children
    _setup_stdio()
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
            reply = run_request(req, me)
        except Exception as e:
            reply = {"worker_error": f"{type(e).__name__}: {e}"}
        del req
        _send(reply)


if __name__ == "__main__":
    main()
