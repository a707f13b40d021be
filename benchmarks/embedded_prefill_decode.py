"""Where the embedded model's time goes on long prompts: prefill vs decode, by batch size.

Repair and later-turn prompts (statement, earlier attempt, feedback) run to ~450 tokens, and
on a CPU without native bf16 their prefill, not the decode, sets the cost of an evaluation.
For each batch size B this times, in fp32 and greedy, one forward pass over B prompts of
``--prompt-tokens`` tokens (prefill, reported as prompt tokens/s) and ``--steps`` more decode
steps (seconds per step and generated tokens/s):

    .venv/bin/python benchmarks/embedded_prefill_decode.py --batches 1,8,32

``--repairs N`` then times the embedded generator itself on N real repair prompts (the first
held-out scripted failures: a known-wrong program run in the sandbox, its feedback, one
repair each, as the experiment's repair@1 asks), generating each batch in one ``generate``
call and in segments that drop finished rows (``llm/hf.py``), side by side, same seed:

    .venv/bin/python benchmarks/embedded_prefill_decode.py --batches 32 --repairs 32
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from transformers import AutoModelForCausalLM

from cobalt_rl.llm.embedded import prepare_embedded_model


def run(model: Any, ids: torch.Tensor, mask: torch.Tensor, new: int) -> float:
    """Seconds to generate exactly ``new`` tokens per row, greedily."""
    started = time.perf_counter()
    with torch.no_grad():
        model.generate(
            ids, attention_mask=mask, max_new_tokens=new, min_new_tokens=new, do_sample=False
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,8,32", help="comma-separated batch sizes")
    parser.add_argument("--prompt-tokens", type=int, default=450)
    parser.add_argument("--steps", type=int, default=40, help="decode steps timed")
    parser.add_argument("--repairs", type=int, default=0, help="also time N repair prompts")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="cap of a repair")
    args = parser.parse_args()

    model = AutoModelForCausalLM.from_pretrained(prepare_embedded_model(), dtype=torch.float32)
    model.eval()  # type: ignore[no-untyped-call]
    prompt = torch.randint(
        100, 20000, (1, args.prompt_tokens), generator=torch.Generator().manual_seed(0)
    )
    print(f"torch threads {torch.get_num_threads()}, attention {model.config._attn_implementation}")
    print("| batch | prefill s | prompt tokens/s | decode s/step | decode tokens/s |")
    print("|---|---|---|---|---|")
    for batch in (int(b) for b in args.batches.split(",")):
        ids = prompt.repeat(batch, 1)
        mask = torch.ones_like(ids)

        run(model, ids, mask, 1)  # warm-up
        prefill = run(model, ids, mask, 1)
        per_step = (run(model, ids, mask, args.steps + 1) - prefill) / args.steps
        print(
            f"| {batch} | {prefill:.2f} | {batch * args.prompt_tokens / prefill:.0f} | "
            f"{per_step:.3f} | {batch / per_step:.1f} |"
        )
    if args.repairs:
        compare_segments(args.repairs, args.max_new_tokens)


def compare_segments(count: int, max_new_tokens: int) -> None:
    """One ``generate`` call per batch vs segments, on ``count`` repair prompts."""
    import json
    import tempfile
    from pathlib import Path

    from cobalt_rl.contexts.replay_reference import replay_rollout, scripted_failures
    from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
    from cobalt_rl.llm.base import SamplingParams
    from cobalt_rl.llm.embedded import embedded_generator
    from cobalt_rl.problems.bundled import load_bundled
    from cobalt_rl.sandbox.config import default_sandbox_config
    from cobalt_rl.sandbox.factory import make_sandbox

    problems = load_bundled("test")
    picked: dict[str, list[list[str]]] = {}
    for problem_id, sequences in scripted_failures(problems).items():
        room = count - sum(len(v) for v in picked.values())
        if room > 0:
            picked[problem_id] = sequences[:room]
    episode = RolloutConfig(
        samples=1,
        episode=EpisodeConfig(turns=2),
        sampling=SamplingParams(temperature=0.7, max_new_tokens=max_new_tokens, seed=0),
    )
    generator = embedded_generator(batch_size=count)
    print(f"\n{count} repair prompts, one batch, T 0.7, cap {max_new_tokens} tokens")
    print("| generation | seconds | reply tokens | reply tokens/s |")
    print("|---|---|---|---|")
    with make_sandbox(default_sandbox_config(), require_isolation=True) as sandbox:
        for label, segment in (("one generate call", 0), ("segments of 64", 64)):
            generator.segment_tokens = segment
            out = Path(tempfile.mkdtemp()) / "repairs.jsonl"
            started = time.perf_counter()
            replay_rollout(problems, picked, sandbox, out, episode, then=generator)
            seconds = time.perf_counter() - started
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            tokens = sum(
                len(generator.tokenizer(r["attempts"][-1]["response"])["input_ids"]) for r in rows
            )
            print(f"| {label} | {seconds:.0f} | {tokens} | {tokens / seconds:.1f} |")
    generator.close()


if __name__ == "__main__":
    main()
