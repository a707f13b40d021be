"""Ending a reply where its program ends, token by token (``transformers`` generation).

:class:`ProgramEnd` reads a reply's token ids by the extractor's own rule
(:func:`~cobalt_rl.llm.extract.program_end`). That end is only ever reached on a token whose
text holds a newline (the line of the closing fence is complete then), so only those tokens
are checked, each by decoding the reply so far.

:class:`ProgramEndCriteria` is a ``transformers`` stopping criterion over a left-padded batch:
each row stops on its own, on the token that completes its closing fence's line, while the
other rows go on (``generate`` pads a row that stopped until the batch ends). It is used by
:class:`~cobalt_rl.llm.hf.TransformersGenerator` and by the online trainers' generation
(:func:`~cobalt_rl.train.episodes.transformers_generate`).

Imports nothing heavy: torch is imported when the criterion first runs, and the tokenizer is
passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cobalt_rl.llm.extract import program_end

__all__ = ["ProgramEnd", "ProgramEndCriteria"]


class ProgramEnd:
    """Where a reply's program ends, in tokens.

    Args:
        tokenizer: a transformers tokenizer (``decode`` is all it needs).
    """

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._ends_line: dict[int, bool] = {}

    def decode(self, ids: Sequence[int]) -> str:
        """The text of ``ids``, special tokens left out (as the generators decode replies)."""
        return str(self._tokenizer.decode(list(ids), skip_special_tokens=True))

    def ends_line(self, token: int) -> bool:
        """Whether ``token``'s text holds a newline (only then can a program end on it)."""
        known = self._ends_line.get(token)
        if known is None:
            known = self._ends_line[token] = "\n" in self.decode([token])
        return known

    def reached(self, ids: Sequence[int]) -> bool:
        """Whether the reply ``ids`` already holds the end of its program."""
        return program_end(self.decode(ids)) is not None

    def length(self, ids: Sequence[int]) -> int | None:
        """The fewest leading tokens of ``ids`` that hold the end of the program: where
        :class:`ProgramEndCriteria` stops the reply. None: the program never ends in them."""
        for count, token in enumerate(ids, start=1):
            if self.ends_line(token) and self.reached(ids[:count]):
                return count
        return None


class ProgramEndCriteria:
    """A ``transformers`` stopping criterion that ends each row when its program ends.

    Args:
        program: the tokenizer's :class:`ProgramEnd`.
        prompt_width: columns of the (left-padded) batch before the reply starts: one for
            every row, or one per row (rows that joined a batch at different times).

    Attributes:
        stopped: per row of the last call, whether this criterion ended it.
    """

    def __init__(self, program: ProgramEnd, prompt_width: int | Sequence[int]) -> None:
        self.program = program
        self.prompt_width = prompt_width
        self.stopped: list[bool] = []

    def _start(self, row: int) -> int:
        width = self.prompt_width
        return width if isinstance(width, int) else width[row]

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        """Per row, whether its reply has reached the end of its program (a bool tensor)."""
        import torch

        rows = int(input_ids.shape[0])
        if len(self.stopped) != rows:
            self.stopped = [False] * rows
        last = input_ids[:, -1].tolist()
        for row in range(rows):
            start = self._start(row)
            if (
                input_ids.shape[1] > start
                and not self.stopped[row]
                and self.program.ends_line(last[row])
                and self.program.reached(input_ids[row, start:].tolist())
            ):
                self.stopped[row] = True
        return torch.tensor(self.stopped, dtype=torch.bool, device=input_ids.device)
