"""The token view of an episode: the chat template's ids for the prompt and for each feedback
turn, so that a trainer sees exactly the tokens the policy read and wrote.

A feedback turn is rendered after a fixed system message and cut from it, not from the
conversation: templates that rewrite earlier assistant turns (Qwen3 drops their reasoning,
and renders the last one differently once a user turn follows) would otherwise shift the cut.
Templates without a system role fall back to the conversation's difference.

Works with transformers 4 and 5 (``apply_chat_template(tokenize=True)`` returns a list in
one and a ``BatchEncoding`` in the other). Imports nothing heavy: the tokenizer is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChatTokens", "TokenTrace", "token_ids"]

_ANCHOR = [{"role": "system", "content": "cobalt-rl anchor"}]


def token_ids(encoded: Any) -> list[int]:
    """Token ids from what a tokenizer returned: a list, or a mapping with ``input_ids``."""
    if isinstance(encoded, Mapping) or hasattr(encoded, "keys"):
        encoded = encoded["input_ids"]
    return [int(t) for t in encoded]


@dataclass
class TokenTrace:
    """An episode as tokens: the prompt, then every reply and feedback turn.

    ``mask`` is 1 on the policy's tokens and 0 on feedback and template tokens between turns
    (no loss); ``logprobs`` hold the generator's log-probabilities of the policy's tokens
    (0.0 where unknown and on feedback).
    """

    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)

    @property
    def context(self) -> list[int]:
        """What the next reply is generated after."""
        return self.prompt_ids + self.completion_ids

    def add(
        self, ids: Sequence[int], policy: bool, logprobs: Sequence[float] | None = None
    ) -> None:
        self.completion_ids += list(ids)
        self.mask += [1 if policy else 0] * len(ids)
        values = list(logprobs[: len(ids)]) if logprobs is not None else []
        self.logprobs += values + [0.0] * (len(ids) - len(values))


class ChatTokens:
    """A tokenizer's chat template, as an episode needs it.

    Args:
        tokenizer: a transformers tokenizer (any object with ``apply_chat_template``,
            ``__call__``, ``decode`` and ``eos_token_id``).
        template_kwargs: extra keyword arguments for every ``apply_chat_template`` call
            (``enable_thinking`` for Qwen3, as verl's ``apply_chat_template_kwargs``).
    """

    def __init__(self, tokenizer: Any, template_kwargs: Mapping[str, Any] | None = None):
        self.tokenizer = tokenizer
        self.template_kwargs = dict(template_kwargs or {})
        self.eos = int(tokenizer.eos_token_id)
        self._gap: str | None = None

    def _render(self, messages: Sequence[Mapping[str, str]], **kwargs: Any) -> Any:
        return self.tokenizer.apply_chat_template(
            [dict(m) for m in messages], **kwargs, **self.template_kwargs
        )

    def prompt(self, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """The ids of ``messages``, opening the assistant's reply."""
        return token_ids(self._render(messages, add_generation_prompt=True, tokenize=True))

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    def _encode(self, text: str) -> list[int]:
        return token_ids(self.tokenizer(text, add_special_tokens=False))

    def _after_end_token(self) -> str:
        """What the template writes after the end token that closes an assistant turn, before
        the next turn: ``"\n"`` under ChatML (``<|im_end|>\n<|im_start|>user``: SmolLM2,
        Qwen), nothing under Llama 3. A generated reply stops at the end token, so a feedback
        turn starts with this, or the trainer would read tokens the template never makes."""
        if self._gap is None:
            self._gap = ""
            end = getattr(self.tokenizer, "eos_token", None)
            mark = "cobalt-rl reply"
            try:
                reply = {"role": "assistant", "content": mark}
                text = self._render([*_ANCHOR, {"role": "user", "content": "q"}, reply],
                                    tokenize=False)  # fmt: skip
            except Exception:  # a template that refuses the system message: no cut by anchor
                text = ""
            tail = text[text.rfind(mark) + len(mark) :] if mark in text else ""
            if isinstance(end, str) and end and tail.startswith(end):
                self._gap = tail[len(end) :]
        return self._gap

    def feedback(self, messages: Sequence[Mapping[str, str]], text: str) -> list[int]:
        """Tokens that follow an assistant turn to add the user turn ``text`` and open the
        next reply (``messages``: the conversation so far, ending with that assistant turn)."""
        user = {"role": "user", "content": text}
        try:
            anchor = self._render(_ANCHOR, tokenize=False)
            turn = self._render([*_ANCHOR, user], tokenize=False, add_generation_prompt=True)
        except Exception:  # a template that refuses a system message (Gemma's)
            anchor = turn = ""
        if anchor and turn.startswith(anchor):
            return self._encode(self._after_end_token() + turn[len(anchor) :])
        before = self._render(messages, tokenize=False)
        after = self._render([*messages, user], tokenize=False, add_generation_prompt=True)
        suffix = after[len(before) :] if after.startswith(before) else after[len(before) - 1 :]
        return self._encode(suffix)
