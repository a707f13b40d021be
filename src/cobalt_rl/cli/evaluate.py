"""``cobalt evaluate``: score trajectories on hidden tests; per-turn Pass@k table and plot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.config import add_model_arguments, model_from_args


class EvaluateConfig(BaseModel):
    """Options of ``cobalt evaluate``."""

    model_config = ConfigDict(extra="forbid")

    trajectories: Path = Field(description="Trajectories JSONL written by `cobalt rollout`.")
    problems: Path = Field(description="The problems JSONL the trajectories were rolled out on.")
    report: Path = Field(
        Path("report"), description="Directory for metrics.json, pass_at_1.md and the plot."
    )
    scored_out: Path | None = Field(
        None,
        description="Where to write the trajectories with hidden results; unset: replace the "
        "input file atomically (nothing in it is lost).",
    )
    k: list[int] = Field(default_factory=list, description="Extra k values for Pass@k.")
    label: str = Field("model", description="Name of this run in the table and the plot.")
    compare: list[Path] = Field(
        default_factory=list,
        description="metrics.json files of other runs to overlay on the plot.",
    )
    rescore: bool = Field(False, description="Re-run attempts that already have hidden results.")
    workers: int | None = Field(None, ge=1, description="Sandbox workers (default: one a core).")
    timeout: float = Field(4.0, gt=0, description="Wall-clock limit per test, in seconds.")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "evaluate",
        help="score trajectories on hidden tests; Pass@1 by turn (table and plot)",
        description="Score every attempt of every trajectory on the problems' HIDDEN tests, "
        "then report Pass@1 (and Pass@k) by turn, where turn t is the latest attempt at or "
        "before t, with public vs hidden pass rates and a per-difficulty breakdown.",
    )
    add_model_arguments(parser, EvaluateConfig)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = model_from_args(EvaluateConfig, args)
    from cobalt_rl.evaluate import compute_metrics, score_trajectories, write_report
    from cobalt_rl.evaluate.report import markdown_table
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl
    from cobalt_rl.sandbox import Limits, LocalSandbox

    problems = {p.id: p for p in load_problems(cfg.problems)}
    trajectories = list(read_jsonl(cfg.trajectories, Trajectory))
    limits = Limits(timeout_s=cfg.timeout, program_timeout_s=max(30.0, cfg.timeout))
    with LocalSandbox(workers=cfg.workers, limits=limits) as sandbox:
        scored = score_trajectories(trajectories, problems, sandbox, rescore=cfg.rescore)
    write_jsonl(cfg.scored_out or cfg.trajectories, scored)
    metrics = compute_metrics(scored, problems, ks=cfg.k)
    compare = []
    for path in cfg.compare:
        data = json.loads(path.read_text())
        compare.append((str(data.get("label", path.parent.name)), data))
    paths = write_report(metrics, cfg.report, label=cfg.label, compare=compare)
    print(markdown_table(metrics))
    print(f"report: {paths['table']}, {paths['plot']}, {paths['metrics']}")
    return 0
