"""A scripted generator for tests: rollouts and training plumbing without a model.

In the spirit of httpx's ``MockTransport``: replies come from a script, deterministically,
and every call is recorded so a test can assert what the model was shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cobalt_rl.llm._shared import check_request, cut_at_program_end, cut_at_stop, finished
from cobalt_rl.llm.base import Completion, Conversations, GeneratorError, Replies, SamplingParams
from cobalt_rl.records import Message

__all__ = ["FakeCall", "ReplyFn", "ScriptedFakeGenerator"]

ReplyFn = Callable[[Sequence[Message], int], str]
"""``(conversation, sample_index) -> reply``; ``sample_index`` runs over ``0..n-1``."""

_TOKEN = re.compile(r"\s*\S+")


@dataclass(frozen=True)
class FakeCall:
    """One ``generate`` call as the fake saw it."""

    conversations: list[list[Message]]
    n: int
    sampling: SamplingParams


class ScriptedFakeGenerator:
    """A :class:`~cobalt_rl.llm.base.Generator` that answers from a script.

    Replies come from either:

    - a list of strings, handed out in order across calls (conversation by conversation,
      then sample by sample within a conversation); when the list runs out it starts over if
      ``cycle`` is true, else :class:`GeneratorError` is raised; or
    - a callable ``(conversation, sample_index) -> str``.

    Token counts are whitespace-separated words (a deterministic stand-in for a tokenizer):
    ``prompt_tokens`` counts the words of every message, ``completion_tokens`` those of the
    reply. ``sampling`` is honoured as a model would: a reply is cut before the first stop
    string or, with ``stop_at_program_end``, right after its program (reason ``"stop"``; the
    words after are neither kept nor counted), or after ``max_new_tokens`` words (reason
    ``"length"``, whitespace kept as written).

    Attributes:
        calls: every call, in order.
    """

    def __init__(self, script: Sequence[str] | ReplyFn, *, cycle: bool = False) -> None:
        """Build the fake.

        Args:
            script: the replies, or a function producing them.
            cycle: start a list script over when it runs out (else raise).
        """
        if isinstance(script, str):
            raise TypeError("script must be a list of replies (or a function), not one string")
        if not callable(script) and not script:
            raise ValueError("script is empty: give at least one reply or a function")
        self._script = script
        self._cycle = cycle
        self._next = 0
        self._closed = False
        self.calls: list[FakeCall] = []

    @property
    def conversations(self) -> list[list[Message]]:
        """Every conversation it was asked to continue, across calls, in order."""
        return [conv for call in self.calls for conv in call.conversations]

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _reply(self, conversation: Sequence[Message], index: int) -> str:
        if callable(self._script):
            return self._script(conversation, index)
        if self._next >= len(self._script):
            if not self._cycle:
                raise GeneratorError(
                    f"the fake generator's script ran out after {len(self._script)} replies; "
                    "add replies, or pass cycle=True to start over"
                )
            self._next = 0
        reply = self._script[self._next]
        self._next += 1
        return reply

    def generate(self, conversations: Conversations, n: int, sampling: SamplingParams) -> Replies:
        """Reply ``n`` times to each conversation from the script (see the class docs)."""
        if self._closed:
            raise GeneratorError("generate() called on a closed ScriptedFakeGenerator")
        check_request(conversations, n)
        self.calls.append(FakeCall([list(c) for c in conversations], n, sampling))
        replies: Replies = []
        for conversation in conversations:
            prompt_tokens = sum(len(message.content.split()) for message in conversation)
            replies.append(
                [
                    _complete(self._reply(conversation, index), prompt_tokens, sampling)
                    for index in range(n)
                ]
            )
        return replies

    def close(self) -> None:
        """Mark the fake closed; later ``generate`` calls raise."""
        self._closed = True


def _complete(reply: str, prompt_tokens: int, sampling: SamplingParams) -> Completion:
    """Stop strings and the program's end first, then the word cap: a model stops at
    whichever it meets first."""
    reply, _ = cut_at_stop(reply, sampling.stop)
    reply, _ = cut_at_program_end(reply, sampling)
    words = _TOKEN.findall(reply)
    truncated = len(words) > sampling.max_new_tokens
    return finished(
        "".join(words[: sampling.max_new_tokens]) if truncated else reply,
        sampling,
        prompt_tokens=prompt_tokens,
        completion_tokens=min(len(words), sampling.max_new_tokens),
        truncated=truncated,
    )
