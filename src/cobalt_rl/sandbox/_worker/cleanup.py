"""Ending what a program left behind: its processes, its files, its System V IPC objects.

Run by the worker after every child (:meth:`.child.Child.close`), when the program can no
longer act: every process it started is killed, the private writable directories are wiped,
and (in private IPC namespaces) every IPC object is removed, so the next program finds none
of it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

LIBC = ctypes.CDLL(None, use_errno=True)
IPC_RMID = 0
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, value: int) -> None:
    LIBC.prctl(option, value, 0, 0, 0)


def _read_proc(path: str) -> bytes | None:
    """The whole of a ``/proc`` file (None when it cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        data = b""
        while chunk := os.read(fd, 1 << 16):
            data += chunk
    finally:
        os.close(fd)
    return data


def _children(me: int) -> list[int] | None:
    """The worker's live children (None when the kernel does not list them)."""
    data = _read_proc(f"/proc/self/task/{me}/children")
    return None if data is None else [int(pid) for pid in data.split()]


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


def kill_strays(me: int) -> None:
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


def wipe(top: str) -> None:
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


def remove_ipc() -> None:
    """Remove the System V shared memory, semaphores and message queues programs created.

    They outlive every process (a segment would keep its memory until the sandbox ends, and
    would let the next program read what this one left). Only with ``--namespaced``: the IPC
    namespace is then ours alone.
    """
    for kind in ("shm", "sem", "msg"):
        data = _read_proc(f"/proc/sysvipc/{kind}")
        if data is None:
            continue
        for line in data.splitlines()[1:]:  # a header, then "key id perms ..."
            fields = line.split()
            if len(fields) < 2:
                continue
            if kind == "sem":
                LIBC.semctl(int(fields[1]), 0, IPC_RMID)
            else:
                getattr(LIBC, f"{kind}ctl")(int(fields[1]), IPC_RMID, None)
