"""The vLLM backend: only on a CUDA machine with vLLM installed (skipped elsewhere)."""

from __future__ import annotations

import importlib.util

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
