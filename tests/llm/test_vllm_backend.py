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

    def __init__(self, text: str = "ok", finish_reason: str = "stop") -> None:
        self.params: list[Any] = []
        self.text = text
        self.finish_reason = finish_reason

    def SamplingParams(self, **kw: Any) -> Any:  # vLLM's names
        return SimpleNamespace(**kw)

    def LLM(self, **kw: Any) -> Any:
        fake = self

        class Engine:
            def chat(self, conversations: Any, params: Any, use_tqdm: bool = False) -> Any:
                fake.params.append(params)
                out = SimpleNamespace(
                    text=fake.text, token_ids=[1] * 40, finish_reason=fake.finish_reason
                )
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


def test_program_end_cuts_the_engines_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from cobalt_rl.llm.vllm_backend import VLLMGenerator

    fake = _FakeVllm("```python\nprint(1)\n```\nthen rambling to the cap", "length")
    monkeypatch.setitem(sys.modules, "vllm", fake)
    gen = VLLMGenerator("any-model")
    conv = [Message(role="user", content="problem")]
    (cut,) = gen.generate([conv], 1, SamplingParams(max_new_tokens=40, stop_at_program_end=True))[0]
    (whole,) = gen.generate([conv], 1, SamplingParams(max_new_tokens=40))[0]
    assert (cut.text, cut.finish_reason) == ("```python\nprint(1)\n```", "stop")
    assert cut.completion_tokens == 40  # what the engine generated: no early stop here
    assert whole.finish_reason == "length" and whole.text.endswith("to the cap")
    assert not hasattr(fake.params[0][0], "stop_at_program_end")
