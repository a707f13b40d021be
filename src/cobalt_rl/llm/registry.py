"""Which generator to run and how: one config model per backend, and the factory.

:data:`GeneratorConfig` is a discriminated union on ``backend``: each backend's model holds
only the options that backend reads, so an option given to the wrong backend is an error,
not silently ignored. Each option is documented once, on the model that owns it (options
shared by several backends live on a small base model or a shared field type below).

Every setting is checked when the config is built, before any model loads: a model class
raises ``pydantic.ValidationError``; :func:`parse_generator_config` (and
:func:`make_generator` given a plain mapping) raises :class:`~cobalt_rl.errors.ConfigError`
naming each bad field. The backend modules, and the heavy libraries they wrap, are imported
only for the backend built.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from cobalt_rl.config_io import tag_by
from cobalt_rl.errors import ConfigError
from cobalt_rl.llm.base import Generator
from cobalt_rl.llm.hf import DEVICE_PATTERN, Dtype

__all__ = [
    "BACKENDS",
    "BACKEND_CONFIGS",
    "DEFAULT_BACKEND",
    "Backend",
    "EmbeddedGeneratorConfig",
    "FakeGeneratorConfig",
    "GeneratorConfig",
    "OpenAIGeneratorConfig",
    "TransformersGeneratorConfig",
    "VllmGeneratorConfig",
    "make_generator",
    "parse_generator_config",
]

Backend = Literal["embedded", "transformers", "vllm", "openai", "fake"]
BACKENDS: tuple[str, ...] = get_args(Backend)
DEFAULT_BACKEND: Backend = "embedded"

# Fields that mean the same on several backends, documented here once.
Checkpoint = Annotated[
    str,
    Field(
        min_length=1,
        description="Checkpoint directory or Hub id (offline machines need it in the local "
        "Hub cache).",
    ),
]
WeightsDtype = Annotated[
    Dtype,
    Field(
        description="Weights' dtype (the precision switch); auto: bfloat16 on a CPU with "
        "native bf16 (avx512_bf16 or AMX), else float32 on CPU, and the checkpoint's own "
        "dtype on GPU (transformers, embedded), vLLM's choice (vllm); float32 or bfloat16 "
        "force either.",
    ),
]
TrustRemoteCode = Annotated[
    bool, Field(description="Run model code shipped with the checkpoint (off: our own choice).")
]


class _Options(BaseModel):
    """What every backend's config shares: frozen, and no field it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Backend

    @property
    def label(self) -> str:
        """A short name for reports: the model's name where there is one, else the backend."""
        model = getattr(self, "model", None)
        return model if isinstance(model, str) else self.backend

    def _keywords(self, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Every field but ``backend`` (and ``exclude``) as keyword arguments: the backends'
        constructors name their options as the configs do (a test checks it)."""
        skip = exclude | {"backend"}
        return {name: getattr(self, name) for name in type(self).model_fields if name not in skip}

    @abstractmethod
    def build(self) -> Generator:
        """Start the generator these options describe (:func:`make_generator` calls it).

        Raises:
            ConfigError: the backend cannot start with these settings (a missing package, a
                model that cannot be loaded, an unset ``api_key_env``).
        """


class _TorchOptions(_Options):
    """Options of the backends that run ``transformers`` in this process."""

    device: str = Field("cpu", description="cpu, cuda, cuda:N or mps.")
    dtype: WeightsDtype = "auto"
    batch_size: int = Field(
        64,
        ge=1,
        description="Sequences decoded at once: on CPU the rows of a call go through one "
        "batch of this many, refilled as replies end (the embedded model on 2 cores: 281 "
        "tokens/s at 64 rows, 357 at 128 with 128 rows waiting; benchmarks/README.md); on "
        "other devices rows are cut into batches of this many.",
    )
    num_threads: int | None = Field(
        None,
        ge=0,
        description="torch CPU threads (process-wide); 0: one per core; unset: torch's default.",
    )

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        if not DEVICE_PATTERN.match(value):
            raise ValueError(f"{value!r} is not one of cpu, cuda, cuda:N, mps: pick one of those")
        return value


class EmbeddedGeneratorConfig(_TorchOptions):
    """The bundled SmolLM2-135M-Instruct on ``transformers`` (no model to name or download)."""

    backend: Literal["embedded"] = Field(
        "embedded",
        description="embedded: the bundled SmolLM2-135M-Instruct on transformers; to run "
        "another checkpoint, use transformers.",
    )
    cache_dir: Path | None = Field(
        None,
        description="Where the converted checkpoint is kept; unset: "
        "~/.cache/cobalt-rl/models/smollm2-135m-instruct.",
    )

    def build(self) -> Generator:
        from cobalt_rl.llm.embedded import embedded_generator

        return embedded_generator(**self._keywords())


class TransformersGeneratorConfig(_TorchOptions):
    """A local checkpoint on ``transformers`` (CPU by default, GPU when asked)."""

    backend: Literal["transformers"] = Field(
        "transformers",
        description="transformers: a local checkpoint or Hub id on transformers (CPU/GPU).",
    )
    model: Checkpoint
    trust_remote_code: TrustRemoteCode = False

    def build(self) -> Generator:
        from cobalt_rl.llm.hf import TransformersGenerator

        return TransformersGenerator(**self._keywords())


class VllmGeneratorConfig(_Options):
    """vLLM's offline engine in this process (one GPU box; the fastest local option)."""

    backend: Literal["vllm"] = Field(
        "vllm", description="vllm: the offline vLLM engine (GPU; pip install 'cobalt-rl[vllm]')."
    )
    model: Checkpoint
    trust_remote_code: TrustRemoteCode = False
    dtype: WeightsDtype = "auto"
    gpu_memory_utilization: float = Field(
        0.9, gt=0.0, le=1.0, description="Share of GPU memory the engine may take."
    )
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs to shard the model over.")
    max_model_len: int | None = Field(
        None, ge=1, description="Longest prompt + reply in tokens; unset: the model's own."
    )

    def build(self) -> Generator:
        from cobalt_rl.llm.vllm_backend import VLLMGenerator

        return VLLMGenerator(**self._keywords())


class OpenAIGeneratorConfig(_Options):
    """Any OpenAI-compatible chat server (vLLM, SGLang, llama.cpp, TGI, OpenAI itself)."""

    backend: Literal["openai"] = Field(
        "openai", description="openai: any OpenAI-compatible chat server."
    )
    base_url: str = Field(description="The server's API root, e.g. http://127.0.0.1:8000/v1.")
    model: str = Field(min_length=1, description="The model name the server serves.")
    api_key: SecretStr | None = Field(
        None,
        description="The API key (never written out with the config; prefer api_key_env). "
        "Unset with api_key_env: 'EMPTY', which local servers accept.",
    )
    api_key_env: str | None = Field(
        None,
        description="Name of the environment variable holding the API key, read when the "
        "generator is built.",
    )
    concurrency: int = Field(8, ge=1, description="Requests in flight at once.")
    timeout: float = Field(120.0, gt=0, description="Seconds per request attempt.")
    max_retries: int = Field(
        5, ge=0, le=100, description="Retries per request on 429/5xx/connection errors."
    )
    n_strategy: Literal["api", "repeat"] = Field(
        "api",
        description="Ask for n replies with the API's n parameter (api) or with n requests "
        "(repeat; for servers that ignore n).",
    )

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                f"{value!r} must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)"
            )
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> OpenAIGeneratorConfig:
        if self.api_key is not None and self.api_key_env:
            raise ValueError("give api_key or api_key_env, not both")
        return self

    def api_key_value(self) -> str | None:
        """The API key: ``api_key``, or the variable ``api_key_env`` names, read now.

        Raises:
            ConfigError: ``api_key_env`` names a variable that is not set or is empty.
        """
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        if not self.api_key_env:
            return None
        value = os.environ.get(self.api_key_env)
        if not value:
            raise ConfigError(
                f"api_key_env names {self.api_key_env!r}, which is not set or empty: "
                "export it, or name another variable"
            )
        return value

    def build(self) -> Generator:
        from cobalt_rl.llm.openai_backend import OpenAIGenerator

        key_fields = frozenset({"api_key", "api_key_env"})
        return OpenAIGenerator(**self._keywords(exclude=key_fields), api_key=self.api_key_value())


class FakeGeneratorConfig(_Options):
    """Scripted replies for tests and dry runs (``fake.ScriptedFakeGenerator``, cycling)."""

    backend: Literal["fake"] = Field("fake", description="fake: scripted replies, for tests.")
    replies: list[str] = Field(
        min_length=1,
        description="Replies handed out in order, starting over when they run out.",
    )

    def build(self) -> Generator:
        from cobalt_rl.llm.fake import ScriptedFakeGenerator

        return ScriptedFakeGenerator(self.replies, cycle=True)


GeneratorConfig = Annotated[
    Annotated[EmbeddedGeneratorConfig, Tag("embedded")]
    | Annotated[TransformersGeneratorConfig, Tag("transformers")]
    | Annotated[VllmGeneratorConfig, Tag("vllm")]
    | Annotated[OpenAIGeneratorConfig, Tag("openai")]
    | Annotated[FakeGeneratorConfig, Tag("fake")],
    tag_by("backend", default=DEFAULT_BACKEND),
]
"""Which generator to run and how: one of the backends' configs, chosen by ``backend``
(default ``embedded``). Use it as a field type (``generator: GeneratorConfig``) or parse a
mapping with :func:`parse_generator_config`."""

BACKEND_CONFIGS: dict[str, type[_Options]] = {
    "embedded": EmbeddedGeneratorConfig,
    "transformers": TransformersGeneratorConfig,
    "vllm": VllmGeneratorConfig,
    "openai": OpenAIGeneratorConfig,
    "fake": FakeGeneratorConfig,
}
"""Each backend's config model (e.g. to list the options a backend takes)."""

_ADAPTER: TypeAdapter[GeneratorConfig] = TypeAdapter(GeneratorConfig)


def parse_generator_config(
    data: Mapping[str, Any], where: str = "generator settings"
) -> GeneratorConfig:
    """Validate ``data`` as the config of the backend it names (``backend``, default embedded).

    Args:
        data: the options, e.g. a YAML mapping or flags collected into a dict.
        where: where they came from, for the message (a file name, ``arguments``...).

    Returns:
        The backend's config.

    Raises:
        ConfigError: one line per bad field, saying what is wrong and how to fix it; a field
            that belongs to another backend is named with the backends that take it.
    """
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as error:
        backend = str(dict(data).get("backend", DEFAULT_BACKEND))
        lines = [_describe(detail, backend, where) for detail in error.errors()]
        raise ConfigError(
            f"invalid generator settings (backend {backend!r}) in {where}:\n" + "\n".join(lines)
        ) from error


def _describe(detail: ErrorDetails, backend: str | None, where: str) -> str:
    """One error as a line: the field (a flag when ``where`` is ``arguments``) and the fix."""
    path = [str(part) for part in detail["loc"]]
    if path and path[0] == backend:  # the union's tag, not a field
        path = path[1:]
    name = ".".join(path)
    shown = ("--" + name.replace("_", "-") if where == "arguments" else name) or "(config)"
    kind = detail["type"]
    if kind == "union_tag_invalid":
        return f"  backend: {backend!r} is not a backend: pick one of {', '.join(BACKENDS)}"
    if kind == "extra_forbidden":
        takers = [tag for tag, config in BACKEND_CONFIGS.items() if name in config.model_fields]
        fix = f"the {_listed(takers)} backend takes it" if takers else "no backend takes it"
        return f"  {shown}: field {name!r} is not an option of the {backend} backend ({fix})"
    if kind == "missing":
        config = BACKEND_CONFIGS.get(str(backend))
        field = config.model_fields.get(name) if config is not None else None
        doc = f": {field.description}" if field is not None and field.description else ""
        return f"  {shown}: the {backend} backend needs {name}{doc}"
    message = detail["msg"].removeprefix("Value error, ")
    return f"  {shown}: {message}"


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def make_generator(config: GeneratorConfig | Mapping[str, Any]) -> Generator:
    """Build the generator ``config`` describes.

    Args:
        config: a backend's config, or a mapping parsed with :func:`parse_generator_config`.

    Returns:
        The generator; call its ``close()`` (or use it in ``contextlib.closing``) when done.

    Raises:
        ConfigError: an invalid mapping (every bad field named), an ``api_key_env`` that is
            not set, or a backend that cannot start with these settings (a missing package,
            a model that cannot be loaded).
    """
    if isinstance(config, Mapping):
        config = parse_generator_config(config, where="generator config")
    return config.build()
