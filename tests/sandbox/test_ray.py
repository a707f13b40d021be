"""The Ray sandbox backend on a local Ray cluster started by the test.

Faults are real: actors are killed (``ray.kill``) or frozen (``SIGSTOP`` on the actor's
process) while a batch runs; what must hold is that every request gets exactly one result,
with the verdict the local backend gives it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from mixed_batch import check_hostile, mixed_batch, verdicts
from sandbox_helpers import FAST, NORMAL, needs_bwrap, stdin_request

from cobalt_rl.errors import ConfigError, SandboxError
from cobalt_rl.records import Status
from cobalt_rl.sandbox import LocalSandbox
from cobalt_rl.sandbox.config import RaySandboxConfig
from cobalt_rl.sandbox.factory import make_sandbox

HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason="Ray is not installed (cobalt-rl[ray])")
DOUBLES = [(f"{n}\n", f"{2 * n}\n") for n in range(3)]


def slow(i: int, seconds: float = 0.4) -> Any:
    """A correct program that takes a while (so a fault lands while it runs)."""
    code = f"import time\ntime.sleep({seconds})\n{NORMAL}  # slow {i}"
    return stdin_request(code, [("3\n", "6\n")])


# --------------------------------------------------------------------- without Ray


def test_import_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    monkeypatch.delitem(sys.modules, "cobalt_rl.sandbox.ray", raising=False)
    with pytest.raises(ImportError, match=r"cobalt-rl\[ray\]"):
        importlib.import_module("cobalt_rl.sandbox.ray")
    with pytest.raises(ConfigError, match=r"cobalt-rl\[ray\]"):
        make_sandbox(RaySandboxConfig())


# ------------------------------------------------------------------------ with Ray

F = Any  # a test function


def ray_test(test: F) -> F:
    """Needs Ray and bubblewrap."""
    return needs_ray(needs_bwrap(test))


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A local Ray cluster for this module: 4 logical CPUs (the actors mostly sleep)."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def ray_sandbox(**options: Any) -> Any:
    from cobalt_rl.sandbox.ray import RaySandbox

    settings: dict[str, Any] = {
        "actors": 2,
        "workers_per_actor": 1,
        "limits": FAST,
        "cache_size": 0,
        "require_isolation": True,
    }
    return RaySandbox(**(settings | options))


@pytest.fixture(scope="module")
def local_verdicts() -> list[tuple[list[Status], float]]:
    """The mixed batch's verdicts from the local backend."""
    with LocalSandbox(workers=2, limits=FAST, cache_size=0, require_isolation=True) as sandbox:
        results = sandbox.run_batch(mixed_batch("local"))
    check_hostile(results)
    return verdicts(results)


@ray_test
def test_same_verdicts_as_local(
    cluster: None, local_verdicts: list[tuple[list[Status], float]]
) -> None:
    with ray_sandbox() as sandbox:
        assert len(sandbox.actors) == 2
        assert {a["isolation"] for a in sandbox.actors} == {"bwrap"}
        batch = mixed_batch("ray")
        results = sandbox.run_batch(batch)
        check_hostile(results)
        assert verdicts(results) == local_verdicts
        assert sandbox.stats["programs"] == len(batch)
        assert sandbox.stats["retries"] == sandbox.stats["actor_restarts"] == 0
        assert sandbox.stats["worker_restarts"] >= 1  # the program that killed its worker


def run_tracked(
    sandbox: Any, requests: list[Any], timeout: float = 60.0
) -> tuple[list[Any], Counter[int]]:
    """Submit ``requests``; return their results and how many times each was resolved."""
    resolved: Counter[int] = Counter()
    futures = [sandbox.submit(r) for r in requests]
    for i, f in enumerate(futures):
        f.add_done_callback(lambda _f, i=i: resolved.update([i]))
    return [f.result(timeout=timeout) for f in futures], resolved


@pytest.mark.slow
@ray_test
def test_actor_killed_mid_batch(
    cluster: None, local_verdicts: list[tuple[list[Status], float]]
) -> None:
    import ray

    with ray_sandbox() as sandbox:
        victim = sandbox._dispatcher.actors[0]
        slow_ones = [slow(i) for i in range(8)]
        batch = slow_ones + mixed_batch("killed")
        out: dict[str, Any] = {}

        def run() -> None:
            out["results"], out["resolved"] = run_tracked(sandbox, batch)

        thread = threading.Thread(target=run)
        thread.start()
        # Kill one actor once the batch is under way (it holds work at that moment).
        deadline = time.monotonic() + 30
        while sandbox.stats["programs"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert victim.outstanding > 0
        ray.kill(victim.handle)
        thread.join(timeout=90)
        assert not thread.is_alive()

        results, resolved = out["results"], out["resolved"]
        assert resolved == Counter(range(len(batch)))  # exactly one result per request
        assert all(r.passed for r in results[: len(slow_ones)])
        assert verdicts(results[len(slow_ones) :]) == local_verdicts
        assert sandbox.stats["actor_restarts"] == 1
        assert sandbox.stats["retries"] >= 1
        assert sandbox.stats["programs"] == len(batch)  # nothing counted twice
        # The replacement joins and the sandbox goes on with two actors.
        deadline = time.monotonic() + 30
        while len(sandbox.actors) < 2 and time.monotonic() < deadline:
            sandbox.run(stdin_request(f"{NORMAL}  # after {time.monotonic()}"))
        assert len(sandbox.actors) == 2
        assert victim.info["pid"] not in {a["pid"] for a in sandbox.actors}


def freeze(sandbox: Any, index: int) -> int:
    pid: int = sandbox.actors[index]["pid"]
    os.kill(pid, signal.SIGSTOP)
    return pid


def thaw(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


@pytest.mark.slow
@ray_test
def test_stuck_actor_work_is_retried_elsewhere(cluster: None) -> None:
    with ray_sandbox(request_timeout_s=2.0) as sandbox:
        pid = freeze(sandbox, 0)
        try:
            batch = [stdin_request(f"{NORMAL}  # stuck {i}", DOUBLES) for i in range(6)]
            start = time.monotonic()
            results, resolved = run_tracked(sandbox, batch, timeout=60)
            took = time.monotonic() - start
            assert [r.passed for r in results] == [True] * len(batch)
            assert resolved == Counter(range(len(batch)))
            assert sandbox.stats["deadline_misses"] >= 1
            assert sandbox.stats["retries"] >= 1
            assert took < 30  # the frozen actor held its work for one deadline, not forever
            # A second deadline without an answer: the actor is killed and replaced.
            deadline = time.monotonic() + 30
            while sandbox.stats["actor_restarts"] < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert sandbox.stats["actor_restarts"] >= 1  # (2 if the other missed one too)
            assert pid not in {a["pid"] for a in sandbox.actors}
            assert sandbox.stats["programs"] == len(batch)
        finally:
            thaw(pid)


@pytest.mark.slow
@ray_test
def test_a_straggler_answer_is_not_counted_twice(cluster: None) -> None:
    with ray_sandbox(request_timeout_s=3.0) as sandbox:
        pid = freeze(sandbox, 0)
        try:
            batch = [stdin_request(f"{NORMAL}  # straggler {i}", DOUBLES) for i in range(4)]
            results, resolved = run_tracked(sandbox, batch, timeout=60)
        finally:
            thaw(pid)  # before its second deadline: it answers, late
        assert [r.passed for r in results] == [True] * len(batch)
        assert resolved == Counter(range(len(batch)))
        deadline = time.monotonic() + 20
        while sandbox.stats["late_results"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox.stats["late_results"] >= 1  # the frozen actor's answers, dropped
        assert sandbox.stats["programs"] == len(batch)
        assert sandbox.stats["actor_restarts"] == 0  # it answered: kept
        assert sandbox.run(stdin_request(f"{NORMAL}  # after the straggler")).passed


@ray_test
def test_gives_up_after_max_attempts(cluster: None) -> None:
    import ray

    with ray_sandbox(actors=1, max_attempts=1, cache_size=100) as sandbox:
        roomy = FAST.model_copy(update={"timeout_s": 4.0, "program_timeout_s": 4.0})
        request = slow(0, seconds=1.5).model_copy(update={"limits": roomy})
        future = sandbox.submit(request)
        time.sleep(0.5)
        ray.kill(sandbox._dispatcher.actors[0].handle)
        result = future.result(timeout=30)
        assert [o.status for o in result.outcomes] == [Status.SANDBOX_ERROR]
        assert "1 attempts" in result.outcomes[0].detail
        # an infrastructure failure is not cached: the same request runs again and passes
        assert sandbox.run(request).passed
        assert sandbox.stats["actor_restarts"] == 1


@ray_test
def test_unplaceable_actors_are_a_clear_error(
    cluster: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cobalt_rl.sandbox import _ray_dispatch

    monkeypatch.setattr(_ray_dispatch, "START_TIMEOUT_S", 2.0)
    with pytest.raises(SandboxError, match="could not place 1 sandbox actors"):
        ray_sandbox(actors=1, workers_per_actor=64)


@ray_test
def test_make_sandbox_builds_a_ray_sandbox(cluster: None) -> None:
    import ray

    from cobalt_rl.sandbox.ray import RaySandbox

    cfg = RaySandboxConfig(ray_actors=1, workers=1, max_in_flight=3, limits=FAST)
    sandbox = make_sandbox(cfg)
    try:
        assert isinstance(sandbox, RaySandbox)
        assert sandbox.limits == FAST
        assert [a["workers"] for a in sandbox.actors] == [1]
        assert sandbox.run(stdin_request(f"{NORMAL}  # factory", DOUBLES)).passed
    finally:
        sandbox.close()
    assert ray.is_initialized()  # the test's cluster: not ours to stop
    with pytest.raises(SandboxError, match="closed"):
        sandbox.run(stdin_request(NORMAL))
