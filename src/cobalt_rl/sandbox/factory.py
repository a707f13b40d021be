"""Choosing a sandbox backend: ``make_sandbox`` builds the one a ``SandboxConfig`` names.

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
side only runs code). The configs themselves live in :mod:`cobalt_rl.sandbox.config`, and
each builds its own backend.
"""

from __future__ import annotations

from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.sandbox.config import SandboxConfig, default_sandbox_config, parse_sandbox_config

# The config's names are re-exported for callers that build a sandbox from a section.
__all__ = ["SandboxConfig", "default_sandbox_config", "make_sandbox", "parse_sandbox_config"]


def make_sandbox(cfg: SandboxConfig | None = None, *, require_isolation: bool = False) -> Sandbox:
    """The sandbox ``cfg`` names (default: the local one), with ``cfg.limits`` for requests
    that carry none.

    ``require_isolation`` refuses to run without bubblewrap (local and Ray backends; a remote
    service decides its own isolation).

    Raises:
        ConfigError: the backend's extra is not installed (Ray).
    """
    return (cfg or default_sandbox_config()).build(require_isolation=require_isolation)
