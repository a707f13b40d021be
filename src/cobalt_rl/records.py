"""Typed records shared by every stage, and crash-safe JSONL I/O.

Every artifact of a run is a JSONL file of one record type. Reading validates every line and
fails with a :class:`~cobalt_rl.errors.RecordError` that names the file, the line and the
field; nothing is skipped silently. Writing appends one line per record with a single
``write`` + ``flush`` + ``fsync``, so after a crash at most the last line is torn. A torn last
line is detected on read (:class:`~cobalt_rl.errors.TornRecordError`) and, when a writer
resumes the file, moved aside to ``<file>.torn`` (never deleted, never mistaken for data).

Test formats (``TestCase``) follow the datasets we load:

- ``stdin``: ``input`` is fed on stdin, ``output`` is the expected stdout.
- ``functional``: ``input`` holds the arguments as JSON, one per line (LiveCodeBench's
  ``public_test_cases`` format); ``output`` is the expected return value as JSON.
- ``script``: ``input`` is test code run after the program (it raises on failure, as
  HumanEval's ``check``); ``output`` is unused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cobalt_rl._compat import StrEnum
from cobalt_rl.errors import RecordError, TornRecordError

__all__ = [
    "Attempt",
    "Context",
    "ExecResult",
    "JsonlWriter",
    "Message",
    "Mode",
    "Problem",
    "Status",
    "TestCase",
    "TestOutcome",
    "Trajectory",
    "append_jsonl",
    "read_jsonl",
    "write_jsonl",
]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mode(StrEnum):
    """How a program is run against a test."""

    STDIN = "stdin"
    FUNCTIONAL = "functional"
    SCRIPT = "script"


class TestCase(_Record):
    """One test: an input and its expected output (see the module docstring for formats)."""

    __test__ = False  # not a pytest test class

    input: str
    output: str = ""


class Problem(_Record):
    """A coding problem with public tests (shown as feedback) and hidden tests (for scoring).

    ``original_public_tests`` is set only on perturbed problems (see ``cobalt perturb``): it
    keeps the untouched public tests so rewards and scoring stay correct.
    """

    id: str = Field(min_length=1)
    source: str
    statement: str
    starter_code: str = ""
    mode: Mode
    fn_name: str | None = None
    public_tests: list[TestCase] = Field(default_factory=list)
    hidden_tests: list[TestCase] = Field(default_factory=list)
    difficulty: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    original_public_tests: list[TestCase] | None = None

    @model_validator(mode="after")
    def _check(self) -> Problem:
        if self.mode is Mode.FUNCTIONAL and not self.fn_name:
            raise ValueError("functional problems need fn_name (the function the tests call)")
        if not self.public_tests and not self.hidden_tests:
            raise ValueError("a problem needs at least one public or hidden test")
        return self

    @property
    def perturbed(self) -> bool:
        return self.original_public_tests is not None

    @property
    def true_public_tests(self) -> list[TestCase]:
        """Public tests with correct expected outputs (the originals on perturbed problems)."""
        return (
            self.original_public_tests
            if self.original_public_tests is not None
            else (self.public_tests)
        )


class Status(StrEnum):
    """The outcome of running one test, decided from process state (never from error text)."""

    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    RUNTIME_ERROR = "runtime_error"
    SYNTAX_ERROR = "syntax_error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    OUTPUT_LIMIT = "output_limit"
    SKIPPED = "skipped"  # not run: an earlier test failed (stop-at-first) or no time was left
    SANDBOX_ERROR = "sandbox_error"  # our infrastructure failed; not the program's fault


class TestOutcome(_Record):
    """One test's outcome. ``output``/``stderr`` are excerpts, capped in size."""

    __test__ = False

    status: Status
    output: str = ""
    stderr: str = ""
    seconds: float = 0.0
    detail: str = ""  # a short machine-written note: "killed by signal 11", "exit code 3"...


class ExecResult(_Record):
    """The result of one program against a list of tests."""

    outcomes: list[TestOutcome]
    feedback: str = ""

    @property
    def num_passed(self) -> int:
        return sum(o.status is Status.PASSED for o in self.outcomes)

    @property
    def pass_rate(self) -> float:
        return self.num_passed / len(self.outcomes) if self.outcomes else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(o.status is Status.PASSED for o in self.outcomes)

    @property
    def seconds(self) -> float:
        return sum(o.seconds for o in self.outcomes)


class Message(_Record):
    role: Literal["system", "user", "assistant"]
    content: str


class Attempt(_Record):
    """One turn of a trajectory: the reply, its code and how it fared.

    ``finish_reason`` is the generator's (:class:`~cobalt_rl.llm.Completion`): ``"length"``
    means the reply was cut at the token cap. Optional: files written before it was kept
    read as None.
    """

    turn: int = Field(ge=1)
    response: str
    code: str | None
    public: ExecResult | None = None
    hidden: ExecResult | None = None
    finish_reason: Literal["stop", "length"] | None = None


class Trajectory(_Record):
    """One multi-turn episode of one sample on one problem."""

    problem_id: str
    sample: int = Field(ge=0)
    messages: list[Message]
    attempts: list[Attempt]
    perturbed: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)


class Context(_Record):
    """A contextual-bandit prompt: a trajectory prefix plus what the reward needs."""

    id: str
    problem_id: str
    prompt: list[Message]
    tests: list[TestCase]
    mode: Mode
    fn_name: str | None = None
    prev_best_pass_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    num_prev_attempts: int = Field(default=0, ge=0)
    perturbed: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------- JSONL I/O

R = TypeVar("R", bound=BaseModel)


def _field_of(err: ValidationError) -> tuple[str | None, str]:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or None
    return loc, first["msg"]


def _parse_line(path: Path, lineno: int, text: str, model: type[R]) -> R:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise RecordError(path, lineno, f"not valid JSON ({e.msg} at column {e.colno})") from e
    if not isinstance(data, dict):
        raise RecordError(path, lineno, f"expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        field, msg = _field_of(e)
        raise RecordError(path, lineno, f"not a valid {model.__name__}: {msg}", field=field) from e


def read_jsonl(path: str | Path, model: type[R]) -> Iterator[R]:
    """Yield every record of ``path``, validated as ``model``.

    Blank lines are allowed. Any other line that does not validate raises
    :class:`RecordError`; a last line without a newline that does not parse raises
    :class:`TornRecordError` (the file was cut off mid-write: resume with a writer to move it
    aside).
    """
    path = Path(path)
    with path.open("rb") as f:
        lineno = 0
        for raw in f:
            lineno += 1
            torn = not raw.endswith(b"\n")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                if torn:
                    raise TornRecordError(path, lineno, "last line is cut off (no newline)") from e
                raise RecordError(path, lineno, f"not UTF-8 ({e.reason})") from e
            if not text.strip():
                continue
            try:
                yield _parse_line(path, lineno, text, model)
            except RecordError as e:
                if torn:
                    raise TornRecordError(
                        path,
                        lineno,
                        "last line is cut off (no newline, does not parse): an earlier write "
                        "was interrupted; resuming with a writer moves it to "
                        f"{path.name}.torn",
                    ) from e
                raise


def _dump(record: BaseModel) -> bytes:
    return (record.model_dump_json() + "\n").encode("utf-8")


def write_jsonl(path: str | Path, records: Iterable[BaseModel]) -> int:
    """Write ``records`` to ``path`` atomically (temp file + rename). Returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("wb") as f:
        for r in records:
            f.write(_dump(r))
            n += 1
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return n


class JsonlWriter(Generic[R]):
    """Append records to a JSONL file, one durable line at a time.

    Opening an existing file checks its tail: a torn last line (no newline, does not parse)
    is moved to ``<file>.torn`` and reported through ``torn_bytes``; a complete last line
    missing only its newline gets one. Use as a context manager.
    """

    def __init__(self, path: str | Path, model: type[R], *, fsync: bool = True):
        self.path = Path(path)
        self.model = model
        self.fsync = fsync
        self.torn_bytes = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_tail()
        self._f = self.path.open("ab")

    def _repair_tail(self) -> None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb+") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 1))
            if f.read(1) == b"\n":
                return
            # Find the start of the last line.
            block = 1 << 16
            pos = size
            start = 0
            while pos > 0:
                step = min(block, pos)
                pos -= step
                f.seek(pos)
                chunk = f.read(step)
                idx = chunk.rfind(b"\n")
                if idx >= 0:
                    start = pos + idx + 1
                    break
            f.seek(start)
            tail = f.read()
            try:
                self.model.model_validate_json(tail)
            except (ValidationError, ValueError):
                torn_path = self.path.with_name(self.path.name + ".torn")
                with torn_path.open("ab") as t:
                    t.write(tail + b"\n")
                f.truncate(start)
                self.torn_bytes = len(tail)
            else:
                f.seek(size)
                f.write(b"\n")

    def write(self, record: R) -> None:
        if not isinstance(record, self.model):
            raise TypeError(f"expected {self.model.__name__}, got {type(record).__name__}")
        self._f.write(_dump(record))
        self._f.flush()
        if self.fsync:
            os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JsonlWriter[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append_jsonl(path: str | Path, model: type[R], records: Iterable[R]) -> int:
    """Append ``records`` to ``path`` through a :class:`JsonlWriter`. Returns the count."""
    n = 0
    with JsonlWriter(path, model) as w:
        for r in records:
            w.write(r)
            n += 1
    return n
