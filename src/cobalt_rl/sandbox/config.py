"""Sandbox settings: one model per backend, the limits inside each.

``SandboxConfig`` is the union of the four backends' configs, told apart by ``backend`` (a
mapping without ``backend`` is the local one), so a field exists only where it means
something: ``urls`` only for the services, ``ray_address`` only for Ray. Every variant holds
the :class:`~cobalt_rl.sandbox.limits.Limits` given to requests that carry none. A stage's
config embeds it as ``sandbox: SandboxConfig = Field(default_factory=default_sandbox_config)``;
its fields become ``--sandbox-*`` flags (``--sandbox-workers``, ``--sandbox-urls``,
``--sandbox-limits-timeout-s``) and a ``sandbox:`` section in YAML.

Each variant builds its backend (``build()``, which
:func:`~cobalt_rl.sandbox.factory.make_sandbox` calls); the backend's module is imported only
then, so importing this module stays cheap and needs neither Ray nor an HTTP client.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Tag, TypeAdapter, field_validator

from cobalt_rl.config_io import tag_by
from cobalt_rl.errors import ConfigError
from cobalt_rl.sandbox.limits import Limits

if TYPE_CHECKING:
    from cobalt_rl.sandbox.base import Sandbox
    from cobalt_rl.sandbox.local import LocalSandbox

__all__ = [
    "BACKENDS",
    "HttpSandboxConfig",
    "LocalSandboxConfig",
    "RaySandboxConfig",
    "SandboxConfig",
    "SandboxFusionConfig",
    "default_sandbox_config",
    "parse_sandbox_config",
]

BACKENDS: tuple[str, ...] = ("local", "ray", "http", "sandboxfusion")


class _Base(BaseModel):
    """What every backend has: the default limits of a request."""

    model_config = ConfigDict(extra="forbid")

    limits: Limits = Field(
        default_factory=Limits,
        description="Limits of a request that carries none (per test and per program).",
    )

    @abstractmethod
    def build(self, *, require_isolation: bool = False) -> Sandbox:
        """Start the sandbox this config describes (:func:`~cobalt_rl.sandbox.factory.make_sandbox`
        calls it).

        Args:
            require_isolation: refuse to run without bubblewrap (local and Ray backends; a
                remote service decides its own isolation, so the others ignore it).

        Raises:
            ConfigError: the backend's extra is not installed (Ray).
        """


class _Remote(_Base):
    """Backends that send requests elsewhere and wait for them."""

    request_timeout_s: float | None = Field(
        None,
        gt=0,
        description="Deadline for one request, after which it is retried elsewhere "
        "(default: derived from the limits).",
    )
    max_in_flight: int | None = Field(
        None,
        ge=1,
        description="Requests outstanding at once (back-pressure; default: derived from the "
        "backend's capacity).",
    )


class _Services(_Remote):
    """Backends that talk to HTTP services."""

    urls: list[str] = Field(
        description="Service base URLs (http://host:port); requests are spread over all of them.",
    )
    token_env: str = Field(
        "COBALT_SANDBOX_TOKEN",
        description="Environment variable holding the services' bearer token, sent as "
        "Authorization: Bearer (unset: none; for SandboxFusion, a proxy in front of it). The "
        "token itself never goes into a config file.",
    )

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, urls: list[str]) -> list[str]:
        if not urls:
            raise ValueError("at least one service url is needed (http://host:port)")
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"sandbox url {url!r} must start with http:// or https://")
        return urls

    def token(self) -> str | None:
        """The bearer token, read from ``token_env`` now (None when unset or empty)."""
        return os.environ.get(self.token_env) or None

    def _remote_keywords(self) -> dict[str, Any]:
        """The settings both service clients take under the same names."""
        return {
            "limits": self.limits,
            "request_timeout_s": self.request_timeout_s,
            "max_in_flight": self.max_in_flight,
        }


class LocalSandboxConfig(_Base):
    """Warm bubblewrap workers on this machine (the default)."""

    backend: Literal["local"] = Field("local", json_schema_extra={"cli": False})
    workers: int | None = Field(None, ge=1, description="Sandbox workers (default: one a core).")
    cache_size: int = Field(
        100_000,
        ge=0,
        description="Results kept in the pool's cache, keyed by program, tests and limits (0 "
        "disables it).",
    )

    def build(self, *, require_isolation: bool = False) -> LocalSandbox:
        from cobalt_rl.sandbox.local import LocalSandbox

        return LocalSandbox(
            workers=self.workers,
            limits=self.limits,
            require_isolation=require_isolation,
            cache_size=self.cache_size,
        )


class RaySandboxConfig(_Remote):
    """Local sandboxes in Ray actors spread over a cluster (``pip install 'cobalt-rl[ray]'``)."""

    backend: Literal["ray"] = "ray"
    workers: int | None = Field(None, ge=1, description="Sandbox workers (and CPUs) per Ray actor.")
    ray_address: str | None = Field(
        None, description="Ray cluster address (None: connect to or start a local one)."
    )
    ray_actors: int | None = Field(
        None, ge=1, description="Sandbox actors (default: one per node's worth of CPUs)."
    )

    def build(self, *, require_isolation: bool = False) -> Sandbox:
        try:
            from cobalt_rl.sandbox.ray import RaySandbox
        except ImportError as e:
            raise ConfigError(
                f"sandbox backend 'ray' is unavailable (pip install 'cobalt-rl[ray]'): {e}"
            ) from e
        return RaySandbox(
            actors=self.ray_actors,
            workers_per_actor=self.workers,
            limits=self.limits,
            address=self.ray_address,
            request_timeout_s=self.request_timeout_s,
            max_in_flight=self.max_in_flight,
            require_isolation=require_isolation,
        )


class HttpSandboxConfig(_Services):
    """One or many ``cobalt sandbox serve`` services."""

    backend: Literal["http"] = "http"

    def build(self, *, require_isolation: bool = False) -> Sandbox:
        from cobalt_rl.sandbox.http import HttpSandbox

        return HttpSandbox(self.urls, token=self.token(), **self._remote_keywords())


class SandboxFusionConfig(_Services):
    """An existing SandboxFusion deployment, through its ``run_code`` API."""

    backend: Literal["sandboxfusion"] = "sandboxfusion"

    def build(self, *, require_isolation: bool = False) -> Sandbox:
        from cobalt_rl.sandbox.sandboxfusion import SandboxFusionSandbox

        return SandboxFusionSandbox(self.urls, token=self.token(), **self._remote_keywords())


SandboxConfig = Annotated[
    Annotated[LocalSandboxConfig, Tag("local")]
    | Annotated[RaySandboxConfig, Tag("ray")]
    | Annotated[HttpSandboxConfig, Tag("http")]
    | Annotated[SandboxFusionConfig, Tag("sandboxfusion")],
    tag_by("backend", default="local"),
]
"""Where untrusted code runs: one of the four backends' configs, chosen by ``backend``."""

_ADAPTER: TypeAdapter[SandboxConfig] = TypeAdapter(SandboxConfig)


def default_sandbox_config() -> LocalSandboxConfig:
    """The local backend with default workers and limits (a ``default_factory``)."""
    return LocalSandboxConfig()


def parse_sandbox_config(data: Mapping[str, Any] | SandboxConfig) -> SandboxConfig:
    """Validate ``data`` (a ``sandbox:`` section, or a config) as the backend it names.

    Raises:
        pydantic.ValidationError: ``data`` names no backend we know or has a bad field.
    """
    return _ADAPTER.validate_python(data)
