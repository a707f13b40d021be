"""``cobalt problems``: convert datasets into problems JSONL, and describe a problems file;
read and write the Cobalt reference repository's trajectories and contexts.

::

    cobalt problems convert --source livecodebench --input test6.jsonl --since 2024-08-01 \\
        --out problems.jsonl
    cobalt problems convert --source cobalt --input osunlp/TACO-Cobalt --split train \\
        --out problems.jsonl
    cobalt problems stats --problems problems.jsonl
    cobalt problems import-trajectories --input multi_turn_eval.jsonl \\
        --problems problems.jsonl --out trajectories.jsonl
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cobalt_rl.cli.flags import add_command, model_from_args
from cobalt_rl.pipeline.config import SourceOptions
from cobalt_rl.problems import SOURCES

if TYPE_CHECKING:
    from cobalt_rl.interop import Translated

__all__ = [
    "ConvertOptions",
    "ExportContextsOptions",
    "ExportTrajectoriesOptions",
    "ImportContextsOptions",
    "ImportTrajectoriesOptions",
    "ReferencesOptions",
    "StatsOptions",
    "register",
]

# Rejections printed in full after the summary; the rest are counted in it.
_SHOWN_REJECTIONS = 10


class ConvertOptions(BaseModel):
    """Options of ``cobalt problems convert``. Source-specific options
    (:class:`~cobalt_rl.pipeline.config.SourceOptions`, a run's ``options:``, their flags
    unprefixed) left unset take the source's own default; setting one a source does not take
    is an error."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description=f"dataset format to read: {', '.join(SOURCES)}")
    out: Path = Field(description="problems JSONL to write (replaced atomically)")
    input: Path | None = Field(
        default=None,
        description="dataset file (.jsonl, .jsonl.gz, .parquet) or directory of split files, "
        "or a Hugging Face dataset name (owner/name[@revision], e.g. osunlp/TACO-Cobalt) read "
        "from the hub cache; not needed for bundled and humaneval",
    )
    hub_cache: Path | None = Field(
        default=None,
        description="Hugging Face hub cache to find a dataset name in (unset: the library's, "
        "$HF_HUB_CACHE or ~/.cache/huggingface/hub)",
    )
    hub_download: bool = Field(
        default=True,
        description="download a dataset name missing from the hub cache (needs network)",
    )
    split: Literal["train", "validation", "test"] | None = Field(
        default=None,
        description="which split: for bundled, one of its splits (unset: all); with a "
        "directory --input, the files whose names start with the split name",
    )
    options: SourceOptions = Field(
        default_factory=SourceOptions,
        description="The source's own options (each names the sources that take it).",
        json_schema_extra={"cli_flatten": True},
    )

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"unknown source {value!r}; valid sources: {', '.join(SOURCES)}")
        return value

    def source_options(self) -> dict[str, Any]:
        """The options to pass to the source's converter: those that were set."""
        split = {"split": self.split} if self.split is not None else {}
        return {**self.options.given(), **split}


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


class ImportTrajectoriesOptions(BaseModel):
    """Options of ``cobalt problems import-trajectories``."""

    model_config = ConfigDict(extra="forbid")

    input: Path = Field(
        description="the Cobalt reference's multi-turn rows (run_multi_turn_vllm.py output, "
        "with all_pass_rates once eval_multi_turn.py ran): a JSONL file or a directory"
    )
    problems: Path = Field(
        description="our problems for those rows (cobalt problems convert of the same dataset)"
    )
    out: Path = Field(description="trajectories JSONL to write (replaced atomically)")


class ImportContextsOptions(BaseModel):
    """Options of ``cobalt problems import-contexts``."""

    model_config = ConfigDict(extra="forbid")

    input: Path = Field(
        description="the Cobalt reference's bandit contexts (preproc/process_multi_turn_taco.py "
        "output): a JSONL file or a directory"
    )
    problems: Path | None = Field(
        default=None,
        description="our problems, for problem ids, modes and function names (unset: ids "
        "cobalt/<example_id>, stdin tests)",
    )
    out: Path = Field(description="contexts JSONL to write (replaced atomically)")


class ExportTrajectoriesOptions(BaseModel):
    """Options of ``cobalt problems export-trajectories``."""

    model_config = ConfigDict(extra="forbid")

    trajectories: Path = Field(description="our trajectories JSONL")
    problems: Path = Field(description="the problems they were rolled out on")
    out: Path = Field(description="JSONL to write in the reference's multi-turn layout")


class ExportContextsOptions(BaseModel):
    """Options of ``cobalt problems export-contexts``."""

    model_config = ConfigDict(extra="forbid")

    contexts: Path = Field(description="our contexts JSONL")
    problems: Path | None = Field(
        default=None, description="their problems, for the reference ids and difficulties"
    )
    out: Path = Field(description="JSONL to write in the reference's context layout")


def _report(result: Translated[Any], verb: str, out: Path, write: Callable[[], int]) -> int:
    """Print the summary and rejections; write ``out`` unless nothing came through."""
    print(result.summary(verb))
    for rejection in result.rejected[:_SHOWN_REJECTIONS]:
        print(f"  rejected: {rejection.message}", file=sys.stderr)
    if len(result.rejected) > _SHOWN_REJECTIONS:
        print(f"  ... and {len(result.rejected) - _SHOWN_REJECTIONS} more", file=sys.stderr)
    if not result.records:
        print(f"cobalt problems: nothing to write; {out} not written", file=sys.stderr)
        return 1
    print(f"wrote {write()} records to {out}")
    return 0


def _import_trajectories(args: argparse.Namespace) -> int:
    """Read the Cobalt reference's multi-turn (+ evaluation) rows into trajectories."""
    from cobalt_rl.interop import import_trajectories
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import write_jsonl

    opts = model_from_args(ImportTrajectoriesOptions, args)
    result = import_trajectories(opts.input, load_problems(opts.problems))
    return _report(result, "read", opts.out, lambda: write_jsonl(opts.out, result.records))


def _import_contexts(args: argparse.Namespace) -> int:
    """Read the Cobalt reference's bandit contexts into contexts."""
    from cobalt_rl.interop import import_contexts
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import write_jsonl

    opts = model_from_args(ImportContextsOptions, args)
    problems = load_problems(opts.problems) if opts.problems is not None else None
    result = import_contexts(opts.input, problems)
    return _report(result, "read", opts.out, lambda: write_jsonl(opts.out, result.records))


def _export_trajectories(args: argparse.Namespace) -> int:
    """Write trajectories in the Cobalt reference's multi-turn layout."""
    from cobalt_rl.interop import export_trajectories, write_rows
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import Trajectory, read_jsonl

    opts = model_from_args(ExportTrajectoriesOptions, args)
    trajectories = list(read_jsonl(opts.trajectories, Trajectory))
    result = export_trajectories(trajectories, load_problems(opts.problems))
    return _report(result, "exported", opts.out, lambda: write_rows(opts.out, result.records))


def _export_contexts(args: argparse.Namespace) -> int:
    """Write contexts in the Cobalt reference's context layout."""
    from cobalt_rl.interop import export_contexts, write_rows
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import Context, read_jsonl

    opts = model_from_args(ExportContextsOptions, args)
    problems = load_problems(opts.problems) if opts.problems is not None else None
    result = export_contexts(list(read_jsonl(opts.contexts, Context)), problems)
    return _report(result, "exported", opts.out, lambda: write_rows(opts.out, result.records))


def _references(args: argparse.Namespace) -> int:
    """Write the problems' reference (and known-wrong) solutions as a solutions file."""
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
    """Convert a dataset (TACO, LiveCodeBench, CodeContests, HumanEval...) to problems.

    Convert a dataset into problems JSONL. Rows that cannot be converted are rejected with a
    reason and counted in the summary; they never stop the conversion.
    """
    from cobalt_rl.problems import convert
    from cobalt_rl.records import write_jsonl

    opts = model_from_args(ConvertOptions, args)
    result = convert(
        opts.source,
        opts.input,
        hub_cache=opts.hub_cache,
        hub_download=opts.hub_download,
        **opts.source_options(),
    )
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
    """Count problems by source, mode, difficulty, tests."""
    from cobalt_rl.problems import describe_problems, load_problems

    opts = model_from_args(StatsOptions, args)
    print(describe_problems(load_problems(opts.problems)))
    return 0


def register(subparsers: Any) -> None:
    """Add ``problems convert``, ``stats``, ``references`` and the reference-format verbs."""
    parser = subparsers.add_parser(
        "problems",
        help="Convert datasets into problems JSONL; describe a problems file.",
        description="Convert datasets into problems JSONL; describe a problems file; read and "
        "write the Cobalt reference's layouts (rows that do not fit are rejected whole with a "
        "reason and counted; see cobalt_rl.interop.cobalt_reference).",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    for name, options, run in (
        ("convert", ConvertOptions, _convert),
        ("stats", StatsOptions, _stats),
        ("references", ReferencesOptions, _references),
        ("import-trajectories", ImportTrajectoriesOptions, _import_trajectories),
        ("import-contexts", ImportContextsOptions, _import_contexts),
        ("export-trajectories", ExportTrajectoriesOptions, _export_trajectories),
        ("export-contexts", ExportContextsOptions, _export_contexts),
    ):
        add_command(verbs, name, options, run)
    parser.set_defaults(func=lambda _args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
