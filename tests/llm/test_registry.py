"""GeneratorConfig validation (before any model loads) and the backend registry."""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from cobalt_rl.config import add_model_arguments, model_from_args
from cobalt_rl.errors import ConfigError
from cobalt_rl.llm import (
    BACKENDS,
    GeneratorConfig,
    SamplingParams,
    ScriptedFakeGenerator,
    make_generator,
)
from cobalt_rl.records import Message


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"backend": "openai", "model": "m"}, "needs base_url"),
        ({"backend": "openai", "base_url": "http://x/v1"}, "needs model"),
        ({"backend": "openai", "base_url": "x/v1", "model": "m"}, "http"),
        ({"backend": "transformers"}, "needs model"),
        ({"backend": "vllm"}, "needs model"),
        ({"backend": "embedded", "model": "x"}, "always runs the bundled"),
        ({"backend": "fake"}, "fake_replies"),
        ({"backend": "llamacpp"}, "backend"),
        ({"device": "gpu"}, "device"),
        ({"batch_size": 0}, "batch_size"),
        ({"temperature": 1.0}, "temperature"),  # not a generator field: extra is forbidden
        (
            {
                "backend": "openai",
                "base_url": "http://x/v1",
                "model": "m",
                "api_key": "k",
                "api_key_env": "K",
            },
            "not both",
        ),
    ],
)
def test_bad_configs_are_config_errors(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make_generator(data)
    with pytest.raises(ValidationError):
        GeneratorConfig.model_validate(data)


def test_all_backends_registered() -> None:
    assert set(BACKENDS) == {"transformers", "embedded", "openai", "vllm", "fake"}


def test_fake_backend_from_config() -> None:
    gen = make_generator({"backend": "fake", "fake_replies": ["a", "b"]})
    assert isinstance(gen, ScriptedFakeGenerator)
    out = gen.generate([[Message(role="user", content="q")]], 3, SamplingParams())
    assert [c.text for c in out[0]] == ["a", "b", "a"]


def test_api_key_env_is_read_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("openai")
    config = GeneratorConfig(
        backend="openai", base_url="http://127.0.0.1:1/v1", model="m", api_key_env="COBALT_K"
    )
    monkeypatch.delenv("COBALT_K", raising=False)
    with pytest.raises(ConfigError, match="COBALT_K"):
        make_generator(config)
    monkeypatch.setenv("COBALT_K", "sk-test")
    gen: Any = make_generator(config)
    assert gen._client.api_key == "sk-test"
    gen.close()


def test_api_key_is_not_dumped() -> None:
    config = GeneratorConfig(backend="openai", base_url="http://h/v1", model="m", api_key="sk-1")
    assert "sk-1" not in config.model_dump_json()
    assert "sk-1" not in repr(config)


def test_cli_flags_come_from_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, GeneratorConfig)
    ns = parser.parse_args(
        ["--backend", "openai", "--base-url", "http://h/v1", "--model", "m", "--concurrency", "4"]
    )
    config = model_from_args(GeneratorConfig, ns)
    assert (config.backend, config.concurrency) == ("openai", 4)


def test_import_is_cheap_and_never_imports_vllm() -> None:
    code = (
        "import sys\n"
        "import cobalt_rl.llm as llm\n"
        "import cobalt_rl.llm.hf, cobalt_rl.llm.embedded\n"
        "import cobalt_rl.llm.openai_backend, cobalt_rl.llm.vllm_backend\n"
        "for b in llm.BACKENDS:\n"
        "    llm.GeneratorConfig(backend=b, model=None if b == 'embedded' else 'm',\n"
        "        base_url='http://h/v1', fake_replies=['x'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'openai', 'vllm') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""
