"""The few method definitions of the online baselines that could be read in a source (see
docs/baselines.md, "Where each number comes from"), checked on hand-computed numbers.

Both sources are secondary summaries of the papers, not the papers' own text:
- VeRPO (arXiv 2601.03525): themoonlight.io's review defines a test's pass rate rho_j as the
  passes of test j summed over every turn of every episode of the group, divided by the number
  of turns in the group (pooled over attempts, not averaged per episode);
- RLEF (arXiv 2410.02089): its final reward is judged on public + private tests, positive only
  when all pass; the magnitudes (+1 / -1 / -0.2) are the project's design notes, unverified.
"""

from __future__ import annotations

import pytest

from cobalt_rl.records import ExecResult, Status, TestOutcome
from cobalt_rl.rewards.scores import rlef_score, verpo_test_weights, verpo_turn_rewards


def test_verpo_pass_rate_pools_every_turn_of_the_group() -> None:
    # Episode 0: turn 1 passes test 0 only, turn 2 passes both; episode 1: one turn, no code.
    group: list[list[list[bool] | None]] = [[[True, False], [True, True]], [None]]
    # Pooled over the 3 turns: rho = (2/3, 1/3); a per-episode mean would give (1/2, 1/4).
    # Our weight (1 - rho) / sum(1 - rho): (1/3, 2/3) / 1 -> 1/3, 2/3 (per-episode: 0.4, 0.6).
    rows = [[True, False], [True, True], [False, False]]
    assert verpo_test_weights(rows) == pytest.approx([1 / 3, 2 / 3])
    # Turn rewards, dense_weight 0.5: 0.5 * outcome + 0.5 * (weights of the tests passed).
    rewards = verpo_turn_rewards(group, dense_weight=0.5)
    assert rewards == [pytest.approx([0.5 * (1 / 3), 1.0]), pytest.approx([0.0])]


def _result(*statuses: Status) -> ExecResult:
    return ExecResult(outcomes=[TestOutcome(status=s) for s in statuses])


def test_rlef_final_reward_is_positive_only_when_every_test_passes() -> None:
    passed, wrong = Status.PASSED, Status.WRONG_ANSWER
    assert rlef_score(_result(passed, passed, passed), "") == 1.0
    # Public tests pass, a private one fails: the episode stopped on a public pass, still -1.
    assert rlef_score(_result(passed, passed, wrong), "") == -1.0
    # No valid code (no block, or a syntax error): -1 and the -0.2 penalty.
    assert rlef_score(None, "no code here") == pytest.approx(-1.2)
    assert rlef_score(_result(Status.SYNTAX_ERROR, Status.SKIPPED), "") == pytest.approx(-1.2)
