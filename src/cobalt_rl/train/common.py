"""Pieces every trainer shares: the policy source, the GRPO config (precision, model loading,
vLLM), the reward with its statistics, the metrics log, validation during training, saving
the final model, and releasing the accelerator afterwards.

Precision (``precision``: auto | fp32 | bf16). bf16 means mixed precision: the policy's
master weights, gradients and AdamW state stay fp32 and the arithmetic runs under bf16
autocast (TRL's ``bf16=True``; on CPU, torch's CPU autocast). Pure bf16 weights would be
faster still on CPU (2.0x vs 1.7x over fp32, measured on the embedded model), but at the
paper's learning rate of 1e-6 an update is far below bf16's resolution (8 bits of mantissa:
a relative step under ~4e-3 is rounded away), so training would silently stop moving the
weights. What needs no updates runs in bf16 weights: the reference model, LoRA's frozen
base, and the final saved model.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm.extract import extract_code
from cobalt_rl.profiles import DEFAULT_PROFILE, Profile
from cobalt_rl.rewards.scores import get_reward, reward_numbers
from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.train.config import Precision, TrainConfig, ValidationOptions, resolve_precision
from cobalt_rl.train.distributed import rank_zero_decides

__all__ = [
    "OnlineParts",
    "Precision",
    "TrackedReward",
    "build_grpo_config",
    "finished_run",
    "load_policy_source",
    "make_callbacks",
    "make_reward",
    "model_init_kwargs",
    "release",
    "resolve_precision",
    "run_grpo",
    "save_final",
]


log = logging.getLogger(__name__)


def load_policy_source(cfg: TrainConfig) -> tuple[Path, Any]:
    """The policy checkpoint directory and its tokenizer (left padding, a pad token)."""
    from transformers import AutoTokenizer

    if cfg.model == "embedded":
        from cobalt_rl.llm.embedded import prepare_embedded_model

        path = prepare_embedded_model(cfg.cache_dir)
    else:
        path = Path(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return path, tokenizer


class TrackedReward:
    """A reward function that also records what the metrics log needs per call."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.__name__ = getattr(inner, "__name__", "reward")
        self.calls = 0
        self.exec_seconds = 0.0
        self.last: dict[str, float] = {}

    def __call__(self, completions: list[Any], **kwargs: Any) -> list[float]:
        scores: list[float] = self.inner(completions, **kwargs)
        self.calls += 1
        exec_s = float(getattr(self.inner, "last_exec_seconds", 0.0))
        self.exec_seconds += exec_s
        texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
        no_code = sum(extract_code(t) is None for t in texts)
        results = getattr(self.inner, "last_results", None)
        stats = {
            "format_failure_rate": no_code / max(1, len(texts)),
            "exec_seconds": exec_s,
        }
        if results is not None:
            rates = [r.pass_rate if r is not None else 0.0 for r in results]
            stats["pass_rate"] = sum(rates) / max(1, len(rates))
            stats["solved_rate"] = sum(r is not None and r.passed for r in results) / max(
                1, len(results)
            )
        self.last = stats
        return scores


def make_reward(
    name: str, sandbox: Sandbox, profile: Profile | str = DEFAULT_PROFILE, reasoning: bool = False
) -> TrackedReward:
    """The reward ``name`` under ``profile``; with ``reasoning`` the cobalt reward also checks
    the thinking format (the reference profile's reward always does)."""
    return TrackedReward(
        get_reward(name, sandbox, reward_numbers(name, profile, reasoning), profile=profile)
    )


def model_init_kwargs(cfg: TrainConfig, precision: Precision) -> dict[str, Any]:
    """How TRL loads the policy (and builds the reference model from the same arguments).

    - ``dtype``: fp32 master weights for full training (see the module docstring); LoRA's
      frozen base in bf16 when training in bf16 (PEFT keeps the adapters in fp32).
    - ``device_map``: None, always. TRL's default is ``"auto"`` on a GPU, which under FSDP
      (which TRL does not special-case) makes every rank load a whole fp32 copy onto a GPU
      before sharding, and in one process spreads the model over every visible GPU; with
      None the Trainer puts the model on its process's device, and FSDP's
      ``cpu_ram_efficient_loading`` loads the weights on rank 0 only.
    """
    dtype = "bfloat16" if precision == "bf16" and cfg.lora is not None else "float32"
    return {"dtype": dtype, "device_map": None}


def build_grpo_config(cfg: TrainConfig) -> Any:
    """TRL's ``GRPOConfig`` from ours: one optimizer step per generation round.

    GRPO's numbers pass through under their own names (:class:`GrpoOptions`); what is ours
    to decide is the batch shape, the device and precision, how the model loads, and the
    vLLM, checkpoint and logging options.
    """
    import torch
    from trl.trainer.grpo_config import GRPOConfig

    cuda = torch.cuda.is_available()
    precision = resolve_precision(cfg)
    vllm: dict[str, Any] = {"use_vllm": cfg.vllm is not None}
    if cfg.vllm is not None:
        vllm.update({f"vllm_{k}": v for k, v in cfg.vllm.model_dump().items()})
    return GRPOConfig(
        **cfg.grpo_options(),
        **vllm,
        output_dir=str(cfg.out / "checkpoints"),
        per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=_accumulation_per_process(cfg, _launched_processes()),
        logging_steps=1,
        report_to=[] if cfg.report_to == "none" else [cfg.report_to],
        use_cpu=not cuda,
        bf16=precision == "bf16",
        model_init_kwargs=model_init_kwargs(cfg, precision),
        save_only_model=not cfg.save_optimizer,
        ddp_timeout=cfg.ddp_timeout_s,
        remove_unused_columns=False,
        disable_tqdm=False,
        dataloader_num_workers=0,
    )


def _launched_processes() -> int:
    """How many processes the launcher started, as accelerate itself reads it. Not through
    ``PartialState()``: its first construction fixes the distributed state, and it must be
    TrainingArguments' own (CPU flag, backend, DeepSpeed), so the config is built once."""
    from accelerate.utils.environment import get_int_from_env

    keys = ["WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"]
    return max(1, int(get_int_from_env(keys, 1)))


def _accumulation_per_process(cfg: TrainConfig, processes: int) -> int:
    """Under `accelerate launch` each process accumulates its share of the step, so
    prompts_per_step means the same batch however many processes train."""
    accum, rest = divmod(cfg.gradient_accumulation_steps, processes)
    if rest or not accum:
        raise ConfigError(
            f"prompts_per_step x num_generations / micro_batch_size "
            f"({cfg.gradient_accumulation_steps}) must be a multiple of the {processes} "
            "processes launched; raise prompts_per_step or lower micro_batch_size"
        )
    return accum


def make_callbacks(cfg: TrainConfig, reward: TrackedReward, sandbox: Sandbox) -> list[Any]:
    from transformers import TrainerCallback

    from cobalt_rl.heap import trim_heap

    metrics_path = cfg.out / "metrics.jsonl"

    class MetricsLog(TrainerCallback):
        """Appends every log TRL emits, with our step timing and execution share."""

        def __init__(self) -> None:
            self.step_start = time.perf_counter()
            self.exec_at_start = 0.0
            self.train_start = time.perf_counter()

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.train_start = time.perf_counter()

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.step_start = time.perf_counter()
            self.exec_at_start = reward.exec_seconds

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            trim_heap()  # the step's freed activations back to the system (cobalt_rl.heap)
            self.last_step_seconds = time.perf_counter() - self.step_start
            self.last_exec = reward.exec_seconds - self.exec_at_start
            elapsed = time.perf_counter() - self.train_start
            if cfg.max_seconds is not None and rank_zero_decides(elapsed >= cfg.max_seconds):
                log.info(
                    "time budget of %.0f s used after step %d: stopping",
                    cfg.max_seconds,
                    state.global_step,
                )
                if state.is_world_process_zero:
                    _append(
                        metrics_path,
                        {
                            "step": state.global_step,
                            "stopped": "time budget",
                            "train_seconds": elapsed,
                        },
                    )
                control.should_training_stop = True
                control.should_save = True
            validation = cfg.validation
            if validation and state.global_step % validation.every == 0:
                model = kw.get("model")
                tokenizer = kw.get("processing_class")
                if model is not None and tokenizer is not None:
                    row = validate_on_every_process(
                        validation, cfg.lora is not None, model, tokenizer, sandbox,
                        getattr(self, "accelerator", None), state.is_world_process_zero,
                    )  # fmt: skip
                    if row is not None:
                        _append(metrics_path, {"step": state.global_step, **row})

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if not logs or not state.is_world_process_zero:  # one row per step, not per process
                return
            # TRL's numbers are over all processes; ours (reward.last) over this process's share.
            row: dict[str, Any] = {
                "step": state.global_step,
                **logs,
                **reward.last,
                "world_size": args.world_size,
            }
            step_s = getattr(self, "last_step_seconds", None)
            if step_s:
                row["step_seconds"] = step_s
                row["exec_share"] = getattr(self, "last_exec", 0.0) / step_s
            _append(metrics_path, row)

    return [MetricsLog()]


def _append(path: Path, row: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(row, default=float) + "\n")


def _sharded_over_processes(accelerator: Any) -> bool:
    """Whether the policy's weights are split over several processes (FSDP, DeepSpeed), so
    that reading them whole is a collective every process must join."""
    if accelerator is None or int(getattr(accelerator, "num_processes", 1)) <= 1:
        return False
    from accelerate.utils import DistributedType

    return accelerator.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)


def validate_on_every_process(
    validation: ValidationOptions,
    lora: bool,
    model: Any,
    tokenizer: Any,
    sandbox: Sandbox,
    accelerator: Any,
    main: bool,
) -> dict[str, float] | None:
    """:func:`validate` from the main process, called on every process: with sharded weights
    every process first joins the gather of the whole state dict (accelerate's
    ``get_state_dict``), then waits while the main process validates; without it the main
    process would save its own shard and the others would wait in the next collective until
    the watchdog kills the run. Returns the row on the main process, else None. LoRA with
    sharded weights is not validated (its merge needs the whole model in one process): said
    once in the log."""
    sharded = _sharded_over_processes(accelerator)
    if sharded and lora:
        if main and not getattr(validate_on_every_process, "_said", False):
            log.warning("validation skipped: LoRA over sharded weights cannot be merged here")
            validate_on_every_process._said = True  # type: ignore[attr-defined]
        return None
    state = accelerator.get_state_dict(model) if sharded else None
    row = validate(validation, lora, model, tokenizer, sandbox, state) if main else None
    if sharded:
        accelerator.wait_for_everyone()
    return row


def validate(
    validation: ValidationOptions,
    lora: bool,
    model: Any,
    tokenizer: Any,
    sandbox: Sandbox,
    state_dict: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Multi-turn Pass@1 by turn on the validation problems, with the current weights
    (``state_dict``: the whole weights, gathered from the processes that hold their shards)."""
    import copy
    import tempfile

    from cobalt_rl.episode.rollout import run_rollout
    from cobalt_rl.evaluate import compute_metrics, score_trajectories
    from cobalt_rl.llm.hf import TransformersGenerator
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import Trajectory, read_jsonl

    problems = load_problems(validation.problems)
    was_training = model.training
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        # LoRA: merge into a copy (merging in place would end the adapter training).
        unwrapped = (
            copy.deepcopy(model).merge_and_unload()
            if lora and hasattr(model, "merge_and_unload")
            else model
        )
        if state_dict is not None:
            from accelerate.utils import extract_model_from_parallel

            unwrapped = extract_model_from_parallel(model)
            unwrapped.save_pretrained(model_dir, state_dict=state_dict)
        else:
            unwrapped.save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)
        gen = TransformersGenerator(model_dir)
        out = Path(tmp) / "val.jsonl"
        run_rollout(problems, gen, sandbox, str(out), validation.rollout)
        gen.close()
        trajs = list(read_jsonl(out, Trajectory))
    if was_training:
        model.train()
    by_id = {p.id: p for p in problems}
    metrics = compute_metrics(
        score_trajectories(trajs, by_id, sandbox, profile=validation.rollout.profile), by_id
    )
    return {f"val/pass@1_turn{t.turn}": t.pass_at_1 for t in metrics.turns}


def save_final(trainer: Any, tokenizer: Any, cfg: TrainConfig) -> Path:
    """Save the trained policy (LoRA merged) where ``cobalt rollout --model`` can load it;
    in bf16 when it was trained in bf16 (half the disk; what vLLM would load anyway)."""
    final = cfg.out / "final"
    model = trainer.model
    if cfg.lora is not None and hasattr(model, "merge_and_unload"):
        if trainer.accelerator.is_main_process:
            model.merge_and_unload().save_pretrained(final)
            tokenizer.save_pretrained(final)
    else:
        # Gathers FSDP/DeepSpeed shards and writes from the main process only.
        trainer.save_model(str(final))
    if trainer.args.bf16 and trainer.accelerator.is_main_process:
        weights_to_bf16(final)
    trainer.accelerator.wait_for_everyone()
    return final


def weights_to_bf16(directory: Path) -> None:
    """Rewrite a saved checkpoint's floating-point weights as bf16, one shard at a time, and
    say so in its config (the master weights were fp32 only for the optimizer's sake)."""
    import torch
    from safetensors.torch import load_file, save_file

    for shard in sorted(directory.glob("*.safetensors")):
        tensors = load_file(str(shard))
        cast_tensors = {
            name: t.to(torch.bfloat16) if t.is_floating_point() else t
            for name, t in tensors.items()
        }
        save_file(cast_tensors, str(shard), metadata={"format": "pt"})
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        data = json.loads(index.read_text())
        total = data.get("metadata", {}).get("total_size")
        if isinstance(total, int):
            data["metadata"]["total_size"] = total // 2  # fp32 -> bf16 (ints are rare)
        index.write_text(json.dumps(data, indent=2))
    config = directory / "config.json"
    if config.is_file():
        data = json.loads(config.read_text())
        for key in ("dtype", "torch_dtype"):
            if key in data:
                data[key] = "bfloat16"
        data.setdefault("dtype", "bfloat16")
        config.write_text(json.dumps(data, indent=2))


def reference_to_bf16(trainer: Any) -> None:
    """Hold the reference model in bf16 when training in bf16: it is never updated, so the
    fp32 copy TRL loads (from the policy's arguments) only doubles its memory (16 GB for an
    8B model). Only where the reference is a plain module (one process, DDP); under FSDP2
    :mod:`cobalt_rl.train.fsdp_reference` casts it before sharding, DeepSpeed shards it."""
    import torch
    from accelerate.utils import DistributedType

    ref = getattr(trainer, "ref_model", None)
    plain = trainer.accelerator.distributed_type in (DistributedType.NO, DistributedType.MULTI_GPU)
    if ref is not None and trainer.args.bf16 and plain:
        ref.to(torch.bfloat16)


def release(trainer: Any) -> None:
    """Free what a finished trainer holds on the accelerator: its colocated vLLM engine, the
    policy, the reference model, the optimizer. ``cobalt run`` evaluates in the same process
    right after training, with a new vLLM engine that asks for most of the GPU; without this
    the old engine, weights and AdamW state still sit there."""
    import torch

    generation = getattr(trainer, "vllm_generation", None)
    if generation is not None and getattr(generation, "llm", None) is not None:
        generation.llm = None
        if trainer.accelerator.num_processes == 1:
            try:  # vLLM's documented teardown of an in-process engine's parallel groups
                from vllm.distributed.parallel_state import (  # type: ignore[import-not-found]
                    destroy_model_parallel,
                )

                destroy_model_parallel()
            except ImportError:  # pragma: no cover (vLLM installed is what made the engine)
                pass
    trainer.accelerator.free_memory()
    for name in ("model", "model_wrapped", "ref_model", "optimizer", "lr_scheduler"):
        if hasattr(trainer, name):
            setattr(trainer, name, None)
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def finished_run(cfg: TrainConfig) -> Path | None:
    """The final model of a run that has already trained all ``max_steps`` (its last
    checkpoint says so and ``final/`` is complete), else None. The recipes train under
    ``accelerate launch`` and then run ``cobalt run`` again for the evaluation: that run must
    not load an 8B model onto one GPU only to find there is nothing left to train."""
    from transformers.trainer_utils import get_last_checkpoint

    final, checkpoints = cfg.out / "final", cfg.out / "checkpoints"
    if not cfg.resume or not (final / "config.json").is_file() or not checkpoints.is_dir():
        return None
    last = get_last_checkpoint(str(checkpoints))  # type: ignore[no-untyped-call]
    state = Path(last) / "trainer_state.json" if last else None
    if state is None or not state.is_file():
        return None
    steps = int(json.loads(state.read_text()).get("global_step", 0))
    return final if steps >= cfg.max_steps else None


@dataclass
class OnlineParts:
    """What an online trainer puts into :func:`run_grpo`: its reward (for TRL and the metrics
    log), TRL trainer class and the extra arguments that class takes."""

    reward: TrackedReward
    trainer_class: Any
    trainer_kwargs: dict[str, Any] = field(default_factory=dict)


def bandit_generation(cfg: TrainConfig) -> dict[str, Any]:
    """The bandit's extra trainer arguments: its own generation where replies stop at the
    program's end (TRL's generation has no per-row stop), else none (TRL generates)."""
    if not cfg.sampling.stop_at_program_end or cfg.vllm is not None:
        return {}
    from cobalt_rl.train.episodes import single_reply_rollout

    return {"rollout_func": single_reply_rollout(cfg.sampling)}


def run_grpo(
    cfg: TrainConfig,
    rows: list[dict[str, Any]],
    build: Callable[[Sandbox, Any, Path], OnlineParts] | None = None,
) -> Path:
    """The training loop every trainer shares: sandbox, reward, TRL GRPO, resume, save.

    ``rows`` are the dataset rows; ``build(sandbox, tokenizer, model_path)``, when given,
    makes an online trainer's parts (:mod:`cobalt_rl.train.online`); without it, TRL's own
    ``GRPOTrainer`` with the sandbox reward (the bandit). Returns the final model's directory.
    """
    from datasets import Dataset
    from transformers.trainer_utils import get_last_checkpoint
    from trl.trainer.grpo_trainer import GRPOTrainer

    from cobalt_rl.sandbox.factory import make_sandbox
    from cobalt_rl.train.cpu_head import use_compact_head
    from cobalt_rl.train.fsdp_reference import layered_reference
    from cobalt_rl.train.memory import preflight
    from cobalt_rl.train.microbatch import group_by_length

    done = finished_run(cfg)
    if done is not None:  # e.g. trained under `accelerate launch`, then `cobalt run` again
        log.info("%s already trained its %d steps: %s", cfg.out, cfg.max_steps, done)
        return done
    preflight(cfg)  # before any model loads: stop early with a suggestion when it cannot fit
    dataset = Dataset.from_list(rows)
    model_path, tokenizer = load_policy_source(cfg)
    # Every process of a multi-process launch looks for checkpoints before rank 0 makes this.
    (cfg.out / "checkpoints").mkdir(parents=True, exist_ok=True)
    # The config first: building it fixes accelerate's distributed state (PartialState, with
    # ddp_timeout); a PartialState() made before it, e.g. in ``build``, would keep torch's
    # 10-minute default.
    args = build_grpo_config(cfg)
    with closing(make_sandbox(cfg.sandbox)) as sandbox:
        parts = (
            build(sandbox, tokenizer, model_path)
            if build is not None
            else OnlineParts(
                make_reward(cfg.reward, sandbox, cfg.profile, cfg.reasoning),
                GRPOTrainer,
                bandit_generation(cfg),
            )
        )
        peft_config = None
        if cfg.lora is not None:
            from peft import LoraConfig

            peft_config = LoraConfig(
                r=cfg.lora.r,
                lora_alpha=cfg.lora.alpha,
                target_modules="all-linear",
                task_type="CAUSAL_LM",
            )
        callbacks = make_callbacks(cfg, parts.reward, sandbox)
        with layered_reference(bool(args.bf16)):  # FSDP2: the reference sharded per block
            trainer = parts.trainer_class(
                model=str(model_path),
                reward_funcs=[cast(Any, parts.reward)],
                args=args,
                train_dataset=dataset,
                processing_class=tokenizer,
                peft_config=peft_config,
                callbacks=callbacks,
                **parts.trainer_kwargs,
            )
        for callback in callbacks:
            callback.accelerator = trainer.accelerator  # validation gathers sharded weights
        last = get_last_checkpoint(args.output_dir) if cfg.resume else None  # type: ignore[no-untyped-call]
        if last:
            log.info("resuming from %s", last)
        reference_to_bf16(trainer)
        if cfg.cpu_head == "compact":
            use_compact_head(trainer)
        if cfg.group_by_length and not group_by_length(trainer):
            log.info(
                "group_by_length ignored: loss %s normalises per micro-batch", trainer.loss_type
            )
        trainer.train(resume_from_checkpoint=last)
        final = save_final(trainer, tokenizer, cfg)
        release(trainer)
        return final
