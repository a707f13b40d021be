"""One forked child that runs a program on consecutive tests, and the worker's handle of it.

The child (:func:`_child`, after ``fork``) drops into rlimits, compiles the program once and
runs it on the tests one at a time, when the worker says so, each in a fresh module namespace
with fresh stdin/stdout/stderr (:func:`.harness.run_program`), and reports each test through a
private pipe. The worker's side (:class:`Child`) enforces the wall-clock limit of each test,
caps its output, and tells a test the child finished from one that ended it.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import random
import resource
import select
import signal
import struct
import sys
import time
from dataclasses import dataclass
from typing import Any, NoReturn

from .cleanup import PR_SET_PDEATHSIG, kill_strays, prctl, remove_ipc, wipe
from .harness import (
    EXIT_HARNESS,
    EXIT_MEMORY,
    EXIT_OK,
    EXIT_RAISED,
    EXIT_SYNTAX,
    compile_program,
    run_program,
)

HIGH_FD = 512  # the child's own fds live from here up, above any RLIMIT_NOFILE we set

Stdio = tuple[io.TextIOWrapper, io.TextIOWrapper, io.TextIOWrapper]


@dataclass(frozen=True)
class Setup:
    """What every child of this worker shares, fixed when the worker starts."""

    scratch: str  # the program's working directory
    wipe_dirs: tuple[str, ...]  # it and the other private writable directories
    namespaced: bool  # private pid and IPC namespaces (see worker.py's usage)
    # The child's sys.stdin/stdout/stderr, built once by the worker over fds 0/1/2, which a
    # child points at its own memfd and pipes before using them. A child that built its own
    # would take ~100 more copy-on-write page faults (~0.4 ms) per test. The worker never
    # uses them.
    stdio: Stdio


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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


def _memfd(data: str) -> int:
    fd = os.memfd_create("stdin")
    write_all(fd, data.encode())
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


def _child(
    setup: Setup,
    req: dict[str, Any],
    inputs: list[str],
    ctl: int,
    out_w: int,
    err_w: int,
    res_w: int,
) -> NoReturn:
    """Run the program on ``inputs`` in this (forked) process, one test per byte read from
    ``ctl``, reporting each on ``res_w`` (a 4-byte length, then JSON ``[status, result]``).
    Never returns; exits at once when it cannot receive or report (the program closed or
    broke our pipes): with the test's status, or :data:`EXIT_HARNESS` before a test."""
    os.setsid()
    if not setup.namespaced:  # in a pid namespace our processes die with it
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    mode = req["mode"]
    # Every test's stdin is written before the limits apply (RLIMIT_FSIZE covers memfds).
    # Our fds move above RLIMIT_NOFILE, where they use none of the program's allowance.
    stdin_fds = [_high(_memfd(x)) for x in inputs] if mode == "stdin" else [_high(_memfd(""))]
    ctl, res_w = _high(ctl), _high(res_w)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    _close_all_but({ctl, res_w, *stdin_fds})  # the host's pipes among the closed
    stdin, stdout, stderr = setup.stdio
    os.chdir(setup.scratch)
    random.seed()
    _set_limits(req["limits"], len(inputs))
    compiled, syntax_error = compile_program(req["code"])
    for k, test_input in enumerate(inputs):
        try:
            if not os.read(ctl, 1):
                os._exit(EXIT_HARNESS)
            if mode == "stdin":
                os.dup2(stdin_fds[k], 0)
                os.close(stdin_fds[k])
            else:
                os.dup2(stdin_fds[0], 0)
            if k:  # the first test uses the worker's prebuilt objects (see Setup.stdio)
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
                os.chdir(setup.scratch)
            sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        except BaseException:  # the previous test broke our stdio or fds
            os._exit(EXIT_HARNESS)
        if compiled is None:
            status, result = EXIT_SYNTAX, ""
            stderr.write(syntax_error)
        else:
            status, result = run_program(compiled, mode, req["fn_name"], test_input)
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
            write_all(res_w, struct.pack(">I", len(frame)) + frame)
        except BaseException:
            os._exit(status)
        if status == EXIT_MEMORY:  # the heap may be broken: the next test gets a new child
            os._exit(status)
    os._exit(EXIT_OK)


# ---------------------------------------------------------------------------- worker side


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


class Child:
    """The worker's side of one forked child that runs a program on consecutive tests.

    The child runs a test each time it reads a byte from ``ctl`` and reports it as a frame on
    ``res``; it waits in between, so everything on its stdout and stderr pipes when a frame
    arrives belongs to that test. A test the child does not finish (timeout, output limit,
    crash, an exit) ends the child; the next test gets a new one.
    """

    def __init__(self, setup: Setup, req: dict[str, Any], inputs: list[str]):
        self.setup = setup
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
                _child(setup, req, inputs, ctl_r, out_w, err_w, res_w)
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
        kill_strays(me)
        for fd in (self.ctl, self.out, self.err, self.res, self.pidfd):
            os.close(fd)
        for directory in self.setup.wipe_dirs:
            wipe(directory)
        if self.setup.namespaced:
            remove_ipc()
