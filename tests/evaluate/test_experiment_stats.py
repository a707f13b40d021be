"""The experiment's statistics on hand-made tables: paired bootstrap, seed intervals."""

from __future__ import annotations

import pytest

from cobalt_rl.evaluate.experiment import paired_bootstrap


def test_paired_bootstrap_on_a_hand_made_table() -> None:
    # Ten problems; the other model solves two more than the base and loses none.
    base = {f"p{i}": 0.0 for i in range(10)}
    other = {**base, "p0": 1.0, "p1": 1.0}
    result = paired_bootstrap(base, other, iterations=4000, seed=1)
    assert result["diff"] == pytest.approx(0.2) and result["problems"] == 10
    # Resampled means of 0/1 differences with two ones in ten: from 0.0 to ~0.5.
    assert result["low"] == 0.0 and 0.4 <= result["high"] <= 0.6
    # Identical models: a zero-width interval at zero.
    same = paired_bootstrap(other, other, iterations=500)
    assert (same["diff"], same["low"], same["high"]) == (0.0, 0.0, 0.0)


def test_pairing_uses_only_shared_problems_and_refuses_none() -> None:
    result = paired_bootstrap({"a": 0.0, "b": 1.0}, {"b": 0.0, "c": 1.0}, iterations=100)
    assert result["problems"] == 1 and result["diff"] == -1.0
    with pytest.raises(ValueError, match="nothing to pair"):
        paired_bootstrap({"a": 0.0}, {"b": 0.0})
