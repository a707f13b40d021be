"""What of a reply goes back into the conversation history.

Following the paper's reference setup (DESIGN.md, "Defaults"), a thinking model's reasoning
(everything up to its last ``</think>``) is dropped from the history the next turn sees, and
the remaining reply is capped at 6,000 characters so one runaway reply cannot crowd the
context. Apply :func:`strip_reasoning` first, then :func:`cap_reply`.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_REPLY_CHARS", "THINK_END", "cap_reply", "strip_reasoning"]

THINK_END = "</think>"
DEFAULT_MAX_REPLY_CHARS = 6000


def strip_reasoning(text: str) -> str:
    """Remove everything up to and including the LAST ``</think>``, and the whitespace after it.

    A reply without ``</think>`` is returned unchanged, so non-thinking models pass through.
    A reply whose ``<think>`` was never closed (cut off mid-reasoning) also comes back
    unchanged: there is no answer to separate from the reasoning.

    Args:
        text: a model reply.

    Returns:
        The answer part of the reply.
    """
    idx = text.rfind(THINK_END)
    if idx < 0:
        return text
    return text[idx + len(THINK_END) :].lstrip()


def cap_reply(text: str, max_chars: int = DEFAULT_MAX_REPLY_CHARS) -> str:
    """Keep the first ``max_chars`` characters of a reply (DESIGN.md: replies capped at 6,000).

    The head is kept, not the tail: the history should read as what the model said, and a
    reply that runs past the cap is usually a loop whose start holds the content.

    Args:
        text: a reply, usually already passed through :func:`strip_reasoning`.
        max_chars: the cap, at least 1.

    Returns:
        ``text`` itself when it fits, else its first ``max_chars`` characters.

    Raises:
        ValueError: ``max_chars`` is below 1.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    return text if len(text) <= max_chars else text[:max_chars]
