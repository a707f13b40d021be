"""Generator configs, one per backend (validated before any model loads), and the factory."""

from __future__ import annotations

import argparse
import inspect
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from cobalt_rl.cli.flags import add_model_arguments, model_from_args
from cobalt_rl.errors import ConfigError
from cobalt_rl.llm import (
    BACKEND_CONFIGS,
    BACKENDS,
    EmbeddedGeneratorConfig,
    FakeGeneratorConfig,
    GeneratorConfig,
    OpenAIGeneratorConfig,
    SamplingParams,
    ScriptedFakeGenerator,
    TransformersGeneratorConfig,
    VllmGeneratorConfig,
    make_generator,
    parse_generator_config,
)
from cobalt_rl.llm.embedded import embedded_generator
from cobalt_rl.llm.hf import TransformersGenerator
from cobalt_rl.llm.openai_backend import OpenAIGenerator
from cobalt_rl.llm.vllm_backend import VLLMGenerator
from cobalt_rl.records import Message

OPENAI = {"backend": "openai", "base_url": "http://x/v1", "model": "m"}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"backend": "openai", "model": "m"}, "openai backend needs base_url"),
        ({"backend": "openai", "base_url": "http://x/v1"}, "openai backend needs model"),
        ({**OPENAI, "base_url": "x/v1"}, "base_url: 'x/v1' must start with http"),
        ({"backend": "transformers"}, "transformers backend needs model"),
        ({"backend": "vllm"}, "vllm backend needs model"),
        ({"backend": "fake"}, "fake backend needs replies"),
        ({"backend": "fake", "replies": []}, "replies"),
        ({"backend": "llamacpp"}, "'llamacpp' is not a backend: pick one of embedded"),
        ({"device": "gpu"}, "device: 'gpu' is not one of cpu"),
        ({"batch_size": 0}, "batch_size"),
        ({"temperature": 1.0}, "'temperature' is not an option of the embedded backend .no "),
        ({**OPENAI, "api_key": "k", "api_key_env": "K"}, "not both"),
    ],
)
def test_bad_configs_are_config_errors(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_generator_config(data)
    with pytest.raises(ConfigError, match=match):
        make_generator(data)


@pytest.mark.parametrize(
    ("data", "field", "takers"),
    [
        ({"backend": "embedded", "base_url": "http://x/v1"}, "base_url", "the openai backend"),
        ({"model": "x"}, "model", "the transformers, vllm or openai backend"),
        ({**OPENAI, "device": "cuda"}, "device", "the embedded or transformers backend"),
        ({"backend": "vllm", "model": "m", "batch_size": 8}, "batch_size", "the embedded or"),
        ({"backend": "transformers", "model": "m", "cache_dir": "/c"}, "cache_dir", "the embedded"),
    ],
)
def test_a_field_of_another_backend_is_named(data: dict[str, Any], field: str, takers: str) -> None:
    backend = data.get("backend", "embedded")
    with pytest.raises(ConfigError) as caught:
        parse_generator_config(data, where="run.yaml")
    message = str(caught.value)
    assert message.startswith(f"invalid generator settings (backend {backend!r}) in run.yaml")
    assert f"field {field!r} is not an option of the {backend} backend ({takers}" in message


def test_flag_names_in_errors_from_arguments() -> None:
    with pytest.raises(ConfigError, match="--base-url: field 'base_url'"):
        parse_generator_config({"base_url": "http://x/v1"}, where="arguments")


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_generator_config({"device": "gpu", "batch_size": 0, "top_k": 3})
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == ["device", "batch_size", "top_k"]


def test_backend_defaults_to_embedded() -> None:
    assert parse_generator_config({}) == EmbeddedGeneratorConfig()
    assert parse_generator_config({"num_threads": 0}).backend == "embedded"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"backend": "transformers", "model": "m", "device": "cuda:1", "trust_remote_code": True},
        {"backend": "vllm", "model": "m", "tensor_parallel_size": 2, "max_model_len": 4096},
        {**OPENAI, "api_key_env": "K", "n_strategy": "repeat"},
        {"backend": "fake", "replies": ["a"]},
    ],
)
def test_each_backend_parses_to_its_own_model(data: dict[str, Any]) -> None:
    config = parse_generator_config(data)
    assert type(config) is BACKEND_CONFIGS[data.get("backend", "embedded")]
    assert config.model_dump(exclude_defaults=True, exclude={"backend"}) == {
        key: value for key, value in data.items() if key != "backend"
    }


def test_the_union_is_a_field_type() -> None:
    class Run(BaseModel):
        generator: GeneratorConfig = EmbeddedGeneratorConfig()

    assert Run().generator == EmbeddedGeneratorConfig()
    run = Run.model_validate({"generator": {"backend": "fake", "replies": ["x"]}})
    assert run.generator == FakeGeneratorConfig(replies=["x"])
    built = Run(generator=VllmGeneratorConfig(model="m"))  # a config object, not a mapping
    assert Run.model_validate(built.model_dump()) == built
    with pytest.raises(ValidationError, match="base_url"):
        Run.model_validate({"generator": {"backend": "embedded", "base_url": "http://x/v1"}})


def test_labels_name_the_model_or_the_backend() -> None:
    assert OpenAIGeneratorConfig(base_url="http://h/v1", model="qwen").label == "qwen"
    assert TransformersGeneratorConfig(model="/ckpt").label == "/ckpt"
    assert FakeGeneratorConfig(replies=["x"]).label == "fake"
    assert EmbeddedGeneratorConfig().label == "embedded"


def test_all_backends_registered() -> None:
    assert (
        set(BACKENDS)
        == set(BACKEND_CONFIGS)
        == {
            "transformers",
            "embedded",
            "openai",
            "vllm",
            "fake",
        }
    )


# The factory passes a config's fields as keyword arguments by name: each must be one the
# backend takes (the openai keys are resolved into ``api_key`` first).
BUILT_BY: dict[str, tuple[Callable[..., Any], set[str]]] = {
    "embedded": (embedded_generator, set()),
    "transformers": (TransformersGenerator, set()),
    "vllm": (VLLMGenerator, set()),
    "openai": (OpenAIGenerator, {"api_key_env"}),
}


@pytest.mark.parametrize("backend", sorted(BUILT_BY))
def test_config_fields_are_the_backends_options(backend: str) -> None:
    built_by, resolved = BUILT_BY[backend]
    parameters = set(inspect.signature(built_by).parameters)
    fields = set(BACKEND_CONFIGS[backend].model_fields) - {"backend"} - resolved
    assert fields <= parameters


def test_fake_backend_from_config() -> None:
    gen = make_generator({"backend": "fake", "replies": ["a", "b"]})
    assert isinstance(gen, ScriptedFakeGenerator)
    out = gen.generate([[Message(role="user", content="q")]], 3, SamplingParams())
    assert [c.text for c in out[0]] == ["a", "b", "a"]


def test_api_key_env_is_read_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("openai")
    config = OpenAIGeneratorConfig(
        base_url="http://127.0.0.1:1/v1", model="m", api_key_env="COBALT_K"
    )
    monkeypatch.delenv("COBALT_K", raising=False)
    with pytest.raises(ConfigError, match="COBALT_K"):
        make_generator(config)
    monkeypatch.setenv("COBALT_K", "sk-test")
    gen: Any = make_generator(config)
    assert gen._client.api_key == "sk-test"
    gen.close()


def test_api_key_is_not_dumped() -> None:
    config = OpenAIGeneratorConfig(base_url="http://h/v1", model="m", api_key="sk-1")
    assert "sk-1" not in config.model_dump_json()
    assert "sk-1" not in repr(config)


def test_cli_flags_come_from_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, OpenAIGeneratorConfig)
    ns = parser.parse_args(["--base-url", "http://h/v1", "--model", "m", "--concurrency", "4"])
    config = model_from_args(OpenAIGeneratorConfig, ns)
    assert (config.backend, config.concurrency) == ("openai", 4)


def test_import_is_cheap_and_never_imports_vllm() -> None:
    code = (
        "import sys\n"
        "import cobalt_rl.llm as llm\n"
        "import cobalt_rl.llm.hf, cobalt_rl.llm.embedded\n"
        "import cobalt_rl.llm.openai_backend, cobalt_rl.llm.vllm_backend\n"
        "llm.EmbeddedGeneratorConfig()\n"
        "llm.TransformersGeneratorConfig(model='m')\n"
        "llm.VllmGeneratorConfig(model='m')\n"
        "llm.OpenAIGeneratorConfig(base_url='http://h/v1', model='m')\n"
        "llm.FakeGeneratorConfig(replies=['x'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'openai', 'vllm') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""
