"""LiveCodeBench ``code_generation_lite`` rows to problems.

Format (https://huggingface.co/datasets/livecodebench/code_generation_lite, read as LCB's own
``lcb_runner/benchmarks/code_generation.py`` reads it): ``question_id``, ``question_title``,
``question_content``, ``platform`` (leetcode / atcoder / codeforces), ``contest_id``,
``contest_date`` (ISO date-time), ``starter_code``, ``difficulty`` (easy / medium / hard),
``public_test_cases`` (a JSON string of ``[{"input", "output", "testtype"}]`` with testtype
``stdin`` or ``functional``), ``private_test_cases`` (the same JSON, or, in the lite files, that
JSON string pickled, zlib-compressed and base64-encoded) and ``metadata`` (a JSON string;
LeetCode rows carry ``{"func_name": ...}``).

Functional tests are already in our format (arguments as JSON, one per line; the expected
return value as JSON). Public tests stay public and private tests become hidden. LCB itself
grades on public + private tests together: score on both to reproduce its numbers.

The encoded private tests are decoded without running anything: the pickle is loaded by an
unpickler that refuses every global lookup (the only way a pickle can reach a callable), so a
hostile payload fails with :class:`~cobalt_rl.errors.UnsafePayloadError` before it can act, and
the result must be a plain ``str`` of JSON.

``release`` picks the files of one of the dataset's version tags, as its loading script
names them: ``release_v1`` .. ``release_v6`` are cumulative (``test.jsonl`` through
``test6.jsonl``), ``v1`` .. ``v6`` one file each (``v1`` is ``test.jsonl``, ``vN`` is
``testN.jsonl``), ``vA_vB`` the files A to B, ``release_latest`` all six. The Cobalt paper
evaluates on ``v6`` (``test6.jsonl``, ``preproc/preproc_lcb_test6.py`` in its repository).

``since`` / ``until`` keep only problems whose ``contest_date`` falls in the window (inclusive),
as LiveCodeBench does to evaluate a model only on problems released after its training cut-off
(contamination control); rows outside it are skipped and counted in the notes.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import re
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from cobalt_rl.errors import ConfigError, UnsafePayloadError
from cobalt_rl.problems._common import (
    Conversion,
    Row,
    RowConverter,
    RowRejected,
    Skip,
    read_source,
)
from cobalt_rl.records import Mode, Problem, TestCase

__all__ = ["convert", "decode_private_tests", "release_files"]

SOURCE = "livecodebench"

# The largest decompressed private-test payload we accept (the biggest lite rows are tens of
# MiB); a bound so a crafted zlib stream cannot exhaust memory.
MAX_PAYLOAD_BYTES = 1 << 30

_TEST_TYPES = {"stdin": Mode.STDIN, "functional": Mode.FUNCTIONAL}
_RELEASES = 6  # test.jsonl .. test6.jsonl on the hub today
_RELEASE_TAG = re.compile(r"^(?:release_v(?P<upto>\d+)|v(?P<one>\d+)|v(?P<lo>\d+)_v(?P<hi>\d+))$")


def release_files(tag: str) -> list[str]:
    """The files of a ``code_generation_lite`` version tag (see the module docstring)."""

    def name(n: int) -> str:
        return "test.jsonl" if n == 1 else f"test{n}.jsonl"

    if tag == "release_latest":
        return [name(n) for n in range(1, _RELEASES + 1)]
    match = _RELEASE_TAG.match(tag)
    if match is not None:
        if match["upto"]:
            first, last = 1, int(match["upto"])
        elif match["one"]:
            first = last = int(match["one"])
        else:
            first, last = int(match["lo"]), int(match["hi"])
        if 1 <= first <= last:
            return [name(n) for n in range(first, last + 1)]
    raise ConfigError(
        f"livecodebench: unknown release {tag!r}; use release_v1..release_vN (cumulative), "
        "v1..vN (one file), vA_vB (files A to B) or release_latest"
    )


class _PlainDataUnpickler(pickle.Unpickler):
    """Loads only plain data: strings, numbers, lists, dicts... never a class or a function.

    Every opcode that calls something (REDUCE, BUILD, INST, OBJ, NEWOBJ, the extension
    registry) first needs a callable from :meth:`find_class`, which refuses them all.
    """

    def __init__(self, payload: bytes, where: str):
        super().__init__(io.BytesIO(payload))
        self._where = where

    def _refuse(self, what: str) -> NoReturn:
        raise UnsafePayloadError(
            SOURCE,
            self._where,
            f"private_test_cases holds a pickle that refers to {what}; only plain data is "
            "accepted, and nothing from it was run",
        )

    def find_class(self, module: str, name: str) -> Any:
        self._refuse(f"{module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        self._refuse(f"persistent id {pid!r:.60}")


def decode_private_tests(raw: str, where: str = "?") -> Any:
    """Decode ``private_test_cases``: plain JSON, or base64 -> zlib -> pickle -> JSON string.

    Args:
        raw: the field as stored.
        where: the row, for messages.

    Returns:
        The decoded JSON value (a list of test dicts in well-formed rows).

    Raises:
        UnsafePayloadError: the pickle refers to any class or function, or is not a ``str``.
        ProblemSourceError: the field is not JSON, base64, zlib or a pickle.
    """
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    try:
        compressed = base64.b64decode(raw.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise RowRejected(SOURCE, where, "bad private_test_cases", "neither JSON nor base64") from e
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(compressed, MAX_PAYLOAD_BYTES)
    except zlib.error as e:
        raise RowRejected(SOURCE, where, "bad private_test_cases", f"not zlib ({e})") from e
    if inflater.unconsumed_tail:
        raise RowRejected(
            SOURCE,
            where,
            "bad private_test_cases",
            f"decompresses to more than {MAX_PAYLOAD_BYTES >> 20} MiB",
        )
    try:
        value = _PlainDataUnpickler(payload, where).load()
    except UnsafePayloadError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        AttributeError,
        OverflowError,
        RecursionError,
    ) as e:
        raise RowRejected(
            SOURCE, where, "bad private_test_cases", f"not a valid pickle ({type(e).__name__})"
        ) from e
    if type(value) is not str:
        raise UnsafePayloadError(
            SOURCE,
            where,
            f"private_test_cases unpickles to a {type(value).__name__}, expected a str of JSON",
        )
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise RowRejected(
            SOURCE, where, "bad private_test_cases", f"decoded text is not JSON ({e.msg})"
        ) from e


def _tests(row: Row, name: str, value: Any) -> tuple[list[TestCase], set[str]]:
    if not isinstance(value, list):
        row.reject(f"bad {name}", f"expected a list of tests, got {type(value).__name__}")
    tests, types = [], set()
    for k, t in enumerate(value):
        if not isinstance(t, dict):
            row.reject(f"bad {name}", f"test {k} is not an object")
        given, expected, kind = t.get("input"), t.get("output"), t.get("testtype")
        if not isinstance(given, str) or not isinstance(expected, str):
            row.reject(f"bad {name}", f"test {k}: input and output must be strings")
        if kind not in _TEST_TYPES:
            row.reject(f"bad {name}", f"test {k}: testtype {kind!r:.40} is not stdin or functional")
        tests.append(TestCase(input=given, output=expected))
        types.add(kind)
    return tests, types


def _contest_date(row: Row) -> datetime:
    value = row.data.get("contest_date")
    if isinstance(value, datetime):  # parquet exports hold a timestamp
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    row.reject("bad contest_date", f"not an ISO date: {value!r:.40}")


def _as_date(name: str, value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise ConfigError(
            f"livecodebench: {name} must be a date like 2024-08-01, got {value!r}"
        ) from e


def _row_converter(since: date | None, until: date | None) -> RowConverter:
    def convert_row(row: Row) -> Problem | Skip:
        data = row.data
        qid = data.get("question_id")
        row = row.named(None if qid is None else f"question_id {qid}")
        qid = row.text("question_id")
        when = _contest_date(row)
        if (since and when.date() < since) or (until and when.date() > until):
            return Skip("outside the since/until window")
        meta = row.json("metadata") if data.get("metadata") else {}
        if not isinstance(meta, dict):
            row.reject("bad metadata", "expected a JSON object")
        fn_name = meta.get("func_name") or None
        public, public_types = _tests(row, "public_test_cases", row.json("public_test_cases"))
        private_raw = data.get("private_test_cases")
        if isinstance(private_raw, str):
            private_value = decode_private_tests(private_raw, row.where) if private_raw else []
        else:
            private_value = private_raw if private_raw is not None else []
        hidden, hidden_types = _tests(row, "private_test_cases", private_value)
        mode = Mode.FUNCTIONAL if fn_name else Mode.STDIN
        if {_TEST_TYPES[t] for t in public_types | hidden_types} - {mode}:
            row.reject(
                "mixed test types",
                f"tests are {sorted(public_types | hidden_types)} but metadata.func_name is "
                f"{fn_name!r}",
            )
        metadata: dict[str, Any] = {"contest_date": when.isoformat()}
        for key, field in (
            ("title", "question_title"),
            ("platform", "platform"),
            ("contest_id", "contest_id"),
        ):
            value = data.get(field)
            if value not in (None, ""):
                metadata[key] = value
        difficulty = data.get("difficulty")
        return row.problem(
            id=f"{SOURCE}/{qid}",
            statement=row.text("question_content"),
            mode=mode,
            fn_name=fn_name,
            starter_code=row.text("starter_code", required=False),
            public_tests=public,
            hidden_tests=hidden,
            difficulty=difficulty.lower() if isinstance(difficulty, str) and difficulty else None,
            metadata=metadata,
        )

    return convert_row


def convert(
    path: str | Path | None = None,
    *,
    split: str | None = None,
    release: str | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
) -> Conversion:
    """Convert LiveCodeBench ``code_generation_lite`` rows into problems.

    Args:
        path: a ``.jsonl`` file of the release (``test.jsonl`` ... ``test6.jsonl``), or a
            directory of them.
        split: with a directory, read only this split's files (LCB publishes ``test`` only).
        release: with a directory (e.g. the hub snapshot), read this version tag's files.
        since: keep problems whose contest date is on or after this day (ISO ``YYYY-MM-DD``).
        until: keep problems whose contest date is on or before this day.

    Returns:
        The conversion: problems with ids ``livecodebench/<question_id>``, rejected rows
        (hostile pickles as ``unsafe payload``), and notes.
    """
    start, end = _as_date("since", since), _as_date("until", until)
    if start and end and start > end:
        raise ConfigError(f"livecodebench: since ({start}) is after until ({end})")
    names = release_files(release) if release is not None else None
    return read_source(SOURCE, path, _row_converter(start, end), split, names)
