"""Seconds per training step on the embedded model, on CPU: the Cobalt bandit trainer and
the online multi-turn trainers (multiturn GRPO, RLEF, VeRPO), side by side in one run.

Workload (the issue's, by default): 8 prompts x 4 completions, up to 256 new tokens per
reply, embedded SmolLM2-135M-Instruct, bundled training problems (first-turn contexts for the
bandit; the problems themselves, ``--turns`` attempts per episode, for the online modes). Each
step is split into generation (TRL's sampling; the episode engine's generation for the online
modes), code execution (the sandbox batches) and the rest ("optimisation": log-probabilities,
backward, optimizer, and for RLEF the critic's forward and update). Bars: code execution under
10% of a step; RLEF's optimisation at most 40% over multiturn GRPO's.

    .venv/bin/python benchmarks/train_step.py [--steps 3] [--max-new-tokens 256] \\
        [--modes bandit,multiturn,rlef,verpo] [--turns 2]
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
from cobalt_rl.train.config import parse_train_config


def run_mode(
    mode: str, args: argparse.Namespace, tmp: Path, gen_seconds: list[float]
) -> list[dict[str, Any]]:
    """Train ``args.steps`` steps of ``mode``; one row per step with the time split."""
    from cobalt_rl.train import train

    problems = load_bundled("train")[: args.prompts * args.steps]
    options: dict[str, Any] = {
        "mode": mode,
        "out": tmp / mode,
        "num_generations": args.generations,
        "prompts_per_step": args.prompts,
        "micro_batch_size": args.generations * args.prompts // 4,
        "max_completion_length": args.max_new_tokens,
        "max_steps": args.steps,
        "save_steps": 10_000,
        "learning_rate": 1e-6,
        "beta": 0.0,
        "resume": False,
    }
    if mode == "bandit":
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
        write_jsonl(tmp / "c.jsonl", contexts)
        options["contexts"] = tmp / "c.jsonl"
    else:
        write_jsonl(tmp / "p.jsonl", problems)
        options.update(problems=tmp / "p.jsonl", turns=args.turns)
    gen_seconds.clear()
    train(parse_train_config(options))
    logged = [json.loads(line) for line in (tmp / mode / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in logged if "step_seconds" in r and "loss" in r]
    out = []
    for index, row in enumerate(steps):
        total = row["step_seconds"]
        if mode == "bandit":
            gen = gen_seconds[index] if index < len(gen_seconds) else float("nan")
            execution = row["exec_seconds"]
        else:
            gen = row["time/generation_seconds"]
            execution = row["time/execution_seconds"]
        out.append(
            {
                "mode": mode,
                "step": row["step"],
                "total": total,
                "generation": gen,
                "execution": execution,
                "optimisation": total - gen - execution,
                "turns": row.get("episodes/turns", 1.0),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--turns", type=int, default=2, help="attempts per online episode")
    ap.add_argument("--modes", default="bandit,multiturn,rlef,verpo")
    args = ap.parse_args()

    import trl.trainer.grpo_trainer as grpo

    gen_seconds: list[float] = []
    original = grpo.GRPOTrainer._generate_single_turn

    def timed(self: Any, *a: Any, **k: Any) -> Any:
        started = time.perf_counter()
        out = original(self, *a, **k)
        gen_seconds.append(time.perf_counter() - started)
        return out

    grpo.GRPOTrainer._generate_single_turn = timed  # type: ignore[method-assign]

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            rows += run_mode(mode, args, Path(tmp), gen_seconds)
    print(
        f"workload: {args.prompts} prompts x {args.generations} completions, "
        f"<= {args.max_new_tokens} new tokens per reply, online episodes <= {args.turns} turns, "
        "embedded SmolLM2-135M-Instruct, CPU"
    )
    header = "| mode | step | turns | total s | generation s | execution s | optimisation s |"
    print(header + " exec share |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['step']} | {r['turns']:.2f} | {r['total']:.1f} | "
            f"{r['generation']:.1f} | {r['execution']:.3f} | {r['optimisation']:.1f} | "
            f"{r['execution'] / r['total']:.2%} |"
        )
    worst = max(r["execution"] / r["total"] for r in rows)
    verdict = "MEETS" if worst < 0.10 else "MISSES"
    print(f"largest code-execution share: {worst:.2%} (bar: < 10%) {verdict}")

    def mean_optimisation(mode: str) -> float | None:
        values = [r["optimisation"] for r in rows if r["mode"] == mode]
        return sum(values) / len(values) if values else None

    grpo_opt, rlef_opt = mean_optimisation("multiturn"), mean_optimisation("rlef")
    if grpo_opt and rlef_opt:
        extra = rlef_opt / grpo_opt - 1
        verdict = "MEETS" if extra <= 0.40 else "MISSES"
        print(f"RLEF optimisation over multiturn GRPO's: {extra:+.0%} (bar: <= +40%) {verdict}")


if __name__ == "__main__":
    main()
