"""Building the command that starts one sandboxed worker, at the strongest isolation available.

Levels, strongest first (:func:`detect_isolation` probes them once per process):

``bwrap`` (full): bubblewrap with new network, pid, ipc, uts and cgroup namespaces; a root
    made only of read-only binds of ``/usr`` (and its ``/lib*``/``/bin`` links) and the
    Python installation; fresh ``/proc`` and ``/dev``; size-bounded private tmpfs at ``/tmp``
    and ``/dev/shm``; no ``/home``, ``/root``, ``/etc``, project checkout or credentials; a
    cleared environment. Run as root, the worker then drops to its own unprivileged uid
    (one per worker, no capabilities, ``no_new_privs``) with ``setpriv``; run as a normal
    user, bubblewrap maps the user to uid 65534 in a new user namespace.
``unshare`` (partial): ``unshare`` namespaces for network, pid, ipc and uts, an unprivileged
    uid, a private scratch directory; the host filesystem stays visible read-only to the
    extent its permissions allow.
``none`` (rlimits only): a plain process with rlimits and a private scratch directory; the
    network and the filesystem are reachable. A warning is logged on every start.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from cobalt_rl.errors import IsolationUnavailableError

__all__ = ["Isolation", "WorkerCommand", "detect_isolation", "worker_command"]

log = logging.getLogger(__name__)

WORKER_FILE = Path(__file__).with_name("_worker.py")
IN_SANDBOX_WORKER = "/sandbox/worker.py"
BASE_UID = 61000  # one uid per worker when we start as root: BASE_UID + worker index


class Isolation(StrEnum):
    BWRAP = "bwrap"
    UNSHARE = "unshare"
    NONE = "none"


@dataclass(frozen=True)
class WorkerCommand:
    argv: list[str]
    scratch: str  # the worker's writable scratch directory, as the worker sees it
    host_scratch: str | None  # a host directory to delete afterwards (weaker levels only)


def _python_roots() -> list[str]:
    """Directories that hold the base interpreter and its standard library."""
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}
    exe_dir = os.path.dirname(os.path.realpath(_base_python()))
    if not any(exe_dir.startswith(r + os.sep) for r in roots):
        roots.add(exe_dir)
    return sorted(r for r in roots if not r.startswith("/usr/") and r != "/usr")


@cache
def _base_python() -> str:
    """The real interpreter behind this one (a venv's python is a link to it)."""
    candidates = [
        os.path.join(
            sys.base_prefix, "bin", f"python{sys.version_info.major}.{sys.version_info.minor}"
        ),
        os.path.join(sys.base_prefix, "bin", "python3"),
        os.path.realpath(sys.executable),
    ]
    for c in candidates:
        if os.access(c, os.X_OK):
            return os.path.realpath(c)
    return os.path.realpath(sys.executable)


def _root_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("lib", "lib32", "lib64", "libx32", "bin", "sbin"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _bwrap_argv(index: int, scratch_mb: int) -> list[str]:
    bwrap = shutil.which("bwrap")
    assert bwrap is not None
    size = str(scratch_mb << 20)
    argv = [bwrap, *_root_binds()]
    for root in _python_roots():
        argv += ["--ro-bind", root, root]
    argv += [
        "--perms",
        "0755",
        "--dir",
        "/sandbox",
        "--ro-bind",
        str(WORKER_FILE),
        IN_SANDBOX_WORKER,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        size,
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        "--size",
        size,
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/bin:/bin",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "HOME",
        "/tmp",
        "--chdir",
        "/tmp",
    ]
    python = [_base_python(), "-I", "-S", "-B", IN_SANDBOX_WORKER, "/tmp"]
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv:
        uid = str(BASE_UID + index)
        return [
            *argv,
            setpriv,
            "--reuid",
            uid,
            "--regid",
            uid,
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            *python,
        ]
    return [*argv, "--unshare-user", "--uid", "65534", "--gid", "65534", *python]


def _drop_privileges(index: int) -> list[str]:
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv:
        uid = str(BASE_UID + index)
        return [
            setpriv,
            "--reuid",
            uid,
            "--regid",
            uid,
            "--clear-groups",
            "--inh-caps=-all",
            "--no-new-privs",
        ]
    return []


def _private_scratch(index: int) -> str:
    import tempfile

    path = tempfile.mkdtemp(prefix=f"cobalt-sandbox-{index}-")
    os.chmod(path, 0o1777)
    return path


def worker_command(level: Isolation, index: int, scratch_mb: int) -> WorkerCommand:
    """The argv that starts worker ``index`` at isolation ``level``."""
    if level is Isolation.BWRAP:
        return WorkerCommand(_bwrap_argv(index, scratch_mb), "/tmp", None)
    scratch = _private_scratch(index)
    python = [_base_python(), "-I", "-S", "-B", str(WORKER_FILE), scratch]
    if level is Isolation.UNSHARE:
        unshare = shutil.which("unshare")
        assert unshare is not None
        argv = [
            unshare,
            "--net",
            "--pid",
            "--fork",
            "--mount-proc",
            "--ipc",
            "--uts",
            "--kill-child",
        ]
        if os.geteuid() != 0:
            argv.insert(1, "--map-root-user")
            argv.insert(1, "--user")
        return WorkerCommand([*argv, *_drop_privileges(index), *python], scratch, scratch)
    return WorkerCommand([*_drop_privileges(index), *python], scratch, scratch)


def _probe(argv: list[str]) -> bool:
    try:
        proc = subprocess.run(
            [*argv[: argv.index(_base_python())], _base_python(), "-I", "-S", "-c", "pass"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


@cache
def _available(level: Isolation) -> bool:
    if level is Isolation.NONE:
        return True
    if level is Isolation.BWRAP and not shutil.which("bwrap"):
        return False
    if level is Isolation.UNSHARE and not shutil.which("unshare"):
        return False
    cmd = worker_command(level, 0, 8)
    try:
        return _probe(cmd.argv)
    finally:
        if cmd.host_scratch:
            shutil.rmtree(cmd.host_scratch, ignore_errors=True)


def detect_isolation(require_full: bool = False) -> Isolation:
    """The strongest isolation level that works here.

    Raises:
        IsolationUnavailableError: ``require_full`` and bubblewrap does not work.
    """
    if _available(Isolation.BWRAP):
        return Isolation.BWRAP
    why = (
        "bubblewrap (bwrap) is not installed"
        if not shutil.which("bwrap")
        else "bubblewrap is installed but cannot create a sandbox here (user namespaces "
        "may be disabled: check kernel.unprivileged_userns_clone or run as root)"
    )
    if require_full:
        raise IsolationUnavailableError(
            f"full isolation was required but {why}. Install it (Debian/Ubuntu: "
            "`sudo apt-get install bubblewrap`) or drop --require-isolation to accept weaker "
            "isolation."
        )
    level = Isolation.UNSHARE if _available(Isolation.UNSHARE) else Isolation.NONE
    log.warning(
        "SANDBOX WARNING: %s; model code runs with weaker isolation (%s). %s",
        why,
        level.value,
        "Network and files stay reachable by the program."
        if level is Isolation.NONE
        else "The host filesystem stays readable to the program.",
    )
    return level
