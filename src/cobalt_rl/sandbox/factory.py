"""Choosing a sandbox backend: ``SandboxConfig`` and ``make_sandbox``.

Backends, one per module, imported only when chosen:

- ``local``: :class:`~cobalt_rl.sandbox.local.LocalSandbox`, warm bubblewrap workers on this
  machine (the default);
- ``ray``: :class:`~cobalt_rl.sandbox.ray.RaySandbox`, local sandboxes in Ray actors spread over
  a cluster (``pip install 'cobalt-rl[ray]'``);
- ``http``: :class:`~cobalt_rl.sandbox.http.HttpSandbox`, one or many ``cobalt sandbox serve``
  services (training nodes offload execution to CPU machines);
- ``sandboxfusion``: :class:`~cobalt_rl.sandbox.sandboxfusion.SandboxFusionSandbox`, an existing
  SandboxFusion deployment through its ``run_code`` API.

Every backend implements the :class:`~cobalt_rl.sandbox.base.Sandbox` protocol and gives the
same verdicts for the same requests (outputs are compared on the calling host where the remote
side only runs code).
"""

from __future__ import annotations

import importlib
import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.errors import ConfigError
from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.sandbox.limits import Limits

__all__ = ["BACKENDS", "SandboxConfig", "make_sandbox"]

Backend = Literal["local", "ray", "http", "sandboxfusion"]
BACKENDS: tuple[str, ...] = ("local", "ray", "http", "sandboxfusion")


class SandboxConfig(BaseModel):
    """Where untrusted code runs (``--sandbox-*`` flags, a ``sandbox:`` config section)."""

    model_config = ConfigDict(extra="forbid")

    backend: Backend = Field(
        "local",
        description="local, ray (a Ray cluster), http (cobalt sandbox serve) or "
        "sandboxfusion (a SandboxFusion run_code service).",
    )
    workers: int | None = Field(
        None, ge=1, description="local: workers (default: one per core); ray: workers per actor."
    )
    urls: list[str] = Field(
        default_factory=list,
        description="http/sandboxfusion: service base URLs (http://host:port), requests are "
        "spread over all of them.",
    )
    token_env: str = Field(
        "COBALT_SANDBOX_TOKEN",
        description="http: environment variable holding the service's bearer token (unset: "
        "no auth). The token itself never goes into a config file.",
    )
    ray_address: str | None = Field(
        None, description="ray: cluster address (None: connect to or start a local one)."
    )
    ray_actors: int | None = Field(
        None, ge=1, description="ray: sandbox actors (default: one per node's worth of CPUs)."
    )
    request_timeout_s: float | None = Field(
        None,
        gt=0,
        description="ray/http/sandboxfusion: deadline for one request, after which it is "
        "retried elsewhere (default: derived from the limits).",
    )
    max_in_flight: int | None = Field(
        None,
        ge=1,
        description="ray/http/sandboxfusion: requests outstanding at once "
        "(back-pressure; default: derived from the backend's capacity).",
    )

    @model_validator(mode="after")
    def _check(self) -> SandboxConfig:
        if self.backend in ("http", "sandboxfusion") and not self.urls:
            raise ValueError(f"the {self.backend} sandbox backend needs at least one url")
        for url in self.urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"sandbox url {url!r} must start with http:// or https://")
        return self

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None


def make_sandbox(
    cfg: SandboxConfig | None = None,
    limits: Limits | None = None,
    *,
    workers: int | None = None,
    require_isolation: bool = False,
) -> Sandbox:
    """The sandbox ``cfg`` names, with default ``limits`` for requests that carry none.

    ``workers`` overrides ``cfg.workers``; ``require_isolation`` (local backend) refuses to
    run without bubblewrap (a remote service decides its own isolation).
    """
    cfg = cfg or SandboxConfig()
    if workers is not None:
        cfg = cfg.model_copy(update={"workers": workers})
    if cfg.backend == "local":
        from cobalt_rl.sandbox.local import LocalSandbox

        return LocalSandbox(workers=cfg.workers, limits=limits, require_isolation=require_isolation)
    module, name = _REMOTE[cfg.backend]
    try:
        backend = getattr(importlib.import_module(module), name)
    except ImportError as e:
        extra = {"ray": " (pip install 'cobalt-rl[ray]')"}.get(cfg.backend, "")
        raise ConfigError(f"sandbox backend {cfg.backend!r} is unavailable{extra}: {e}") from e
    sandbox: Sandbox = backend.from_config(cfg, limits)
    return sandbox


# Remote backends: module and class, each with ``from_config(cfg, limits)``.
_REMOTE = {
    "ray": ("cobalt_rl.sandbox.ray", "RaySandbox"),
    "http": ("cobalt_rl.sandbox.http", "HttpSandbox"),
    "sandboxfusion": ("cobalt_rl.sandbox.sandboxfusion", "SandboxFusionSandbox"),
}
