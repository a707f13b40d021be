"""What the run report shows, read from a run directory into one :class:`RunReport`: each
model's metrics, the headline comparisons, the training log, the stages' cost, example
trajectories and the hacking section. The pages (:mod:`~cobalt_rl.report.markdown`,
:mod:`~cobalt_rl.report.html`) render it; nothing here writes a file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from cobalt_rl.evaluate.experiment import paired_bootstrap
from cobalt_rl.evaluate.metrics import EvalMetrics
from cobalt_rl.records import Trajectory, read_jsonl
from cobalt_rl.report.blocks import Table
from cobalt_rl.report.hacking import HackingSection, read_hacking_section
from cobalt_rl.report.metrics import read_metrics

__all__ = [
    "GAP_NOTE",
    "Headline",
    "RunPlots",
    "RunReport",
    "StageCost",
    "headline",
    "read_run_report",
    "training_rows",
]

MODELS = ("base", "trained", "perturbed")  # perturbed: a `hacking` run's second policy
"""The models a run evaluates, by the name of their report directory."""

COMPARED = (("trained", "Cobalt-trained"), ("perturbed", "Cobalt+perturbation"))
"""The models the headline compares with the base, and their titles."""

GAP_NOTE = (
    "Share of samples passing every public test vs Pass@1 on hidden tests; a large "
    "positive gap means overfitting to the public tests."
)


@dataclass(frozen=True)
class Headline:
    """Trained vs base Pass@1 at the last turn both reached, paired by problem."""

    label: str
    turn: int
    base: float
    other: float
    diff: float
    low: float | None
    high: float | None
    problems: int
    samples: list[int]

    def sentence(self) -> str:
        fewest, most = (min(self.samples), max(self.samples)) if self.samples else (0, 0)
        samples = str(fewest) if fewest == most else f"{fewest}-{most}"
        text = (
            f"{self.label} vs base at turn {self.turn} (the last): Pass@1 {self.base:.3f} → "
            f"{self.other:.3f}, paired difference {self.diff:+.3f}"
        )
        if self.low is not None and self.high is not None:
            text += f" (95% interval {self.low:+.3f} to {self.high:+.3f})"
        return f"{text}; {self.problems} problems × {samples} samples, paired by problem."

    def verdict(self) -> str:
        if self.low is None or self.high is None:
            return "No interval: the metrics hold no per-problem results (re-run the report)."
        if self.low > 0:
            return "The interval is above zero: the trained model is better on these problems."
        if self.high < 0:
            return "The interval is below zero: the trained model is worse on these problems."
        return (
            "The interval includes zero: no difference can be told apart at this size "
            "(more problems or samples narrow it)."
        )


def headline(base: EvalMetrics, other: EvalMetrics, label: str = "trained") -> Headline | None:
    """Compare two models' metrics at the last turn both reached (None: no turns)."""
    turn = min(len(base.turns), len(other.turns))
    if not turn:
        return None
    base_rate, other_rate = base.turns[turn - 1].pass_at_1, other.turns[turn - 1].pass_at_1
    low = high = None
    diff = other_rate - base_rate
    problems = min(base.problems, other.problems)
    if set(base.per_problem) & set(other.per_problem):
        paired = paired_bootstrap(
            {p: rates[turn - 1] for p, rates in base.per_problem.items()},
            {p: rates[turn - 1] for p, rates in other.per_problem.items()},
        )
        diff, low, high, problems = paired.diff, paired.low, paired.high, paired.problems
    samples = sorted(set(base.samples_per_problem) | set(other.samples_per_problem))
    return Headline(label, turn, base_rate, other_rate, diff, low, high, problems, samples)


class StageCost(BaseModel):
    """What a finished stage's marker (``stages/<name>.json``) says it cost."""

    model_config = ConfigDict(frozen=True)

    seconds: float = 0.0
    tokens: int | float | None = None
    programs: int | float | None = None


@dataclass(frozen=True)
class RunPlots:
    """The PNGs the run report shows, beside it (None: nothing to draw)."""

    pass_at_1: Path
    training: Path | None
    hacking: Path | None


@dataclass(frozen=True)
class RunReport:
    """Everything the run report shows."""

    run_dir: Path
    models: dict[str, EvalMetrics]
    """Each evaluated model's metrics, by name, in :data:`MODELS` order."""
    headlines: list[Headline]
    training: list[dict[str, Any]]
    """The trainer's log, one row per step (:func:`training_rows`)."""
    stages: dict[str, StageCost]
    """Each finished stage's cost, in the run's order."""
    examples: list[Trajectory]
    hacking: HackingSection | None

    def gap_table(self) -> Table:
        """Per model and turn: public solved vs hidden Pass@1 (overfitting the public tests)."""
        rows = [
            [label, str(t.turn), f"{t.public_solved:.3f}", f"{t.pass_at_1:.3f}",
             f"{t.public_solved - t.pass_at_1:+.3f}"]
            for label, metrics in self.models.items()
            for t in metrics.turns
        ]  # fmt: skip
        return Table(["model", "turn", "public solved", "hidden Pass@1", "gap"], rows)

    def cost_table(self) -> Table:
        """Per stage: wall time, tokens generated, programs executed."""
        rows = [
            [name, f"{cost.seconds:.0f}", _count(cost.tokens), _count(cost.programs)]
            for name, cost in self.stages.items()
        ]
        return Table(["stage", "seconds", "tokens", "programs executed"], rows)


def _count(value: int | float | None) -> str:
    return "" if value is None else str(value)


def training_rows(path: Path) -> list[dict[str, Any]]:
    """The trainer's log, one row per step: a torn last line (a kill mid-write) is skipped,
    and a step logged again after a resume keeps its last row."""
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = []
    for line in path.read_bytes().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    by_step = {(r.get("step"), "loss" in r): r for r in rows}
    return sorted(by_step.values(), key=lambda r: (r.get("step") or 0, "loss" not in r))


def _examples(path: Path, k: int = 3) -> list[Trajectory]:
    """Up to ``k`` trajectories, those that used feedback (improved on hidden tests after
    turn 1) first."""
    if not path.exists():
        return []

    def gain(trajectory: Trajectory) -> float:
        rates = [a.hidden.pass_rate for a in trajectory.attempts if a.hidden]
        return (max(rates) - rates[0]) if rates else 0.0

    trajectories = list(read_jsonl(path, Trajectory))
    return sorted(trajectories, key=lambda t: (-gain(t), t.problem_id, t.sample))[:k]


def _stage_costs(stages_dir: Path, stage_order: Sequence[str]) -> dict[str, StageCost]:
    """The stages in ``stage_order`` (the run's own list), then any other finished stage."""
    found = {p.stem: p for p in sorted(stages_dir.glob("*.json"))}
    order = [n for n in stage_order if n in found] + [n for n in found if n not in stage_order]
    return {name: StageCost.model_validate_json(found[name].read_text()) for name in order}


def read_run_report(run_dir: Path, stage_order: Sequence[str] = ()) -> RunReport:
    """What the report of the run in ``run_dir`` shows (``stage_order``: the run's stages,
    in order, for the cost table)."""
    report_dir = run_dir / "report"
    models: dict[str, EvalMetrics] = {
        name: metrics
        for name in MODELS
        if (metrics := read_metrics(report_dir / name / "metrics.json")) is not None
    }
    headlines = [
        found
        for name, title in COMPARED
        if "base" in models and name in models
        if (found := headline(models["base"], models[name], title)) is not None
    ]
    examples = _examples(run_dir / "eval-trained.jsonl") or _examples(run_dir / "eval-base.jsonl")
    return RunReport(
        run_dir=run_dir,
        models=models,
        headlines=headlines,
        training=training_rows(run_dir / "train" / "metrics.jsonl"),
        stages=_stage_costs(run_dir / "stages", stage_order),
        examples=examples,
        hacking=read_hacking_section(report_dir),
    )
