"""The training config, split by mode: ``BanditTrainConfig`` (Cobalt) and the online
multi-turn trainers (``MultiturnTrainConfig``: GRPO; ``RlefTrainConfig``: PPO with a turn-level
critic; ``VerpoTrainConfig``: VeRPO's dense reward) share ``GrpoOptions`` and the run's
plumbing; optional sections (``lora``, ``vllm``, ``validation``) exist only when set. The
online modes hold an :class:`~cobalt_rl.episode.config.EpisodeConfig` (the one episode
engine, :mod:`cobalt_rl.episode.engine`). Every mode samples with ``sampling`` (a
:class:`~cobalt_rl.llm.SamplingParams`: ``max_new_tokens`` is the reply cap).

``TrainConfig`` is the union, told apart by ``mode`` (``bandit`` when absent). The fields of
:class:`GrpoOptions` carry TRL's own ``GRPOConfig`` names and reach it as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, Tag, model_validator

from cobalt_rl.config_io import tag_by
from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig, episode_section
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.profiles import DEFAULT_PROFILE, PROFILE_FIELD_DOC, Profile
from cobalt_rl.sandbox.factory import SandboxConfig, default_sandbox_config

__all__ = [
    "TRAIN_CONFIGS",
    "BanditTrainConfig",
    "GrpoOptions",
    "LoraOptions",
    "MemoryOptions",
    "MultiturnTrainConfig",
    "OnlineTrainConfig",
    "Precision",
    "RlefTrainConfig",
    "TrainConfig",
    "ValidationOptions",
    "VerpoTrainConfig",
    "VllmOptions",
    "parse_train_config",
    "resolve_precision",
    "train_config_class",
    "training_sampling",
]


class LoraOptions(BaseModel):
    """Train LoRA adapters instead of all weights (set the section, even empty, to enable)."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(16, ge=1, description="LoRA rank.")
    alpha: int = Field(32, ge=1, description="LoRA alpha.")


class VllmOptions(BaseModel):
    """Generate the completions with vLLM (GPU, TRL's integration); set to enable."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["colocate", "server"] = Field(
        "colocate", description="vLLM in the training process, or a `trl vllm-serve` server."
    )
    gpu_memory_utilization: float = Field(
        0.3, gt=0, le=1, description="colocate: share of each GPU's memory vLLM may take."
    )
    tensor_parallel_size: int = Field(
        1, ge=1, description="colocate: GPUs each vLLM engine shards the model over."
    )
    server_host: str = Field("127.0.0.1", description="server: `trl vllm-serve` host.")
    server_port: int = Field(8000, ge=1, le=65535, description="server: its port.")
    max_model_length: int | None = Field(
        None,
        ge=1,
        description="colocate: longest prompt + completion the engine holds, in tokens. Set "
        "it: unset, TRL sizes the KV cache for the model's full context (41k tokens for "
        "Qwen3, 131k for R1-Distill-Llama), leaving few sequences per batch.",
    )
    enable_sleep_mode: bool = Field(
        False,
        description="colocate: offload vLLM's weights and KV cache during the optimizer step "
        "(frees its share for training; costs a reload per step).",
    )
    importance_sampling_mode: Literal[
        "token_truncate", "token_mask", "sequence_truncate", "sequence_mask"
    ] = Field(
        "token_truncate",
        description="How TRL corrects for vLLM's sampling probabilities differing from the "
        "trainer's: token_truncate weighs each token by its own ratio, capped at "
        "importance_sampling_clip_max. TRL's default, sequence_mask, multiplies the ratios "
        "over the whole reply and drops replies above the cap: a reply of thousands of tokens "
        "with a small mismatch per token gets weight 0, so long replies would stop training. "
        "TRL logs the ratios (sampling/importance_sampling_ratio/*) in metrics.jsonl.",
    )
    importance_sampling_clip_max: float = Field(
        3.0, gt=0, description="The cap on the importance-sampling ratio (TRL's default)."
    )


class MemoryOptions(BaseModel):
    """The pre-flight memory check (:mod:`cobalt_rl.train.memory`), run before a model loads."""

    model_config = ConfigDict(extra="forbid")

    check: bool = Field(
        True,
        description="Stop before loading any model when the per-device estimate exceeds the "
        "device's memory (GPU only; `cobalt plan` prints the table).",
    )
    prompt_tokens: int = Field(
        10_000,
        ge=1,
        description="Longest prompt in tokens, for the activation estimate (Cobalt's contexts "
        "drop prompts over 10,000 tokens).",
    )
    device_gb: float | None = Field(
        None,
        gt=0,
        description="Memory per device in GB (1e9 bytes); unset: what torch reports for GPU 0.",
    )


class ValidationOptions(BaseModel):
    """Multi-turn Pass@1 on held-out problems during training (set to enable)."""

    model_config = ConfigDict(extra="forbid")

    problems: Path = Field(description="Problems JSONL to validate on.")
    every: int = Field(10, ge=1, description="Validate every N optimizer steps.")
    rollout: RolloutConfig = Field(
        default_factory=lambda: RolloutConfig(samples=2),
        description="Validation rollouts (episode, sampling, samples).",
    )


class GrpoOptions(BaseModel):
    """GRPO's numbers, under TRL's ``GRPOConfig`` names (defaults: the paper's settings)."""

    model_config = ConfigDict(extra="forbid")

    num_generations: int = Field(16, ge=2, description="Completions per prompt (GRPO group).")
    learning_rate: float = Field(1e-6, gt=0, description="AdamW learning rate.")
    beta: float = Field(
        1e-4,
        ge=0,
        description="KL coefficient to the reference model (0: no reference model); TRL's KL "
        "loss, except in rlef, where it is subtracted from each turn's reward (default there "
        "0.05).",
    )
    epsilon: float = Field(0.2, gt=0, description="PPO clip ratio (lower).")
    epsilon_high: float = Field(0.4, gt=0, description="PPO clip ratio (upper; clip-higher).")
    max_steps: int = Field(100, ge=1, description="Optimizer steps.")
    save_steps: int = Field(10, ge=1, description="Save a checkpoint every N steps.")
    save_total_limit: int = Field(2, ge=1, description="Checkpoints kept.")
    gradient_checkpointing: bool = Field(
        False,
        description="Recompute activations in the backward pass (saves memory on big "
        "models, costs ~30% time; off by default for the small models CPUs train).",
    )
    seed: int = Field(0, description="Seed for sampling and data order.")


def training_sampling() -> SamplingParams:
    """The trainers' default sampling: temperature 1, replies up to 1024 tokens."""
    return SamplingParams(max_new_tokens=1024)


class _TrainBase(GrpoOptions):
    """What every trainer shares besides GRPO's numbers."""

    mode_reward: ClassVar[str] = "cobalt"
    """The reward the mode trains on when ``reward`` is not given."""
    mode_defaults: ClassVar[dict[str, Any]] = {}
    """Fields whose default differs in this mode (the field itself is declared once)."""

    out: Path = Field(description="Run directory: checkpoints/, final/, metrics.jsonl.")
    model: str = Field(
        "embedded", description="'embedded' (SmolLM2-135M-Instruct) or a checkpoint directory."
    )
    cache_dir: Path | None = Field(None, description="embedded: converted-model cache dir.")
    reward: str = Field(
        "cobalt",
        description="Reward name (cobalt, binary, pass_rate, rlef, verpo) or module:function. "
        "Unset, each mode trains on its own: bandit and multiturn on cobalt; rlef on rlef, the "
        "score of the episode's last attempt on public + hidden tests (+1 solved, -1 not, "
        "-0.2 more without valid code); verpo on verpo, the dense difficulty-weighted test "
        "reward of every turn (another reward is scored per attempt, at every turn).",
    )
    sampling: SamplingParams = Field(
        default_factory=training_sampling,
        description="How completions are sampled (temperature > 0; max_new_tokens: the reply "
        "cap; the seed is the trainer's `seed`).",
    )
    prompts_per_step: int = Field(8, ge=1, description="Prompts per optimizer step.")
    micro_batch_size: int = Field(
        8,
        ge=1,
        description="Sequences per forward/backward pass (gradient accumulation "
        "covers the rest of the step).",
    )
    max_seconds: float | None = Field(
        None,
        gt=0,
        description="Wall-clock budget for training (generation, execution and updates); "
        "training stops after the step that exhausts it (for equal-time comparisons; "
        "a resumed run gets the budget afresh).",
    )
    report_to: Literal["none", "tensorboard", "wandb"] = Field(
        "none", description="Also log to TensorBoard or W&B."
    )
    sandbox: SandboxConfig = Field(
        default_factory=default_sandbox_config,
        description="Where the reward's programs run, and their limits.",
    )
    lora: LoraOptions | None = Field(None, description="LoRA adapters (unset: all weights).")
    vllm: VllmOptions | None = Field(None, description="vLLM generation (unset: transformers).")
    validation: ValidationOptions | None = Field(
        None, description="Validation during training (unset: none)."
    )
    resume: bool = Field(True, description="Resume from the last checkpoint in the run dir.")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Training arithmetic. bf16: bf16 autocast over fp32 master weights (the "
        "reference model and LoRA's frozen base in bf16; the final model saved in bf16); fp32: "
        "fp32 throughout; auto: bf16 on a GPU that supports it or a CPU with native bf16 "
        "(avx512_bf16 or AMX), else fp32.",
    )
    cpu_head: Literal["compact", "trl"] = Field(
        "compact",
        description="On CPU, how the trained log-probabilities are computed: compact (only "
        "the scored positions go through the LM head, its products in the autocast dtype; "
        "cobalt_rl.train.cpu_head) or trl (TRL's fused head as it comes: every position, "
        "gradient products in fp32). GPUs always use TRL's.",
    )
    group_by_length: bool = Field(
        True,
        description="Cut each step's batch into micro-batches of like-length sequences, each "
        "without its all-padding columns (cobalt_rl.train.microbatch; the same gradient under "
        "TRL's default dapo loss, ignored under bnpo); false: TRL's shuffled micro-batches at "
        "the whole batch's width.",
    )
    reasoning: bool = Field(
        False,
        description="The policy thinks before answering (Qwen3, R1): the cobalt reward also "
        "checks the thinking format (exactly one </think>, length), so a reply cut inside "
        "its reasoning is penalised, not scored on draft code (the reference profile's "
        "reward always checks it).",
    )
    ddp_timeout_s: int = Field(
        7200,
        ge=60,
        description="Several processes: how long one waits for the others in a collective "
        "before failing. A multi-turn step (every turn's generation and tests) or rank 0 "
        "writing a large checkpoint can keep the others waiting well past torch's 10 minutes.",
    )
    save_optimizer: bool = Field(
        True,
        description="Checkpoints include the optimizer state (exact resume). An 8B model's "
        "fp32 AdamW state is ~100 GB per checkpoint; false saves only the model (a resumed "
        "run restarts AdamW's moments).",
    )
    memory: MemoryOptions = Field(
        default_factory=MemoryOptions, description="The pre-flight memory check."
    )
    profile: Profile = Field(DEFAULT_PROFILE, description=PROFILE_FIELD_DOC)

    @model_validator(mode="after")
    def _check_batch(self) -> _TrainBase:
        batch = self.prompts_per_step * self.num_generations
        if batch % self.micro_batch_size:
            raise ValueError(
                f"prompts_per_step x num_generations ({batch}) must be a multiple of "
                f"micro_batch_size ({self.micro_batch_size}); e.g. micro_batch_size="
                f"{self.num_generations}"
            )
        if self.epsilon_high < self.epsilon:
            raise ValueError("epsilon_high must be >= epsilon (clip-higher widens the top)")
        if self.sampling.temperature <= 0:
            raise ValueError("sampling.temperature must be > 0: GRPO needs groups that differ")
        if self.sampling.seed is not None and self.sampling.seed != self.seed:
            raise ValueError(
                f"sampling.seed ({self.sampling.seed}) differs from seed ({self.seed}): training "
                "samples with the trainer's seed; set `seed` and leave sampling.seed unset"
            )
        if self.sampling.stop:
            raise ValueError(
                "sampling.stop is not supported in training (TRL's generation has no stop "
                "strings here); remove it"
            )
        # The stop at the program's end: the profile's default, but off by default where it
        # would be wrong (TRL's vLLM generation has no exact stop; a thinking model writes
        # drafts in its reasoning, which the chat template may have opened in the prompt).
        given = self.sampling.stop_at_program_end
        if given and self.vllm is not None:
            raise ValueError(
                "sampling.stop_at_program_end is not supported with vllm in training (TRL's "
                "vLLM generation has no per-reply stop at a code block's end); set it to false "
                "or leave it unset"
            )
        sampling = self.sampling.for_profile(self.profile)
        if given is None and (self.vllm is not None or self.reasoning):
            sampling = sampling.model_copy(update={"stop_at_program_end": False})
            sampling.model_fields_set.discard("stop_at_program_end")
        object.__setattr__(self, "sampling", sampling)  # decided, not given: fields_set kept
        return self

    @classmethod
    def default_of(cls, name: str) -> Any:
        """The value field ``name`` takes in this mode when it is not given."""
        if name in cls.mode_defaults:
            return cls.mode_defaults[name]
        return cls.model_fields[name].get_default(call_default_factory=True)

    @model_validator(mode="after")
    def _mode_defaults(self) -> _TrainBase:
        """The mode's own defaults for fields not given (decided, not given: fields_set kept)."""
        for name, value in {"reward": self.mode_reward, **self.mode_defaults}.items():
            if name not in self.model_fields_set:
                object.__setattr__(self, name, value)
        return self

    @property
    def gradient_accumulation_steps(self) -> int:
        return self.prompts_per_step * self.num_generations // self.micro_batch_size

    def grpo_options(self) -> dict[str, Any]:
        """What TRL's ``GRPOConfig`` takes: GRPO's numbers under their own names, and the
        sampling under TRL's (``max_new_tokens`` is its ``max_completion_length``)."""
        return {
            **self.model_dump(include=set(GrpoOptions.model_fields)),
            "temperature": self.sampling.temperature,
            "top_p": self.sampling.top_p,
            "top_k": self.sampling.top_k,
            "max_completion_length": self.sampling.max_new_tokens,
        }


class BanditTrainConfig(_TrainBase):
    """Cobalt: one reply per offline prefix (a contextual bandit), rewarded in the sandbox."""

    mode: Literal["bandit"] = Field("bandit", description="bandit, multiturn, rlef or verpo.")
    contexts: Path = Field(description="Contexts JSONL from `cobalt contexts`.")


def _online_episode() -> EpisodeConfig:
    return EpisodeConfig(stop_on_pass=True, max_episode_tokens=4096)


class _OnlineBase(_TrainBase):
    """What every online multi-turn trainer shares: the problems and how an episode runs
    (RLEF's rule by default: the episode ends when the public tests pass, and at most 4096
    completion tokens, replies plus feedback, per episode)."""

    problems: Path = Field(description="Problems JSONL the policy rolls out on.")
    episode: EpisodeConfig = Field(
        default_factory=_online_episode,
        description="How each episode runs (turns, stop_on_pass, max_episode_tokens...); its "
        "profile is the trainer's.",
    )

    @model_validator(mode="before")
    @classmethod
    def _episode_profile(cls, data: Any) -> Any:
        """The episode's profile is the trainer's; the online defaults under its own."""
        profile = data.get("profile", DEFAULT_PROFILE) if isinstance(data, dict) else None
        defaults = _online_episode().model_dump(include={"stop_on_pass", "max_episode_tokens"})
        return episode_section(data, profile, "train.episode", defaults)


class MultiturnTrainConfig(_OnlineBase):
    """The online multi-turn GRPO baseline: the policy rolls out whole episodes."""

    mode: Literal["multiturn"] = Field(description="bandit, multiturn, rlef or verpo.")


class _TurnRewardBase(_OnlineBase):
    """The online trainers that reward every turn and sum the rewards into each turn's
    return (RLEF's critic targets, VeRPO's advantages)."""

    gamma: float = Field(1.0, ge=0, le=1, description="Discount between turns.")


class RlefTrainConfig(_TurnRewardBase):
    """RLEF (arXiv 2410.02089): PPO with a turn-level critic and a KL penalty to the initial
    policy in the reward (``beta``); see :mod:`cobalt_rl.train.rlef` for the sources."""

    mode_reward = "rlef"

    mode_defaults = {"beta": 0.05}  # RLEF's form: a penalty in each turn's reward

    mode: Literal["rlef"] = Field(description="bandit, multiturn, rlef or verpo.")
    invalid_code_penalty: float = Field(
        0.2,
        ge=0,
        description="Subtracted from an earlier turn's reward when its reply has no valid code.",
    )
    critic_model: str | None = Field(
        None,
        description="Critic backbone: a checkpoint sharing the policy's tokenizer (e.g. a "
        "smaller model); unset: a copy of the initial policy.",
    )
    critic_layers: int | None = Field(
        None,
        ge=1,
        description="Keep only the first N transformer layers of the critic's backbone (a "
        "smaller critic that reads the same tokens; its cost scales with N); unset: all.",
    )
    critic_learning_rate: float = Field(
        1e-5, gt=0, description="AdamW learning rate of the critic."
    )
    critic_epochs: int = Field(1, ge=1, description="Critic passes over each batch.")
    lam: float = Field(1.0, ge=0, le=1, description="GAE lambda between turns.")
    whiten_advantages: bool = Field(
        False, description="Normalise advantages over the batch (mean 0, std 1)."
    )

    def grpo_options(self) -> dict[str, Any]:
        """TRL's options with its KL loss off: RLEF's KL is a penalty in the reward."""
        return {**super().grpo_options(), "beta": 0.0}


class VerpoTrainConfig(_TurnRewardBase):
    """VeRPO (arXiv 2601.03525): dense per-turn reward from difficulty-weighted tests and a
    group-relative advantage; see :mod:`cobalt_rl.train.verpo` for the sources."""

    mode_reward = "verpo"

    mode: Literal["verpo"] = Field(description="bandit, multiturn, rlef or verpo.")
    dense_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of a turn's reward from the weighted partial credit (the rest: "
        "all tests pass).",
    )


OnlineTrainConfig = MultiturnTrainConfig | RlefTrainConfig | VerpoTrainConfig
"""The configs of the online multi-turn trainers."""


TrainConfig = Annotated[
    Annotated[BanditTrainConfig, Tag("bandit")]
    | Annotated[MultiturnTrainConfig, Tag("multiturn")]
    | Annotated[RlefTrainConfig, Tag("rlef")]
    | Annotated[VerpoTrainConfig, Tag("verpo")],
    tag_by("mode", default="bandit"),
]
"""Options of ``cobalt train``: one of the modes above, told apart by ``mode``."""


TRAIN_CONFIGS: dict[str, type[_TrainBase]] = {
    "bandit": BanditTrainConfig,
    "multiturn": MultiturnTrainConfig,
    "rlef": RlefTrainConfig,
    "verpo": VerpoTrainConfig,
}
"""Each mode's config, by its ``mode`` tag."""


def train_config_class(mode: Any) -> type[_TrainBase]:
    """The config of ``mode`` (None: ``bandit``, the default); an unknown mode: bandit's, so
    that validating the section names the bad mode."""
    return TRAIN_CONFIGS.get(str(mode or "bandit"), BanditTrainConfig)


def parse_train_config(data: dict[str, Any], where: str = "arguments") -> TrainConfig:
    """Validate ``data`` as a :data:`TrainConfig`; a clear ConfigError names each bad field."""
    from cobalt_rl.config_io import validate_as

    config: TrainConfig = validate_as(TrainConfig, data, where, name="TrainConfig")
    return config


Precision = Literal["fp32", "bf16"]
"""What training runs in once ``auto`` is decided."""


def resolve_precision(cfg: TrainConfig) -> Precision:
    """``cfg.precision``, with ``auto`` decided for this machine: bf16 on a bf16-capable GPU
    or a CPU with native bf16 (:func:`~cobalt_rl.llm.hf.cpu_has_native_bf16`), else fp32."""
    if cfg.precision != "auto":
        return cfg.precision
    import torch

    from cobalt_rl.llm.hf import native_bf16

    return "bf16" if native_bf16("cuda" if torch.cuda.is_available() else "cpu") else "fp32"
