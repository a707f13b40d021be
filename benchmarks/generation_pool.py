"""Reply tokens/s in a rollout and an evaluation: the generator of a given earlier commit
against this checkout's, side by side in one run, on the embedded model.

Each setting runs the real rollout loop (`run_rollout`: bundled problems, every attempt
executed on its public tests in the sandbox, feedback turns) once per side, each side in its
own process importing cobalt_rl from its own source tree (``git worktree`` of ``--before``):

- **before** (default: commit 15eec40, before the refilled batch): that commit's generator
  and defaults: rows cut into batches of 16, each decoded in 64-token segments by
  transformers' ``generate`` until its last reply ends; problems in groups of ``--old-group``
  (the demo's 5).
- **after**: this checkout: one batch of at most ``--batch`` rows (64) refilled as replies
  end, decoded by our own loop (in-place KV cache, inverse-CDF sampler); problems in one
  group (all first turns of a stage in one call).

Both stop replies at the end of their program (the cobalt-rl profile's default) unless
``--no-stop``, with the same seed. Reported: reply tokens, wall seconds, tokens/s and the
ratio; and the decode's achieved matrix FLOP/s (2 x the model's matrix parameters x reply
tokens / generation seconds; prefill and attention left out) against this machine's bf16
matrix-product peak on the model's shapes at ``--batch`` rows (a decode step's) and at 4096
rows (training's).

    .venv/bin/python benchmarks/generation_pool.py
    .venv/bin/python benchmarks/generation_pool.py --settings first-turns --problems 16 \
        --max-new-tokens 256        # the decode loop alone, 64 rows on both sides
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from train_step import MATMUL_PARAMS, matmul_peak

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    # the demo's rollout and evaluation sections
    "rollout": {"split": "train", "samples": 4, "turns": 2, "temperature": 0.8},
    "evaluation": {"split": "test", "samples": 2, "turns": 3, "temperature": 0.7},
    # first turns only, both sides with --batch rows and all problems in one call: the
    # decode loop alone (no refill to gain: every row starts at once)
    "first-turns": {"split": "train", "samples": 4, "turns": 1, "temperature": 0.8},
}


class Timed:
    """A generator wrapper adding up the seconds spent generating."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.seconds = inner, 0.0

    def generate(self, conversations: Any, n: int, sampling: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.generate(conversations, n, sampling)
        finally:
            self.seconds += time.perf_counter() - started


def child(args: argparse.Namespace) -> None:
    """One side of one setting, in this process (cobalt_rl from PYTHONPATH); prints JSON."""
    from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
    from cobalt_rl.episode.rollout import run_rollout
    from cobalt_rl.llm import EmbeddedGeneratorConfig, SamplingParams, make_generator
    from cobalt_rl.problems.bundled import load_bundled
    from cobalt_rl.sandbox import LocalSandbox

    spec = SETTINGS[args.child]
    problems = load_bundled(str(spec["split"]))[: args.problems]
    after = args.side == "after"
    same_batch = args.child == "first-turns"
    # before: that commit's default batch, except where both sides take --batch
    options = {"batch_size": args.batch} if after or same_batch else {}
    generator = make_generator(EmbeddedGeneratorConfig(**options))
    timed = Timed(generator)
    config = RolloutConfig(
        episode=EpisodeConfig(turns=int(spec["turns"])),
        sampling=SamplingParams(
            temperature=float(spec["temperature"]),
            max_new_tokens=args.max_new_tokens,
            seed=args.seed,
            stop_at_program_end=not args.no_stop,
        ),
        samples=int(spec["samples"]),
        group_size=len(problems) if after or same_batch else args.old_group,
    )
    sandbox = LocalSandbox(workers=2)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            progress = run_rollout(problems, timed, sandbox, str(Path(tmp) / "t.jsonl"), config)
            wall = time.perf_counter() - started
    finally:
        sandbox.close()
        generator.close()
    print(
        json.dumps(
            {
                "tokens": progress.tokens,
                "wall": wall,
                "generation": timed.seconds,
                "passes": progress.public_passes,
                "attempts": progress.attempts,
            }
        )
    )


def source_tree(ref: str) -> Path:
    """A worktree of ``ref`` (made once, under the system's temporary directory)."""
    tree = Path(tempfile.gettempdir()) / f"cobalt-rl-bench-{ref}"
    if not (tree / "src" / "cobalt_rl").is_dir():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), ref],
            check=True,
            capture_output=True,
        )
    return tree / "src"


def side(args: argparse.Namespace, setting: str, name: str, src: Path) -> dict[str, float]:
    argv = [sys.executable, __file__, "--child", setting, "--side", name]
    argv += ["--problems", str(args.problems), "--max-new-tokens", str(args.max_new_tokens)]
    argv += ["--batch", str(args.batch), "--old-group", str(args.old_group)]
    argv += ["--seed", str(args.seed)] + (["--no-stop"] if args.no_stop else [])
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=10, help="problems per setting (10)")
    parser.add_argument("--max-new-tokens", type=int, default=448, help="reply cap (448)")
    parser.add_argument("--batch", type=int, default=64, help="rows in flight, after (64)")
    parser.add_argument("--old-group", type=int, default=5, help="problems a group, before (5)")
    parser.add_argument("--before", default="15eec40", help="the commit to compare against")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-stop", action="store_true", help="replies run to their end")
    parser.add_argument("--settings", default="rollout,evaluation")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    import torch

    print(f"torch threads {torch.get_num_threads()}; reply cap {args.max_new_tokens}")
    peak_decode = matmul_peak("bf16", tokens=args.batch)
    peak_train = matmul_peak("bf16", tokens=4096)
    print(
        f"bf16 matrix-product peak on the model's shapes: {peak_decode:.2f} TFLOP/s at "
        f"{args.batch} rows, {peak_train:.2f} at 4096",
        flush=True,
    )
    sources = {"before": source_tree(args.before), "after": ROOT / "src"}
    for setting in args.settings.split(","):
        rows = {}
        for name, src in sources.items():
            r = rows[name] = side(args, setting, name, src)
            rate = r["tokens"] / r["wall"]
            tflops = 2 * MATMUL_PARAMS * r["tokens"] / r["generation"] / 1e12
            print(
                f"{setting:10s} {name:6s}: {r['tokens']:6.0f} reply tokens in {r['wall']:6.1f} s"
                f" = {rate:6.1f} tokens/s (generation {r['generation']:.1f} s; decode "
                f"{tflops:.3f} TFLOP/s = {100 * tflops / peak_decode:.1f}% of the "
                f"{args.batch}-row peak); public passes {r['passes']:.0f}/{r['attempts']:.0f}",
                flush=True,
            )
        before, after = rows["before"], rows["after"]
        ratio = (after["tokens"] / after["wall"]) / (before["tokens"] / before["wall"])
        print(f"{setting:10s} after / before: {ratio:.2f}x tokens/s", flush=True)


if __name__ == "__main__":
    main()
