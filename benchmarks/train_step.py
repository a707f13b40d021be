"""Seconds per GRPO step of the Cobalt bandit trainer on the embedded model, on CPU.

Workload (the issue's): 8 prompts x 4 completions, up to 256 new tokens, embedded
SmolLM2-135M-Instruct, first-turn contexts of bundled training problems. Each step is split
into generation (TRL's sampling), code execution (the reward's sandbox batch) and the rest
(reward bookkeeping, log-probabilities, backward, optimizer: "optimisation"). Bar: code
execution under 10% of the step.

    .venv/bin/python benchmarks/train_step.py [--steps 3] [--max-new-tokens 256]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.prompts import initial_messages
from cobalt_rl.records import Context, write_jsonl
from cobalt_rl.train.config import BanditTrainConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--generations", type=int, default=4)
    args = ap.parse_args()

    import trl.trainer.grpo_trainer as grpo

    gen_seconds: list[float] = []
    original = grpo.GRPOTrainer._generate_single_turn

    def timed(self: Any, *a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        out = original(self, *a, **k)
        gen_seconds.append(time.perf_counter() - t)
        return out

    grpo.GRPOTrainer._generate_single_turn = timed  # type: ignore[method-assign]

    from cobalt_rl.train.bandit import train_bandit

    with tempfile.TemporaryDirectory() as tmp:
        problems = load_bundled("train")[: args.prompts * args.steps]
        contexts = [
            Context(
                id=f"{p.id}/first",
                problem_id=p.id,
                prompt=initial_messages(p),
                tests=p.public_tests + p.hidden_tests,
                mode=p.mode,
                fn_name=p.fn_name,
            )
            for p in problems
        ]
        write_jsonl(Path(tmp) / "c.jsonl", contexts)
        cfg = BanditTrainConfig(
            contexts=Path(tmp) / "c.jsonl",
            out=Path(tmp) / "run",
            num_generations=args.generations,
            prompts_per_step=args.prompts,
            micro_batch_size=args.generations * args.prompts // 4,
            max_completion_length=args.max_new_tokens,
            max_steps=args.steps,
            save_steps=10_000,
            learning_rate=1e-6,
            resume=False,
        )
        train_bandit(cfg)
        rows = [json.loads(line) for line in (cfg.out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "step_seconds" in r and "loss" in r]
    print(
        f"workload: {args.prompts} prompts x {args.generations} completions, "
        f"<= {args.max_new_tokens} new tokens, embedded SmolLM2-135M-Instruct, CPU"
    )
    print("| step | total s | generation s | code execution s | optimisation s | exec share |")
    print("|---|---|---|---|---|---|")
    for i, r in enumerate(steps):
        total, ex = r["step_seconds"], r["exec_seconds"]
        gen = gen_seconds[i] if i < len(gen_seconds) else float("nan")
        print(
            f"| {r['step']} | {total:.1f} | {gen:.1f} | {ex:.3f} | {total - gen - ex:.1f} | "
            f"{ex / total:.2%} |"
        )
    worst = max(r["exec_seconds"] / r["step_seconds"] for r in steps)
    print(
        f"largest code-execution share: {worst:.2%} (bar: < 10%) "
        f"{'MEETS' if worst < 0.10 else 'MISSES'}"
    )


if __name__ == "__main__":
    main()
