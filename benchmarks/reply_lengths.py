"""How long the embedded model's replies are, and what share a token cap would cut.

The embedded SmolLM2-135M-Instruct answers the first-turn prompts of bundled problems (the
rollout stage's own prompts, system prompt included) with a generous cap; we print the reply
length distribution and, side by side, the share of replies each candidate cap would clip.
A repair turn is measured too (the prompt holds a known-wrong program and its real feedback,
as the held-out scripted failures do), since repair replies may run longer. The caps in
``configs/`` are set from this table so that at most ~10% of replies are cut.

    .venv/bin/python benchmarks/reply_lengths.py --problems 24 --samples 2
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cobalt_rl.contexts.replay_reference import replay_rollout, scripted_failures
from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
from cobalt_rl.llm import SamplingParams
from cobalt_rl.llm.embedded import prepare_embedded_model
from cobalt_rl.llm.hf import TransformersGenerator
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Trajectory, read_jsonl
from cobalt_rl.sandbox import LocalSandbox

CAPS = (128, 192, 256, 320, 384, 448)


def _table(label: str, lengths: list[int], limit: int) -> None:
    lengths = sorted(lengths)
    quantiles = statistics.quantiles(lengths, n=10)
    print(f"\n{label}: {len(lengths)} replies, generation cap {limit} tokens")
    print(
        f"tokens: p50 {statistics.median(lengths):.0f}, p90 {quantiles[8]:.0f}, "
        f"max {lengths[-1]}; at the cap: {sum(n >= limit for n in lengths) / len(lengths):.1%}"
    )
    print("| cap | share of replies cut |")
    print("|---|---|")
    for cap in CAPS:
        if cap <= limit:
            # a reply that reached the generation cap was itself cut, so it counts at that cap
            cut = sum(n > cap or (cap == limit and n >= limit) for n in lengths)
            print(f"| {cap} | {cut / len(lengths):.1%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=24, help="first N bundled train problems")
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--limit", type=int, default=512, help="generation cap while measuring")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    generator = TransformersGenerator(
        prepare_embedded_model(), num_threads=0, batch_size=args.batch_size
    )
    problems = load_bundled("train")[: args.problems]
    sampling = SamplingParams(temperature=args.temperature, max_new_tokens=args.limit, seed=0)
    episode = RolloutConfig(
        samples=args.samples, episode=EpisodeConfig(turns=2), sampling=sampling, group_size=8
    )
    from cobalt_rl.episode.prompts import initial_messages

    started = time.perf_counter()
    first = generator.generate([initial_messages(p) for p in problems], args.samples, sampling)
    first_lengths = [c.completion_tokens for row in first for c in row]
    seconds = time.perf_counter() - started
    print(
        f"first turn: {sum(first_lengths)} tokens in {seconds:.0f} s "
        f"({sum(first_lengths) / seconds:.0f} tokens/s, batch {args.batch_size})"
    )
    _table("first-turn replies", first_lengths, args.limit)

    with tempfile.TemporaryDirectory() as tmp, LocalSandbox() as sandbox:
        out = Path(tmp) / "repair.jsonl"
        sequences = scripted_failures(problems)
        replay_rollout(problems, sequences, sandbox, out, episode, then=generator)
        repairs = [
            t.attempts[1].response for t in read_jsonl(out, Trajectory) if len(t.attempts) > 1
        ]
    tokenizer = generator.tokenizer
    repair_lengths = [len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in repairs]
    _table("repair replies (scripted failure + feedback)", repair_lengths, args.limit)
    generator.close()


if __name__ == "__main__":
    main()
