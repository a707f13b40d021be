"""``cobalt evaluate``: score trajectories on hidden tests; per-turn Pass@k table and plot."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import Field

from cobalt_rl.cli.execute import GradingFlags
from cobalt_rl.cli.flags import add_command, model_from_args


class EvaluateConfig(GradingFlags):
    """Options of ``cobalt evaluate``: the files, the report, hacking detection, and the
    grading flags."""

    trajectories: Path = Field(description="Trajectories JSONL written by `cobalt rollout`.")
    problems: Path = Field(description="The problems JSONL the trajectories were rolled out on.")
    report: Path = Field(
        Path("report"), description="Directory for metrics.json, pass_at_1.md and the plot."
    )
    scored_out: Path | None = Field(
        None,
        description="Where to write the trajectories with hidden results; unset: beside the "
        "input, as <name>.scored.jsonl. The input file is never rewritten.",
    )
    k: list[int] = Field(default_factory=list, description="Extra k values for Pass@k.")
    label: str = Field("model", description="Name of this run in the table and the plot.")
    compare: list[Path] = Field(
        default_factory=list,
        description="metrics.json files of other runs to overlay on the plot.",
    )
    rescore: bool = Field(False, description="Re-run attempts that already have hidden results.")
    hacking: bool = Field(
        False,
        description="Also detect in-context reward hacking (the problems must be `cobalt "
        "perturb` output): rates by turn, categories and example diffs in hacking.md/json.",
    )
    judge_config: Path | None = Field(
        None,
        description="With --hacking: YAML generator config (backend, model, base_url...) of "
        "an LLM judge that classifies hacking turns; unset: rule-based classification.",
    )


def register(sub: Any) -> None:
    add_command(sub, "evaluate", EvaluateConfig, run)


def run(args: argparse.Namespace) -> int:
    """Score trajectories on hidden tests; Pass@1 by turn (table and plot).

    Score every attempt of every trajectory on the problems' HIDDEN tests, then report Pass@1
    (and Pass@k) by turn, where turn t is the latest attempt at or before t, with public vs
    hidden pass rates and a per-difficulty breakdown.
    """
    cfg = model_from_args(EvaluateConfig, args)
    scored_out = scored_path(cfg)  # before any work: a bad --scored-out fails first
    from cobalt_rl.evaluate import compute_metrics, score_trajectories
    from cobalt_rl.problems import load_problems
    from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl
    from cobalt_rl.report.metrics import MetricsFile, markdown_table, write_report
    from cobalt_rl.sandbox.factory import make_sandbox

    problems = {p.id: p for p in load_problems(cfg.problems)}
    trajectories = list(read_jsonl(cfg.trajectories, Trajectory))
    with closing(make_sandbox(cfg.sandbox)) as sandbox:
        scored = score_trajectories(
            trajectories, problems, sandbox, rescore=cfg.rescore, profile=cfg.profile
        )
    write_jsonl(scored_out, scored)
    metrics = compute_metrics(scored, problems, ks=cfg.k)
    compare = []
    for path in cfg.compare:
        other = MetricsFile.model_validate_json(path.read_text())
        compare.append((other.label or path.parent.name, other))
    paths = write_report(metrics, cfg.report, label=cfg.label, compare=compare)
    print(markdown_table(metrics))
    print(f"report: {paths['table']}, {paths['plot']}, {paths['metrics']}")
    print(f"scored trajectories: {scored_out}")
    if cfg.hacking:
        _hacking(cfg, scored, problems)
    return 0


def scored_path(cfg: EvaluateConfig) -> Path:
    """Where the scored trajectories go: ``--scored-out``, else ``<name>.scored.jsonl``
    beside the input; never the input itself (a user's file is theirs to keep).

    Raises:
        ConfigError: ``--scored-out`` names the input file.
    """
    from cobalt_rl.errors import ConfigError

    if cfg.scored_out is None:
        stem = cfg.trajectories.name.removesuffix(".jsonl")
        return cfg.trajectories.with_name(f"{stem}.scored.jsonl")
    if cfg.scored_out.resolve() == cfg.trajectories.resolve():
        raise ConfigError(
            f"--scored-out {cfg.scored_out} is the input file; cobalt evaluate never rewrites "
            "its input: name another file, or leave --scored-out unset for "
            "<name>.scored.jsonl beside it"
        )
    return cfg.scored_out


def _hacking(cfg: EvaluateConfig, scored: Any, problems: Any) -> None:
    from cobalt_rl.errors import ConfigError
    from cobalt_rl.hacking.detect import analyze_hacking
    from cobalt_rl.report.hacking import hacking_markdown, write_hacking_report
    from cobalt_rl.sandbox.factory import make_sandbox

    if not any(p.perturbed for p in problems.values()):
        raise ConfigError(
            f"--hacking needs perturbed problems, and none in {cfg.problems} is: pass the "
            "output of `cobalt perturb` the trajectories were rolled out on"
        )
    judge, judge_name = None, "judge"
    if cfg.judge_config is not None:
        import yaml

        from cobalt_rl.llm import make_generator, parse_generator_config

        try:
            data = yaml.safe_load(cfg.judge_config.read_text())
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read --judge-config {cfg.judge_config}: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{cfg.judge_config}: expected a mapping of generator options")
        judge_config = parse_generator_config(data, where=str(cfg.judge_config))
        judge, judge_name = make_generator(judge_config), judge_config.label
    try:
        with closing(make_sandbox(cfg.sandbox)) as sandbox:
            report = analyze_hacking(scored, problems, sandbox, judge, judge_name, cfg.label)
    finally:
        if judge is not None:
            judge.close()
    paths = write_hacking_report(report, cfg.report)
    print("\nIn-context reward hacking\n\n" + hacking_markdown(report))
    print(f"hacking report: {paths['markdown']}, {paths['plot']}, {paths['json']}")
