"""The Ray sandbox backend under faults: actors die mid-load, nothing is lost or counted twice.

One load of a few hundred programs (the bundled problems' reference solutions and their
known-wrong solutions on every public and hidden test, plus hostile programs: infinite loops,
fork bombs, programs that kill their own worker, memory bombs) runs three times, side by side:

(a) ``LocalSandbox`` on this machine: the reference verdicts;
(b) ``RaySandbox`` without faults;
(c) ``RaySandbox`` again (fresh programs: a comment differs, so nothing is cached) while the
    benchmark kills one actor's process with SIGKILL (a crash) after a quarter of the load,
    another actor with ``ray.kill`` after half, and freezes a third one (SIGSTOP: it stops
    answering, as a hung node would) after three quarters; with ``--address`` (actors on
    other machines) two actors are killed with ``ray.kill`` instead.

It prints each run's throughput, the Ray runs' retries, deadline misses and actor restarts,
and for each Ray run: how many requests got the local verdict (status of every test and pass
rate), how many got no result (lost: no answer, or a ``sandbox_error``) and how many were
answered more than once (duplicated).

Run from the repository root (needs bubblewrap and ``pip install 'cobalt-rl[ray]'``)::

    .venv/bin/python benchmarks/sandbox_ray_fault.py                 # ~1 minute on 2 cores
    .venv/bin/python benchmarks/sandbox_ray_fault.py --actors 4 --workers-per-actor 2
    .venv/bin/python benchmarks/sandbox_ray_fault.py --address ray://head:10001

Without ``--address`` it starts a local Ray cluster (and stops it at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from cobalt_rl.records import ExecResult, Problem, Status, read_jsonl
from cobalt_rl.sandbox import ExecRequest, Limits, LocalSandbox

BUNDLED = Path(__file__).resolve().parents[1] / "src" / "cobalt_rl" / "problems" / "bundled"
LIMITS = Limits(timeout_s=1.0, program_timeout_s=10.0, memory_mb=256)
# Time enough to touch all the memory allowed on a loaded machine: MEMORY, not TIMEOUT.
ROOMY = LIMITS.model_copy(update={"timeout_s": 5.0, "program_timeout_s": 5.0})

HOSTILE = {
    "infinite loop": ("while True:\n    pass\n", Status.TIMEOUT, None),
    "fork bomb": (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        Status.TIMEOUT,
        None,
    ),
    "kills its worker": ("import os\nos.kill(os.getppid(), 9)\n", Status.RUNTIME_ERROR, None),
    "memory bomb": (
        "x = []\nwhile True:\n    x.append(b'x' * (16 << 20))\n",
        Status.MEMORY,
        ROOMY,
    ),
}


def workload(programs: int, hostile_each: int, seed: int) -> list[tuple[Problem, str, int]]:
    """(problem, code, kind) triples; kind: 0 reference, 1 known-wrong, 2 hostile."""
    problems = [
        p
        for split in ("train", "validation", "test")
        for p in read_jsonl(BUNDLED / f"{split}.jsonl", Problem)
    ]
    items: list[tuple[Problem, str, int]] = []
    for p in problems:
        items.append((p, p.metadata["reference_solution"], 0))
        items += [(p, code, 1) for code in p.metadata.get("wrong_solutions", [])]
    random.Random(seed).shuffle(items)
    items = items[: max(0, programs - hostile_each * len(HOSTILE))]
    stdin_problem = next(p for p in problems if p.mode.value == "stdin")
    for copy in range(hostile_each):
        items += [(stdin_problem, f"{code}# copy {copy}\n", 2) for code, _, _ in HOSTILE.values()]
    random.Random(seed + 1).shuffle(items)
    return items


def hostile_kind(code: str) -> tuple[Status, Limits | None]:
    """The status a hostile program must get, and its limits."""
    return next((s, lim) for c, s, lim in HOSTILE.values() if code.startswith(c))


def requests_for(items: list[tuple[Problem, str, int]], tag: str) -> list[ExecRequest]:
    """Every test of the problem; a hostile program gets one test (each would time out)."""
    out = []
    for problem, code, kind in items:
        tagged = f"{code}\n# {tag}\n"
        if kind == 2:
            request = ExecRequest.for_problem(problem, tagged, "public")
            limits = hostile_kind(code)[1]
            out.append(request.model_copy(update={"tests": request.tests[:1], "limits": limits}))
        else:
            out.append(ExecRequest.for_problem(problem, tagged, "all"))
    return out


def verdict(result: ExecResult) -> tuple[tuple[Status, ...], float]:
    return tuple(o.status for o in result.outcomes), result.pass_rate


def run_load(
    sandbox: object, requests: list[ExecRequest], at: dict[float, Callable[[], None]]
) -> tuple[list[ExecResult | None], Counter[int], float]:
    """Submit every request; call ``at[f]()`` once a fraction ``f`` of them is answered.
    Returns the results (None: no answer), how many times each was answered, seconds."""
    resolved: Counter[int] = Counter()
    lock = threading.Lock()
    triggers = sorted(at.items())
    fired: list[threading.Thread] = []

    def done(i: int) -> None:
        with lock:
            resolved[i] += 1
            answered = len(resolved)
            while triggers and answered >= triggers[0][0] * len(requests):
                _, action = triggers.pop(0)
                t = threading.Thread(target=action)  # not on the dispatcher's thread
                t.start()
                fired.append(t)

    start = time.perf_counter()
    futures = [sandbox.submit(r) for r in requests]  # type: ignore[attr-defined]
    for i, f in enumerate(futures):
        f.add_done_callback(lambda _f, i=i: done(i))
    results: list[ExecResult | None] = []
    for f in futures:
        try:
            results.append(f.result(timeout=600))
        except Exception as e:  # counted as lost below
            print(f"  a request failed: {e!r}")
            results.append(None)
    seconds = time.perf_counter() - start
    for t in fired:
        t.join()
    return results, resolved, seconds


def report(
    label: str,
    results: list[ExecResult | None],
    resolved: Counter[int],
    reference: list[tuple[tuple[Status, ...], float]],
) -> bool:
    n = len(results)
    lost = sum(
        r is None or any(o.status is Status.SANDBOX_ERROR for o in r.outcomes) for r in results
    )
    duplicated = sum(c > 1 for c in resolved.values())
    match = sum(r is not None and verdict(r) == v for r, v in zip(results, reference, strict=True))
    print(f"{label}: verdicts match local: {match}/{n}, lost {lost}, duplicated {duplicated}")
    return match == n and lost == 0 and duplicated == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--programs", type=int, default=400, help="programs in the load")
    ap.add_argument("--hostile-each", type=int, default=3, help="copies of each hostile program")
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--workers-per-actor", type=int, default=1)
    ap.add_argument("--address", default=None, help="Ray cluster (default: start a local one)")
    ap.add_argument(
        "--request-timeout",
        type=float,
        default=5.0,
        help="seconds a request may take before it is retried elsewhere (0: the backend's "
        "default, 2 x program_timeout_s + 15 s = 35 s here)",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from cobalt_rl.sandbox.ray import RaySandbox

    items = workload(args.programs, args.hostile_each, args.seed)
    kinds = Counter(kind for _, _, kind in items)
    local_requests = requests_for(items, "local")
    tests = sum(len(r.tests) for r in local_requests)
    workers = args.actors * args.workers_per_actor
    print(
        f"load: {len(items)} programs ({kinds[0]} reference, {kinds[1]} known-wrong, "
        f"{kinds[2]} hostile), {tests} tests; {workers} workers in each backend"
    )

    with LocalSandbox(workers=workers, limits=LIMITS, cache_size=0) as local:
        start = time.perf_counter()
        local_results = local.run_batch(local_requests)
        local_s = time.perf_counter() - start
    reference = [verdict(r) for r in local_results]
    hostile_ok = all(
        verdict(r)[0] == (hostile_kind(item[1])[0],)
        for r, item in zip(local_results, items, strict=True)
        if item[2] == 2
    )
    print(f"(a) local:           {tests / local_s:7.1f} tests/s ({local_s:.1f} s)")
    print(f"    hostile programs got their statuses: {hostile_ok}")

    start = time.perf_counter()
    sandbox = RaySandbox(
        actors=args.actors,
        workers_per_actor=args.workers_per_actor,
        limits=LIMITS,
        address=args.address,
        request_timeout_s=args.request_timeout or None,
        cache_size=0,
    )
    print(f"    ray: {len(sandbox.actors)} actors ready in {time.perf_counter() - start:.1f} s")
    ok = True
    frozen: list[int] = []
    try:
        results, resolved, clean_s = run_load(sandbox, requests_for(items, "clean"), {})
        print(f"(b) ray, no faults:  {tests / clean_s:7.1f} tests/s ({clean_s:.1f} s)")
        clean_stats = dict(sandbox.stats)
        ok &= report("    (b)", results, resolved, reference)

        import ray

        def crash() -> None:
            pid = sandbox.actors[0]["pid"]
            print(f"    ... SIGKILL to actor process {pid}")
            os.kill(pid, signal.SIGKILL)  # a local cluster: the actor runs on this machine

        def ray_kill() -> None:
            actor = sandbox._dispatcher.actors[-1]
            print(f"    ... ray.kill of actor {actor.info['pid']}")
            ray.kill(actor.handle)

        def freeze() -> None:
            pid = sandbox.actors[0]["pid"]
            print(f"    ... SIGSTOP to actor process {pid} (it stops answering)")
            os.kill(pid, signal.SIGSTOP)
            frozen.append(pid)

        if args.address is None:  # the actors run on this machine
            faults = {1 / 4: crash, 1 / 2: ray_kill, 3 / 4: freeze}
        else:
            faults = {1 / 3: ray_kill, 2 / 3: ray_kill}
        results, resolved, fault_s = run_load(sandbox, requests_for(items, "faults"), faults)
        delta = {k: sandbox.stats[k] - clean_stats[k] for k in sandbox.stats}
        print(f"(c) ray with faults: {tests / fault_s:7.1f} tests/s ({fault_s:.1f} s)")
        print(
            f"    retries {delta['retries']}, actor restarts {delta['actor_restarts']}, "
            f"deadline misses {delta['deadline_misses']}, late results dropped "
            f"{delta['late_results']}, programs counted {delta['programs']} of {len(items)}"
        )
        ok &= report("    (c)", results, resolved, reference)
        ok &= delta["programs"] == len(items)
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        sandbox.close()
    print("PASS" if ok and hostile_ok else "FAIL")
    return 0 if ok and hostile_ok else 1


if __name__ == "__main__":
    sys.exit(main())
