"""The ``Generator`` protocol, the sampling settings it takes and the completions it returns.

A generator turns conversations (lists of :class:`~cobalt_rl.records.Message`) into ``n``
sampled assistant replies each. Backends live one per module (``hf``, ``embedded``,
``openai_backend``, ``vllm_backend``, ``fake``), share their request and reply handling
through ``_shared``, and are built from a :data:`~cobalt_rl.llm.registry.GeneratorConfig` by
:func:`~cobalt_rl.llm.registry.make_generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.errors import CobaltError
from cobalt_rl.profiles import Profile, profile_spec
from cobalt_rl.records import Message

__all__ = [
    "Completion",
    "Conversations",
    "FinishReason",
    "Generator",
    "GeneratorError",
    "Replies",
    "SamplingParams",
]

FinishReason = Literal["stop", "length"]


class GeneratorError(CobaltError, RuntimeError):
    """A generator backend failed at run time (server errors after all retries, a timeout,
    a request the server rejected, a script that ran out). Bad settings raise
    :class:`~cobalt_rl.errors.ConfigError` instead, before any model loads."""


class SamplingParams(BaseModel):
    """How to sample replies. Every backend honours every field unless noted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(
        1.0,
        ge=0.0,
        description="Softmax temperature; 0 means greedy decoding (all n samples then agree).",
    )
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass; 1.0 disables it.")
    top_k: int = Field(
        0,
        ge=0,
        description="Keep only the k most likely tokens; 0 disables it. Sent to OpenAI-"
        "compatible servers as an extra body field (vLLM and SGLang read it; OpenAI ignores "
        "it).",
    )
    max_new_tokens: int = Field(
        512, ge=1, description="Most tokens generated per reply (the prompt not counted)."
    )
    seed: int | None = Field(
        None,
        description="Seed for sampling; None: not seeded. With the same seed, inputs and "
        "backend settings (batch size included) a local backend repeats its samples exactly; "
        "servers may not.",
    )
    stop: list[str] = Field(
        default_factory=list,
        description="Strings that end a reply; the reply is cut before the first one found "
        "(it is not part of the text) and finishes with reason 'stop'.",
    )
    stop_at_program_end: bool | None = Field(
        None,
        description="End a reply right after the closing fence of its first complete code "
        "block (cobalt_rl.llm.extract.program_end): the text after it is dropped and the reply "
        "finishes with reason 'stop', instead of rambling on to the cap after a finished "
        "program. A block that never closes runs to the cap as before. transformers (and the "
        "embedded model) stop generating there; vLLM and OpenAI-compatible servers generate on "
        "and the reply is cut afterwards (same text, no time saved, their token count). None: "
        "the profile decides where a config knows it (on under cobalt-rl; off under reference, "
        "which refuses it: the paper's replies run to their end); a generator given None does "
        "not stop.",
    )

    def for_profile(self, profile: Profile | str) -> SamplingParams:
        """These settings with ``stop_at_program_end`` decided by ``profile`` where unset.

        The decided value stays out of ``model_fields_set``: it is the profile's default, not
        a choice, so a dump of the given fields (``exclude_unset``) is decided afresh under
        the profile it lands in.

        Raises:
            ValueError: the stop is on under a profile that runs replies to their end
                (``reference``); the message says how to fix it.
        """
        allowed = profile_spec(profile).stop_at_program_end
        if self.stop_at_program_end is None:
            decided = self.model_copy(update={"stop_at_program_end": allowed})
            decided.model_fields_set.discard("stop_at_program_end")
            return decided
        if self.stop_at_program_end and not allowed:
            raise ValueError(
                f"sampling.stop_at_program_end is on, but the {Profile(profile).value} profile "
                "runs every reply to its end as the paper's code does (and reads the last code "
                "block of the whole reply); set it to false or leave it unset"
            )
        return self


class Completion(BaseModel):
    """One sampled reply.

    Attributes:
        text: the reply, special tokens removed, cut before any stop string.
        prompt_tokens: tokens in the prompt (the conversation after the chat template).
        completion_tokens: tokens generated, counting the end-of-sequence token when one was
            produced (what the reply cost). Servers that report no usage give 0; servers
            answering ``n > 1`` in one request report only a total, which is shared out in
            proportion to the replies' lengths.
        finish_reason: ``"stop"`` (end of sequence or a stop string) or ``"length"`` (hit
            ``max_new_tokens``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    finish_reason: FinishReason


Conversations = Sequence[Sequence[Message]]
"""What a generator is asked to continue: conversations, each a list of messages."""

Replies = list[list[Completion]]
"""What it answers: one list of ``n`` completions per conversation, in the order given."""


@runtime_checkable
class Generator(Protocol):
    """Samples assistant replies to conversations."""

    def generate(self, conversations: Conversations, n: int, sampling: SamplingParams) -> Replies:
        """Sample ``n`` replies to each conversation.

        Args:
            conversations: each a list of messages ending with a user (or system) turn.
            n: replies per conversation (at least 1).
            sampling: how to sample.

        Returns:
            One list of ``n`` completions per conversation, in the order given.

        Raises:
            GeneratorError: the backend failed (after its retries, where it has any).
        """
        ...

    def close(self) -> None:
        """Release the model, threads and connections. Calling it twice is harmless."""
        ...
