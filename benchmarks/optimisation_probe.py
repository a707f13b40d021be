"""The optimisation half on one fixed batch: seconds per 1k tokens of a forward, backward and
AdamW step of the embedded model under bf16 autocast, for the variants the levers of
benchmarks/train_step.py were chosen from, side by side in one run (best of 3 steps each).

    .venv/bin/python benchmarks/optimisation_probe.py [--rows 8 --prompt 300 --completion 128]
        [--variants trl,compact,compact+bf16-weights,compact+eager,compact+fp32-attention]
        [--profile compact]

- ``trl``: TRL's fused head as it comes (every position through the head, fp32 gradient
  products off Triton devices);
- ``compact``: cobalt_rl.train.cpu_head (the scored positions only, bf16 products);
- ``+bf16-weights``: the model's weights in bf16 (no fp32 master copy: an upper bound for a
  master-weights scheme); ``+eager``: transformers' eager attention instead of SDPA;
  ``+fp32-attention``: SDPA with autocast off around it (fp32 queries, keys, values).

``--profile V`` prints torch.profiler's top operators for variant V.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch


def _fp32_attention() -> str:
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    def attention(module: Any, query: Any, key: Any, value: Any, mask: Any, **kw: Any) -> Any:
        with torch.autocast("cpu", enabled=False):
            out, weights = sdpa_attention_forward(
                module, query.float(), key.float(), value.float(), mask, **kw
            )
        return out.to(query.dtype), weights

    AttentionInterface.register("sdpa_fp32", attention)
    return "sdpa_fp32"


def build(variant: str) -> Any:
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from cobalt_rl.llm.embedded import prepare_embedded_model
    from cobalt_rl.train.cpu_head import compact_head

    attention = "eager" if "eager" in variant else "sdpa"
    if "fp32-attention" in variant:
        attention = _fp32_attention()
    dtype = torch.bfloat16 if "bf16-weights" in variant else torch.float32
    model = AutoModelForCausalLM.from_pretrained(
        str(prepare_embedded_model()), dtype=dtype, attn_implementation=attention
    )
    add_fused_lm_head(model, outputs=("log_probs", "entropy"))
    if variant.startswith("compact"):
        assert compact_head(model, 1.0, entropy=True)
    return model.train()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--prompt", type=int, default=300)
    ap.add_argument("--completion", type=int, default=128)
    ap.add_argument(
        "--variants",
        default="trl,compact,compact+bf16-weights,compact+eager,compact+fp32-attention",
    )
    ap.add_argument("--profile", default="", help="a variant to profile with torch.profiler")
    args = ap.parse_args()
    generator = torch.Generator().manual_seed(0)
    width = args.prompt + args.completion
    ids = torch.randint(100, 40_000, (args.rows, width), generator=generator)
    labels = ids.clone()
    labels[:, : args.prompt] = -100  # only the completion is scored
    tokens = args.rows * width
    print(f"batch: {args.rows} rows x ({args.prompt} prompt + {args.completion} scored) tokens")
    for variant in args.variants.split(","):
        model = build(variant)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)

        def step() -> float:
            started = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = model(input_ids=ids, labels=labels, fused_lm_head=True)  # noqa: B023
            (-out.log_probs.sum() / (labels != -100).sum()).backward()
            optimizer.step()  # noqa: B023
            optimizer.zero_grad()  # noqa: B023
            return time.perf_counter() - started

        step()  # warm-up
        seconds = [step() for _ in range(3)]
        print(
            f"{variant}: " + ", ".join(f"{s:.2f}" for s in seconds) + " s per step; best "
            f"{1000 * min(seconds) / tokens:.2f} s per 1k tokens"
        )
        if variant == args.profile:
            with torch.profiler.profile() as prof:
                step()
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
