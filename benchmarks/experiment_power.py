"""What the learning experiment can resolve: the paired bootstrap's interval on repair@1.

Simulates the experiment's evaluation of scripted failures (the held-out bundled problems'
known-wrong programs, ``cobalt_rl.contexts.replay_reference.scripted_failures``): a base model
that repairs a failure with probability ``--base`` and a method that does with ``--method``,
each failure repaired ``k`` times; every simulated run is compared as the experiment compares
models, paired by problem with ``cobalt_rl.evaluate.experiment.paired_bootstrap``. Prints, side
by side for several k, the mean 95% half-width and the share of runs whose interval excludes 0.

    .venv/bin/python benchmarks/experiment_power.py --runs 200
"""

from __future__ import annotations

import argparse
import random
import statistics

from cobalt_rl.evaluate.experiment import paired_bootstrap
from cobalt_rl.problems.bundled import load_bundled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=float, default=0.05, help="base repair@1")
    parser.add_argument("--method", type=float, default=0.10, help="a method's repair@1")
    parser.add_argument("--runs", type=int, default=200, help="simulated experiments per k")
    parser.add_argument("--samples", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    failures = {
        p.id: len(p.metadata["wrong_solutions"])
        for p in load_bundled("test")
        if p.metadata.get("wrong_solutions")
    }
    print(f"{len(failures)} held-out problems, {sum(failures.values())} scripted failures")
    print(f"base repair@1 {args.base:.2f}, method {args.method:.2f}, {args.runs} runs each")
    print("| repairs per failure | mean 95% half-width | runs excluding 0 |")
    print("|---|---|---|")
    for k in args.samples:
        rng = random.Random(k)
        widths, excluded = [], 0
        for run in range(args.runs):
            base, method = {}, {}
            for problem, count in failures.items():
                n = count * k
                base[problem] = sum(rng.random() < args.base for _ in range(n)) / n
                method[problem] = sum(rng.random() < args.method for _ in range(n)) / n
            result = paired_bootstrap(base, method, iterations=600, seed=run)
            widths.append((result.high - result.low) / 2)
            excluded += result.low > 0
        print(f"| {k} | {statistics.fmean(widths):.3f} | {excluded / args.runs:.0%} |")


if __name__ == "__main__":
    main()
