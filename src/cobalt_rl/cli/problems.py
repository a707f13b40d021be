"""``cobalt problems``: convert datasets into problems JSONL, and describe a problems file.

::

    cobalt problems convert --source livecodebench --input test6.jsonl --since 2024-08-01 \\
        --out problems.jsonl
    cobalt problems stats --problems problems.jsonl
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cobalt_rl.config import add_model_arguments, model_from_args
from cobalt_rl.problems import SOURCES

__all__ = ["ConvertOptions", "ReferencesOptions", "StatsOptions", "register"]

# Rejections printed in full after the summary; the rest are counted in it.
_SHOWN_REJECTIONS = 10


class ConvertOptions(BaseModel):
    """Options of ``cobalt problems convert``. Source-specific options left unset take the
    source's own default; setting one a source does not take is an error."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description=f"dataset format to read: {', '.join(SOURCES)}")
    out: Path = Field(description="problems JSONL to write (replaced atomically)")
    input: Path | None = Field(
        default=None,
        description="dataset file (.jsonl, .jsonl.gz, .parquet) or directory of split files; "
        "not needed for bundled and humaneval",
    )
    split: Literal["train", "validation", "test"] | None = Field(
        default=None,
        description="which split: for bundled, one of its splits (unset: all); with a "
        "directory --input, the files whose names start with the split name",
    )
    num_public: int | None = Field(
        default=None,
        ge=0,
        description="taco: at most this many public tests per problem, the statement's "
        "examples first (unset: 2)",
    )
    since: date | None = Field(
        default=None,
        description="livecodebench: keep problems whose contest date is on or after this day, "
        "YYYY-MM-DD (contamination control)",
    )
    until: date | None = Field(
        default=None,
        description="livecodebench: keep problems whose contest date is on or before this day",
    )
    include_generated: bool | None = Field(
        default=None,
        description="codecontests: also use generated_tests as hidden tests (unset: yes)",
    )

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"unknown source {value!r}; valid sources: {', '.join(SOURCES)}")
        return value

    def source_options(self) -> dict[str, Any]:
        """The options to pass to the source's converter: those that were set."""
        skip = {"source", "out", "input"}
        return {k: v for k, v in self.model_dump().items() if k not in skip and v is not None}


class StatsOptions(BaseModel):
    """Options of ``cobalt problems stats``."""

    model_config = ConfigDict(extra="forbid")

    problems: Path = Field(description="problems JSONL to describe")


class ReferencesOptions(BaseModel):
    """Options of ``cobalt problems references``."""

    model_config = ConfigDict(extra="forbid")

    problems: Path = Field(description="problems JSONL whose reference solutions to write")
    out: Path = Field(description="solutions JSONL to write (input of `cobalt execute`)")
    wrong: bool = Field(
        default=False,
        description="also write the known-wrong solutions (metadata.wrong_solutions), with "
        "solution ids ending in /wrong-N",
    )


def _references(args: argparse.Namespace) -> int:
    import json

    from cobalt_rl.problems import load_problems

    opts = model_from_args(ReferencesOptions, args)
    rows = []
    missing = 0
    for p in load_problems(opts.problems):
        ref = p.metadata.get("reference_solution")
        if not isinstance(ref, str):
            missing += 1
            continue
        rows.append({"problem_id": p.id, "solution_id": f"{p.id}/reference", "code": ref})
        if opts.wrong:
            for i, code in enumerate(p.metadata.get("wrong_solutions") or []):
                rows.append({"problem_id": p.id, "solution_id": f"{p.id}/wrong-{i}", "code": code})
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = opts.out.with_name(opts.out.name + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tmp.replace(opts.out)
    note = f" ({missing} problems have no reference solution)" if missing else ""
    print(f"wrote {len(rows)} solutions to {opts.out}{note}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from cobalt_rl.problems import convert
    from cobalt_rl.records import write_jsonl

    opts = model_from_args(ConvertOptions, args)
    result = convert(opts.source, opts.input, **opts.source_options())
    print(result.summary())
    for rejection in result.rejected[:_SHOWN_REJECTIONS]:
        print(f"  rejected: {rejection.message}", file=sys.stderr)
    if len(result.rejected) > _SHOWN_REJECTIONS:
        print(f"  ... and {len(result.rejected) - _SHOWN_REJECTIONS} more", file=sys.stderr)
    if not result.problems:
        print(
            f"cobalt problems convert: no problems converted; {opts.out} not written",
            file=sys.stderr,
        )
        return 1
    n = write_jsonl(opts.out, result.problems)
    print(f"wrote {n} problems to {opts.out}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from cobalt_rl.problems import describe_problems, load_problems

    opts = model_from_args(StatsOptions, args)
    print(describe_problems(load_problems(opts.problems)))
    return 0


def register(subparsers: Any) -> None:
    """Add ``problems convert`` and ``problems stats`` to the ``cobalt`` command."""
    parser = subparsers.add_parser(
        "problems", help="convert datasets into problems JSONL; describe a problems file"
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    convert = verbs.add_parser(
        "convert",
        help="convert a dataset (TACO, LiveCodeBench, CodeContests, HumanEval...) to problems",
        description="Convert a dataset into problems JSONL. Rows that cannot be converted are "
        "rejected with a reason and counted in the summary; they never stop the conversion.",
    )
    add_model_arguments(convert, ConvertOptions)
    convert.set_defaults(func=_convert)
    stats = verbs.add_parser("stats", help="count problems by source, mode, difficulty, tests")
    add_model_arguments(stats, StatsOptions)
    stats.set_defaults(func=_stats)
    refs = verbs.add_parser(
        "references",
        help="write the problems' reference (and known-wrong) solutions as a solutions file",
    )
    add_model_arguments(refs, ReferencesOptions)
    refs.set_defaults(func=_references)
    parser.set_defaults(func=lambda _args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
