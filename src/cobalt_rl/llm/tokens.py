"""Counting a conversation's prompt tokens with the policy's own chat template."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["token_counter"]


def token_counter(tokenizer: str, cache_dir: Path | None = None) -> Callable[..., int] | None:
    """A function counting a conversation's prompt tokens with the policy's chat template."""
    if tokenizer == "none":
        return None
    from transformers import AutoTokenizer

    if tokenizer == "embedded":
        from cobalt_rl.llm.embedded import prepare_embedded_model

        path: str | Path = prepare_embedded_model(cache_dir)
    else:
        path = tokenizer
    tok = AutoTokenizer.from_pretrained(str(path))

    def count(messages: Sequence[Any]) -> int:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        ids: Any = tok.apply_chat_template(chat, add_generation_prompt=True, tokenize=True)
        if not isinstance(ids, list):  # newer transformers return a BatchEncoding
            ids = ids["input_ids"]
        return len(ids)

    return count
