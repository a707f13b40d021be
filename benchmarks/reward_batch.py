"""Reward throughput: one GRPO step's 64 completions scored in one sandbox batch, side by side
with one fresh Python process per completion per test.

The workload is a realistic mix on the bundled training problems: reference solutions
(``metadata["reference_solution"]``) and hand-written wrong ones (``metadata
["wrong_solutions"]``), each in a ```python fence, and a few replies with no code block, every
one scored on the problem's TRUE public + hidden tests with the ``cobalt`` reward and a random
``prev_best_pass_rate``.

(a) ``cobalt`` reward through ``LocalSandbox``: every completion of the call in ONE
    ``run_batch`` (warm workers that fork a child per test, bubblewrap isolation).
    cold = the first call after the sandbox started (workers up, result cache empty);
    warm = a second call with 64 different completions (other problems, and every program
    tagged so no result can come from the cache).
(b) baseline: the same 64 programs of the cold call, one fresh ``subprocess.run([python,
    program])`` per completion per test, no sandbox, as many in parallel as (a) has workers;
    outputs compared on the host with the same grader. Its verdicts must agree with (a)'s.

Run from the repository root::

    .venv/bin/python benchmarks/reward_batch.py [--workers N]

It prints the seconds per call, the milliseconds per completion, and the ratio.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Mode, Problem, TestCase
from cobalt_rl.rewards.scores import get_reward
from cobalt_rl.sandbox import Grading, Limits, LocalSandbox, compare_stdout, compare_value

N = 64
NO_CODE = ["I am not sure how to solve this.", "Let me think about it step by step first."]

# Functional programs need a caller in the baseline: the program, then this harness reading
# one JSON argument per line from stdin and printing the JSON result.
HARNESS = """
import json as _json, sys as _sys
_args = [_json.loads(_l) for _l in _sys.stdin.read().split("\\n") if _l.strip()]
print(_json.dumps({fn}(*_args)))
"""


@dataclass(frozen=True)
class Completion:
    problem: Problem
    reply: str
    code: str | None  # what the baseline runs (None: no code block)


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code.rstrip()}\n```"


def workload(problems: list[Problem], tag: str, rng: random.Random) -> list[Completion]:
    """64 completions: mostly reference solutions, about a third wrong, a few without code."""
    out = []
    for i in range(N):
        p = problems[i % len(problems)]
        if i % 16 == 15:
            out.append(Completion(p, NO_CODE[i % 2], None))
            continue
        wrong = p.metadata.get("wrong_solutions") or []
        use_wrong = i % 3 == 2 and wrong
        code = wrong[i % len(wrong)] if use_wrong else p.metadata["reference_solution"]
        code = f"# {tag} {i}\n{code}"  # distinct programs: no cache hit across calls
        out.append(Completion(p, fenced(code), code))
    rng.shuffle(out)
    return out


def columns(batch: list[Completion], rng: random.Random) -> dict[str, list[Any]]:
    return {
        "tests": [
            [t.model_dump() for t in c.problem.true_public_tests + c.problem.hidden_tests]
            for c in batch
        ],
        "mode": [c.problem.mode.value for c in batch],
        "fn_name": [c.problem.fn_name for c in batch],
        "prev_best_pass_rate": [rng.choice([0.0, 0.25, 0.5, 0.75]) for _ in batch],
    }


# ----------------------------------------------------------------------------- baseline


def _one_test(program: str, problem: Problem, test: TestCase, timeout_s: float) -> bool:
    try:
        proc = subprocess.run(
            [sys.executable, program],
            input=test.input,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return False
    if proc.returncode != 0:
        return False
    if problem.mode is Mode.STDIN:
        return compare_stdout(proc.stdout, test.output, Grading.LIVECODEBENCH)
    return compare_value(proc.stdout.strip(), test.output, Grading.LIVECODEBENCH)


def baseline(batch: list[Completion], workers: int, timeout_s: float) -> list[float | None]:
    """Pass rate of each completion, one fresh interpreter per completion per test."""
    with tempfile.TemporaryDirectory() as tmp:
        jobs: list[tuple[int, str, Problem, TestCase]] = []
        for i, c in enumerate(batch):
            if c.code is None:
                continue
            source = c.code
            if c.problem.mode is Mode.FUNCTIONAL:
                source += HARNESS.format(fn=c.problem.fn_name)
            path = os.path.join(tmp, f"p{i}.py")
            with open(path, "w") as f:
                f.write(source)
            for t in c.problem.true_public_tests + c.problem.hidden_tests:
                jobs.append((i, path, c.problem, t))
        with ThreadPoolExecutor(workers) as pool:
            verdicts = list(pool.map(lambda j: _one_test(j[1], j[2], j[3], timeout_s), jobs))
    passed: dict[int, list[bool]] = {}
    for (i, *_), ok in zip(jobs, verdicts, strict=True):
        passed.setdefault(i, []).append(ok)
    return [sum(passed[i]) / len(passed[i]) if i in passed else None for i in range(len(batch))]


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=None, help="sandbox workers (default: cores)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    problems = load_bundled("train")
    first, second = problems[:N], problems[N:] + problems[: 2 * N - len(problems)]
    cold_batch = workload(first, "cold", rng)
    warm_batch = workload(second, "warm", rng)
    limits = Limits()  # the paper's: 4 s per test

    t0 = time.perf_counter()
    sandbox = LocalSandbox(workers=args.workers, limits=limits)
    started = time.perf_counter() - t0
    try:
        reward = get_reward("cobalt", sandbox)
        calls = {}
        for name, batch in (("cold", cold_batch), ("warm", warm_batch)):
            cols = columns(batch, rng)
            t = time.perf_counter()
            scores = reward([c.reply for c in batch], **cols)
            calls[name] = (time.perf_counter() - t, reward.last_exec_seconds, scores)
        stats = dict(sandbox.stats)
        # The pass rates (a) saw, to check the baseline against.
        from cobalt_rl.sandbox import ExecRequest

        sandbox_rates = [
            None
            if c.code is None
            else sandbox.run(ExecRequest.for_problem(c.problem, c.code)).pass_rate  # cached
            for c in cold_batch
        ]
    finally:
        sandbox.close()
    workers = sandbox.num_workers

    t = time.perf_counter()
    base_rates = baseline(cold_batch, workers, limits.timeout_s)
    base_s = time.perf_counter() - t

    tests = sum(
        len(c.problem.true_public_tests + c.problem.hidden_tests)
        for c in cold_batch
        if c.code is not None
    )
    kinds = {
        "reference": sum(
            c.code is not None and c.problem.metadata["reference_solution"] in c.code
            for c in cold_batch
        ),
        "no code": sum(c.code is None for c in cold_batch),
    }
    kinds["wrong"] = N - kinds["reference"] - kinds["no code"]
    print(
        f"workload: {N} completions per call on bundled train problems: "
        + ", ".join(f"{n} {k}" for k, n in kinds.items())
        + f"; {tests} test runs in the cold call"
    )
    print(
        f"sandbox: {workers} workers, {sandbox.isolation.value} isolation, "
        f"started in {started:.2f} s; programs run {stats['programs']}, "
        f"cache hits {stats['cache_hits']}"
    )
    print()
    print("| scoring 64 completions | seconds | ms / completion | of which execution (s) |")
    print("|---|---|---|---|")
    for name, (secs, exec_s, _) in calls.items():
        print(
            f"| (a) cobalt reward, one sandbox batch, {name} | {secs:.3f} | "
            f"{1000 * secs / N:.1f} | {exec_s:.3f} |"
        )
    print(
        f"| (b) fresh `python` per completion per test, no sandbox | {base_s:.3f} | "
        f"{1000 * base_s / N:.1f} | {base_s:.3f} |"
    )
    cold_s, warm_s = calls["cold"][0], calls["warm"][0]
    print()
    print(f"baseline / cold = {base_s / cold_s:.1f}x, baseline / warm = {base_s / warm_s:.1f}x")

    disagree = [
        (c.problem.id, a, b)
        for c, a, b in zip(cold_batch, sandbox_rates, base_rates, strict=True)
        if a != b
    ]
    print(f"pass rates agree between (a) and (b): {N - len(disagree)}/{N}")
    for pid, a, b in disagree[:10]:
        print(f"  {pid}: sandbox {a}, baseline {b}")
    scores = calls["cold"][2]
    by_kind: dict[str, list[float]] = {}
    for c, s in zip(cold_batch, scores, strict=True):
        kind = (
            "no code"
            if c.code is None
            else ("reference" if c.problem.metadata["reference_solution"] in c.code else "wrong")
        )
        by_kind.setdefault(kind, []).append(s)
    print(
        "cold-call rewards by kind: "
        + json.dumps({k: [min(v), round(sum(v) / len(v), 3), max(v)] for k, v in by_kind.items()})
        + "  (min, mean, max)"
    )


if __name__ == "__main__":
    main()
