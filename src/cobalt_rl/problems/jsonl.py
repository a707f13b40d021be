"""Our own problems JSONL (one :class:`~cobalt_rl.records.Problem` per line) as a source.

Unlike :func:`cobalt_rl.problems.load_problems`, which fails on the first bad line (the rule
for every artifact a stage reads), converting reports each bad line as a rejection and keeps
the rest, like every other source: useful to check and clean a hand-edited or merged file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from cobalt_rl.problems._common import Conversion, Row, read_source, validation_detail
from cobalt_rl.records import Problem

__all__ = ["convert"]


def _convert_row(row: Row) -> Problem:
    try:
        return Problem.model_validate(row.data)
    except ValidationError as e:
        row.reject("not a valid problem", validation_detail(e))


def convert(path: str | Path | None = None) -> Conversion:
    """Read a problems JSONL file, rejecting (not failing on) lines that do not validate.

    Args:
        path: the ``.jsonl`` (or ``.jsonl.gz``) file, or a directory of them.

    Returns:
        The conversion: the valid problems as stored, and the bad lines with reasons.
    """
    return read_source("jsonl", path, _convert_row)
