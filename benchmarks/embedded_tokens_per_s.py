"""Throughput of the embedded SmolLM2-135M-Instruct on this machine, by batch size.

For each batch size B, one batch of B fixed coding prompts is answered (one reply each) and
we report generated tokens (the replies' ``completion_tokens``) per second of wall time.
Replies stop at end-of-sequence or at ``--max-new-tokens``; a batch runs until its longest
reply ends, which is why useful throughput grows less than linearly with B (DESIGN.md, "The
embedded model"). Each measurement is repeated ``--repeats`` times (other prompts each time,
batch sizes interleaved) and the best and median are shown: on a shared machine the best is
the closest to what the hardware does, the median to what a busy machine gives.

    .venv/bin/python benchmarks/embedded_tokens_per_s.py --threads 2
    .venv/bin/python benchmarks/embedded_tokens_per_s.py --fresh   # also time the conversion
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cobalt_rl.llm import SamplingParams
from cobalt_rl.llm.embedded import prepare_embedded_model
from cobalt_rl.llm.hf import TransformersGenerator
from cobalt_rl.records import Message

PROMPTS = [
    "Write a Python function add(a, b) that returns the sum of a and b.",
    "Write a Python function is_even(n) that returns True if n is even.",
    "Write a Python function reverse_string(s) that returns s reversed.",
    "Write a Python function factorial(n) that returns n!.",
    "Write a Python function max_of_list(xs) that returns the largest element of xs.",
    "Write a Python function count_vowels(s) that counts the vowels in s.",
    "Write a Python function fibonacci(n) that returns the n-th Fibonacci number.",
    "Write a Python function is_palindrome(s) that checks whether s is a palindrome.",
    "Write a Python program that reads an integer n from stdin and prints n squared.",
    "Write a Python function sum_list(xs) that returns the sum of the numbers in xs.",
    "Write a Python function celsius_to_fahrenheit(c) that converts a temperature.",
    "Write a Python function unique(xs) that returns the distinct elements of xs in order.",
    "Write a Python function gcd(a, b) that returns the greatest common divisor.",
    "Write a Python function is_prime(n) that returns True if n is prime.",
    "Write a Python function word_count(s) that returns the number of words in s.",
    "Write a Python function flatten(xss) that flattens a list of lists.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="runs per batch size")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (0: all cores)")
    parser.add_argument("--temperature", type=float, default=0.7, help="0: greedy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument(
        "--fresh", action="store_true", help="convert the GGUF into a temp dir and time it"
    )
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory() if args.fresh else None
    cache = Path(tmp.name) / "smollm2" if tmp is not None else args.cache_dir
    start = time.perf_counter()
    path = prepare_embedded_model(cache)
    prepared = time.perf_counter() - start
    start = time.perf_counter()
    gen = TransformersGenerator(path, num_threads=args.threads, batch_size=1)
    loaded = time.perf_counter() - start
    print(f"model dir: {path}")
    print(f"{'conversion' if args.fresh else 'cache check'}: {prepared:.2f} s")
    print(f"load from cache: {loaded:.2f} s")

    sampling = SamplingParams(
        temperature=args.temperature, max_new_tokens=args.max_new_tokens, seed=args.seed
    )
    convs = [[Message(role="user", content=p)] for p in PROMPTS]
    gen.batch_size = 4
    gen.generate(convs[:4], 1, SamplingParams(temperature=0.0, max_new_tokens=4))  # warm-up

    rates: dict[int, list[float]] = {b: [] for b in args.batch_sizes}
    capped: dict[int, list[bool]] = {b: [] for b in args.batch_sizes}
    for r in range(args.repeats):
        for b in args.batch_sizes:
            batch = [convs[(r * b + k) % len(convs)] for k in range(b)]
            gen.batch_size = b
            start = time.perf_counter()
            out = gen.generate(batch, 1, sampling)
            seconds = time.perf_counter() - start
            replies = [row[0] for row in out]
            tokens = sum(c.completion_tokens for c in replies)
            rates[b].append(tokens / seconds)
            capped[b].extend(c.finish_reason == "length" for c in replies)
            print(f"  run {r + 1} batch {b}: {tokens} tokens in {seconds:.2f} s", flush=True)

    print(
        f"\nthreads={args.threads} max_new_tokens={args.max_new_tokens} "
        f"temperature={args.temperature} repeats={args.repeats}"
    )
    print(f"{'batch':>5} {'best tok/s':>11} {'median tok/s':>13} {'at cap':>7}")
    for b in args.batch_sizes:
        share = sum(capped[b]) / len(capped[b])
        print(f"{b:>5} {max(rates[b]):>11.1f} {statistics.median(rates[b]):>13.1f} {share:>7.0%}")
    gen.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
