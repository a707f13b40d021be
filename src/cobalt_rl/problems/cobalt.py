"""Problem rows in the Cobalt reference repository's layout (OSU-NLP-Group/cobalt).

One layout serves the paper's released problem sets and the files its scripts write:

- ``osunlp/TACO-Cobalt`` (cleaned TACO-verified, train and validation) and the rows
  ``preproc/preproc_taco.py`` writes: ``id``, ``difficulty`` (TACO's ``EASY`` ...),
  ``question``, and tests as JSON strings of ``{"inputs": [...], "outputs": [...]}``:
  ``test_cases`` (all), ``public_test_cases`` and ``hidden_test_cases``, which the multi-turn
  scripts read (``run_multi_turn_vllm.py`` gives feedback from ``public_test_cases``,
  ``eval_multi_turn.py`` scores on ``hidden_test_cases``).
- ``osunlp/TACO-Cobalt-PTB``: the same rows after ``preproc/run_perturbation.py``, which
  adds ``perturbed_public_test_cases`` (every public test, two of them with their expected
  outputs swapped, the swapped pair first) and ``modified_test_cases`` (that pair alone),
  and keeps ``public_test_cases`` as it was.
- ``data/lcb_v6.jsonl`` from ``preproc/preproc_lcb_test6.py``: LiveCodeBench's fields with
  ``question_content`` replaced by ``instruction`` (the reference's prompt around the
  statement, cut before its first example), ``question_id`` renamed ``id``, and the three
  test fields above (the private tests decoded).

How a row becomes a :class:`~cobalt_rl.records.Problem` (id ``cobalt/<id>``):

- Public tests: ``perturbed_public_test_cases`` when present (the feedback shows them), with
  ``original_public_tests`` the untouched public tests in the same order (matched by input),
  so hacking analysis knows which expected outputs are wrong; else ``public_test_cases``.
- Hidden tests: ``hidden_test_cases``; without it, ``test_cases`` less the public tests.
  Rows that carry only ``test_cases`` (``preproc_taco.py``'s output) take the statement's
  examples, else the first ``num_public`` tests, as public (4 by default: the reference's
  combined pass rate, ``preproc/process_multi_turn_taco.py``, counts 4 public tests).
- Statement: ``question``; else ``instruction`` after the reference's fixed lead-in (its
  ``extract_turn_level_errors.py`` cuts it the same way). The full ``instruction`` is kept in
  ``metadata["instruction"]`` and the row's own id in ``metadata["reference_id"]``, so
  trajectories and contexts can be written back in the reference's layout.
- Mode: ``functional`` when the row's LiveCodeBench ``metadata`` names a ``func_name`` (as our
  ``livecodebench`` source reads the same tests), else ``stdin``. The reference itself runs
  every test as stdin: TACO's call-based tests were flattened into stdin text by
  ``preproc_taco.py``, so TACO-Cobalt rows are stdin problems here too.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from cobalt_rl.errors import ConfigError
from cobalt_rl.problems._common import Conversion, Row, RowConverter, read_source
from cobalt_rl.problems.taco import split_public, stdin_text, taco_problem
from cobalt_rl.records import Problem, TestCase

__all__ = ["INSTRUCTION_LEAD_IN", "convert", "dump_io_tests", "parse_io_tests"]

SOURCE = "cobalt"

INSTRUCTION_LEAD_IN = (
    "Here is the problem you need to solve. Remember, your program should read from stdin "
    "and write to stdout:"
)
"""The sentence before the statement in the reference's LiveCodeBench ``instruction``."""


def parse_io_tests(row: Row, name: str) -> list[TestCase] | None:
    """Field ``name`` as tests (``None`` when absent): ``{"inputs": [...], "outputs": [...]}``."""
    if row.data.get(name) is None:
        return None
    tests = []
    for k, (given, expected) in enumerate(row.paired_lists(name, row.json(name))):
        text_in, text_out = stdin_text(given), stdin_text(expected)
        if text_in is None or text_out is None:
            row.reject(f"bad {name}", f"test {k}: input/output is not text")
        tests.append(TestCase(input=text_in, output=text_out))
    return tests


def dump_io_tests(tests: list[TestCase]) -> str:
    """Tests as the reference stores them: a JSON string of ``{"inputs", "outputs"}``."""
    return json.dumps({"inputs": [t.input for t in tests], "outputs": [t.output for t in tests]})


def _without(tests: list[TestCase], removed: list[TestCase]) -> list[TestCase]:
    left = Counter(removed)
    out = []
    for t in tests:
        if left[t] > 0:
            left[t] -= 1
        else:
            out.append(t)
    return out


def _originals_in_order(
    row: Row, perturbed: list[TestCase], originals: list[TestCase]
) -> list[TestCase]:
    """The untouched public tests, reordered to line up with the perturbed ones by input."""
    pool = list(originals)
    aligned = []
    for t in perturbed:
        match = next((i for i, o in enumerate(pool) if o.input == t.input), None)
        if match is None:
            row.reject(
                "bad perturbed_public_test_cases",
                f"input {t.input[:60]!r} is not among public_test_cases' inputs",
            )
        aligned.append(pool.pop(match))
    if pool:
        row.reject("bad perturbed_public_test_cases", "fewer tests than public_test_cases")
    return aligned


def _statement(row: Row) -> str:
    question = row.text("question", required=False)
    if question:
        return question
    instruction = row.text("instruction", required=False)
    if not instruction:
        row.reject("missing question", "the row has neither question nor instruction")
    return instruction.split(INSTRUCTION_LEAD_IN)[-1].strip()


def _function_name(row: Row) -> str | None:
    if not row.data.get("metadata"):
        return None
    meta = row.json("metadata")
    name = meta.get("func_name") if isinstance(meta, dict) else None
    if name is not None and not (isinstance(name, str) and name.isidentifier()):
        row.reject("bad metadata", f"func_name {name!r:.60}")
    return name


def _row_converter(num_public: int) -> RowConverter:
    def convert_row(row: Row) -> Problem:
        native = row.data.get("id")
        row = row.named(None if native is None else f"id {native}")
        if not isinstance(native, str | int) or isinstance(native, bool) or native == "":
            row.reject("missing id")
        statement = _statement(row)
        fn_name = _function_name(row)
        every = parse_io_tests(row, "test_cases")
        public = parse_io_tests(row, "public_test_cases")
        hidden = parse_io_tests(row, "hidden_test_cases")
        metadata: dict[str, Any] = {"reference_id": native}
        if public is None:
            if every is None:
                row.reject("missing test_cases", "no test_cases nor public_test_cases")
            public, hidden, metadata["public_from"] = split_public(
                every, statement, fn_name is None, num_public
            )
        elif hidden is None:
            hidden = _without(every, public) if every is not None else []
        perturbed = parse_io_tests(row, "perturbed_public_test_cases")
        originals = None
        if perturbed is not None:
            originals = _originals_in_order(row, perturbed, public)
            pair = [i for i, (t, o) in enumerate(zip(perturbed, originals, strict=True)) if t != o]
            metadata["perturbed_pair"] = pair
            public = perturbed
        instruction = row.data.get("instruction")
        if isinstance(instruction, str) and instruction:
            metadata["instruction"] = instruction
        for key in ("platform", "contest_date", "question_title", "contest_id", "source"):
            value = row.data.get(key)
            if isinstance(value, str | int) and value != "":
                metadata[key] = value
        pid = f"{SOURCE}/{native}"
        return taco_problem(row, pid, statement, fn_name, public, hidden, metadata, originals)

    return convert_row


def convert(
    path: str | Path | None = None, *, split: str | None = None, num_public: int = 4
) -> Conversion:
    """Convert rows in the Cobalt reference layout (TACO-Cobalt, TACO-Cobalt-PTB...).

    Args:
        path: a ``.jsonl``/``.jsonl.gz``/``.parquet`` file, or a directory of split files (a
            hub snapshot of ``osunlp/TACO-Cobalt`` is one).
        split: with a directory, read only this split's files.
        num_public: rows with only ``test_cases``: at most this many public tests.

    Returns:
        The conversion: problems with ids ``cobalt/<id>``, rejected rows, and notes.
    """
    if num_public < 0:
        raise ConfigError(f"cobalt: num_public must be >= 0, got {num_public}")
    result = read_source(SOURCE, path, _row_converter(num_public), split)
    perturbed = sum(p.perturbed for p in result.problems)
    if perturbed:
        result.notes["perturbed (original public tests kept)"] = perturbed
    return result
