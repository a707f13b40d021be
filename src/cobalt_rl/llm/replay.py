"""A generator that replays given attempts, then (optionally) hands over to a real model.

Cobalt's reference model need not be the policy (arXiv 2602.03806 collects its offline
trajectories with a reference model): any source of attempts serves, as long as the feedback
the policy later learns from is the sandbox's own. :class:`ReplayGenerator` answers from
*attempt sequences*, one list of programs per replayed trajectory of a problem: sample ``k`` of
a problem replays its ``k``-th sequence (cycling when asked for more samples than there are
sequences), one program per turn. The rollout loop runs each replayed program in the sandbox
exactly as it runs a model's, so the feedback, the pass rates and the records are real.

Once a sequence is spent, the next turn goes to ``then`` (a real generator) when one is given:
that is how a held-out *scripted failure* is evaluated (a known-wrong program and its real
feedback, then the model's repair), and how the offline data for training gets trajectories
that improve after feedback (a wrong program, then the reference solution).

A conversation is matched to its problem by its first user message (the problem's first-turn
prompt), so two problems with the same prompt cannot both be replayed (refused up front).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cobalt_rl.llm._shared import check_request, finished
from cobalt_rl.llm.base import (
    Completion,
    Conversations,
    Generator,
    GeneratorError,
    Replies,
    SamplingParams,
)
from cobalt_rl.records import Message

__all__ = ["ReplayGenerator", "code_reply"]


def code_reply(code: str) -> str:
    """A program as a model's reply: one fenced Python block."""
    return f"```python\n{code.rstrip()}\n```"


class ReplayGenerator:
    """Replays attempt sequences by first-turn prompt; see the module docs."""

    def __init__(
        self, sequences: Mapping[str, Sequence[Sequence[str]]], then: Generator | None = None
    ) -> None:
        """Build the replay.

        Args:
            sequences: by first-turn prompt (the first user message), the attempt sequences
                of that problem, each a list of programs (code, not replies).
            then: the generator that answers once a sequence is spent (None: a spent
                sequence is an error).
        """
        empty = [prompt[:60] for prompt, seqs in sequences.items() if not seqs or not all(seqs)]
        if empty:
            raise ValueError(f"every replayed problem needs non-empty sequences: {empty}")
        self._sequences = {
            prompt: [list(seq) for seq in seqs] for prompt, seqs in sequences.items()
        }
        self._then = then

    def generate(self, conversations: Conversations, n: int, sampling: SamplingParams) -> Replies:
        """Replay what the sequences hold; hand the rest to ``then``."""
        check_request(conversations, n)
        replies: list[list[Completion | None]] = []
        handed_over: list[int] = []
        for index, conversation in enumerate(conversations):
            row = [self._replayed(conversation, sample, sampling) for sample in range(n)]
            if any(reply is None for reply in row):
                handed_over.append(index)
            replies.append(row)
        if handed_over:
            self._hand_over(conversations, handed_over, n, sampling, replies)
        return [[reply for reply in row if reply is not None] for row in replies]

    def _replayed(
        self, conversation: Sequence[Message], sample: int, sampling: SamplingParams
    ) -> Completion | None:
        """The replayed reply of ``sample`` to ``conversation``; None once it is spent."""
        prompt = next((m.content for m in conversation if m.role == "user"), None)
        sequences = self._sequences.get(prompt or "")
        if sequences is None:
            raise GeneratorError("a conversation's first prompt has no replayed attempts")
        earlier = [m.content for m in conversation if m.role == "assistant"]
        if earlier:  # a later turn: the sequence whose first reply this conversation holds
            sequence = next((s for s in sequences if code_reply(s[0]) == earlier[0]), None)
            if sequence is None:
                return None  # the first reply was the model's own: it goes on
        else:
            sequence = sequences[sample % len(sequences)]
        turn = len(earlier)
        if turn >= len(sequence):
            return None
        return finished(
            code_reply(sequence[turn]),
            sampling,
            prompt_tokens=0,
            completion_tokens=0,  # nothing was generated
            truncated=False,
        )

    def _hand_over(
        self,
        conversations: Conversations,
        indices: list[int],
        n: int,
        sampling: SamplingParams,
        replies: list[list[Completion | None]],
    ) -> None:
        if self._then is None:
            raise GeneratorError(
                "a replayed sequence is spent and no model was given to go on: replay with "
                "as many turns as the sequences hold, or give `then`"
            )
        generated = self._then.generate([conversations[i] for i in indices], n, sampling)
        for index, row in zip(indices, generated, strict=True):
            replies[index] = [
                replay if replay is not None else model
                for replay, model in zip(replies[index], row, strict=True)
            ]

    def close(self) -> None:
        """Close the generator handed over to (the replay holds nothing)."""
        if self._then is not None:
            self._then.close()
