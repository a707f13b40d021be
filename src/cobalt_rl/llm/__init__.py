"""Generators (local transformers, the embedded SmolLM2, vLLM, OpenAI-compatible servers, a
scripted fake), the helpers that turn replies into history, and code extraction.

Importing this package is cheap: torch, transformers, openai and vllm are imported only when
a backend that needs them is built. Pick a backend with its config (one model per backend,
together the union :data:`GeneratorConfig`) and build it with :func:`make_generator`::

    from cobalt_rl.llm import EmbeddedGeneratorConfig, SamplingParams, make_generator

    gen = make_generator(EmbeddedGeneratorConfig(num_threads=0))
    # or from a mapping, validated first: make_generator({"backend": "embedded", ...})
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
from cobalt_rl.llm.registry import (
    BACKEND_CONFIGS,
    BACKENDS,
    Backend,
    EmbeddedGeneratorConfig,
    FakeGeneratorConfig,
    GeneratorConfig,
    OpenAIGeneratorConfig,
    TransformersGeneratorConfig,
    VllmGeneratorConfig,
    make_generator,
    parse_generator_config,
)

__all__ = [
    "BACKENDS",
    "BACKEND_CONFIGS",
    "DEFAULT_MAX_REPLY_CHARS",
    "Backend",
    "CodeBlock",
    "Completion",
    "EmbeddedGeneratorConfig",
    "FakeCall",
    "FakeGeneratorConfig",
    "FinishReason",
    "Generator",
    "GeneratorConfig",
    "GeneratorError",
    "OpenAIGeneratorConfig",
    "SamplingParams",
    "ScriptedFakeGenerator",
    "TransformersGeneratorConfig",
    "VllmGeneratorConfig",
    "cap_reply",
    "count_code_blocks",
    "extract_code",
    "find_code_blocks",
    "make_generator",
    "parse_generator_config",
    "strip_reasoning",
]
