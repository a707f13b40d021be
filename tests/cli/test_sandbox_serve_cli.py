"""``cobalt sandbox serve``'s options: the pool's and the service's own settings, named as in
every other config (``--limits-timeout-s``, ``--workers``, ``--ceiling-memory-mb``)."""

from __future__ import annotations

import pytest

from cobalt_rl.cli.flags import model_from_args
from cobalt_rl.cli.main import build_parser
from cobalt_rl.cli.sandbox import ServeConfig
from cobalt_rl.errors import ConfigError
from cobalt_rl.sandbox.limits import Limits


def serve_config(*argv: str) -> ServeConfig:
    args = build_parser().parse_args(["sandbox", "serve", *argv])
    return model_from_args(ServeConfig, args)


def test_defaults_are_the_sandbox_defaults_and_the_service_ceiling() -> None:
    cfg = serve_config()
    assert cfg.pool.limits == Limits()
    assert cfg.pool.cache_size == 100_000
    assert (cfg.bounds.ceiling.timeout_s, cfg.bounds.ceiling.memory_mb) == (60.0, 8192)
    assert cfg.bounds.ceiling.program_timeout_s == 600.0


def test_flags_reach_the_pool_and_the_bounds() -> None:
    cfg = serve_config(
        "--workers", "3", "--limits-timeout-s", "2", "--cache-size", "0", "--max-batch", "7"
    )
    assert cfg.pool.workers == 3 and cfg.pool.cache_size == 0
    assert cfg.pool.limits.timeout_s == 2.0
    assert cfg.bounds.max_batch == 7


def test_a_partial_ceiling_keeps_the_ceiling_defaults_for_the_rest() -> None:
    cfg = serve_config("--ceiling-timeout-s", "90")
    assert cfg.bounds.ceiling.timeout_s == 90.0
    assert cfg.bounds.ceiling.memory_mb == 8192  # not the request default, 1024
    assert cfg.bounds.ceiling.program_timeout_s == 600.0
    longer = serve_config("--ceiling-timeout-s", "900")
    assert longer.bounds.ceiling.program_timeout_s == 900.0  # room for one test


def test_contradicting_limits_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="program_timeout_s"):
        serve_config("--limits-timeout-s", "10", "--limits-program-timeout-s", "5")


def test_the_old_flag_names_are_gone() -> None:
    with pytest.raises(SystemExit):
        serve_config("--timeout", "1")
