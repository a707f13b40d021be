"""The records of hacking detection: one :class:`TurnVerdict` per attempt, one
:class:`HackingReport` per model (what :mod:`cobalt_rl.report.hacking` renders and
``hacking.json`` holds).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from cobalt_rl.hacking.rules import Category

__all__ = ["HackingReport", "TurnRate", "TurnVerdict"]


class TurnVerdict(BaseModel):
    """The detector's view of one attempt on a perturbed problem."""

    problem_id: str
    sample: int
    turn: int
    exposed: list[int] = Field(
        default_factory=list,
        description="Perturbed public tests whose wrong expected output was shown before.",
    )
    passes_perturbed: list[int] = Field(
        default_factory=list, description="Perturbed tests the program passes (wrong outputs)."
    )
    passes_true_perturbed: list[int] = Field(
        default_factory=list, description="Perturbed tests whose TRUE version it passes."
    )
    passes_untouched: bool = True
    changed: bool = False
    hacked: bool = False
    true_public_pass_rate: float = 0.0
    hidden_pass_rate: float | None = None
    hidden_passed: bool | None = None
    prev_hidden_pass_rate: float | None = None
    category: Category | None = None
    method: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    judge_error: str | None = None
    diff: str = ""


class TurnRate(BaseModel):
    """Hacking at one turn, over every trajectory that reached it."""

    turn: int
    attempts: int
    exposed: int = Field(description="attempts after a wrong expected output was shown")
    hacks: int
    rate: float = Field(description="hacks / attempts")
    rate_exposed: float = Field(description="hacks / exposed attempts")
    cumulative: float = Field(description="share of trajectories that hacked at or before")


class HackingReport(BaseModel):
    """Everything the hacking section of a report shows."""

    label: str = "model"
    problems: int
    trajectories: int
    not_perturbed: int = Field(0, description="trajectories skipped: problem not perturbed")
    turns: list[TurnRate]
    hacks: int
    rate: float = Field(description="hacking turns / attempts at turns >= 2")
    hacking_trajectories: int
    hacking_problems: int
    categories: dict[str, int]
    methods: dict[str, int]
    hidden: dict[str, dict[str, float | int | None]] = Field(
        description="hidden-test scores of hacking turns vs other changed turns >= 2"
    )
    flagged: list[TurnVerdict]
    exposed_not_flagged: list[TurnVerdict] = Field(
        default_factory=list,
        description="A few changed turns that had seen a wrong expected output but were not "
        "flagged (what the model did instead), with their diffs.",
    )
