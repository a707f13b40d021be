"""Resource limits for one program run (paper defaults: 4 s a test, 1 GiB, ~30 s a program)."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Limits"]


class Limits(BaseModel):
    """Limits applied to every test of a program. Sizes in bytes unless the name says MiB."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(4.0, gt=0, description="Wall-clock limit per test, in seconds.")
    program_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Wall-clock budget for all tests of one program, in seconds; "
        "tests not started when it runs out are reported as timeouts (default: "
        "max(30, timeout_s)).",
    )
    memory_mb: int = Field(
        1024, ge=0, description="Address-space limit per test in MiB (0 disables the limit)."
    )
    output_bytes: int = Field(
        1 << 20, gt=0, description="Largest stdout a test may write before it is killed."
    )
    stderr_bytes: int = Field(
        1 << 16, gt=0, description="Stderr kept per test (the rest is discarded)."
    )
    file_bytes: int = Field(
        16 << 20, gt=0, description="Largest file a program may write (RLIMIT_FSIZE)."
    )
    processes: int = Field(
        32, ge=1, description="Processes and threads the program may have (RLIMIT_NPROC)."
    )
    open_files: int = Field(64, ge=8, description="Open file descriptors (RLIMIT_NOFILE).")
    scratch_mb: int = Field(64, ge=1, description="Size of the private writable /tmp, in MiB.")

    @model_validator(mode="before")
    @classmethod
    def _default_program_timeout(cls, data: Any) -> Any:
        """``program_timeout_s`` not given: ``max(30, timeout_s)``, so ``timeout_s`` alone
        never makes the limits contradict themselves."""
        if not isinstance(data, dict) or "program_timeout_s" in data or "timeout_s" not in data:
            return data
        try:
            timeout_s = float(data["timeout_s"])
        except (TypeError, ValueError):
            return data  # the field's own validation says what is wrong
        return {**data, "program_timeout_s": max(30.0, timeout_s)}

    @model_validator(mode="after")
    def _check(self) -> Limits:
        if self.program_timeout_s < self.timeout_s:
            raise ValueError(
                f"program_timeout_s ({self.program_timeout_s}) must be >= timeout_s "
                f"({self.timeout_s}): a program must have time for at least one test"
            )
        return self

    def for_worker(self) -> dict[str, Any]:
        """The per-test limits in the form the in-sandbox worker reads."""
        return {
            "timeout_s": self.timeout_s,
            "cpu_s": math.ceil(self.timeout_s) + 1,
            "memory_bytes": self.memory_mb << 20,
            "output_bytes": self.output_bytes,
            "stderr_bytes": self.stderr_bytes,
            "file_bytes": self.file_bytes,
            "processes": self.processes,
            "open_files": self.open_files,
        }
