"""TACO (and TACO-verified) rows to problems.

Format (https://huggingface.co/datasets/BAAI/TACO, every field a string): ``question``,
``solutions`` (a JSON list of Python programs), ``starter_code``, ``input_output`` (a JSON
object ``{"inputs": [...], "outputs": [...], "fn_name"?: str}``), ``difficulty`` (``EASY`` ...
``VERY_HARD``, ``UNKNOWN_DIFFICULTY``), ``source`` (the judge: codeforces, codewars...), ``url``,
``name``, ``tags`` and ``skill_types`` (Python list literals), ``time_limit``, ``memory_limit``,
``date``. TACO-verified rows have the same fields (plus an ``id``, used when present).

Tests follow TACO's evaluator (``testing_util.py``, inherited from APPS):

- Without ``fn_name`` the problem reads stdin. Each input and output is a string or a list of
  lines; lists are joined with ``"\\n"`` as the evaluator does.
- With ``fn_name`` it is call-based: each input is the list of positional arguments; we store
  them as JSON, one argument per line (LiveCodeBench's functional format, ours). Expected
  outputs are usually wrapped in a one-element list (``"outputs": [[3], [true]]``) and the
  evaluator accepts ``result == expected or result == expected[0]``. Our functional test holds
  one expected value, so a one-element list is *unwrapped* (``[3]`` -> ``3``); that matches the
  published wrapping. It departs from TACO only for the rare row whose function really returns a
  one-element list and whose output was stored unwrapped (the evaluator's second branch); pass
  ``unwrap_single=False`` to keep outputs exactly as stored. Any other output is kept as is.

TACO has no public/hidden split. The public tests are those whose input and output both
appear (whitespace-normalized) in the statement, i.e. the statement's own examples, at most
``num_public`` of them; when none does, the first ``num_public`` tests in dataset order (TACO
lists examples first). At least one test always stays hidden; the rest are hidden.
``metadata["public_from"]`` says which rule chose them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from cobalt_rl.errors import ConfigError
from cobalt_rl.problems._common import Conversion, Row, RowConverter, normalize_ws, read_source
from cobalt_rl.records import Mode, Problem, TestCase

__all__ = ["convert", "difficulty_level", "split_public", "stdin_text", "taco_problem"]

SOURCE = "taco"


def stdin_text(value: Any) -> str | None:
    """A stdin test's input or output as text: a string, lines joined, or a number."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _tests(row: Row, io: Any, fn_name: str | None, unwrap_single: bool) -> list[TestCase]:
    if not isinstance(io, dict):
        row.reject("bad input_output", "expected a JSON object")
    tests = []
    for k, (given, expected) in enumerate(row.paired_lists("input_output", io)):
        if fn_name:
            if not isinstance(given, list):
                row.reject(
                    "bad input_output",
                    f"test {k}: call-based input is not an argument list: {given!r:.80}",
                )
            if unwrap_single and isinstance(expected, list) and len(expected) == 1:
                expected = expected[0]
            tests.append(
                TestCase(
                    input="\n".join(json.dumps(arg) for arg in given),
                    output=json.dumps(expected),
                )
            )
        else:
            text_in, text_out = stdin_text(given), stdin_text(expected)
            if text_in is None or text_out is None:
                row.reject(
                    "bad input_output",
                    f"test {k}: stdin input/output is not text: {given!r:.60} / {expected!r:.60}",
                )
            tests.append(TestCase(input=text_in, output=text_out))
    return tests


def split_public(
    tests: list[TestCase], statement: str, stdin: bool, num_public: int
) -> tuple[list[TestCase], list[TestCase], str]:
    """(public, hidden, rule): the statement's examples, else the first tests (module doc)."""
    limit = min(num_public, len(tests) - 1)  # keep at least one hidden test
    if limit <= 0:
        return [], tests, "none"
    chosen: list[int] = []
    if stdin:
        text = normalize_ws(statement)
        for i, t in enumerate(tests):
            if len(chosen) == limit:
                break
            given, expected = normalize_ws(t.input), normalize_ws(t.output)
            if given and expected and given in text and expected in text:
                chosen.append(i)
    rule = "statement" if chosen else "first"
    if not chosen:
        chosen = list(range(limit))
    public = [tests[i] for i in chosen]
    taken = set(chosen)
    hidden = [t for i, t in enumerate(tests) if i not in taken]
    return public, hidden, rule


def _literal_list(text: str) -> list[str] | str:
    """TACO stores tags as Python list literals ("['Sorting', 'Greedy']"); parse, never eval."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return text


def _first_solution(raw: Any) -> str | None:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None
    if isinstance(raw, list) and raw and isinstance(raw[0], str):
        return raw[0]
    return None


def difficulty_level(raw: Any) -> str | None:
    """TACO's difficulty in lower case (``EASY`` -> ``easy``); ``None`` when unknown."""
    if not isinstance(raw, str) or not raw or raw.upper() == "UNKNOWN_DIFFICULTY":
        return None
    return raw.lower()


def taco_problem(
    row: Row,
    pid: str,
    statement: str,
    fn_name: str | None,
    public: list[TestCase],
    hidden: list[TestCase],
    metadata: dict[str, Any],
    original_public_tests: list[TestCase] | None = None,
) -> Problem:
    """The problem ``pid`` of a row in TACO's layout (TACO-derived sets such as Cobalt's keep
    it): call-based when it names ``fn_name``, else stdin; the starter code and difficulty are
    the row's ``starter_code`` and ``difficulty``."""
    return row.problem(
        id=pid,
        statement=statement,
        mode=Mode.FUNCTIONAL if fn_name else Mode.STDIN,
        fn_name=fn_name,
        starter_code=row.text("starter_code", required=False),
        public_tests=public,
        hidden_tests=hidden,
        difficulty=difficulty_level(row.data.get("difficulty")),
        metadata=metadata,
        original_public_tests=original_public_tests,
    )


def _row_converter(split: str | None, num_public: int, unwrap_single: bool) -> RowConverter:
    def convert_row(row: Row) -> Problem:
        native = row.data.get("id")
        row = row.named(None if native is None else f"id {native}")
        if native is not None:
            pid = f"{SOURCE}/{native}"
        else:
            pid = f"{SOURCE}/{split}/{row.index}" if split else f"{SOURCE}/{row.index}"
        statement = row.text("question")
        io = row.json("input_output")
        fn_name = io.get("fn_name") if isinstance(io, dict) else None
        if fn_name is not None and not (isinstance(fn_name, str) and fn_name.isidentifier()):
            row.reject("bad input_output", f"fn_name {fn_name!r:.60}")
        tests = _tests(row, io, fn_name, unwrap_single)
        public, hidden, rule = split_public(tests, statement, not fn_name, num_public)
        metadata = {"public_from": rule, **_metadata(row.data)}
        return taco_problem(row, pid, statement, fn_name, public, hidden, metadata)

    return convert_row


def _metadata(data: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for key in ("name", "url", "time_limit", "memory_limit", "date"):
        value = data.get(key)
        if isinstance(value, str) and value:
            metadata[key] = value
    if isinstance(data.get("source"), str) and data["source"]:
        metadata["platform"] = data["source"]
    for key in ("tags", "skill_types"):
        value = data.get(key)
        if isinstance(value, str) and value:
            metadata[key] = _literal_list(value)
    reference = _first_solution(data.get("solutions"))
    if reference is not None:
        metadata["reference_solution"] = reference
    return metadata


def convert(
    path: str | Path | None = None,
    *,
    split: str | None = None,
    num_public: int = 2,
    unwrap_single: bool = True,
) -> Conversion:
    """Convert TACO / TACO-verified rows (JSONL or parquet) into problems.

    Args:
        path: a ``.jsonl``/``.jsonl.gz``/``.parquet`` file, or a directory of split files.
        split: with a directory, read only this split's files (``train``/``validation``/``test``).
        num_public: at most this many public tests per problem (see the module docstring).
        unwrap_single: unwrap call-based expected outputs stored as a one-element list.

    Returns:
        The conversion: problems (ids ``taco/<id>`` or ``taco/[<split>/]<row index>``), rejected
        rows with reasons, and notes.
    """
    if num_public < 0:
        raise ConfigError(f"taco: num_public must be >= 0, got {num_public}")
    return read_source(SOURCE, path, _row_converter(split, num_public, unwrap_single), split)
