"""The vLLM backend: only on a CUDA machine with vLLM installed (skipped elsewhere)."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace
from typing import Any

import pytest

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm import SamplingParams
from cobalt_rl.records import Message


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_without_vllm_is_a_config_error() -> None:
    from cobalt_rl.llm.vllm_backend import VLLMGenerator

    with pytest.raises(ConfigError, match="pip install"):
        VLLMGenerator("any-model")


@pytest.mark.gpu
@pytest.mark.slow
def test_vllm_generates_n_replies() -> None:
    pytest.importorskip("vllm")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    from cobalt_rl.llm.embedded import prepare_embedded_model
    from cobalt_rl.llm.vllm_backend import VLLMGenerator

    gen = VLLMGenerator(str(prepare_embedded_model()), gpu_memory_utilization=0.3)
    try:
        conv = [Message(role="user", content="Write a Python function add(a, b).")]
        out = gen.generate([conv, conv], 3, SamplingParams(max_new_tokens=32, seed=0))
    finally:
        gen.close()
    assert [len(row) for row in out] == [3, 3]
    for row in out:
        for reply in row:
            assert reply.prompt_tokens > 0 and 0 < reply.completion_tokens <= 32
            assert reply.finish_reason in ("stop", "length")


class _FakeVllm:
    """vllm's module as the backend uses it: ``LLM`` (chat) and ``SamplingParams``."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def SamplingParams(self, **kw: Any) -> Any:  # vLLM's names
        return SimpleNamespace(**kw)

    def LLM(self, **kw: Any) -> Any:
        fake = self

        class Engine:
            def chat(self, conversations: Any, params: Any, use_tqdm: bool = False) -> Any:
                fake.params.append(params)
                out = SimpleNamespace(text="ok", token_ids=[1], finish_reason="stop")
                return [
                    SimpleNamespace(prompt_token_ids=[1, 2], outputs=[out] * p.n) for p in params
                ]

        return Engine()


def test_every_request_gets_its_own_stable_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from cobalt_rl.llm.vllm_backend import VLLMGenerator, request_seeds

    fake = _FakeVllm()
    monkeypatch.setitem(sys.modules, "vllm", fake)
    gen = VLLMGenerator("any-model")
    a = [Message(role="user", content="problem a")]
    b = [Message(role="user", content="problem b")]
    out = gen.generate([a, a, b], 2, SamplingParams(max_new_tokens=8, seed=7))
    assert [len(row) for row in out] == [2, 2, 2]
    seeds = [p.seed for p in fake.params[0]]
    assert len(set(seeds)) == 3  # same conversation twice still gets two streams
    assert seeds == request_seeds(7, [a, a, b])  # stable: a resumed run draws the same
    assert request_seeds(8, [a, a, b]) != seeds  # the next turn's seed moves every request
    assert request_seeds(None, [a, b]) == [None, None]
