"""Run untrusted model code against tests, fast and isolated.

How: a pool of warm worker interpreters, each in its own sandbox; a worker forks a child per
program that runs the program on its tests one after another, each test in a fresh module
namespace, with fresh stdin/stdout/stderr; a test the program does not finish cleanly (time,
output or memory limit, a crash, an exit) ends the child and the next test gets a new one.
Outputs are compared on the host.

What IS isolated (``bwrap`` level, the default when bubblewrap works):
  - network: a new, empty network namespace (no interfaces but a down loopback);
  - filesystem: a root built from read-only binds of ``/usr`` (and its ``/lib*``, ``/bin``
    links) and the Python installation only; no ``/home``, ``/root``, ``/etc``, project
    checkout, credentials or sockets; writable space is a private size-bounded tmpfs at
    ``/tmp`` and ``/dev/shm``, wiped after every program (however its files are hidden:
    permissions, deep trees);
  - processes: a new pid namespace per worker (a program sees and can signal only its own
    worker's processes); after every program every process it started is killed, and the
    System V IPC objects it created are removed (POSIX message queues are refused);
  - identity: an unprivileged uid per worker, different from every other live worker's on
    the machine (so per-uid limits never couple two workers), no capabilities,
    ``no_new_privs``, a cleared environment (no secrets from ours);
  - resources: rlimits on address space, CPU time, processes/threads, file size and open
    files; a wall-clock limit per test and per program; capped stdout/stderr;
  - verdicts: expected outputs never enter the sandbox; outputs are compared on the host.

What is NOT isolated:
  - CPU and memory bandwidth: a program competes with its neighbours for cores (each worker
    runs one test at a time); the kernel itself is shared (a kernel exploit escapes any
    namespace sandbox: use VMs for adversaries with kernel 0-days); programs may create user
    namespaces, which widens the kernel surface they can reach;
  - a program can kill its own worker (same uid inside its sandbox); that fails only that
    program: the worker is replaced and the batch goes on;
  - the tests of one program share its process (as in LiveCodeBench's evaluator) and its
    ``/tmp`` until a test ends the process: a program can carry state from one of its
    tests to the next (process-wide state such as ``sys`` settings or monkeypatched
    modules, files, threads) and can lie about its own later tests' outcomes; it cannot
    reach another program or learn an expected output;
  - ``script`` mode runs the test code in the program's own process (as HumanEval does), so
    a program that rewrites the interpreter (e.g. patches ``AssertionError``) can fake a
    pass there; ``stdin`` and ``functional`` verdicts cannot be forged this way;
  - at the weaker ``unshare``/``none`` levels (no bubblewrap) the host filesystem, and at
    ``none`` the network, stay reachable, ``/dev/shm`` is the host's (not wiped) and at
    ``none`` System V IPC is the host's (not cleaned); a warning says so on every start.
"""

from cobalt_rl.sandbox.base import ExecRequest, Sandbox, TestSelection
from cobalt_rl.sandbox.config import (
    HttpSandboxConfig,
    LocalSandboxConfig,
    RaySandboxConfig,
    SandboxConfig,
    SandboxFusionConfig,
    default_sandbox_config,
    parse_sandbox_config,
)
from cobalt_rl.sandbox.factory import make_sandbox
from cobalt_rl.sandbox.feedback import ALL_PASSED, render_feedback
from cobalt_rl.sandbox.grading import Grading, compare_stdout, compare_value
from cobalt_rl.sandbox.isolation import Isolation, detect_isolation
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.local import LocalSandbox

__all__ = [
    "ALL_PASSED",
    "ExecRequest",
    "Grading",
    "HttpSandboxConfig",
    "Isolation",
    "Limits",
    "LocalSandbox",
    "LocalSandboxConfig",
    "RaySandboxConfig",
    "Sandbox",
    "SandboxConfig",
    "SandboxFusionConfig",
    "TestSelection",
    "compare_stdout",
    "compare_value",
    "default_sandbox_config",
    "detect_isolation",
    "make_sandbox",
    "parse_sandbox_config",
    "render_feedback",
]
