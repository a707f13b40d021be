"""Generators (local transformers, the embedded SmolLM2, vLLM, OpenAI-compatible servers, a
scripted fake), the helpers that turn replies into history, and code extraction.

Importing this package is cheap: torch, transformers, openai and vllm are imported only when
a backend that needs them is built. Pick a backend with :func:`make_generator`::

    from cobalt_rl.llm import GeneratorConfig, SamplingParams, make_generator

    gen = make_generator(GeneratorConfig(backend="embedded", num_threads=0))
    replies = gen.generate([[Message(role="user", content="...")]], n=4,
                           sampling=SamplingParams(temperature=0.7, max_new_tokens=256))
    gen.close()

Backends, one per module: ``hf.TransformersGenerator``, ``embedded.embedded_generator``,
``openai_backend.OpenAIGenerator``, ``vllm_backend.VLLMGenerator``,
``fake.ScriptedFakeGenerator``.
"""

from cobalt_rl.llm.base import Completion, FinishReason, Generator, GeneratorError, SamplingParams
from cobalt_rl.llm.extract import CodeBlock, count_code_blocks, extract_code, find_code_blocks
from cobalt_rl.llm.fake import FakeCall, ScriptedFakeGenerator
from cobalt_rl.llm.reasoning import DEFAULT_MAX_REPLY_CHARS, cap_reply, strip_reasoning
from cobalt_rl.llm.registry import BACKENDS, Backend, GeneratorConfig, make_generator

__all__ = [
    "BACKENDS",
    "DEFAULT_MAX_REPLY_CHARS",
    "Backend",
    "CodeBlock",
    "Completion",
    "FakeCall",
    "FinishReason",
    "Generator",
    "GeneratorConfig",
    "GeneratorError",
    "SamplingParams",
    "ScriptedFakeGenerator",
    "cap_reply",
    "count_code_blocks",
    "extract_code",
    "find_code_blocks",
    "make_generator",
    "strip_reasoning",
]
