"""Build a generator from one validated config: ``make_generator(GeneratorConfig(...))``.

Every setting is checked when the config is built (``GeneratorConfig`` raises
``pydantic.ValidationError``; :func:`make_generator` given a plain mapping raises
:class:`~cobalt_rl.errors.ConfigError` naming each bad field), before any model loads. The
backend modules, and the heavy libraries they wrap, are imported only for the backend chosen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from cobalt_rl.config import validate_config
from cobalt_rl.errors import ConfigError
from cobalt_rl.llm.base import Generator
from cobalt_rl.llm.hf import DEVICE_PATTERN

__all__ = ["BACKENDS", "Backend", "GeneratorConfig", "make_generator"]

Backend = Literal["transformers", "embedded", "openai", "vllm", "fake"]
BACKENDS: tuple[str, ...] = get_args(Backend)


class GeneratorConfig(BaseModel):
    """Which generator to use and how. Fields a backend does not use are ignored by it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Backend = Field(
        "embedded",
        description="transformers (local checkpoint, CPU/GPU), embedded (the bundled "
        "SmolLM2-135M-Instruct on transformers), openai (any OpenAI-compatible server), vllm "
        "(offline vLLM engine, GPU), fake (scripted replies, for tests).",
    )
    model: str | None = Field(
        None,
        description="transformers/vllm: checkpoint directory or Hub id; openai: the served "
        "model name. Not used by embedded (always SmolLM2-135M-Instruct).",
    )
    device: str = Field("cpu", description="transformers/embedded: cpu, cuda, cuda:N or mps.")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto",
        description="Weights' dtype; auto: float32 on CPU, the checkpoint's dtype on GPU "
        "(transformers/embedded), vLLM's choice (vllm).",
    )
    batch_size: int = Field(
        16, ge=1, description="transformers/embedded: sequences per forward batch."
    )
    num_threads: int | None = Field(
        None,
        ge=0,
        description="transformers/embedded: torch CPU threads (process-wide); 0: one per "
        "core; unset: torch's default.",
    )
    cache_dir: Path | None = Field(
        None,
        description="embedded: where the converted checkpoint is kept; unset: "
        "~/.cache/cobalt-rl/models/smollm2-135m-instruct.",
    )
    base_url: str | None = Field(
        None, description="openai: the server's API root, e.g. http://127.0.0.1:8000/v1."
    )
    api_key: SecretStr | None = Field(
        None,
        description="openai: the API key (not written out with the config; prefer "
        "api_key_env). Unset: 'EMPTY', which local servers accept.",
    )
    api_key_env: str | None = Field(
        None,
        description="openai: name of the environment variable holding the API key, read when "
        "the generator is built.",
    )
    concurrency: int = Field(8, ge=1, description="openai: requests in flight at once.")
    timeout: float = Field(120.0, gt=0, description="openai: seconds per request attempt.")
    max_retries: int = Field(
        5, ge=0, le=100, description="openai: retries per request on 429/5xx/connection errors."
    )
    n_strategy: Literal["api", "repeat"] = Field(
        "api",
        description="openai: ask for n replies with the API's n parameter (api) or with n "
        "requests (repeat; for servers that ignore n).",
    )
    gpu_memory_utilization: float = Field(
        0.9, gt=0.0, le=1.0, description="vllm: share of GPU memory the engine may take."
    )
    tensor_parallel_size: int = Field(1, ge=1, description="vllm: GPUs to shard the model over.")
    max_model_len: int | None = Field(
        None, ge=1, description="vllm: longest prompt + reply in tokens; unset: the model's."
    )
    trust_remote_code: bool = Field(
        False, description="transformers/vllm: run model code shipped with the checkpoint."
    )
    fake_replies: list[str] = Field(
        default_factory=list,
        description="fake: replies handed out in order, starting over when they run out.",
    )

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        if not DEVICE_PATTERN.match(value):
            raise ValueError(f"{value!r} is not one of cpu, cuda, cuda:N, mps")
        return value

    @model_validator(mode="after")
    def _check_backend(self) -> GeneratorConfig:
        b = self.backend
        if b in ("transformers", "vllm") and not self.model:
            raise ValueError(
                f"backend {b!r} needs model: a checkpoint directory or Hub id "
                "(or use backend 'embedded' for the bundled SmolLM2)"
            )
        if b == "embedded" and self.model:
            raise ValueError(
                "backend 'embedded' always runs the bundled SmolLM2-135M-Instruct: unset model, "
                "or use backend 'transformers' to run that checkpoint"
            )
        if b == "openai":
            if not self.base_url:
                raise ValueError(
                    "backend 'openai' needs base_url, the server's API root "
                    "(e.g. http://127.0.0.1:8000/v1)"
                )
            if not self.base_url.startswith(("http://", "https://")):
                raise ValueError(f"base_url {self.base_url!r} must start with http(s)://")
            if not self.model:
                raise ValueError("backend 'openai' needs model: the name the server serves")
        if self.api_key is not None and self.api_key_env:
            raise ValueError("give api_key or api_key_env, not both")
        if b == "fake" and not self.fake_replies:
            raise ValueError("backend 'fake' needs fake_replies: at least one reply")
        return self


def _resolve_api_key(config: GeneratorConfig) -> str | None:
    if config.api_key is not None:
        return config.api_key.get_secret_value()
    if config.api_key_env:
        value = os.environ.get(config.api_key_env)
        if not value:
            raise ConfigError(
                f"api_key_env names {config.api_key_env!r}, which is not set or empty: "
                "export it, or name another variable"
            )
        return value
    return None


def _transformers(config: GeneratorConfig) -> Generator:
    from cobalt_rl.llm.hf import TransformersGenerator

    assert config.model is not None  # checked by the config
    return TransformersGenerator(
        config.model,
        device=config.device,
        dtype=config.dtype,
        batch_size=config.batch_size,
        num_threads=config.num_threads,
        trust_remote_code=config.trust_remote_code,
    )


def _embedded(config: GeneratorConfig) -> Generator:
    from cobalt_rl.llm.embedded import embedded_generator

    return embedded_generator(
        config.cache_dir,
        device=config.device,
        dtype=config.dtype,
        batch_size=config.batch_size,
        num_threads=config.num_threads,
    )


def _openai(config: GeneratorConfig) -> Generator:
    from cobalt_rl.llm.openai_backend import OpenAIGenerator

    assert config.base_url is not None and config.model is not None  # checked by the config
    return OpenAIGenerator(
        config.base_url,
        config.model,
        api_key=_resolve_api_key(config),
        concurrency=config.concurrency,
        timeout=config.timeout,
        max_retries=config.max_retries,
        n_strategy=config.n_strategy,
    )


def _vllm(config: GeneratorConfig) -> Generator:
    from cobalt_rl.llm.vllm_backend import VLLMGenerator

    assert config.model is not None  # checked by the config
    return VLLMGenerator(
        config.model,
        dtype=config.dtype,
        gpu_memory_utilization=config.gpu_memory_utilization,
        tensor_parallel_size=config.tensor_parallel_size,
        max_model_len=config.max_model_len,
        trust_remote_code=config.trust_remote_code,
    )


def _fake(config: GeneratorConfig) -> Generator:
    from cobalt_rl.llm.fake import ScriptedFakeGenerator

    return ScriptedFakeGenerator(config.fake_replies, cycle=True)


_BUILDERS: dict[str, Callable[[GeneratorConfig], Generator]] = {
    "transformers": _transformers,
    "embedded": _embedded,
    "openai": _openai,
    "vllm": _vllm,
    "fake": _fake,
}


def make_generator(config: GeneratorConfig | Mapping[str, Any]) -> Generator:
    """Build the generator ``config`` describes.

    Args:
        config: a :class:`GeneratorConfig`, or a mapping validated as one.

    Returns:
        The generator; call its ``close()`` (or use it in ``contextlib.closing``) when done.

    Raises:
        ConfigError: an invalid mapping (every bad field named), an ``api_key_env`` that is
            not set, or a backend that cannot start with these settings (a missing package,
            a model that cannot be loaded).
    """
    if not isinstance(config, GeneratorConfig):
        config = validate_config(GeneratorConfig, dict(config), where="generator config")
    return _BUILDERS[config.backend](config)
