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
        [--modes bandit,multiturn,rlef,rlef@6,verpo] [--turns 2] [--precisions fp32,bf16] \\
        [--bare-trl]

``rlef@N`` runs RLEF with ``critic_layers: N`` (a critic on the policy's first N layers).
RLEF's bar compares optimisation seconds per 1,000 trained tokens (prompt + completion, from
TRL's ``num_tokens``), since the modes' episodes differ in length.

``--precisions fp32,bf16`` runs every mode in each precision (``precision`` of the train
config: bf16 autocast over fp32 master weights) and prints the bf16 speed-up per mode (bar:
>= 1.6x per step, on a CPU with native bf16; the line says whether this CPU has it).
``--bare-trl`` also runs TRL's ``GRPOTrainer`` as it comes (GRPOConfig by hand, the same
contexts, the same ``cobalt`` reward on the same sandbox, none of our callbacks, reward
wrapper or pre-flight) in the first precision, and prints our bandit step over it (bar: <=
1.05x). Steps sample different completions in each run, so compare means over several steps.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from cobalt_rl.episode.prompts import initial_messages
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Context, write_jsonl
from cobalt_rl.train.config import parse_train_config


def bandit_contexts(problems: list[Any], path: Path) -> Path:
    """First-turn contexts of ``problems`` (the bandit's data), written to ``path``."""
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
    write_jsonl(path, contexts)
    return path


LEVERS = {
    "before": {"cpu_head": "trl", "group_by_length": False},
    "after": {"cpu_head": "compact", "group_by_length": True},
}
"""The optimisation half's levers: ``before`` is TRL's path as it comes (its fused head over
every position, fp32 gradient products; shuffled micro-batches at the batch's full width);
``after`` is the trainers' default (cobalt_rl.train.cpu_head, cobalt_rl.train.microbatch)."""


def run_mode(
    mode: str,
    args: argparse.Namespace,
    tmp: Path,
    gen_seconds: list[float],
    precision: str,
    lever: str = "after",
) -> list[dict[str, Any]]:
    """Train ``args.steps`` steps of ``mode``; one row per step with the time split.
    ``rlef@N`` is RLEF with its critic cut to the policy's first N layers (``critic_layers``)."""
    from cobalt_rl.train import train

    name, _, layers = mode.partition("@")
    problems = load_bundled("train")[: args.prompts * args.steps]
    out = tmp / f"{mode}-{precision}-{lever}"
    options: dict[str, Any] = {
        "mode": name,
        "precision": precision,
        "out": out,
        "num_generations": args.generations,
        "prompts_per_step": args.prompts,
        "micro_batch_size": args.generations * args.prompts // 4,
        "sampling": {"max_new_tokens": args.max_new_tokens},
        "max_steps": args.steps,
        "save_steps": 10_000,
        "learning_rate": 1e-6,
        "beta": 0.0,
        "resume": False,
        **LEVERS[lever],
    }
    if layers:
        options["critic_layers"] = int(layers)
    if mode == "bandit":
        options["contexts"] = bandit_contexts(problems, tmp / "c.jsonl")
    else:
        write_jsonl(tmp / "p.jsonl", problems)
        options.update(problems=tmp / "p.jsonl", episode={"turns": args.turns})
    gen_seconds.clear()
    train(parse_train_config(options))
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in logged if "step_seconds" in r and "loss" in r]
    rows: list[dict[str, Any]] = []
    seen = 0.0
    for index, row in enumerate(steps):
        total = row["step_seconds"]
        tokens, seen = row.get("num_tokens", float("nan")) - seen, row.get("num_tokens", 0.0)
        if mode == "bandit":
            gen = gen_seconds[index] if index < len(gen_seconds) else float("nan")
            execution = row["exec_seconds"]
        else:
            gen = row["time/generation_seconds"]
            execution = row["time/execution_seconds"]
        rows.append(
            {
                "mode": mode,
                "precision": precision,
                "lever": lever,
                "step": row["step"],
                "total": total,
                "generation": gen,
                "execution": execution,
                "optimisation": total - gen - execution,
                "turns": row.get("episodes/turns", 1.0),
                "tokens": tokens,
            }
        )
    return rows


def run_bare_trl(args: argparse.Namespace, tmp: Path, precision: str) -> list[float]:
    """Seconds per step of TRL's ``GRPOTrainer`` as it comes, on the bandit's batch."""
    from contextlib import closing

    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, TrainerCallback
    from trl.trainer.grpo_config import GRPOConfig
    from trl.trainer.grpo_trainer import GRPOTrainer

    from cobalt_rl.llm.embedded import prepare_embedded_model
    from cobalt_rl.records import read_jsonl
    from cobalt_rl.rewards.scores import get_reward
    from cobalt_rl.sandbox.factory import default_sandbox_config, make_sandbox
    from cobalt_rl.train.bandit import contexts_to_rows

    problems = load_bundled("train")[: args.prompts * args.steps]
    contexts = list(read_jsonl(bandit_contexts(problems, tmp / "bare.jsonl"), Context))
    model = prepare_embedded_model()
    tokenizer = AutoTokenizer.from_pretrained(str(model))
    tokenizer.padding_side = "left"
    seconds: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, *a: Any, **k: Any) -> None:
            self.started = time.perf_counter()

        def on_step_end(self, *a: Any, **k: Any) -> None:
            seconds.append(time.perf_counter() - self.started)

    config = GRPOConfig(
        output_dir=str(tmp / "bare"),
        num_generations=args.generations,
        per_device_train_batch_size=args.generations * args.prompts // 4,
        gradient_accumulation_steps=4,
        max_completion_length=args.max_new_tokens,
        max_steps=args.steps,
        learning_rate=1e-6,
        beta=0.0,
        epsilon_high=0.4,
        save_strategy="no",
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        bf16=precision == "bf16",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        logging_steps=1,
    )
    with closing(make_sandbox(default_sandbox_config())) as sandbox:
        trainer = GRPOTrainer(
            model=str(model),
            reward_funcs=[cast(Any, get_reward("cobalt", sandbox))],
            args=config,
            train_dataset=Dataset.from_list(contexts_to_rows(contexts)),
            processing_class=tokenizer,
            callbacks=[StepTimer()],
        )
        trainer.train()
    return seconds


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


# SmolLM2-135M: 30 layers of hidden 576 (9 query heads, 3 key/value heads of 64), MLP 1536, a
# 49,152-token vocabulary whose embedding is also the LM head.
HIDDEN, KV, MLP, LAYERS, VOCAB = 576, 192, 1536, 30, 49_152
MATMUL_PARAMS = LAYERS * (2 * HIDDEN * HIDDEN + 2 * HIDDEN * KV + 3 * HIDDEN * MLP) + HIDDEN * VOCAB
"""Parameters that take part in a matrix product per token (the LM head included, the
embedding lookup not): a forward pass costs 2 FLOP per such parameter and token, forward and
backward 6 (attention's own products, quadratic in the sequence, are left out: at a few
hundred tokens they add a few percent)."""


def matmul_peak(dtype_name: str, tokens: int = 4096, repeats: int = 5) -> float:
    """The machine's matrix-product rate on the model's own shapes, TFLOP/s (best of
    ``repeats``, each product of (tokens x k) by (k x n) counted as 2 tokens k n FLOP)."""
    import torch

    dtype = torch.bfloat16 if dtype_name == "bf16" else torch.float32
    shapes = [(HIDDEN, HIDDEN), (HIDDEN, KV), (HIDDEN, MLP), (MLP, HIDDEN), (HIDDEN, VOCAB // 4)]
    best = 0.0
    with torch.no_grad():
        pairs = [
            (torch.randn(tokens, k, dtype=dtype), torch.randn(k, n, dtype=dtype)) for k, n in shapes
        ]
        for a, b in pairs:  # warm-up
            a @ b
        for _ in range(repeats):
            started = time.perf_counter()
            for a, b in pairs:
                a @ b
            seconds = time.perf_counter() - started
            flops = sum(2 * tokens * k * n for k, n in shapes)
            best = max(best, flops / seconds / 1e12)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--turns", type=int, default=2, help="attempts per online episode")
    ap.add_argument(
        "--modes",
        default="bandit,multiturn,rlef,verpo",
        help="comma-separated; rlef@N: RLEF with a critic of the policy's first N layers",
    )
    ap.add_argument("--precisions", default="fp32", help="comma-separated: fp32, bf16")
    ap.add_argument(
        "--levers",
        default="after",
        help="comma-separated: before (TRL's head and micro-batches), after (ours)",
    )
    ap.add_argument("--bare-trl", action="store_true", help="also time TRL's bare GRPOTrainer")
    args = ap.parse_args()

    import trl.trainer.grpo_trainer as grpo

    from cobalt_rl.llm.hf import cpu_has_native_bf16

    gen_seconds: list[float] = []
    # TRL's generation step: its own sampling, or a rollout_func (the bandit's, where
    # replies stop at the program's end), and the decoding of the replies
    original: Any = grpo.GRPOTrainer._generate

    def timed(self: Any, *a: Any, **k: Any) -> Any:
        started = time.perf_counter()
        out = original(self, *a, **k)
        gen_seconds.append(time.perf_counter() - started)
        return out

    grpo.GRPOTrainer._generate = timed  # type: ignore[method-assign]

    precisions = args.precisions.split(",")
    levers = args.levers.split(",")
    rows: list[dict[str, Any]] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            for precision in precisions:
                for lever in levers:
                    # the host's own peak drifts (a shared machine): measured around each run
                    before = matmul_peak(precision)
                    run = run_mode(mode, args, Path(tmp), gen_seconds, precision, lever)
                    peak = (before + matmul_peak(precision)) / 2
                    rows += [{**r, "peak": peak} for r in run]
        if args.bare_trl:
            bare = run_bare_trl(args, Path(tmp), precisions[0])
    print(
        f"workload: {args.prompts} prompts x {args.generations} completions, "
        f"<= {args.max_new_tokens} new tokens per reply, online episodes <= {args.turns} turns, "
        f"embedded SmolLM2-135M-Instruct, CPU (native bf16: {cpu_has_native_bf16()})"
    )
    print(
        "matrix-product peak on the model's shapes (2 threads as torch runs here), measured "
        "before and after each run (mean in the peak column): the host's own rate drifts"
    )
    header = "| mode | precision | levers | step | turns | tokens | total s | generation s |"
    print(
        header
        + " execution s | optimisation s | optimisation s / 1k tokens | peak TFLOP/s |"
        + " TFLOP/s (% of peak) | exec share |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        r["per_1k"] = 1000 * r["optimisation"] / r["tokens"] if r["tokens"] > 0 else float("nan")
        # forward + backward: 6 FLOP per matrix-product parameter and trained token
        r["tflops"] = 6 * MATMUL_PARAMS * r["tokens"] / max(r["optimisation"], 1e-9) / 1e12
        share = r["share"] = r["tflops"] / r["peak"]
        print(
            f"| {r['mode']} | {r['precision']} | {r['lever']} | {r['step']} | {r['turns']:.2f} | "
            f"{r['tokens']:.0f} | {r['total']:.1f} | {r['generation']:.1f} | "
            f"{r['execution']:.3f} | {r['optimisation']:.1f} | {r['per_1k']:.2f} | "
            f"{r['peak']:.2f} | {r['tflops']:.3f} ({share:.0%}) | "
            f"{r['execution'] / r['total']:.2%} |"
        )
    worst = max(r["execution"] / r["total"] for r in rows)
    verdict = "MEETS" if worst < 0.10 else "MISSES"
    print(f"largest code-execution share: {worst:.2%} (bar: < 10%) {verdict}")

    def mean_of(
        mode: str, key: str, precision: str | None = None, lever: str = levers[-1]
    ) -> float | None:
        values = [
            r[key]
            for r in rows
            if r["mode"] == mode
            and r["lever"] == lever
            and (precision is None or r["precision"] == precision)
        ]
        return mean(values) if values else None

    for mode in args.modes.split(","):
        for precision in precisions:
            before = mean_of(mode, "per_1k", precision, "before")
            after = mean_of(mode, "per_1k", precision, "after")
            if before and after:
                share = mean_of(mode, "share", precision, "after") or 0.0
                verdict = "MEETS" if after <= 1.4 and share >= 0.20 else "MISSES"
                print(
                    f"{mode} {precision}: optimisation {before:.2f} -> {after:.2f} s per 1k "
                    f"tokens ({before / after:.2f}x), {share:.0%} of the {precision} peak "
                    f"(bar: <= 1.4 s, i.e. 4x the issue's 5-6 s, and >= 20% of peak) {verdict}"
                )

    for rlef in [m for m in args.modes.split(",") if m.partition("@")[0] == "rlef"]:
        # per 1k trained tokens (prompt + completion): the modes' episodes differ in length
        grpo_opt, rlef_opt = mean_of("multiturn", "per_1k"), mean_of(rlef, "per_1k")
        if grpo_opt and rlef_opt:
            extra = rlef_opt / grpo_opt - 1
            verdict = "MEETS" if extra <= 0.40 else "MISSES"
            print(
                f"{rlef} optimisation per 1k tokens over multiturn GRPO's: {extra:+.0%} "
                f"(bar: <= +40%) {verdict}"
            )
    if "fp32" in precisions and "bf16" in precisions:
        for mode in args.modes.split(","):
            fp32, bf16 = mean_of(mode, "total", "fp32"), mean_of(mode, "total", "bf16")
            opt32, opt16 = (
                mean_of(mode, "optimisation", "fp32"),
                mean_of(mode, "optimisation", "bf16"),
            )
            if fp32 and bf16 and opt32 and opt16:
                verdict = "MEETS" if fp32 / bf16 >= 1.6 else "MISSES"
                print(
                    f"{mode}: fp32 {fp32:.1f} s vs bf16 {bf16:.1f} s per step: {fp32 / bf16:.2f}x "
                    f"(optimisation {opt32 / opt16:.2f}x) (bar: >= 1.6x) {verdict}"
                )
    ours = mean_of("bandit", "total", precisions[0])
    if bare and ours:
        ratio = ours / mean(bare)
        verdict = "MEETS" if ratio <= 1.05 else "MISSES"
        print(
            f"bare TRL GRPOTrainer ({precisions[0]}): "
            + ", ".join(f"{s:.1f}" for s in bare)
            + f" s per step; ours / bare: {ratio:.2f}x (bar: <= 1.05x) {verdict}"
        )


if __name__ == "__main__":
    main()
