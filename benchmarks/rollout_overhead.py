"""Rollout loop overhead: the multi-turn loop with execution vs the same raw generate calls.

Runs the rollout loop (embedded SmolLM2-135M-Instruct, bundled problems, execution of every
attempt on public tests in the sandbox) while recording every ``generate`` call it makes.
Then replays exactly those calls (same conversations, n and sampling settings, seeded) as
raw ``generate`` calls, back to back. Bar: loop wall time <= 1.15x the raw generation time,
i.e. execution and bookkeeping are hidden behind generation.

Also prints tokens/s of the embedded model at batch sizes 1, 4, 8, 16 on this machine.

    .venv/bin/python benchmarks/rollout_overhead.py [--problems 8] [--samples 4] [--turns 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
from cobalt_rl.episode.rollout import run_rollout
from cobalt_rl.llm import Completion, EmbeddedGeneratorConfig, SamplingParams, make_generator
from cobalt_rl.llm.base import Generator
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Message
from cobalt_rl.sandbox import LocalSandbox


class Recording:
    """Wraps a generator; records each call and the time spent inside it."""

    def __init__(self, inner: Generator):
        self.inner = inner
        self.calls: list[tuple[list[list[Message]], int]] = []
        self.seconds = 0.0

    def generate(
        self, conversations: Sequence[Sequence[Message]], n: int, sampling: SamplingParams
    ) -> list[list[Completion]]:
        self.calls.append(([list(c) for c in conversations], n))
        t = time.perf_counter()
        out = self.inner.generate(conversations, n, sampling)
        self.seconds += time.perf_counter() - t
        return out

    def close(self) -> None:
        self.inner.close()


def tokens_per_second(gen: Generator, batch: int, max_new: int) -> tuple[float, int]:
    conv = [Message(role="user", content="Write a Python function that adds two numbers.")]
    sampling = SamplingParams(temperature=1.0, max_new_tokens=max_new, seed=0)
    t = time.perf_counter()
    out = gen.generate([conv], batch, sampling)
    dt = time.perf_counter() - t
    toks = sum(c.completion_tokens for c in out[0])
    return toks / dt, toks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", type=int, default=8)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--turns", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=192)
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()

    gen = make_generator(EmbeddedGeneratorConfig(num_threads=0, batch_size=16))
    sampling = SamplingParams(
        temperature=1.0, top_p=0.95, max_new_tokens=args.max_new_tokens, seed=1234
    )
    problems = load_bundled("train")[: args.problems]
    # Warm up (first call pays one-time costs) so neither side is charged for them.
    gen.generate([[Message(role="user", content="hi")]], 1, SamplingParams(max_new_tokens=4))

    rec = Recording(gen)
    with LocalSandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "t.jsonl")
        settings = RolloutConfig(
            samples=args.samples,
            episode=EpisodeConfig(turns=args.turns),
            sampling=sampling,
            group_size=4,
        )
        t = time.perf_counter()
        prog = run_rollout(problems, rec, sandbox, out, settings)
        loop = time.perf_counter() - t

    t = time.perf_counter()
    for convs, n in rec.calls:
        gen.generate(convs, n, sampling)
    raw = time.perf_counter() - t

    print(
        f"workload: {len(problems)} bundled problems x {args.samples} samples x "
        f"{args.turns} turns = {prog.attempts} attempts, {prog.tokens} tokens, "
        f"{len(rec.calls)} generate calls"
    )
    print(f"raw generate (replayed calls): {raw:8.2f} s")
    print(f"time inside generate in loop : {rec.seconds:8.2f} s")
    print(f"rollout loop with execution  : {loop:8.2f} s")
    ratio = loop / raw
    print(f"loop / raw = {ratio:.3f}  (bar: <= 1.15)  {'MEETS' if ratio <= 1.15 else 'MISSES'}")

    if not args.skip_throughput:
        print("\nembedded SmolLM2-135M-Instruct tokens/s (fp32, CPU, 128 new tokens, sampled):")
        print("| batch | tokens | tokens/s |")
        print("|---|---|---|")
        for b in (1, 4, 8, 16):
            tps, toks = tokens_per_second(gen, b, 128)
            print(f"| {b} | {toks} | {tps:.1f} |")
    gen.close()


if __name__ == "__main__":
    main()
