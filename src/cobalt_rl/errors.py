"""The errors cobalt-rl raises for its own reasons.

Outcomes of untrusted model code are never exceptions: they are values (see
:class:`cobalt_rl.records.Status`). What follows is for bad input, bad configuration and a
broken environment, one small hierarchy so callers can catch at the level they need::

    CobaltError
     ├── ConfigError                 a config value is wrong (names the field and the fix)
     ├── RecordError                 a JSONL line does not validate (names file, line, field)
     │    └── TornRecordError        the last line of a file was cut off mid-write
     ├── ProblemSourceError          a dataset row cannot be converted (names source and row)
     │    └── UnsafePayloadError     an encoded payload is not plain data (e.g. a hostile pickle)
     └── SandboxError                the sandbox itself cannot run (never the program's fault)
          └── IsolationUnavailableError   full isolation was required but is not available
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CobaltError",
    "ConfigError",
    "IsolationUnavailableError",
    "ProblemSourceError",
    "RecordError",
    "SandboxError",
    "TornRecordError",
    "UnsafePayloadError",
]


class CobaltError(Exception):
    """Base class of every error cobalt-rl raises on purpose."""


class ConfigError(CobaltError, ValueError):
    """A configuration value is invalid; the message names the field and how to fix it."""


class RecordError(CobaltError, ValueError):
    """A line of a JSONL file is not a valid record.

    Attributes:
        path: the file.
        line: 1-based line number.
        field: dotted path of the offending field, or ``None`` when the line is not JSON.
    """

    def __init__(self, path: str | Path, line: int, message: str, field: str | None = None):
        self.path = str(path)
        self.line = line
        self.field = field
        where = f"{self.path}:{line}"
        if field:
            where += f" (field {field!r})"
        super().__init__(f"{where}: {message}")


class TornRecordError(RecordError):
    """The last line of a file has no newline and does not parse: a write was interrupted."""


class ProblemSourceError(CobaltError, ValueError):
    """A row of a problem dataset cannot be converted into a :class:`Problem`."""

    def __init__(self, source: str, row: str | int, message: str):
        self.source = source
        self.row = row
        super().__init__(f"{source} row {row}: {message}")


class UnsafePayloadError(ProblemSourceError):
    """An encoded payload (pickle, etc.) holds something other than plain data."""


class SandboxError(CobaltError, RuntimeError):
    """The sandbox cannot run at all (missing interpreter, failed to start workers...)."""


class IsolationUnavailableError(SandboxError):
    """Full isolation (bubblewrap) was required but is not available on this machine."""
