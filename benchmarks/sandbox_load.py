"""Sandbox service under load, and under a fault: throughput, latency, errors, and whether every
verdict matches the local backend's.

Setup: ``--services`` (default 2) ``cobalt sandbox serve`` processes on loopback, each with
``--workers`` (default 1) sandbox workers, token auth on, their result cache off; programs are
made unique anyway (a comment with a counter), so every one really runs.

Workload: the bundled problems' reference solutions (pass) and known-wrong solutions (fail),
every public and hidden test, on a random sample of ``--problems`` problems, plus hostile
programs: an infinite loop, a fork bomb, a memory bomb, one that kills its sandbox worker and
one that floods stdout. Their expected verdicts come first from a ``LocalSandbox`` in this
process (the reference), timed on its own.

Phases, each bounded by ``--seconds`` and ``--max-batches``:

0. local (for comparison): the same clients call one in-process ``LocalSandbox`` with as many
   workers as all services together, no HTTP;
1. load: ``--clients`` threads, each with its own ``HttpSandbox`` over all services, send
   batches of ``--batch`` programs drawn at random from the workload (hostile ones at rate
   ``--hostile``), one after another;
2. fault: the same, and a third of the way in one service process is killed (SIGKILL, its
   workers with it); at two thirds it is started again on the same port. Every batch must
   still come back whole, with every verdict equal to the local one.

Prints, per phase: batches, programs, tests, programs/s and tests/s, p50/p99 latency of a
batch, errors (batches that raised), chunk retries, and ``verdicts match local: N/N``.

Run from the repository root (needs bubblewrap for the hostile programs to be contained)::

    .venv/bin/python benchmarks/sandbox_load.py                 # ~1.5-2 minutes on 2 cores
    .venv/bin/python benchmarks/sandbox_load.py --clients 16 --seconds 60 --workers 2
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from cobalt_rl.records import ExecResult, Problem, Status, read_jsonl
from cobalt_rl.sandbox import ExecRequest, Limits, LocalSandbox, Sandbox
from cobalt_rl.sandbox.http import HttpSandbox

BUNDLED = Path(__file__).resolve().parents[1] / "src" / "cobalt_rl" / "problems" / "bundled"
LIMITS = Limits(timeout_s=2.0, program_timeout_s=20.0, memory_mb=256)
TOKEN = "load-benchmark-token"

HOSTILE = {
    "infinite loop": "while True:\n    pass\n",
    "fork bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
    "        pass\n",
    "memory bomb": "x = []\nwhile True:\n    x.append(b'x' * (16 << 20))\n",
    "kills its worker": "import os\nos.kill(os.getppid(), 9)\n",
    "floods stdout": "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
}


@dataclass
class Program:
    name: str
    request: ExecRequest
    hostile: bool
    expected: list[Status] = field(default_factory=list)


def workload(problems: int, seed: int) -> list[Program]:
    rows: list[Problem] = []
    for split in ("train", "validation", "test"):
        path = BUNDLED / f"{split}.jsonl"
        if path.exists():
            rows += list(read_jsonl(path, Problem))
    if not rows:
        sys.exit(f"no bundled problems under {BUNDLED}")
    rng = random.Random(seed)
    chosen = rng.sample(rows, min(problems, len(rows))) if problems else rows
    programs = []
    for p in chosen:
        meta = p.metadata
        if meta.get("reference_solution"):
            req = ExecRequest.for_problem(p, meta["reference_solution"], "all")
            programs.append(Program(f"{p.id} reference", req, False))
        for k, wrong in enumerate(meta.get("wrong_solutions", [])):
            req = ExecRequest.for_problem(p, wrong, "all")
            programs.append(Program(f"{p.id} wrong {k}", req, False))
    stdin_problem = next(p for p in rows if p.mode.value == "stdin")
    for name, code in HOSTILE.items():
        req = ExecRequest.for_problem(stdin_problem, code, "public")
        programs.append(Program(name, req, True))
    return programs


def unique(program: Program, n: int) -> ExecRequest:
    return program.request.model_copy(update={"code": f"{program.request.code}\n# {n}\n"})


def statuses(result: ExecResult) -> list[Status]:
    return [o.status for o in result.outcomes]


def reference_verdicts(programs: list[Program], workers: int) -> float:
    """Fill ``expected`` from a LocalSandbox; return its programs/s on the workload."""
    with LocalSandbox(workers=workers, limits=LIMITS, cache_size=0) as local:
        start = time.perf_counter()
        results = local.run_batch([p.request for p in programs])
        elapsed = time.perf_counter() - start
    for program, result in zip(programs, results, strict=True):
        program.expected = statuses(result)
    return len(programs) / elapsed


# ------------------------------------------------------------------------- services


class Service:
    """One ``cobalt sandbox serve`` process."""

    def __init__(self, workers: int, token_file: Path, port: int = 0):
        self.workers, self.token_file = workers, token_file
        argv = [sys.executable, "-m", "cobalt_rl.cli.main", "sandbox", "serve"]
        argv += ["--port", str(port), "--workers", str(workers), "--token-file", str(token_file)]
        argv += ["--cache-size", "0", "--limits-timeout-s", str(LIMITS.timeout_s)]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            argv, stderr=subprocess.PIPE, stdout=self.log, start_new_session=True
        )
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline().decode()
            if "serving on " in line:
                self.url = line.split("serving on ")[1].strip()
                self.port = int(self.url.rsplit(":", 1)[1])
                threading.Thread(target=self._drain_log, daemon=True).start()
                return
            if not line and self.proc.poll() is not None:
                break
        self.kill()
        sys.exit(f"cobalt sandbox serve did not start (exit {self.proc.poll()})")

    def _drain_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.write(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        """SIGTERM (a graceful drain); the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9


# ----------------------------------------------------------------------------- load


@dataclass
class Tally:
    batches: int = 0
    programs: int = 0
    tests: int = 0
    matched: int = 0
    requested: int = 0
    errors: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_loop(
    make_client: Callable[[], AbstractContextManager[Sandbox]],
    programs: list[Program],
    args: argparse.Namespace,
    seed: int,
    stop_at: float,
    counter: list[int],
    tally: Tally,
) -> None:
    rng = random.Random(seed)
    normal = [p for p in programs if not p.hostile]
    hostile = [p for p in programs if p.hostile]
    with make_client() as client:
        while time.monotonic() < stop_at:
            with tally.lock:
                if counter[0] >= args.max_batches:
                    break
                counter[0] += 1
                n = counter[0]
            chosen = [
                rng.choice(hostile if rng.random() < args.hostile else normal)
                for _ in range(args.batch)
            ]
            requests = [unique(p, n * args.batch + k) for k, p in enumerate(chosen)]
            with tally.lock:
                tally.requested += len(requests)
            start = time.perf_counter()
            try:
                results = client.run_batch(requests)
            except Exception as e:  # counted and shown: a benchmark reports, it does not stop
                with tally.lock:
                    tally.errors += 1
                    tally.mismatches.append(f"batch {n} raised {type(e).__name__}: {e}")
                continue
            elapsed = time.perf_counter() - start
            with tally.lock:
                tally.batches += 1
                tally.latencies.append(elapsed)
                if len(results) != len(requests):
                    tally.mismatches.append(
                        f"batch {n}: {len(results)} results for {len(requests)}"
                    )
                for program, result in zip(chosen, results, strict=False):
                    tally.programs += 1
                    tally.tests += len(result.outcomes)
                    if statuses(result) == program.expected:
                        tally.matched += 1
                    else:
                        tally.mismatches.append(
                            f"{program.name}: local {[s.value for s in program.expected]}, "
                            f"http {[s.value for s in statuses(result)]}"
                        )
        with tally.lock:
            tally.retries += client.stats.get("retries", 0)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run_phase(
    name: str,
    services: list[Service],
    programs: list[Program],
    args: argparse.Namespace,
    fault: bool = False,
    local: LocalSandbox | None = None,
) -> Tally:
    """One phase of load: over HTTP to ``services``, or straight to ``local`` (the same
    clients calling one in-process pool, for comparison)."""
    tally, counter = Tally(), [0]
    urls = [s.url for s in services]

    def make_client() -> AbstractContextManager[Sandbox]:
        if local is not None:
            return nullcontext(local)
        return HttpSandbox(urls, token=TOKEN, limits=LIMITS)

    start = time.monotonic()
    stop_at = start + args.seconds
    events: list[str] = []

    def inject() -> None:
        time.sleep(args.seconds / 3)
        victim = services[0]
        victim.kill()
        events.append(f"killed service 0 ({victim.url}) at {time.monotonic() - start:.1f} s")
        time.sleep(args.seconds / 3)
        services[0] = Service(victim.workers, victim.token_file, port=victim.port)
        events.append(f"restarted it on the same port at {time.monotonic() - start:.1f} s")

    injector = threading.Thread(target=inject, daemon=True) if fault else None
    threads = [
        threading.Thread(
            target=client_loop,
            args=(make_client, programs, args, args.seed * 1000 + i, stop_at, counter, tally),
        )
        for i in range(args.clients)
    ]
    for t in threads:
        t.start()
    if injector is not None:
        injector.start()
    for t in threads:
        t.join()
    if injector is not None:
        injector.join()
    wall = time.monotonic() - start

    where = (
        f"one in-process LocalSandbox, {local.num_workers} workers"
        if local is not None
        else f"{len(services)} services x {args.workers} workers over HTTP"
    )
    print(f"\n== {name}: {args.clients} clients, batches of {args.batch}, {where}")
    for event in events:
        print(f"  fault: {event}")
    print(
        f"  batches: {tally.batches}   programs: {tally.programs}   tests: {tally.tests}   "
        f"wall: {wall:.1f} s"
    )
    print(f"  throughput: {tally.programs / wall:.1f} programs/s, {tally.tests / wall:.1f} tests/s")
    print(
        f"  latency per batch: p50 {percentile(tally.latencies, 50):.2f} s, "
        f"p99 {percentile(tally.latencies, 99):.2f} s, "
        f"mean {statistics.fmean(tally.latencies) if tally.latencies else float('nan'):.2f} s"
    )
    print(f"  errors: {tally.errors}   chunk retries: {tally.retries}")
    print(f"  results: {tally.programs} returned for {tally.requested} requested")
    print(f"  verdicts match local: {tally.matched}/{tally.programs}")
    for line in tally.mismatches[:10]:
        print(f"    {line}")
    return tally


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=2, help="service processes (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="workers per service (default 1)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--batch", type=int, default=4, help="programs per batch (default 4)")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase (default 20)")
    parser.add_argument("--max-batches", type=int, default=2000, help="per phase (default 2000)")
    parser.add_argument("--hostile", type=float, default=0.1, help="hostile share (default 0.1)")
    parser.add_argument("--problems", type=int, default=40, help="bundled problems (0: all)")
    parser.add_argument("--no-fault", action="store_true", help="skip the fault phase")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    # fail-over is counted in the figures; one warning per retried chunk would drown them
    logging.getLogger("cobalt_rl.sandbox.http").setLevel(logging.ERROR)

    programs = workload(args.problems, args.seed)
    hostile = sum(p.hostile for p in programs)
    print(
        f"workload: {len(programs)} programs ({hostile} hostile), "
        f"{sum(len(p.request.tests) for p in programs)} tests; limits: "
        f"{LIMITS.timeout_s:g} s a test, {LIMITS.memory_mb} MiB"
    )
    rate = reference_verdicts(programs, args.services * args.workers)
    kinds = Counter(
        "passes"
        if all(x is Status.PASSED for x in p.expected)
        else "times out"
        if Status.TIMEOUT in p.expected
        else "fails"
        for p in programs
    )
    print("expected (local): " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    print(
        f"reference: LocalSandbox in process, {args.services * args.workers} workers: "
        f"{rate:.1f} programs/s on the workload once"
    )

    with tempfile.TemporaryDirectory() as tmp:
        token_file = Path(tmp) / "token"
        token_file.write_text(TOKEN)
        services = [Service(args.workers, token_file) for _ in range(args.services)]
        try:
            with LocalSandbox(
                workers=args.services * args.workers, limits=LIMITS, cache_size=0
            ) as pool:
                tallies = [run_phase("local (no HTTP)", [], programs, args, local=pool)]
            tallies.append(run_phase("load", services, programs, args))
            if not args.no_fault and args.services >= 2:
                tallies.append(run_phase("fault", services, programs, args, fault=True))
            elif not args.no_fault:
                print("\n(fault phase skipped: it needs --services 2 or more)")
        finally:
            codes = [s.stop() for s in services]
        print(f"\nservices drained on SIGTERM, exit statuses: {codes}")
    ok = all(t.errors == 0 and t.matched == t.programs for t in tallies)
    print("RESULT: " + ("every batch answered, every verdict equal to local" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
