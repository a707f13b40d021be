"""Building the command that starts one sandboxed worker, at the strongest isolation available.

Levels, strongest first (:func:`detect_isolation` probes them once per process):

``bwrap`` (full): bubblewrap with new network, pid, ipc, uts and cgroup namespaces; a root
    made only of read-only binds of ``/usr`` (and its ``/lib*``/``/bin`` links) and the
    Python installation; fresh ``/proc`` and ``/dev``; size-bounded private tmpfs at ``/tmp``
    and ``/dev/shm``; no ``/home``, ``/root``, ``/etc``, project checkout or credentials; a
    cleared environment. Run as root, the worker then drops to its own unprivileged uid (no
    capabilities, ``no_new_privs``) with ``setpriv``: a uid no other worker on the machine
    holds (:func:`lease_uid`), so per-uid limits (``RLIMIT_NPROC``) and signals never reach
    another worker, of this pool or any other; run as a normal user, bubblewrap maps the user
    to uid 65534 in a new user namespace.
``unshare`` (partial): ``unshare`` namespaces for network, pid, ipc and uts, an unprivileged
    uid, a private scratch directory; the host filesystem stays visible read-only to the
    extent its permissions allow.
``none`` (rlimits only): a plain process with rlimits and a private scratch directory; the
    network and the filesystem are reachable. A warning is logged on every start.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cobalt_rl._compat import StrEnum
from cobalt_rl.errors import IsolationUnavailableError, SandboxError

__all__ = [
    "Isolation",
    "UidLease",
    "WorkerCommand",
    "detect_isolation",
    "lease_uid",
    "worker_command",
]

log = logging.getLogger(__name__)

WORKER_DIR = Path(__file__).with_name("_worker")  # run as ``python DIR`` (its __main__.py)
IN_SANDBOX_WORKER = "/sandbox/worker"
BASE_UID = 61000  # workers started as root run as BASE_UID .. BASE_UID + UID_COUNT - 1
UID_COUNT = 1000


class Isolation(StrEnum):
    BWRAP = "bwrap"
    UNSHARE = "unshare"
    NONE = "none"


@dataclass(frozen=True)
class WorkerCommand:
    argv: list[str]
    scratch: str  # the worker's writable scratch directory, as the worker sees it
    host_scratch: str | None  # a host directory to delete afterwards (weaker levels only)


class UidLease:
    """The right to run one worker as ``uid``, held until :meth:`release` (or our exit).

    The lease is an exclusive ``flock`` on ``<lease dir>/<uid>.lock``, so it holds across
    every process on the machine and ends by itself when its holder dies.
    """

    def __init__(self, uid: int, fd: int):
        self.uid = uid
        self._fd: int | None = fd

    def release(self) -> None:
        """Give the uid back (safe to call twice)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_lease_lock = threading.Lock()
_next_uid = 0  # leases go round the range, so a just-released uid is reused last


def _lease_dir() -> str:
    base = "/run" if os.path.isdir("/run") else tempfile.gettempdir()
    path = os.path.join(base, "cobalt-sandbox-uids")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError as e:
        raise SandboxError(f"cannot create the sandbox uid lease directory {path}: {e}") from e
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise SandboxError(
            f"{path} is not a directory owned by uid {os.geteuid()}; remove it so the sandbox "
            "can create it"
        )
    return path


def _uids_in_use() -> set[int]:
    """The uids in our range that some process on the machine runs as."""
    used = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read()
            uid = int(status.split(b"\nUid:", 1)[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
        if BASE_UID <= uid < BASE_UID + UID_COUNT:
            used.add(uid)
    return used


def lease_uid() -> UidLease | None:
    """Lease an unprivileged uid for one worker; None when workers do not switch uid.

    Only root switches uid (with ``setpriv``). Every live worker on the machine gets a
    different uid: ``RLIMIT_NPROC`` counts a uid's processes machine-wide, so two workers
    sharing one would let a fork bomb in one starve the other. A uid is free when no lease
    holds it and no process runs as it (a process outside our leases, e.g. of an older
    version, is not trusted to be gone).

    Raises:
        SandboxError: all :data:`UID_COUNT` uids are taken.
    """
    global _next_uid
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    directory = _lease_dir()
    with _lease_lock:
        busy = _uids_in_use()
        for step in range(UID_COUNT):
            index = (_next_uid + step) % UID_COUNT
            uid = BASE_UID + index
            if uid in busy:
                continue
            fd = os.open(
                os.path.join(directory, f"{uid}.lock"),
                os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            _next_uid = index + 1
            return UidLease(uid, fd)
    raise SandboxError(
        f"all {UID_COUNT} sandbox uids ({BASE_UID}..{BASE_UID + UID_COUNT - 1}) are held by "
        "running workers; close some sandboxes first"
    )


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


_SANDBOX_MOUNTS = ("/tmp", "/dev", "/dev/shm", "/proc", "/sandbox")
"""Directories the sandbox mounts itself (its own modes stand)."""


def _open_parents(roots: list[str]) -> list[str]:
    """bubblewrap arguments that create the directories above each bound root with mode
    0755: left to bubblewrap they are made 0700 (whatever the host's mode), and the worker's
    uid could not reach an interpreter outside /usr (a uv or pyenv Python)."""
    made: list[str] = []
    for root in roots:
        for parent in reversed(Path(root).parents[:-1]):
            if str(parent) not in made and str(parent) not in _SANDBOX_MOUNTS:
                made.append(str(parent))
    return [arg for path in made for arg in ("--perms", "0755", "--dir", path)]


def _bwrap_argv(uid: int, scratch_mb: int) -> list[str]:
    bwrap = shutil.which("bwrap")
    assert bwrap is not None
    size = str(scratch_mb << 20)
    argv = [bwrap, *_root_binds()]
    argv += [
        "--perms",
        "0755",
        "--dir",
        "/sandbox",
        "--ro-bind",
        str(WORKER_DIR),
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
    ]
    # The interpreter after the scratch mounts: one under /tmp (a checkout there) stays
    # visible instead of being covered by the sandbox's own /tmp.
    argv += _open_parents(_python_roots())
    for root in _python_roots():
        argv += ["--ro-bind", root, root]
    argv += [
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
    python = [
        _base_python(),
        "-I",
        "-S",
        "-B",
        IN_SANDBOX_WORKER,
        "/tmp",
        "/dev/shm",
        "--namespaced",
    ]
    drop = _drop_privileges(uid, empty_bounding_set=True)
    if drop:
        return [*argv, *drop, *python]
    return [*argv, "--unshare-user", "--uid", "65534", "--gid", "65534", *python]


def _drop_privileges(uid: int, *, empty_bounding_set: bool = False) -> list[str]:
    """``setpriv`` to run as ``uid`` with no groups, no inheritable capabilities (and, when
    asked, an empty capability bounding set) and no new privileges, where we are root and
    have setpriv; nothing otherwise."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        return []
    argv = [setpriv, "--reuid", str(uid), "--regid", str(uid), "--clear-groups", "--inh-caps=-all"]
    if empty_bounding_set:
        argv.append("--bounding-set=-all")
    return [*argv, "--no-new-privs"]


def _private_scratch(index: int) -> str:
    path = tempfile.mkdtemp(prefix=f"cobalt-sandbox-{index}-")
    os.chmod(path, 0o1777)
    return path


def worker_command(
    level: Isolation, index: int, scratch_mb: int, uid: int | None = None
) -> WorkerCommand:
    """The argv that starts worker ``index`` at isolation ``level``.

    ``uid`` is the uid the worker switches to when started as root: a :func:`lease_uid` uid
    (the default, ``BASE_UID + index``, is for one-off probes only).
    """
    uid = BASE_UID + index if uid is None else uid
    if level is Isolation.BWRAP:
        return WorkerCommand(_bwrap_argv(uid, scratch_mb), "/tmp", None)
    scratch = _private_scratch(index)
    python = [_base_python(), "-I", "-S", "-B", str(WORKER_DIR), scratch]
    if level is Isolation.UNSHARE:
        python.append("--namespaced")  # private pid and IPC namespaces (the worker is pid 1)
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
        return WorkerCommand([*argv, *_drop_privileges(uid), *python], scratch, scratch)
    return WorkerCommand([*_drop_privileges(uid), *python], scratch, scratch)


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
    lease = lease_uid()
    cmd = worker_command(level, 0, 8, uid=lease.uid if lease else None)
    try:
        return _probe(cmd.argv)
    finally:
        if lease:
            lease.release()
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
