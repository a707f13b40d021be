"""What every backend does the same way: check a request, present a conversation to a chat
API, and finish a reply (cut at its stop string or after its program, with its finish reason).

Private to the backends; the contract they implement is in :mod:`cobalt_rl.llm.base`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cobalt_rl.llm.base import Completion, Conversations, FinishReason, SamplingParams
from cobalt_rl.llm.extract import program_end
from cobalt_rl.records import Message

__all__ = ["check_request", "cut_at_program_end", "cut_at_stop", "finished", "to_chat"]


def to_chat(conversation: Sequence[Message]) -> list[dict[str, str]]:
    """A conversation as the ``[{"role": ..., "content": ...}]`` list chat APIs take."""
    return [{"role": message.role, "content": message.content} for message in conversation]


def check_request(conversations: Conversations, n: int) -> None:
    """Reject a malformed request with a clear message."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    for index, conversation in enumerate(conversations):
        if not conversation:
            raise ValueError(f"conversation {index} is empty: it needs at least one message")


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` cut before the first of the ``stop`` strings in it, and whether one was found."""
    cuts = [index for index in (text.find(marker) for marker in stop if marker) if index >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)


def cut_at_program_end(text: str, sampling: SamplingParams) -> tuple[str, bool]:
    """``text`` cut right after its program (:func:`~cobalt_rl.llm.extract.program_end`)
    when ``sampling`` asks for it, and whether it was."""
    end = program_end(text) if sampling.stop_at_program_end else None
    return (text[:end], True) if end is not None else (text, False)


def finished(
    text: str,
    sampling: SamplingParams,
    *,
    prompt_tokens: int,
    completion_tokens: int,
    truncated: bool,
) -> Completion:
    """The completion of a reply that ended, cut before its first stop string and after its
    program where ``sampling.stop_at_program_end`` is on.

    Args:
        text: the reply as decoded or as the server sent it.
        sampling: the settings it was sampled with (their ``stop`` strings).
        prompt_tokens: tokens in the prompt.
        completion_tokens: tokens generated.
        truncated: whether generation ended at ``max_new_tokens``. A stop string found in
            ``text`` overrides it: the reply then finishes with reason ``"stop"``, as it would
            have where the backend checks stop strings itself (servers and engines drop the
            stop string; some, like older llama.cpp, do not, and local ``transformers`` keeps
            it). So does the end of the program, where the backend generated past it.
    """
    text, stopped = cut_at_stop(text, sampling.stop)
    text, ended = cut_at_program_end(text, sampling)
    stopped = stopped or ended
    reason: FinishReason = "length" if truncated and not stopped else "stop"
    return Completion(
        text=text,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        finish_reason=reason,
    )
