"""Reply tokens/s in a rollout and an evaluation: the draining batches of before against one
continuously refilled batch, side by side in one run, on the embedded model.

Each setting runs the real rollout loop (`run_rollout`: bundled problems, every attempt
executed on its public tests in the sandbox, feedback turns) twice with the same seed:

- **before**: the generator as it was (``continuous = False``): a call's rows cut into
  consecutive batches of ``--old-batch`` (16), each decoded in segments until its last reply
  ends; problems in groups of ``--old-group`` (the demo's 5).
- **after**: one batch of at most ``--batch`` rows (64) refilled as replies end; problems in
  one group (all of a stage's first turns in one call).

Both stop replies at the end of their program (the cobalt-rl profile's default) unless
``--no-stop``. Reported: reply tokens, wall seconds, tokens/s and the ratio; and the decode's
achieved matrix FLOP/s (2 x the model's matrix parameters x reply tokens / generation
seconds; prefill and attention left out) against this machine's bf16 matrix-product peak
measured on the model's shapes at 64 rows (a decode step's) and at 4096 (training's).

    .venv/bin/python benchmarks/generation_pool.py
    .venv/bin/python benchmarks/generation_pool.py --problems 8 --max-new-tokens 256
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
from cobalt_rl.episode.rollout import run_rollout
from cobalt_rl.llm import EmbeddedGeneratorConfig, SamplingParams, make_generator
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.sandbox import LocalSandbox

sys.path.insert(0, str(Path(__file__).parent))
from train_step import MATMUL_PARAMS, matmul_peak

SETTINGS = {
    # the demo's rollout and evaluation sections
    "rollout": {"split": "train", "samples": 4, "turns": 2, "temperature": 0.8},
    "evaluation": {"split": "test", "samples": 2, "turns": 3, "temperature": 0.7},
}


class Timed:
    """A generator wrapper adding up the seconds spent generating."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.seconds = inner, 0.0

    def generate(self, conversations: Any, n: int, sampling: SamplingParams) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.generate(conversations, n, sampling)
        finally:
            self.seconds += time.perf_counter() - started


def run(args: argparse.Namespace, setting: str, pooled: bool, sandbox: Any) -> dict[str, float]:
    spec = SETTINGS[setting]
    problems = load_bundled(str(spec["split"]))[: args.problems]
    generator: Any = make_generator(
        EmbeddedGeneratorConfig(batch_size=args.batch if pooled else args.old_batch)
    )
    generator.continuous = pooled
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
        group_size=len(problems) if pooled else args.old_group,
    )
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        progress = run_rollout(problems, timed, sandbox, str(Path(tmp) / "t.jsonl"), config)
        wall = time.perf_counter() - started
    generator.close()
    return {
        "tokens": progress.tokens,
        "wall": wall,
        "generation": timed.seconds,
        "passes": progress.public_passes,
        "attempts": progress.attempts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", type=int, default=10, help="problems per setting (10)")
    parser.add_argument("--max-new-tokens", type=int, default=448, help="reply cap (448)")
    parser.add_argument("--batch", type=int, default=64, help="rows in flight, after (64)")
    parser.add_argument("--old-batch", type=int, default=16, help="batch size, before (16)")
    parser.add_argument("--old-group", type=int, default=5, help="problems a group, before (5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-stop", action="store_true", help="replies run to their end")
    parser.add_argument("--settings", default="rollout,evaluation")
    args = parser.parse_args()

    import torch

    print(f"torch threads {torch.get_num_threads()}; reply cap {args.max_new_tokens}")
    peak_decode = matmul_peak("bf16", tokens=args.batch)
    peak_train = matmul_peak("bf16", tokens=4096)
    print(
        f"bf16 matrix-product peak on the model's shapes: {peak_decode:.2f} TFLOP/s at "
        f"{args.batch} rows, {peak_train:.2f} at 4096"
    )
    sandbox = LocalSandbox(workers=2)
    try:
        for setting in args.settings.split(","):
            rows = {}
            for label, pooled in (("before", False), ("after", True)):
                r = rows[label] = run(args, setting, pooled, sandbox)
                rate = r["tokens"] / r["wall"]
                tflops = 2 * MATMUL_PARAMS * r["tokens"] / r["generation"] / 1e12
                print(
                    f"{setting:10s} {label:6s}: {r['tokens']:6.0f} reply tokens in "
                    f"{r['wall']:6.1f} s = {rate:6.1f} tokens/s (generation {r['generation']:.1f}"
                    f" s; decode {tflops:.3f} TFLOP/s = {100 * tflops / peak_decode:.1f}% of the "
                    f"{args.batch}-row peak); public passes {r['passes']}/{r['attempts']}",
                    flush=True,
                )
            before, after = rows["before"], rows["after"]
            ratio = (after["tokens"] / after["wall"]) / (before["tokens"] / before["wall"])
            print(f"{setting:10s} after / before: {ratio:.2f}x tokens/s", flush=True)
    finally:
        sandbox.close()


if __name__ == "__main__":
    main()
