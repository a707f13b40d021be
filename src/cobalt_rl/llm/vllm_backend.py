"""Offline generation with vLLM's ``LLM`` engine (one GPU box; the fastest local option).

vLLM is imported only when this generator is built, so ``import cobalt_rl.llm`` and building
configs never pull it in (it is an optional extra: ``pip install cobalt-rl[vllm]``). The
engine applies the model's chat template itself (``LLM.chat``) and samples ``n`` replies per
conversation in one request (``SamplingParams(n=...)``), sharing the prompt's KV cache.

Seeds: a seeded call gives every request its own seed, derived from the call's seed, the
request's place in the batch and its conversation (:func:`request_seeds`). One seed for the
whole batch, as vLLM would use it, makes every request draw the same random stream, so at
later turns (same seed, similar prompts) the samples of one problem are correlated.

``stop_at_program_end`` is applied after generation: the reply's text is cut right after its
program, exactly as a local model stopping there would leave it, but the engine generated on
to its end token or the cap, so no time is saved and ``completion_tokens`` counts what was
generated. vLLM's stop strings cannot tell the closing fence of the first code block from an
opening bare fence; an exact early stop would need a custom logits processor installed in the
engine (not done here).
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import json
from typing import Any

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm._shared import check_request, finished, to_chat
from cobalt_rl.llm.base import Conversations, GeneratorError, Replies, SamplingParams

__all__ = ["VLLMGenerator", "request_seeds"]


def request_seeds(seed: int | None, conversations: Conversations) -> list[int | None]:
    """One seed per request, from ``seed``, the request's index and its conversation (stable
    across runs and machines: a hash, not Python's salted ``hash``); None when unseeded."""
    if seed is None:
        return [None] * len(conversations)
    seeds: list[int | None] = []
    for index, conversation in enumerate(conversations):
        text = json.dumps([seed, index, to_chat(conversation)], sort_keys=True)
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
        seeds.append(int.from_bytes(digest, "big") % (2**31 - 1))
    return seeds


class VLLMGenerator:
    """A :class:`~cobalt_rl.llm.base.Generator` on an in-process ``vllm.LLM`` engine."""

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.9,
        tensor_parallel_size: int = 1,
        max_model_len: int | None = None,
        seed: int = 0,
        trust_remote_code: bool = False,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        """Start the engine (loads the model onto the GPU).

        Args:
            model: a local checkpoint directory or a Hub id.
            dtype: ``auto``, ``float32``, ``bfloat16`` or ``float16``.
            gpu_memory_utilization: share of GPU memory vLLM may take (weights + KV cache).
            tensor_parallel_size: GPUs to shard the model over.
            max_model_len: longest prompt + reply in tokens; None: the model's own limit.
            seed: the engine's seed (per-call seeds come from ``SamplingParams.seed``).
            trust_remote_code: allow model code from the checkpoint.
            engine_options: further ``vllm.LLM`` keyword arguments, passed as given.

        Raises:
            ConfigError: vLLM is not installed, or an option is out of range.
        """
        if not 0.0 < gpu_memory_utilization <= 1.0:
            raise ConfigError(
                f"gpu_memory_utilization must be in (0, 1], got {gpu_memory_utilization}"
            )
        if tensor_parallel_size < 1:
            raise ConfigError(
                f"tensor_parallel_size must be at least 1, got {tensor_parallel_size}"
            )
        try:
            vllm = importlib.import_module("vllm")
        except ImportError as error:
            raise ConfigError(
                "the vllm backend needs vLLM: pip install 'cobalt-rl[vllm]' on a CUDA machine, "
                "or pick the transformers backend"
            ) from error
        self.model = model
        self._llm: Any = vllm.LLM(
            model=model,
            dtype=dtype,
            gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size,
            max_model_len=max_model_len,
            seed=seed,
            trust_remote_code=trust_remote_code,
            **(engine_options or {}),
        )

    @property
    def engine(self) -> Any:
        """The ``vllm.LLM`` engine (e.g. to load updated weights during training)."""
        if self._llm is None:
            raise GeneratorError(f"the vLLM generator for {self.model!r} is closed")
        return self._llm

    def generate(self, conversations: Conversations, n: int, sampling: SamplingParams) -> Replies:
        """Sample ``n`` replies per conversation in one batched engine call."""
        llm = self.engine
        check_request(conversations, n)
        vllm = importlib.import_module("vllm")

        params = [
            vllm.SamplingParams(
                n=n,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=sampling.top_k if sampling.top_k > 0 else -1,
                max_tokens=sampling.max_new_tokens,
                seed=seed,
                stop=list(sampling.stop) or None,
            )
            for seed in request_seeds(sampling.seed, conversations)
        ]
        outputs = llm.chat([to_chat(c) for c in conversations], params, use_tqdm=False)
        return [
            [
                finished(
                    out.text,
                    sampling,
                    prompt_tokens=len(request.prompt_token_ids or []),
                    completion_tokens=len(out.token_ids),
                    truncated=out.finish_reason == "length",
                )
                for out in request.outputs
            ]
            for request in outputs
        ]

    def close(self) -> None:
        """Shut the engine down and free GPU memory."""
        if self._llm is None:
            return
        self._llm = None
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
