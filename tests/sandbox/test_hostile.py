"""Hostile programs, one behaviour per test (in the spirit of nanochat's test_execution.py).

Each test checks three things:
  (a) the hostile program fails, with the specific status where one is determined;
  (b) the next normal program in the same pool still passes;
  (c) nothing outlives the run: every worker uid runs exactly one process (the idle worker),
      seen from the host's /proc; where it matters, a program on the same worker confirms
      from inside that no process, file or IPC object was left behind.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import (
    FAST,
    NORMAL,
    assert_only_idle_workers,
    needs_bwrap,
    statuses,
    stdin_request,
    worker_uids,
)

from cobalt_rl.records import Mode, Status, TestCase
from cobalt_rl.sandbox import ExecRequest, Limits, LocalSandbox, local, verdicts

pytestmark = needs_bwrap

FAILED = {
    Status.WRONG_ANSWER,
    Status.RUNTIME_ERROR,
    Status.SYNTAX_ERROR,
    Status.TIMEOUT,
    Status.MEMORY,
    Status.OUTPUT_LIMIT,
}
_counter = iter(range(10**9))


@pytest.fixture(scope="module")
def pool() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=FAST, cache_size=0, require_isolation=True) as sandbox:
        yield sandbox


def hostile(
    sandbox: LocalSandbox, code: str, expected: str = "6\n", limits: Limits | None = None
) -> Status:
    """Run ``code`` on one test (input 3) in ``sandbox``; return its status."""
    request = stdin_request(textwrap.dedent(code), [("3\n", expected)], limits=limits)
    result = sandbox.run(request)
    (outcome,) = result.outcomes
    assert outcome.status is not Status.SANDBOX_ERROR, outcome
    return outcome.status


def assert_pool_still_works(sandbox: LocalSandbox, earlier_uids: set[int] = frozenset()) -> None:
    """(b) and (c): normal programs on every worker pass; no process was left behind."""
    requests = [stdin_request(f"{NORMAL}  # {next(_counter)}") for _ in range(4)]
    assert all(r.passed for r in sandbox.run_batch(requests))
    if os.geteuid() == 0:  # workers run as their own uids only when we are root
        assert_only_idle_workers(sandbox, earlier_uids)


def run_hostile(
    sandbox: LocalSandbox,
    code: str,
    expected: set[Status] | Status,
    answer: str = "6\n",
    limits: Limits | None = None,
) -> None:
    before = worker_uids(sandbox)
    status = hostile(sandbox, code, answer, limits)
    wanted = expected if isinstance(expected, set) else {expected}
    assert status in wanted
    assert_pool_still_works(sandbox, before)


def in_batch_with_normal_programs(sandbox: LocalSandbox, code: str) -> list[Status]:
    """Run ``code`` in one run_batch among normal programs; return the hostile one's status
    after checking that every normal one passed."""
    before = worker_uids(sandbox)
    normal = [stdin_request(f"{NORMAL}  # {next(_counter)}") for _ in range(6)]
    requests = [*normal[:3], stdin_request(textwrap.dedent(code)), *normal[3:]]
    results = sandbox.run_batch(requests)
    assert [r.passed for i, r in enumerate(results) if i != 3] == [True] * 6
    assert_pool_still_works(sandbox, before)
    return statuses(results[3])


# ----------------------------------------------------------------------------- time


def test_infinite_loop(pool: LocalSandbox) -> None:
    run_hostile(pool, "while True:\n    pass\n", Status.TIMEOUT)


def test_sleeping(pool: LocalSandbox) -> None:
    run_hostile(pool, "import time\ntime.sleep(60)\n", Status.TIMEOUT)


def test_stopping_itself(pool: LocalSandbox) -> None:
    run_hostile(pool, "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n", Status.TIMEOUT)


def test_new_session_then_looping(pool: LocalSandbox) -> None:
    code = """
        import os
        pid = os.fork()
        if pid == 0:
            os.setsid()  # a new session and process group, away from the program's
            while True:
                pass
        os.waitpid(pid, 0)
    """
    run_hostile(pool, code, Status.TIMEOUT)


def test_process_group_games_then_looping(pool: LocalSandbox) -> None:
    code = """
        import os
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        if os.fork() == 0:
            os.setpgid(0, 0)
            while True:
                pass
        while True:
            pass
    """
    run_hostile(pool, code, Status.TIMEOUT)


# ----------------------------------------------------------------------- resources


# Time enough to touch all the memory allowed, even on a loaded machine: MEMORY, not TIMEOUT.
ROOMY = FAST.model_copy(update={"timeout_s": 5.0, "program_timeout_s": 5.0})


def test_memory_bomb(pool: LocalSandbox) -> None:
    code = "x = []\nwhile True:\n    x.append(b'x' * (16 << 20))\n"
    run_hostile(pool, code, Status.MEMORY, limits=ROOMY)


def test_raising_rlimits_fails(pool: LocalSandbox) -> None:
    code = """
        import resource
        for which in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CPU):
            resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    """
    run_hostile(pool, code, Status.RUNTIME_ERROR)


def test_memory_limit_holds_after_trying_to_raise_it(pool: LocalSandbox) -> None:
    code = """
        import resource
        try:
            resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)
        except (ValueError, OSError):
            pass
        big = b"x" * (512 << 20)  # twice the limit
        print(6)
    """
    run_hostile(pool, code, Status.MEMORY, limits=ROOMY)


def test_fork_bomb(pool: LocalSandbox) -> None:
    code = """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    run_hostile(pool, code, Status.TIMEOUT)


def test_fork_bomb_does_not_starve_another_pool(pool: LocalSandbox) -> None:
    """RLIMIT_NPROC counts a uid's processes machine-wide: pools must not share uids."""
    with LocalSandbox(workers=1, limits=FAST, cache_size=0, require_isolation=True) as other:
        assert not worker_uids(other) & worker_uids(pool)
        bomb = """
            import os, time
            for _ in range(200):
                try:
                    if os.fork() == 0:
                        time.sleep(60)
                except OSError:
                    pass
            time.sleep(60)
        """
        # one bomb per worker: each holds every process its worker's uid may have
        bombs = [
            pool.submit(stdin_request(textwrap.dedent(bomb) + f"# {i}"))
            for i in range(pool.num_workers)
        ]
        time.sleep(0.4)
        forks = "import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\n"
        assert other.run(stdin_request(forks + NORMAL)).passed
        assert [statuses(b.result()) for b in bombs] == [[Status.TIMEOUT]] * len(bombs)
    assert_pool_still_works(pool)


def test_thread_bomb(pool: LocalSandbox) -> None:
    code = """
        import threading, time
        while True:
            threading.Thread(target=time.sleep, args=(60,)).start()
    """
    run_hostile(pool, code, Status.RUNTIME_ERROR)


def test_runaway_recursion(pool: LocalSandbox) -> None:
    code = """
        import sys
        sys.setrecursionlimit(10**6)
        def down(n):
            return down(n + 1) + 1
        down(0)
    """
    run_hostile(pool, code, {Status.RUNTIME_ERROR, Status.MEMORY, Status.TIMEOUT})


def test_segfault(pool: LocalSandbox) -> None:
    before = worker_uids(pool)
    result = pool.run(stdin_request("import ctypes\nctypes.string_at(0)\n"))
    assert statuses(result) == [Status.RUNTIME_ERROR]
    assert "SIGSEGV" in result.outcomes[0].detail
    assert_pool_still_works(pool, before)


# -------------------------------------------------------------------------- output


def test_stdout_flood(pool: LocalSandbox) -> None:
    run_hostile(pool, "while True:\n    print('x' * 4096)\n", Status.OUTPUT_LIMIT)


def test_stderr_flood(pool: LocalSandbox) -> None:
    before = worker_uids(pool)
    code = "import sys\nwhile True:\n    sys.stderr.write('x' * 4096)\n"
    result = pool.run(stdin_request(code))
    assert statuses(result) == [Status.TIMEOUT]
    assert len(result.outcomes[0].stderr) <= 2 * verdicts.EXCERPT_CHARS  # kept, but capped
    assert_pool_still_works(pool, before)


def test_thread_flooding_stdout_between_tests(pool: LocalSandbox) -> None:
    """A program's tests share its process: a thread it leaves behind floods stdout while
    the worker waits between tests. Which tests it spoils is a race (a new child after an
    output-limit kill may finish first); what must hold is that no wait is unbounded."""
    before = worker_uids(pool)
    code = """
        import sys, threading
        def flood():
            while True:
                sys.__stdout__.write("x" * 65536)
        threading.Thread(target=flood, daemon=True).start()
        print(int(input()) * 2)
    """
    tests = [(f"{n}\n", f"{2 * n}\n") for n in range(4)]
    start = time.monotonic()
    result = pool.run(stdin_request(textwrap.dedent(code), tests))
    assert time.monotonic() - start < 4 * FAST.timeout_s
    assert set(statuses(result)) <= FAILED | {Status.PASSED}
    assert_pool_still_works(pool, before)


def test_huge_return_value(pool: LocalSandbox) -> None:
    before = worker_uids(pool)
    request = ExecRequest(
        code="def f(n):\n    return 'x' * (8 << 20)\n",
        tests=[TestCase(input="1", output='"x"')],
        mode=Mode.FUNCTIONAL,
        fn_name="f",
    )
    assert statuses(pool.run(request)) == [Status.OUTPUT_LIMIT]
    assert_pool_still_works(pool, before)


# --------------------------------------------------------------------- filesystem


@pytest.mark.parametrize("directory", ["/tmp", "/dev/shm"])
def test_filling_scratch_space(fresh_pool: LocalSandbox, directory: str) -> None:
    code = f"""
        for i in range(1000):
            with open("{directory}/fill%d" % i, "wb") as f:
                f.write(b"x" * (8 << 20))
    """
    run_hostile(fresh_pool, code, Status.RUNTIME_ERROR)  # no space left on device
    # the same worker's next program has the space again
    refill = f"for i in range(6):\n    open('{directory}/f%d' % i, 'wb').write(b'x' * (8 << 20))\n"
    refill += NORMAL
    assert fresh_pool.run(stdin_request(refill)).passed


def test_file_too_large(pool: LocalSandbox) -> None:
    run_hostile(pool, "open('/tmp/big', 'wb').write(b'x' * (32 << 20))\n", Status.RUNTIME_ERROR)


LEFTOVERS = """
import os
left = sorted(os.listdir("/tmp")) + sorted(os.listdir("/dev/shm"))
print(left or "clean")
"""


@pytest.mark.parametrize(
    "code",
    [
        "open('/tmp/note', 'w').write('from the last program')\n",
        "open('/dev/shm/note', 'w').write('from the last program')\n",
        # a directory without permissions, to keep its files from the wipe
        "import os\nos.makedirs('/tmp/a/b')\nopen('/tmp/a/b/f', 'w').write('x')\n"
        "os.chmod('/tmp/a/b', 0)\nos.chmod('/tmp/a', 0o500)\n",
        # deeper than PATH_MAX and Python's recursion limit
        "import os\nos.chdir('/tmp')\nfor _ in range(3000):\n    os.mkdir('d' * 50)\n"
        "    os.chdir('d' * 50)\nopen('f', 'w').write('x')\n",
    ],
    ids=["tmp", "dev-shm", "no-permissions", "deep-tree"],
)
def test_files_left_behind_are_wiped(fresh_pool: LocalSandbox, code: str) -> None:
    first = fresh_pool.run(stdin_request(code + NORMAL))
    assert first.passed, first.outcomes[0]  # legal: a program may use its scratch space
    assert fresh_pool.run(stdin_request(LEFTOVERS, [("", "clean\n")])).passed


def test_writing_host_directories(pool: LocalSandbox) -> None:
    marker = f"cobalt-hostile-{secrets.token_hex(8)}"
    targets = [
        str(Path.cwd() / marker),  # the project checkout
        f"/work/{marker}",
        f"/usr/{marker}",
        f"/usr/bin/{marker}",
        f"/root/{marker}",
        f"/etc/{marker}",
        f"/home/{marker}",
        f"/{marker}",
        f"/sandbox/{marker}",
        f"{sys.base_prefix}/{marker}",  # the Python installation, bound read-only
    ]
    code = f"""
        import os
        written = []
        for path in {targets!r}:
            try:
                with open(path, "w") as f:
                    f.write("pwned")
                written.append(path)
            except OSError:
                pass
        print(written)
        if not written:
            raise SystemExit(1)
    """
    try:
        run_hostile(pool, code, Status.RUNTIME_ERROR)
    finally:
        leaked = [t for t in targets if os.path.lexists(t)]
        for path in leaked:
            os.unlink(path)
    assert not leaked


def test_deleting_and_overwriting_host_files(pool: LocalSandbox, tmp_path: Path) -> None:
    """Files the sandbox can name (the Python installation is bound in) and files it cannot
    (our home, the project checkout, the host's /tmp) stay untouched."""
    token = secrets.token_hex(8)
    victims = [
        Path(sys.base_prefix) / f"cobalt-hostile-{token}.txt",
        Path.home() / f".cobalt-hostile-{token}",
        Path.cwd() / f".cobalt-hostile-{token}",
        tmp_path / "victim.txt",
    ]
    for path in victims:
        path.write_text("original")
    code = f"""
        import os
        for path in {[str(v) for v in victims]!r}:
            for attack in (os.remove, lambda p: open(p, "w").write("pwned")):
                try:
                    attack(path)
                    print("changed", path)
                except OSError:
                    pass
        raise SystemExit(1)
    """
    try:
        run_hostile(pool, code, Status.RUNTIME_ERROR)
        assert [v.read_text() for v in victims] == ["original"] * len(victims)
    finally:
        for path in victims:
            path.unlink(missing_ok=True)


# ------------------------------------------------------------------------ secrets


def test_reading_an_environment_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = secrets.token_hex(16)
    monkeypatch.setenv("COBALT_TEST_SECRET", secret)
    with LocalSandbox(workers=1, limits=FAST, cache_size=0, require_isolation=True) as sandbox:
        code = """
            import os
            found = os.environ.get("COBALT_TEST_SECRET", "")
            for pid in os.listdir("/proc"):
                for name in ("environ", "cmdline"):
                    try:
                        data = open(f"/proc/{pid}/{name}", "rb").read().decode(errors="replace")
                    except OSError:
                        continue
                    if "COBALT_TEST_SECRET=" in data:
                        found = data.split("COBALT_TEST_SECRET=")[1][:32]
            print(found)
        """
        before = worker_uids(sandbox)
        result = sandbox.run(stdin_request(textwrap.dedent(code), [("", secret + "\n")]))
        assert statuses(result) == [Status.WRONG_ANSWER]
        assert secret not in result.outcomes[0].output
        assert_pool_still_works(sandbox, before)


def test_reading_secrets_from_home(pool: LocalSandbox) -> None:
    secret = secrets.token_hex(16)
    home_file = Path.home() / f".cobalt-test-secret-{secrets.token_hex(4)}"
    home_file.write_text(secret)
    paths = [str(home_file), f"/root/{home_file.name}", "/root/.ssh/id_rsa", "/etc/shadow"]
    code = f"""
        import os
        found = []
        for path in {paths!r} + [os.path.expanduser("~/{home_file.name}")]:
            try:
                found.append(open(path).read())
            except OSError:
                pass
        for top in ("/root", "/home"):
            try:
                found.append(str(os.listdir(top)))
            except OSError:
                pass
        print("".join(found))
    """
    try:
        before = worker_uids(pool)
        result = pool.run(stdin_request(textwrap.dedent(code), [("", secret + "\n")]))
        assert statuses(result) == [Status.WRONG_ANSWER]
        assert secret not in result.outcomes[0].output
        assert home_file.name not in result.outcomes[0].output
        assert_pool_still_works(pool, before)
    finally:
        home_file.unlink()


def test_searching_memory_for_the_expected_output(pool: LocalSandbox) -> None:
    secret = secrets.token_hex(16)
    code = """
        import gc, sys

        def answer(x):
            hex_digits = set("0123456789abcdef")
            gc.unfreeze()  # the worker froze its objects: make them visible again
            seen = [o for o in gc.get_objects() if isinstance(o, (dict, list, tuple))]
            frame = sys._getframe()
            while frame is not None:
                seen += [frame.f_globals, frame.f_locals]
                frame = frame.f_back
            for obj in seen:
                for item in (obj.values() if isinstance(obj, dict) else
                             obj if isinstance(obj, (list, tuple)) else [obj]):
                    if isinstance(item, str) and len(item) == 32 and set(item) <= hex_digits:
                        return item
            return "nothing"
    """
    before = worker_uids(pool)
    request = ExecRequest(
        code=textwrap.dedent(code),
        tests=[TestCase(input="1", output=f'"{secret}"')],
        mode=Mode.FUNCTIONAL,
        fn_name="answer",
    )
    result = pool.run(request)
    assert statuses(result) == [Status.WRONG_ANSWER]
    assert secret not in result.outcomes[0].output
    assert_pool_still_works(pool, before)


def test_reading_the_workers_memory(pool: LocalSandbox) -> None:
    code = """
        import os
        with open(f"/proc/{os.getppid()}/mem", "rb") as f:
            print(f.read(16))
    """
    run_hostile(pool, code, Status.RUNTIME_ERROR)


# ------------------------------------------------------------------------ network


def test_connecting_to_the_host_loopback(pool: LocalSandbox) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = f"""
            import socket
            socket.create_connection(("127.0.0.1", {port}), timeout=0.5).sendall(b"hello")
            print(6)
        """
        run_hostile(pool, code, Status.RUNTIME_ERROR)
        server.settimeout(0.1)
        with pytest.raises(TimeoutError):
            server.accept()


def test_connecting_to_an_external_address(pool: LocalSandbox) -> None:
    code = """
        import socket
        socket.create_connection(("1.1.1.1", 53), timeout=0.5).close()
        print(6)
    """
    run_hostile(pool, code, Status.RUNTIME_ERROR)


def test_resolving_a_name(pool: LocalSandbox) -> None:
    run_hostile(
        pool, "import socket\nsocket.getaddrinfo('example.com', 80)\n", Status.RUNTIME_ERROR
    )


# ------------------------------------------------------------------------ signals


def test_killing_its_worker(pool: LocalSandbox) -> None:
    code = "import os\nos.kill(os.getppid(), 9)\n"
    assert in_batch_with_normal_programs(pool, code) == [Status.RUNTIME_ERROR]


def test_killing_every_process_it_can(pool: LocalSandbox) -> None:
    code = "import os\nos.kill(-1, 9)\n"
    assert in_batch_with_normal_programs(pool, code) == [Status.RUNTIME_ERROR]


def test_killing_its_process_group(pool: LocalSandbox) -> None:
    code = "import os, signal\nos.killpg(0, signal.SIGKILL)\n"
    # a SIGKILL we did not send reads as the kernel's out-of-memory kill (see verdicts.judge)
    assert in_batch_with_normal_programs(pool, code)[0] in FAILED


def test_stopping_its_worker(pool: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "HOST_SLACK_S", 0.5)  # how long the host waits for a worker
    code = "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\nimport time\ntime.sleep(60)\n"
    assert in_batch_with_normal_programs(pool, code) == [Status.TIMEOUT]


def test_orphaned_daemon_does_not_outlive_the_program(fresh_pool: LocalSandbox) -> None:
    daemon = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:  # a daemon: double fork, new session, parent gone
                time.sleep(0.3)  # outlive the program, then leave traces
                while True:
                    with open("/tmp/daemon-was-here", "a") as f:
                        f.write("x")
                    print("late output", flush=True)
                    time.sleep(0.01)
            os._exit(0)
        print(6)
    """
    assert fresh_pool.run(stdin_request(textwrap.dedent(daemon))).passed
    if os.geteuid() == 0:
        assert_only_idle_workers(fresh_pool)
    survivors = """
        import os, time
        time.sleep(0.1)
        mine = {os.getpid(), os.getppid(), 1}
        others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in mine]
        print(others, os.listdir("/tmp"))
    """
    result = fresh_pool.run(stdin_request(textwrap.dedent(survivors), [("", "[] []\n")]))
    assert result.passed, result.outcomes[0]


# -------------------------------------------------------------- the sandbox's own fds


def test_writing_into_inherited_fds(pool: LocalSandbox) -> None:
    code = """
        import os
        for fd in range(3, 1024):
            try:
                os.write(fd, b"\\x00\\x00\\x00\\x0a[0, \\"6\\\\n\\"]")  # a forged report
            except OSError:
                pass
        print(5)
    """
    assert in_batch_with_normal_programs(pool, code)[0] in FAILED


def test_closing_every_fd(pool: LocalSandbox) -> None:
    code = "import os\nos.closerange(0, 1024)\nprint(6)\n"
    run_hostile(pool, code, Status.RUNTIME_ERROR)


def test_closing_the_sandbox_fds_does_not_skip_later_tests(pool: LocalSandbox) -> None:
    """Tests share a child: a test that breaks its pipes costs only a new child."""
    request = stdin_request(
        "import os\nos.closerange(3, 1 << 16)\n" + NORMAL,
        [("1\n", "2\n"), ("2\n", "4\n"), ("3\n", "7\n"), ("4\n", "8\n")],
    )
    result = pool.run(request)
    assert statuses(result) == [Status.PASSED] * 2 + [Status.WRONG_ANSWER, Status.PASSED]
    assert_pool_still_works(pool)


# --------------------------------------------------------------------------- IPC


def test_system_v_shared_memory_is_removed(fresh_pool: LocalSandbox) -> None:
    create = """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        shmid = libc.shmget(0xC0B417, 32 << 20, 0o1600)  # IPC_CREAT, 32 MiB, kept after exit
        assert shmid >= 0, ctypes.get_errno()
        print(6)
    """
    assert fresh_pool.run(stdin_request(textwrap.dedent(create))).passed
    look = """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print(libc.shmget(0xC0B417, 0, 0), open("/proc/sysvipc/shm").read().count("\\n"))
    """
    assert fresh_pool.run(stdin_request(textwrap.dedent(look), [("", "-1 1\n")])).passed


def test_posix_message_queues_are_refused(pool: LocalSandbox) -> None:
    code = """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mq_open.restype = ctypes.c_int
        fd = libc.mq_open(b"/cobalt", os.O_CREAT | os.O_RDWR, 0o600, None)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "mq_open")
        print(6)
    """
    run_hostile(pool, code, Status.RUNTIME_ERROR)
