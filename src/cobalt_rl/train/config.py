"""The training config shared by the bandit trainer and the multi-turn baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.sandbox.factory import SandboxConfig

__all__ = ["TrainConfig"]


class TrainConfig(BaseModel):
    """Options of ``cobalt train`` (defaults: the paper's GRPO settings where it gives them)."""

    model_config = ConfigDict(extra="forbid")

    contexts: Path | None = Field(
        None, description="bandit: contexts JSONL from `cobalt contexts`."
    )
    problems: Path | None = Field(
        None, description="multiturn: problems JSONL the policy rolls out on."
    )
    out: Path = Field(description="Run directory: checkpoints/, final/, metrics.jsonl.")
    mode: Literal["bandit", "multiturn"] = Field(
        "bandit",
        description="bandit: Cobalt, one step from offline prefixes; multiturn: online "
        "multi-turn GRPO baseline (the policy rolls out whole episodes).",
    )
    model: str = Field(
        "embedded", description="'embedded' (SmolLM2-135M-Instruct) or a checkpoint directory."
    )
    cache_dir: Path | None = Field(None, description="embedded: converted-model cache dir.")
    reward: str = Field(
        "cobalt", description="Reward name (cobalt, binary, pass_rate, rlef) or module:function."
    )
    num_generations: int = Field(16, ge=2, description="Completions per prompt (GRPO group).")
    prompts_per_step: int = Field(8, ge=1, description="Prompts per optimizer step.")
    micro_batch_size: int = Field(
        8,
        ge=1,
        description="Sequences per forward/backward pass (gradient accumulation "
        "covers the rest of the step).",
    )
    learning_rate: float = Field(1e-6, gt=0, description="AdamW learning rate.")
    beta: float = Field(
        1e-4, ge=0, description="KL coefficient to the reference model (0: no reference model)."
    )
    epsilon: float = Field(0.2, gt=0, description="PPO clip ratio (lower).")
    epsilon_high: float = Field(0.4, gt=0, description="PPO clip ratio (upper; clip-higher).")
    max_completion_length: int = Field(1024, ge=1, description="Most tokens per completion.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature during training.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass during training.")
    max_steps: int = Field(100, ge=1, description="Optimizer steps.")
    max_seconds: float | None = Field(
        None,
        gt=0,
        description="Wall-clock budget for training (generation, execution and updates); "
        "training stops after the step that exhausts it (for equal-time comparisons; "
        "a resumed run gets the budget afresh).",
    )
    save_steps: int = Field(10, ge=1, description="Save a checkpoint every N steps.")
    save_total_limit: int = Field(2, ge=1, description="Checkpoints kept.")
    gradient_checkpointing: bool = Field(
        False,
        description="Recompute activations in the backward pass (saves memory on big "
        "models, costs ~30% time; off by default for the small models CPUs train).",
    )
    lora: bool = Field(False, description="Train LoRA adapters instead of all weights.")
    lora_r: int = Field(16, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(32, ge=1, description="LoRA alpha.")
    report_to: Literal["none", "tensorboard", "wandb"] = Field(
        "none", description="Also log to TensorBoard or W&B."
    )
    use_vllm: bool = Field(False, description="Generate with vLLM (GPU, TRL's integration).")
    vllm_mode: Literal["colocate", "server"] = Field(
        "colocate", description="vLLM in the training process, or a `trl vllm-serve` server."
    )
    vllm_gpu_memory_utilization: float = Field(
        0.3, gt=0, le=1, description="colocate: share of each GPU's memory vLLM may take."
    )
    vllm_tensor_parallel_size: int = Field(
        1, ge=1, description="colocate: GPUs each vLLM engine shards the model over."
    )
    vllm_server_host: str = Field("127.0.0.1", description="server: `trl vllm-serve` host.")
    vllm_server_port: int = Field(8000, ge=1, le=65535, description="server: its port.")
    seed: int = Field(0, description="Seed for sampling and data order.")
    sandbox: SandboxConfig = Field(
        default_factory=SandboxConfig,
        description="Where the reward's programs run: backend local, ray, http or "
        "sandboxfusion (offload execution from GPU nodes; see cobalt_rl.sandbox.factory).",
    )
    test_timeout: float = Field(4.0, gt=0, description="Wall-clock limit per test, seconds.")
    validation_problems: Path | None = Field(
        None, description="Problems for multi-turn Pass@1 during training (unset: none)."
    )
    validate_every: int = Field(0, ge=0, description="Validate every N steps (0: never).")
    validation_samples: int = Field(2, ge=1, description="Samples per validation problem.")
    validation_turns: int = Field(3, ge=1, description="Turns per validation trajectory.")
    turns: int = Field(3, ge=1, description="multiturn: attempts per training episode.")
    resume: bool = Field(True, description="Resume from the last checkpoint in the run dir.")

    @model_validator(mode="before")
    @classmethod
    def _sandbox_workers(cls, data: Any) -> Any:
        """``sandbox_workers: N`` (older configs) is ``sandbox: {workers: N}``."""
        if isinstance(data, dict) and "sandbox_workers" in data:
            data = dict(data)
            workers = data.pop("sandbox_workers")
            sandbox = data.get("sandbox")
            sandbox = dict(sandbox) if isinstance(sandbox, dict) else {}
            sandbox.setdefault("workers", workers)
            data["sandbox"] = sandbox
        return data

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.mode == "bandit" and self.contexts is None:
            raise ValueError(
                "mode 'bandit' trains on contexts: give contexts (a JSONL file "
                "from `cobalt contexts`)"
            )
        if self.mode == "multiturn" and self.problems is None:
            raise ValueError("mode 'multiturn' rolls out on problems: give problems")
        batch = self.prompts_per_step * self.num_generations
        if batch % self.micro_batch_size:
            raise ValueError(
                f"prompts_per_step x num_generations ({batch}) must be a multiple of "
                f"micro_batch_size ({self.micro_batch_size}); e.g. micro_batch_size="
                f"{self.num_generations}"
            )
        if self.epsilon_high < self.epsilon:
            raise ValueError("epsilon_high must be >= epsilon (clip-higher widens the top)")
        if self.validate_every and self.validation_problems is None:
            raise ValueError("validate_every > 0 needs validation_problems")
        return self

    @property
    def gradient_accumulation_steps(self) -> int:
        return self.prompts_per_step * self.num_generations // self.micro_batch_size
