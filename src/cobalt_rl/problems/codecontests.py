"""DeepMind CodeContests rows to problems.

Format: ``contest_problem.proto`` in google-deepmind/code_contests, as exported to
https://huggingface.co/datasets/deepmind/code_contests (parquet; JSONL exports have the same
shape): ``name``, ``description``, ``public_tests`` / ``private_tests`` / ``generated_tests``
(each ``{"input": [...], "output": [...]}``), ``source`` and ``difficulty`` (proto enum
numbers), ``solutions`` / ``incorrect_solutions`` (``{"language": [...], "solution": [...]}``),
``cf_contest_id``, ``cf_index``, ``cf_points``, ``cf_rating``, ``cf_tags``, ``time_limit``
(``{"seconds", "nanos"}``), ``memory_limit_bytes``, ``input_file``, ``output_file``.

Every problem reads stdin and writes stdout. Public tests stay public ("available before
submitting a solution ... acceptable inputs to a model", says the proto); private tests, and
generated tests unless ``include_generated=False``, are hidden. AlphaCode graded on all three;
score on public + hidden to compare with it. Rows whose problem reads or writes a named file
(``input_file`` / ``output_file``) cannot run as stdin programs and are rejected. Problems
that accept several correct outputs need a checker the dataset does not ship; they are graded
by exact output like the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cobalt_rl.problems._common import Conversion, Row, RowConverter, read_source
from cobalt_rl.records import Mode, Problem, TestCase

__all__ = ["convert"]

SOURCE = "codecontests"

# Enum numbers from contest_problem.proto: 5 and 8-11 are reserved in Source; Difficulty has
# word levels 1-6 and the letters A-K = 7-17, L-V = 19-29 (18 is skipped). Names are ours.
_SOURCES = {
    0: None,
    1: "codechef",
    2: "codeforces",
    3: "hackerearth",
    4: "codejam",
    6: "atcoder",
    7: "aizu",
}
_DIFFICULTIES: dict[int, str | None] = {
    0: None,
    1: "easy",
    2: "medium",
    3: "hard",
    4: "harder",
    5: "hardest",
    6: "external",
}
_DIFFICULTIES.update(
    {
        n: letter
        for n, letter in zip([*range(7, 18), *range(19, 30)], "ABCDEFGHIJKLMNOPQRSTUV", strict=True)
    }
)
_PYTHON3 = 3  # Solution.Language.PYTHON3 (1 is Python 2)


def _tests(row: Row, name: str) -> list[TestCase]:
    value = row.data.get(name)
    if value is None:
        return []
    pairs = row.paired_lists(name, value, ("input", "output"))
    if not all(isinstance(i, str) and isinstance(o, str) for i, o in pairs):
        row.reject(f"bad {name}", "inputs and outputs must be strings")
    return [TestCase(input=i, output=o) for i, o in pairs]


def _enum(value: Any, names: dict[int, str | None]) -> str | None:
    """An enum field as its name (exports hold the number; some hold the name already)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return names.get(value, str(value))
    if isinstance(value, str) and value and not value.upper().startswith("UNKNOWN"):
        return value.lower() if len(value) > 1 else value
    return None


def _python3_solution(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    languages, solutions = value.get("language"), value.get("solution")
    if not isinstance(languages, list) or not isinstance(solutions, list):
        return None
    for lang, code in zip(languages, solutions, strict=False):
        if lang in (_PYTHON3, "PYTHON3") and isinstance(code, str):
            return code
    return None


def _metadata(data: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    platform = _enum(data.get("source"), _SOURCES)
    if platform:
        meta["platform"] = platform
    for key in ("cf_contest_id", "cf_index", "cf_points", "cf_rating", "memory_limit_bytes"):
        value = data.get(key)
        if value not in (None, "", 0):
            meta[key] = value
    if data.get("cf_tags"):
        meta["cf_tags"] = list(data["cf_tags"])
    limit = data.get("time_limit")
    if isinstance(limit, dict) and (limit.get("seconds") or limit.get("nanos")):
        meta["time_limit_s"] = (limit.get("seconds") or 0) + (limit.get("nanos") or 0) / 1e9
    reference = _python3_solution(data.get("solutions"))
    if reference is not None:
        meta["reference_solution"] = reference
    return meta


def _row_converter(include_generated: bool) -> RowConverter:
    def convert_row(row: Row) -> Problem:
        data = row.data
        row = row.named(data.get("name"))
        name = row.text("name")
        if data.get("input_file") or data.get("output_file"):
            row.reject(
                "file I/O problem",
                f"reads {data.get('input_file')!r} / writes {data.get('output_file')!r}, not "
                "stdin/stdout",
            )
        hidden = _tests(row, "private_tests")
        if include_generated:
            hidden += _tests(row, "generated_tests")
        return row.problem(
            id=f"{SOURCE}/{name}",
            statement=row.text("description"),
            mode=Mode.STDIN,
            public_tests=_tests(row, "public_tests"),
            hidden_tests=hidden,
            difficulty=_enum(data.get("difficulty"), _DIFFICULTIES),
            metadata=_metadata(data),
        )

    return convert_row


def convert(
    path: str | Path | None = None,
    *,
    split: str | None = None,
    include_generated: bool = True,
) -> Conversion:
    """Convert CodeContests rows (parquet or JSONL) into stdin problems.

    Args:
        path: a ``.parquet``/``.jsonl``/``.jsonl.gz`` file, or a directory of split files (the
            hub names them ``train-*``, ``valid-*``, ``test-*``).
        split: with a directory, read only this split's files.
        include_generated: also use ``generated_tests`` as hidden tests.

    Returns:
        The conversion: problems with ids ``codecontests/<name>``, rejected rows, and notes.
    """
    return read_source(SOURCE, path, _row_converter(include_generated), split)
