"""What every problem source shares: reading rows, the conversion driver and its report.

A source converts one dataset row at a time into a :class:`~cobalt_rl.records.Problem`. A row
that cannot be converted is *rejected* with a short reason (counted in the summary) and a
message naming the source and the row; it never stops the conversion and is never dropped
silently. A row that is valid but left out on purpose (e.g. outside a date window) is *skipped*
and counted under its reason.

Rows are read from JSONL (``.jsonl``, ``.jsonl.gz``) or parquet files, the two forms the
datasets are published in on the Hugging Face hub. ``path`` may also be a directory: its files
whose names start with the split name (``train``, ``valid``/``validation``, ``test``, as in the
hub's ``data/<split>-00000-of-00009.parquet`` layout) are read in name order.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from cobalt_rl.errors import ConfigError, ProblemSourceError, UnsafePayloadError
from cobalt_rl.records import Mode, Problem, TestCase

__all__ = [
    "Conversion",
    "RawRow",
    "Rejection",
    "Row",
    "RowRejected",
    "Skip",
    "convert_rows",
    "iter_rows",
    "normalize_ws",
    "read_source",
    "summary_line",
    "validation_detail",
]

# File name prefixes that select a split inside a directory (the hub's shard names).
_SPLIT_PREFIXES = {
    "train": ("train",),
    "validation": ("validation", "valid", "val", "dev"),
    "test": ("test",),
}
_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


@dataclass(frozen=True)
class Rejection:
    """A row that could not be converted.

    Attributes:
        row: where the row is (``file.jsonl:12``, ``file.parquet[3]``, plus its id when known).
        reason: a short reason, the key the summary counts by.
        message: the full message, naming the source, the row and what is wrong.
    """

    row: str
    reason: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Conversion:
    """The result of converting one dataset: the problems, the rejected rows, and notes.

    Attributes:
        source: the source name.
        problems: the converted problems, in dataset order.
        rejected: the rows that could not be converted, in dataset order.
        notes: counts of things worth knowing that are not errors ("without public tests",
            rows skipped by a filter...).
    """

    source: str
    problems: list[Problem] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line: ``converted N, rejected M (reason: k, ...); notes: k <note>, ...``."""
        return summary_line(self.source, len(self.problems), self.rejected, self.notes)


def summary_line(
    name: str,
    done: int,
    rejected: Sequence[Rejection],
    notes: Counter[str],
    verb: str = "converted",
) -> str:
    """``<name>: <verb> N, rejected M (reason: k, ...); notes: k <note>, ...``."""
    text = f"{name}: {verb} {done}, rejected {len(rejected)}"
    reasons = Counter(r.reason for r in rejected)
    if reasons:
        text += " (" + ", ".join(f"{r}: {n}" for r, n in reasons.most_common()) + ")"
    if notes:
        text += "; notes: " + ", ".join(f"{n} {what}" for what, n in notes.most_common())
    return text


class RowRejected(ProblemSourceError):
    """Internal signal: this row cannot be converted, for ``reason`` (a short, countable key)."""

    def __init__(self, source: str, row: str, reason: str, detail: str = ""):
        self.reason = reason
        super().__init__(source, row, f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class Skip:
    """Returned by a row converter for a valid row left out on purpose (counted in notes)."""

    reason: str


@dataclass(frozen=True)
class RawRow:
    """One row as read from a file: a JSON object, or why it is not one."""

    label: str
    index: int
    data: dict[str, Any] | None
    error: str = ""


# --------------------------------------------------------------------------- reading


def _files(
    path: Path, split: str | None, source: str, names: Sequence[str] | None = None
) -> list[Path]:
    if not path.exists():
        raise ConfigError(f"{source}: input {str(path)!r} does not exist")
    if path.is_file():
        if split is not None or names is not None:
            raise ConfigError(
                f"{source}: --split / --release select files inside a directory, but "
                f"{str(path)!r} is a file; drop the option or pass the directory that holds "
                "the files"
            )
        if not path.name.endswith(_SUFFIXES):
            raise ConfigError(
                f"{source}: cannot read {str(path)!r}: expected one of {', '.join(_SUFFIXES)}"
            )
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(_SUFFIXES))
    if names is not None:
        by_name = {p.name: p for p in files}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ConfigError(
                f"{source}: {str(path)!r} lacks {', '.join(missing)}; download those files "
                "of the dataset into it"
            )
        files = [by_name[n] for n in names]
    if split is not None:
        if split not in _SPLIT_PREFIXES:
            raise ConfigError(
                f"{source}: unknown split {split!r}; valid splits: {', '.join(_SPLIT_PREFIXES)}"
            )
        prefixes = _SPLIT_PREFIXES[split]
        files = [p for p in files if p.name.lower().startswith(prefixes)]
    if not files:
        which = f" for split {split!r}" if split else ""
        raise ConfigError(f"{source}: no {', '.join(_SUFFIXES)} files{which} under {str(path)!r}")
    return files


def _jsonl_rows(path: Path, start: int) -> Iterator[RawRow]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            label = f"{path.name}:{lineno}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as e:
                yield RawRow(label, start, None, f"not valid JSON ({e.msg} at column {e.colno})")
            else:
                if isinstance(data, dict):
                    yield RawRow(label, start, data)
                else:
                    yield RawRow(label, start, None, f"not a JSON object: {type(data).__name__}")
            start += 1


def _parquet_rows(path: Path, start: int) -> Iterator[RawRow]:
    import pyarrow.parquet as pq  # heavy: only when a parquet file is read

    i = 0
    # Batches keep memory flat on multi-GB shards (TACO's train split is ~4 GB).
    for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
        for data in batch.to_pylist():
            yield RawRow(f"{path.name}[{i}]", start + i, data)
            i += 1


def iter_rows(
    source: str,
    path: str | Path | None,
    split: str | None = None,
    names: Sequence[str] | None = None,
) -> Iterator[RawRow]:
    """Yield the rows of ``path`` (a JSONL/parquet file, or a directory of split files).

    ``names``: with a directory, read exactly these files (by file name, in this order).

    Raises:
        ConfigError: ``path`` is missing, unreadable as a dataset, or has no files for ``split``.
    """
    if path is None:
        raise ConfigError(
            f"{source} needs --input PATH: a .jsonl, .jsonl.gz or .parquet file of its rows, "
            "or a directory holding such files"
        )
    index = 0
    for file in _files(Path(path), split, source, names):
        reader = _parquet_rows if file.name.endswith(".parquet") else _jsonl_rows
        for row in reader(file, index):
            yield row
            index = row.index + 1


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Row:
    """One readable row under conversion, with the helpers that reject it for a reason.

    Every rejection names the source and where the row is (``where``: its label, plus its id
    once :meth:`named` knows it), so a converter never passes those around itself.
    """

    source: str
    label: str
    index: int
    data: dict[str, Any]
    where: str

    def named(self, name: object) -> Row:
        """This row, its messages also naming ``name`` (the row's id in the dataset)."""
        if name is None or name == "":
            return self
        return replace(self, where=f"{self.label} ({name})")

    def reject(self, reason: str, detail: str = "") -> NoReturn:
        """Reject the row: ``reason`` is the short key the summary counts by."""
        raise RowRejected(self.source, self.where, reason, detail)

    def text(self, name: str, *, required: bool = True) -> str:
        """``data[name]`` as a string; a missing (when required) or non-string value rejects."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.reject(f"missing {name}")
            return ""
        if not isinstance(value, str):
            self.reject(f"bad {name}", f"expected a string, got {value!r:.80}")
        return value

    def json(self, name: str) -> Any:
        """``data[name]`` decoded from its JSON string (already-decoded values pass through)."""
        value = self.data.get(name)
        if value is None:
            self.reject(f"missing {name}")
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise RowRejected(
                self.source, self.where, f"bad {name}", f"not valid JSON ({e.msg})"
            ) from e

    def paired_lists(
        self, name: str, value: Any, keys: tuple[str, str] = ("inputs", "outputs")
    ) -> list[tuple[Any, Any]]:
        """``value`` (field ``name``), a ``{inputs: [...], outputs: [...]}`` object, as pairs.

        ``keys`` names the two lists; both must be lists of one length, or the row is rejected.
        """
        first = value.get(keys[0]) if isinstance(value, dict) else None
        second = value.get(keys[1]) if isinstance(value, dict) else None
        if not isinstance(first, list) or not isinstance(second, list):
            self.reject(f"bad {name}", f'expected {{"{keys[0]}": [...], "{keys[1]}": [...]}}')
        if len(first) != len(second):
            self.reject(f"bad {name}", f"{len(first)} {keys[0]} but {len(second)} {keys[1]}")
        return list(zip(first, second, strict=True))

    def problem(
        self,
        *,
        id: str,
        statement: str,
        mode: Mode,
        public_tests: list[TestCase],
        hidden_tests: list[TestCase],
        starter_code: str = "",
        fn_name: str | None = None,
        difficulty: str | None = None,
        metadata: dict[str, Any] | None = None,
        original_public_tests: list[TestCase] | None = None,
    ) -> Problem:
        """Build a :class:`Problem`, turning a validation failure into a rejection."""
        if not public_tests and not hidden_tests:
            self.reject("no tests")
        try:
            return Problem(
                id=id,
                source=self.source,
                statement=statement,
                starter_code=starter_code,
                mode=mode,
                fn_name=fn_name,
                public_tests=public_tests,
                hidden_tests=hidden_tests,
                difficulty=difficulty,
                metadata=metadata or {},
                original_public_tests=original_public_tests,
            )
        except ValidationError as e:
            raise RowRejected(
                self.source, self.where, "not a valid problem", validation_detail(e)
            ) from e


def validation_detail(err: ValidationError) -> str:
    """``field.path: message`` of a validation error's first problem."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(record)"
    return f"{loc}: {first['msg']}"


# --------------------------------------------------------------------------- driver


def _reason(err: ProblemSourceError) -> str:
    if isinstance(err, RowRejected):
        return err.reason
    if isinstance(err, UnsafePayloadError):
        return "unsafe payload"
    return "invalid row"


RowConverter = Callable[[Row], Problem | Skip]
"""Converts one row; raises :class:`ProblemSourceError` (via :meth:`Row.reject`) to reject it."""


def convert_rows(source: str, rows: Iterable[RawRow], convert_row: RowConverter) -> Conversion:
    """Run ``convert_row`` on every row, collecting problems, rejections and notes.

    Every :class:`ProblemSourceError` a row raises (including
    :class:`~cobalt_rl.errors.UnsafePayloadError`) becomes a :class:`Rejection`; any other
    exception is a bug in the converter and propagates. A second problem with an id already
    seen is rejected as ``duplicate id``.
    """
    result = Conversion(source=source)
    seen: set[str] = set()
    for raw in rows:
        if raw.data is None:
            message = f"{source} row {raw.label}: unreadable row: {raw.error}"
            result.rejected.append(Rejection(raw.label, "unreadable row", message))
            continue
        row = Row(source, raw.label, raw.index, raw.data, raw.label)
        try:
            out = convert_row(row)
        except ProblemSourceError as e:
            result.rejected.append(Rejection(str(e.row), _reason(e), str(e)))
            continue
        if isinstance(out, Skip):
            result.notes[out.reason] += 1
            continue
        if out.id in seen:
            message = f"{source} row {raw.label}: duplicate id {out.id!r}"
            result.rejected.append(Rejection(raw.label, "duplicate id", message))
            continue
        seen.add(out.id)
        result.problems.append(out)
    without_public = sum(not p.public_tests for p in result.problems)
    if without_public:
        result.notes["without public tests"] = without_public
    return result


def read_source(
    source: str,
    path: str | Path | None,
    convert_row: RowConverter,
    split: str | None = None,
    names: Sequence[str] | None = None,
) -> Conversion:
    """Read ``path`` (see :func:`iter_rows`) and convert every row with ``convert_row``."""
    return convert_rows(source, iter_rows(source, path, split, names), convert_row)


_WS = re.compile(r"\s+")


def normalize_ws(text: str) -> str:
    """Collapse every whitespace run to one space (for matching examples in statements)."""
    return _WS.sub(" ", text).strip()
