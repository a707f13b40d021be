"""What programs that time out cost a training step, and what stopping them early would change.

The cobalt reward scores a program's pass rate over all of a context's tests, so every test
runs; a program that hangs pays the per-test limit (4 s) on each test, up to the program's
budget (30 s). This runs every program of a rollout file on all of its problem's tests
(public + hidden, the reward's tests) in the sandbox, and reports, side by side:

- the sandbox seconds of all programs, and of those with at least one timeout;
- what stopping a program's remaining tests at its first timeout would save (the seconds
  after it) and change (the tests after it that passed, and the pass rates that move);
- the same batch run again with ``stop_after_timeout`` (what the cobalt-rl profile's
  training reward does), its wall clock beside the first's.

    .venv/bin/python benchmarks/timeout_cost.py TRAJECTORIES.jsonl PROBLEMS.jsonl

A rollout to read, e.g. the embedded model on the bundled training problems:

    .venv/bin/cobalt rollout --problems train.jsonl --out rollout.jsonl --samples 4 \\
        --turns 1 --max-new-tokens 448 --seed 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import closing
from pathlib import Path

from cobalt_rl.problems import load_problems
from cobalt_rl.records import Status, Trajectory, read_jsonl
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.factory import default_sandbox_config, make_sandbox


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trajectories", type=Path)
    ap.add_argument("problems", type=Path)
    args = ap.parse_args()
    problems = {p.id: p for p in load_problems(args.problems)}
    requests = []
    for trajectory in read_jsonl(args.trajectories, Trajectory):
        problem = problems[trajectory.problem_id]
        for attempt in trajectory.attempts:
            if attempt.code is None:
                continue
            requests.append(
                ExecRequest(
                    code=attempt.code,
                    tests=problem.public_tests + problem.hidden_tests,
                    mode=problem.mode,
                    fn_name=problem.fn_name,
                )
            )
    config = default_sandbox_config().model_copy(update={"cache_size": 0})
    with closing(make_sandbox(config)) as sandbox:
        started = time.perf_counter()
        results = sandbox.run_batch(requests)
        wall = time.perf_counter() - started
        stopping = [r.model_copy(update={"stop_after_timeout": True}) for r in requests]
        started = time.perf_counter()
        stopped = sandbox.run_batch(stopping)
        stopped_wall = time.perf_counter() - started
    differ = sum(a.pass_rate != b.pass_rate for a, b in zip(results, stopped, strict=True))

    seconds = [sum(o.seconds for o in r.outcomes) for r in results]
    hung = [i for i, r in enumerate(results) if any(o.status is Status.TIMEOUT for o in r.outcomes)]
    saved = 0.0
    lost_passes = 0
    moved: list[float] = []
    passed_elsewhere = 0
    for i in hung:
        outcomes = results[i].outcomes
        first = next(k for k, o in enumerate(outcomes) if o.status is Status.TIMEOUT)
        after = outcomes[first + 1 :]
        saved += sum(o.seconds for o in after)
        lost = sum(o.status is Status.PASSED for o in after)
        lost_passes += lost
        passed_elsewhere += any(o.status is Status.PASSED for o in outcomes)
        if lost:
            moved.append(lost / len(outcomes))
    total = sum(seconds)
    print(f"programs: {len(results)} ({len(problems)} problems)")
    print(
        f"sandbox wall, every test: {wall:.1f} s; stop_after_timeout: {stopped_wall:.1f} s "
        f"({wall / max(stopped_wall, 1e-9):.2f}x); programs whose pass rate differs: {differ}"
    )
    print(f"test seconds, all programs: {total:.0f} s")
    share = sum(seconds[i] for i in hung) / total if total else 0.0
    print(
        f"programs with a timeout: {len(hung)} ({len(hung) / max(1, len(results)):.1%}), "
        f"{sum(seconds[i] for i in hung):.0f} s ({share:.0%} of the test seconds)"
    )
    print(
        f"stop at the first timeout: saves {saved:.0f} s ({saved / max(total, 1e-9):.0%} of the "
        f"test seconds); loses {lost_passes} passed tests in {len(moved)} programs "
        f"(pass rate down by {statistics.fmean(moved) if moved else 0:.3f} on average there); "
        f"{passed_elsewhere} of the {len(hung)} programs with a timeout passed some test"
    )


if __name__ == "__main__":
    main()
