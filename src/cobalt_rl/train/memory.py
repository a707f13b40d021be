"""Per-device memory of a training config, estimated before any model loads.

:func:`preflight` runs at the start of every trainer (``cobalt train``, and ``cobalt run``'s
train stage): on a GPU it estimates the memory each device needs for the config as launched
and stops with a suggestion when that exceeds the device. ``cobalt plan CONFIG`` prints the
same estimate for the layouts one might launch (:func:`plan`).

What is counted, per device (GB = 1e9 bytes), for parameter count P over n processes:

- weights, gradients, optimizer: mixed precision (``precision: bf16``) keeps fp32 master
  weights (4P), fp32 gradients (4P) and AdamW's two moments (8P). One process and DDP hold
  all of it on every GPU; DeepSpeed ZeRO-2 keeps bf16 weights replicated (2P) and shards
  the fp32 master copy with the moments (12P/n) and the bf16 gradients (2P/n); ZeRO-3 also
  shards the weights; FSDP2 shards all three fp32 stores (16P/n) and gathers two layers at
  a time in bf16. LoRA: the frozen base in bf16 plus fp32 adapters with their AdamW state.
- reference model (``beta > 0``, full training; LoRA disables its adapters instead): bf16,
  replicated (one process, DDP, ZeRO-2) or sharded (ZeRO-3, FSDP2).
- vLLM: colocated, ``gpu_memory_utilization`` x the device; a server on other GPUs: 0 here.
- RLEF's critic: 16 bytes per parameter of its backbone (its first ``critic_layers``, no LM
  head) on every process, unsharded.
- activations for one micro-batch of ``prompt_tokens + completion`` tokens: with gradient
  checkpointing one saved hidden state per layer plus one layer recomputed; without it about
  17 values per hidden unit per layer (Korthikanti et al., arXiv 2205.05198, with fused
  attention); plus the completion's logits and their gradient (TRL keeps only the
  completion's logits).

Parameter counts come from an empty (meta-device) model built from the checkpoint's config,
measured with accelerate's estimator (``calculate_maximum_sizes``, what ``accelerate
estimate-memory`` uses); Hub models whose config is not on this machine fall back to a small
table of the recipes' architectures. Not counted: the CUDA context and allocator
fragmentation (a few GB), the vLLM engine's own fragmentation, TRL's generation buffers.
Checked against hand estimates of the recipes' memory (tests/test_plan.py), themselves
estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cobalt_rl.errors import ConfigError
from cobalt_rl.train.config import (
    MultiturnTrainConfig,
    RlefTrainConfig,
    TrainConfig,
    VerpoTrainConfig,
)

__all__ = [
    "Architecture",
    "Estimate",
    "Layout",
    "architecture",
    "current_layout",
    "estimate",
    "format_plan",
    "plan",
    "preflight",
]

GB = 1e9
Strategy = Literal["single", "ddp", "zero2", "zero3", "fsdp"]
VllmPlace = Literal["none", "colocate", "server"]

# Architectures of the recipes' models (their Hub config.json), for machines without them.
KNOWN_CONFIGS: dict[str, dict[str, Any]] = {
    "Qwen/Qwen3-8B": {
        "model_type": "qwen3",
        "hidden_size": 4096,
        "intermediate_size": 12288,
        "num_hidden_layers": 36,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "vocab_size": 151936,
        "max_position_embeddings": 40960,
        "tie_word_embeddings": False,
    },
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": {
        "model_type": "llama",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 128256,
        "max_position_embeddings": 131072,
        "tie_word_embeddings": False,
    },
    "embedded": {  # SmolLM2-135M-Instruct
        "model_type": "llama",
        "hidden_size": 576,
        "intermediate_size": 1536,
        "num_hidden_layers": 30,
        "num_attention_heads": 9,
        "num_key_value_heads": 3,
        "vocab_size": 49152,
        "max_position_embeddings": 8192,
        "tie_word_embeddings": True,
    },
}


@dataclass(frozen=True)
class Architecture:
    """What the estimate needs of a model: its size and shape."""

    name: str
    params: int
    largest_layer: int
    """Parameters of the largest block (FSDP gathers one at a time)."""
    layers: int
    hidden: int
    intermediate: int
    vocab: int
    context: int
    tied: bool = True
    """Whether the LM head shares the embeddings' weights (else it is as large again)."""


@dataclass(frozen=True)
class Layout:
    """How training is launched: sharding strategy, training GPUs, where vLLM runs."""

    strategy: Strategy
    gpus: int = 1
    vllm: VllmPlace = "none"

    @property
    def label(self) -> str:
        names = {
            "single": "one GPU",
            "ddp": f"DDP x{self.gpus}",
            "zero2": f"ZeRO-2 x{self.gpus}",
            "zero3": f"ZeRO-3 x{self.gpus}",
            "fsdp": f"FSDP2 x{self.gpus}",
        }
        suffix = {"none": "", "colocate": " + vLLM colocated", "server": " + vLLM server GPU"}
        return names[self.strategy] + suffix[self.vllm]


@dataclass(frozen=True)
class Estimate:
    """Per-device memory, GB, by what holds it."""

    layout: Layout
    weights: float
    gradients: float
    optimizer: float
    reference: float
    vllm: float
    activations: float
    critic: float = 0.0
    """RLEF's critic (:mod:`cobalt_rl.train.critic`): its backbone and value head in fp32
    with their gradients and AdamW state, 16 bytes a parameter, on every process (it is not
    sharded)."""

    @property
    def total(self) -> float:
        return (
            self.weights
            + self.gradients
            + self.optimizer
            + self.reference
            + self.vllm
            + self.activations
            + self.critic
        )


def architecture(model: str, cache_dir: Path | None = None) -> Architecture:
    """The architecture of ``model`` ('embedded', a checkpoint directory or a Hub id),
    from its config only (no weights are read)."""
    from transformers import AutoConfig

    config: Any = None
    local = Path(model) if model != "embedded" else None
    if model == "embedded":
        from cobalt_rl.llm.embedded import default_cache_dir

        local = cache_dir or default_cache_dir()
    if local is not None and (local / "config.json").is_file():
        config = AutoConfig.from_pretrained(str(local))
    elif model in KNOWN_CONFIGS:
        data = dict(KNOWN_CONFIGS[model])
        config = AutoConfig.for_model(data.pop("model_type"), **data)
    else:
        try:
            config = AutoConfig.from_pretrained(model, local_files_only=True)
        except (OSError, ValueError) as error:
            raise ConfigError(
                f"cannot read the config of {model!r} to estimate its memory (not a "
                f"checkpoint directory, not in the local Hub cache, not one of "
                f"{', '.join(KNOWN_CONFIGS)}): download it first, or set memory.check: false"
            ) from error
    return _measure(model, config)


def _measure(name: str, config: Any) -> Architecture:
    """Count parameters on an empty model built from ``config`` (accelerate's estimator)."""
    from accelerate import init_empty_weights
    from accelerate.utils import calculate_maximum_sizes
    from transformers import AutoModelForCausalLM

    with init_empty_weights():
        auto: Any = AutoModelForCausalLM  # from_config is untyped
        empty = auto.from_config(config)
    total_bytes, (largest_bytes, _) = calculate_maximum_sizes(empty)
    bytes_per = next(empty.parameters()).element_size()
    text = getattr(config, "text_config", None) or config
    return Architecture(
        name=name,
        params=int(total_bytes // bytes_per),
        largest_layer=int(largest_bytes // bytes_per),
        layers=int(text.num_hidden_layers),
        hidden=int(text.hidden_size),
        intermediate=int(getattr(text, "intermediate_size", 4 * text.hidden_size)),
        vocab=int(text.vocab_size),
        context=int(getattr(text, "max_position_embeddings", 0) or 0),
        tied=bool(getattr(config, "tie_word_embeddings", True)),
    )


def _sequence(cfg: TrainConfig) -> tuple[int, int]:
    """(tokens per sequence, completion tokens) of the longest micro-batch row."""
    online = (MultiturnTrainConfig, RlefTrainConfig, VerpoTrainConfig)
    completion = cfg.sampling.max_new_tokens
    if isinstance(cfg, online) and cfg.episode.max_episode_tokens is not None:
        completion = cfg.episode.max_episode_tokens
    return cfg.memory.prompt_tokens + completion, completion


def estimate(
    cfg: TrainConfig,
    arch: Architecture,
    layout: Layout,
    device_gb: float,
    precision: Literal["fp32", "bf16"] = "bf16",
) -> Estimate:
    """Per-device memory of ``cfg`` on ``arch`` launched as ``layout`` (see the module
    docstring for what each term counts)."""
    p, n = arch.params, max(1, layout.gpus)
    half = 2 if precision == "bf16" else 4  # bytes of a bf16 (or, in fp32 runs, fp32) value
    sharded = layout.strategy in ("zero3", "fsdp")
    if cfg.lora is not None:
        adapters = (
            cfg.lora.r * arch.layers * (8 * arch.hidden + 3 * (arch.hidden + arch.intermediate))
        )
        weights = half * p / (n if sharded else 1) + 4 * adapters
        gradients, optimizer, reference = 4.0 * adapters, 8.0 * adapters, 0.0
    else:
        if layout.strategy in ("single", "ddp"):
            weights, gradients, optimizer = 4.0 * p, 4.0 * p, 8.0 * p
        elif layout.strategy == "zero2":
            weights, gradients, optimizer = half * p, half * p / n, (8 + 4) * p / n
        elif layout.strategy == "zero3":
            weights, gradients, optimizer = half * p / n, half * p / n, (8 + 4) * p / n
        else:  # FSDP2: fp32 shards of all three
            weights, gradients, optimizer = 4.0 * p / n, 4.0 * p / n, 8.0 * p / n
        if sharded:  # two blocks gathered at a time (one computing, one prefetched)
            weights += 2 * half * arch.largest_layer
        # TRL's reference: sharded with the policy (FSDP2 per block, fsdp_reference.py);
        # RLEF's own reference is a whole model on every process
        spread = n if sharded and not isinstance(cfg, RlefTrainConfig) else 1
        reference = half * p / spread if cfg.beta > 0 else 0.0
    vllm = 0.0
    if layout.vllm == "colocate" and cfg.vllm is not None:
        vllm = cfg.vllm.gpu_memory_utilization * device_gb * GB
    tokens, completion = _sequence(cfg)
    batch = cfg.micro_batch_size
    if cfg.gradient_checkpointing:
        hidden_states = arch.layers * batch * tokens * arch.hidden * half
        hidden_states += batch * tokens * (4 * arch.hidden + 3 * arch.intermediate) * half
    else:
        hidden_states = 17 * arch.layers * batch * tokens * arch.hidden * half
    logits = 2 * batch * completion * arch.vocab * half
    critic = 0.0
    if isinstance(cfg, RlefTrainConfig):
        backbone = architecture(cfg.critic_model, cfg.cache_dir) if cfg.critic_model else arch
        critic = 16.0 * critic_parameters(backbone, cfg.critic_layers)
    return Estimate(
        layout=layout,
        weights=weights / GB,
        gradients=gradients / GB,
        optimizer=optimizer / GB,
        reference=reference / GB,
        vllm=vllm / GB,
        activations=(hidden_states + logits) / GB,
        critic=critic / GB,
    )


def critic_parameters(arch: Architecture, layers: int | None) -> float:
    """Parameters of a critic on ``arch``'s backbone (no LM head) cut to its first
    ``layers``: the embeddings plus that share of the decoder layers."""
    embeddings = arch.vocab * arch.hidden
    body = arch.params - embeddings * (1 if arch.tied else 2)
    kept = min(layers or arch.layers, arch.layers) / max(1, arch.layers)
    return embeddings + kept * body


def candidate_layouts(cfg: TrainConfig) -> list[Layout]:
    """The layouts ``cobalt plan`` shows, fewest GPUs first."""
    colocate: VllmPlace = "colocate" if cfg.vllm is not None else "none"
    server: VllmPlace = "server" if cfg.vllm is not None else "none"
    return [
        Layout("single", 1, colocate),
        Layout("zero2", 4, colocate),
        Layout("fsdp", 4, colocate),
        Layout("fsdp", 4, server),
        Layout("zero2", 8, colocate),
        Layout("fsdp", 8, colocate),
    ]


def plan(
    cfg: TrainConfig,
    device_gb: float,
    arch: Architecture | None = None,
    layouts: Sequence[Layout] | None = None,
) -> list[Estimate]:
    """The estimate of ``cfg`` for each layout (default: :func:`candidate_layouts`)."""
    arch = arch or architecture(cfg.model, cfg.cache_dir)
    # A plan is for the GPU box, not this machine: auto means bf16 there.
    precision: Literal["fp32", "bf16"] = "fp32" if cfg.precision == "fp32" else "bf16"
    return [
        estimate(cfg, arch, layout, device_gb, precision)
        for layout in (layouts or candidate_layouts(cfg))
    ]


def format_plan(cfg: TrainConfig, estimates: Sequence[Estimate], device_gb: float) -> str:
    """The plan as a markdown table, one row per layout."""
    tokens, completion = _sequence(cfg)
    lines = [
        f"per-device memory, GB (1e9 bytes), for {cfg.model}: micro-batch "
        f"{cfg.micro_batch_size} x {tokens} tokens ({completion} completion), gradient "
        f"checkpointing {'on' if cfg.gradient_checkpointing else 'off'}, "
        f"{'LoRA' if cfg.lora else 'full weights'}, beta {cfg.beta}, vLLM "
        f"{cfg.vllm.gpu_memory_utilization if cfg.vllm else 0} of a {device_gb:g} GB device",
        "",
        "| layout | weights | grads | optimizer | reference | vLLM | activations | critic "
        f"| total | fits {device_gb:g} GB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in estimates:
        lines.append(
            f"| {e.layout.label} | {e.weights:.1f} | {e.gradients:.1f} | {e.optimizer:.1f} "
            f"| {e.reference:.1f} | {e.vllm:.1f} | {e.activations:.1f} | {e.critic:.1f} "
            f"| {e.total:.1f} "
            f"| {_verdict(e.total, device_gb)} |"
        )
    lines.append("")
    lines.append(
        "Not counted: the CUDA context and allocator fragmentation (a few GB); 'tight' is "
        "within 10% of the device. DDP holds what one GPU holds."
    )
    return "\n".join(lines)


def _verdict(total: float, device_gb: float) -> str:
    if total > device_gb:
        return "no"
    return "tight" if total > 0.9 * device_gb else "yes"


def current_layout(cfg: TrainConfig) -> Layout:
    """The layout this process was launched in, as ``accelerate launch`` hands it over (its
    environment variables, read with accelerate's own helpers). Not through
    ``PartialState()``: its first construction fixes the distributed state, which must be
    TrainingArguments' own (CPU flag, backend, DeepSpeed)."""
    import os

    from accelerate.utils.environment import get_int_from_env, parse_flag_from_env

    vllm: VllmPlace = cfg.vllm.mode if cfg.vllm is not None else "none"
    keys = ["WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE"]
    processes = max(1, int(get_int_from_env(keys, 1)))
    if parse_flag_from_env("ACCELERATE_USE_FSDP"):
        return Layout("fsdp", processes, vllm)
    if parse_flag_from_env("ACCELERATE_USE_DEEPSPEED"):
        stage = os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE", "2")
        return Layout("zero3" if stage == "3" else "zero2", processes, vllm)
    if processes > 1:
        return Layout("ddp", processes, vllm)
    return Layout("single", 1, vllm)


def preflight(cfg: TrainConfig, device_gb: float | None = None) -> Estimate | None:
    """Stop before any model loads when ``cfg`` cannot fit on this machine's GPU.

    Skipped (returns None) with ``memory.check: false`` and on machines without a GPU unless
    ``memory.device_gb`` is set. Raises :class:`ConfigError` naming what does not fit and a
    layout that would (from :func:`plan`); returns the estimate otherwise.
    """
    if not cfg.memory.check:
        return None
    device_gb = device_gb or cfg.memory.device_gb
    if device_gb is None:
        import torch

        if not torch.cuda.is_available():
            return None
        device_gb = torch.cuda.get_device_properties(0).total_memory / GB
    from cobalt_rl.train.config import resolve_precision

    arch = architecture(cfg.model, cfg.cache_dir)
    layout = current_layout(cfg)
    mine = estimate(cfg, arch, layout, device_gb, resolve_precision(cfg))
    if mine.total <= device_gb:
        return mine
    fitting = [e for e in plan(cfg, device_gb, arch) if e.total <= device_gb]
    if fitting:
        best = fitting[0]
        launcher = {"fsdp": "fsdp.yaml", "zero2": "deepspeed-zero2.yaml"}.get(
            best.layout.strategy, "ddp.yaml"
        )
        hint = (
            f"it would fit as {best.layout.label} (~{best.total:.0f} GB per GPU): accelerate "
            f"launch --config_file configs/accelerate/{launcher} --num_processes "
            f"{best.layout.gpus} -m cobalt_rl.cli.main train --config ..."
        )
        if best.layout.vllm == "server":
            hint += " with vllm.mode: server and `trl vllm-serve` on another GPU"
    else:
        hint = "no launch of up to 8 GPUs fits: train LoRA adapters (lora: {})"
    raise ConfigError(
        f"this training config needs about {mine.total:.0f} GB per GPU as launched "
        f"({layout.label}: weights {mine.weights:.0f}, gradients {mine.gradients:.0f}, "
        f"optimizer {mine.optimizer:.0f}, reference {mine.reference:.0f}, vLLM "
        f"{mine.vllm:.0f}, activations {mine.activations:.0f}) but the GPU has "
        f"{device_gb:.0f} GB; {hint}; or lower micro_batch_size"
        f"{'' if cfg.gradient_checkpointing else ' / turn on gradient_checkpointing'}. "
        "`cobalt plan CONFIG` prints every layout; memory.check: false skips this check."
    )
