"""The problem set shipped with cobalt-rl: our own easy-to-medium problems, in three splits.

The problems were written for this project (none is copied from a dataset) at the level the
embedded model (SmolLM2-135M-Instruct) sometimes solves, so reinforcement learning gets
signal from it: string, list, arithmetic and counting tasks, up to simple greedy and dynamic
programming. Both modes are present in every split: ``functional`` (call a named function;
inputs are JSON arguments, one per line, as LiveCodeBench stores them) and ``stdin`` (a
program reading stdin). Each problem has at least 2 public and 6 hidden tests, a reference
solution and hand-written wrong solutions in ``metadata`` (``reference_solution``,
``wrong_solutions``, ``title``, ``tags``).

The data files are generated: edit ``tools/bundled/spec/`` and run
``tools/bundled/build.py``, which computes every expected output by running the reference
solution and checks that the tests catch the wrong ones.
"""

from __future__ import annotations

from importlib import resources

from cobalt_rl.errors import ConfigError
from cobalt_rl.records import Problem, read_jsonl

__all__ = ["SPLITS", "load_bundled"]

SPLITS: tuple[str, ...] = ("train", "validation", "test")
"""The splits, in the order :func:`load_bundled` returns them when no split is named."""


def load_bundled(split: str | None = None) -> list[Problem]:
    """Load the bundled problems of one split, or of all splits.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``; ``None`` loads all three, in
            that order.

    Returns:
        The problems, in file order (sorted by id within a split).

    Raises:
        ConfigError: ``split`` is not one of :data:`SPLITS`.
    """
    if split is None:
        return [p for name in SPLITS for p in load_bundled(name)]
    if split not in SPLITS:
        raise ConfigError(
            f"unknown bundled split {split!r}; valid splits: {', '.join(SPLITS)} "
            "(or none for all of them)"
        )
    data = resources.files("cobalt_rl.problems").joinpath("bundled", f"{split}.jsonl")
    with resources.as_file(data) as path:
        return list(read_jsonl(path, Problem))
