"""The selection math of Cobalt's contexts (:mod:`cobalt_rl.contexts.build`, steps 3 and 4): a
trajectory's improvement, and max-variance down-sampling (PODS, arXiv 2504.13818)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["improvement", "max_variance_subset"]

# Improvements are differences of fractions (k / n); rounding them keeps float noise
# (1.0 - 0.6 != 0.9 - 0.5) from deciding sort order and ties.
_DIGITS = 9


def improvement(scores: Sequence[float]) -> float:
    """A trajectory's improvement: best minus worst combined score (0 without attempts)."""
    return round(max(scores) - min(scores), _DIGITS) if scores else 0.0


def _variance(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    return sum((value - mean) ** 2 for value in values) / len(values)


def max_variance_subset(values: Sequence[float], size: int) -> list[int]:
    """Indices (ascending) of the ``size`` values (PODS' m) with the largest variance.

    The best subset is always made of the j lowest and m-j highest values (PODS, arXiv
    2504.13818), so only those m+1 subsets are tried, from the m lowest up; a later one wins
    only with a strictly larger variance, so ties keep more low values (the reference's
    order). Equal values are ordered by index. With at most m values, all are returned.
    """
    order = sorted(range(len(values)), key=lambda index: (values[index], index))
    if len(order) <= size:
        return sorted(order)
    best = order[:size]
    best_variance = _variance([values[index] for index in best])
    for high in range(1, size + 1):
        subset = order[: size - high] + order[len(order) - high :]
        variance = _variance([values[index] for index in subset])
        if variance > best_variance + 1e-12:
            best, best_variance = subset, variance
    return sorted(best)
