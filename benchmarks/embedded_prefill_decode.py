"""Where the embedded model's time goes on long prompts: prefill vs decode, by batch size.

Repair and later-turn prompts (statement, earlier attempt, feedback) run to ~450 tokens, and
on a CPU without native bf16 their prefill, not the decode, sets the cost of an evaluation.
For each batch size B this times, in fp32 and greedy, one forward pass over B prompts of
``--prompt-tokens`` tokens (prefill, reported as prompt tokens/s) and ``--steps`` more decode
steps (seconds per step and generated tokens/s):

    .venv/bin/python benchmarks/embedded_prefill_decode.py --batches 1,8,32
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


if __name__ == "__main__":
    main()
