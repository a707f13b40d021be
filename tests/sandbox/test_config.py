"""``SandboxConfig``: one model per backend, told apart by ``backend``, limits inside."""

from __future__ import annotations

from contextlib import closing

import pytest
from pydantic import BaseModel, Field, ValidationError

from cobalt_rl.sandbox import (
    HttpSandboxConfig,
    Limits,
    LocalSandboxConfig,
    RaySandboxConfig,
    SandboxConfig,
    SandboxFusionConfig,
    default_sandbox_config,
    parse_sandbox_config,
)
from cobalt_rl.sandbox.factory import make_sandbox
from cobalt_rl.sandbox.local import LocalSandbox


class Stage(BaseModel):
    sandbox: SandboxConfig = Field(default_factory=default_sandbox_config)


def test_a_mapping_without_backend_is_local() -> None:
    cfg = parse_sandbox_config({"workers": 2, "limits": {"timeout_s": 2}})
    assert isinstance(cfg, LocalSandboxConfig)
    assert cfg.workers == 2 and cfg.limits.timeout_s == 2
    assert isinstance(Stage().sandbox, LocalSandboxConfig)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"backend": "ray", "ray_actors": 2, "workers": 4}, RaySandboxConfig),
        ({"backend": "http", "urls": ["http://a:1"], "max_in_flight": 3}, HttpSandboxConfig),
        ({"backend": "sandboxfusion", "urls": ["https://b"]}, SandboxFusionConfig),
    ],
)
def test_backend_picks_the_model(data: dict[str, object], kind: type[BaseModel]) -> None:
    stage = Stage.model_validate({"sandbox": data})
    assert type(stage.sandbox) is kind
    assert stage.sandbox.limits == Limits()
    assert parse_sandbox_config(stage.sandbox) == stage.sandbox  # a model is kept as it is


def test_a_field_exists_only_where_it_means_something() -> None:
    with pytest.raises(ValidationError, match="urls"):
        parse_sandbox_config({"urls": ["http://a:1"]})  # local has no urls
    with pytest.raises(ValidationError, match="ray_address"):
        parse_sandbox_config({"backend": "http", "urls": ["http://a"], "ray_address": "x"})
    with pytest.raises(ValidationError, match="urls"):
        parse_sandbox_config({"backend": "http"})  # the services need urls
    with pytest.raises(ValidationError, match="http://"):
        HttpSandboxConfig(urls=["a:1"])
    with pytest.raises(ValidationError, match="'local', 'ray', 'http', 'sandboxfusion'"):
        parse_sandbox_config({"backend": "docker"})


def test_program_timeout_defaults_to_at_least_the_test_timeout() -> None:
    assert Limits().program_timeout_s == 30.0
    assert Limits(timeout_s=4).program_timeout_s == 30.0
    assert Limits(timeout_s=40).program_timeout_s == 40.0
    assert Limits(timeout_s=2, program_timeout_s=5).program_timeout_s == 5.0
    with pytest.raises(ValidationError, match="must be >= timeout_s"):
        Limits(timeout_s=10, program_timeout_s=5)


def test_make_sandbox_builds_what_the_config_names() -> None:
    limits = Limits(timeout_s=2)
    with closing(make_sandbox(LocalSandboxConfig(workers=1, limits=limits))) as sandbox:
        assert isinstance(sandbox, LocalSandbox)
        assert sandbox.num_workers == 1 and sandbox.limits == limits


def test_every_backend_builds_its_own_sandbox() -> None:
    for variant in (LocalSandboxConfig, RaySandboxConfig, HttpSandboxConfig, SandboxFusionConfig):
        assert "build" in vars(variant), f"{variant.__name__} does not build its backend"
