"""``cobalt sandbox serve``: run the HTTP sandbox service (see :mod:`cobalt_rl.sandbox.service`)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.cli.flags import add_command, model_from_args
from cobalt_rl.errors import ConfigError
from cobalt_rl.sandbox.config import LocalSandboxConfig
from cobalt_rl.sandbox.service import ServiceLimits


class ServeConfig(BaseModel):
    """Options of ``cobalt sandbox serve``."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8765, ge=0, le=65535, description="TCP port (0: any free one).")
    token_file: Path | None = Field(
        None,
        description="File holding the bearer token clients must send (never put the token "
        "itself on the command line: other users see it in the process list).",
    )
    token_env: str = Field(
        "COBALT_SANDBOX_TOKEN",
        description="Environment variable holding the token when no --token-file is given "
        "(unset or empty: no authentication).",
    )
    allow_unauthenticated: bool = Field(
        False,
        description="Listen on a non-loopback address without a token. Anyone who can reach "
        "the port could then run code on this machine's CPUs (inside the sandbox).",
    )
    pool: LocalSandboxConfig = Field(
        default_factory=LocalSandboxConfig,
        description="The sandbox workers behind the service and the limits of a request that "
        "carries none.",
        json_schema_extra={"cli_flatten": True},
    )
    bounds: ServiceLimits = Field(
        default_factory=ServiceLimits,
        description="What one client may ask: body size, batch, programs pending, and the "
        "largest limits (the ceiling).",
        json_schema_extra={"cli_flatten": True},
    )
    drain_timeout: float | None = Field(
        None, gt=0, description="Seconds to wait for batches in flight on SIGTERM (default: all)."
    )
    require_isolation: bool = Field(
        False, description="Refuse to start unless bubblewrap isolation is available."
    )


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sandbox",
        help="Run the sandbox as an HTTP service.",
        description="Sandbox services for other machines.",
    )
    verbs = parser.add_subparsers(dest="sandbox_command", metavar="VERB")
    add_command(verbs, "serve", ServeConfig, run_serve)
    parser.set_defaults(func=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError as e:
        raise ConfigError(f"--host {host!r} does not resolve: {e}") from e
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def read_token(cfg: ServeConfig) -> str | None:
    """The token from ``--token-file`` or the ``--token-env`` variable (None: no auth)."""
    if cfg.token_file is not None:
        try:
            token = cfg.token_file.read_text().strip()
        except OSError as e:
            raise ConfigError(f"--token-file {cfg.token_file}: cannot read it: {e}") from e
        if not token:
            raise ConfigError(f"--token-file {cfg.token_file} is empty")
        return token
    return os.environ.get(cfg.token_env, "").strip() or None


def run_serve(args: argparse.Namespace) -> int:
    """Serve a pool of sandbox workers over HTTP.

    Serve a pool of warm sandbox workers over HTTP (POST /v1/run, GET /healthz, GET
    /v1/stats) for the `http` sandbox backend. SIGTERM or Ctrl-C drains: batches in flight
    finish, new ones are refused, then it exits 0.
    """
    cfg = model_from_args(ServeConfig, args)
    token = read_token(cfg)
    if token is None and not cfg.allow_unauthenticated and not is_loopback(cfg.host):
        raise ConfigError(
            f"--host {cfg.host} is reachable from other machines, and no token is set: anyone "
            "who can reach the port could run code here. Give --token-file FILE (or set "
            f"${cfg.token_env}), or pass --allow-unauthenticated on a trusted network."
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from cobalt_rl.sandbox.service import SandboxService, serve_until_signalled

    sandbox = cfg.pool.build(require_isolation=cfg.require_isolation)
    try:
        service = SandboxService(sandbox, cfg.host, cfg.port, token=token, bounds=cfg.bounds)
    except OSError as e:
        sandbox.close()
        raise ConfigError(f"cannot listen on {cfg.host}:{cfg.port}: {e}") from e
    # The first line a supervisor (or a test) can wait for: where to connect.
    print(f"cobalt sandbox: serving on {service.url}", file=sys.stderr, flush=True)
    return serve_until_signalled(service, cfg.drain_timeout)
