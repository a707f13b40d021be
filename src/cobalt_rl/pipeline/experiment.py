"""``cobalt experiment CONFIG.yaml``: base vs Cobalt vs the multi-turn baseline, over seeds.

The learning experiment (``configs/experiment.yaml``): one offline dataset (the reference
model's trajectories on the training problems, scored, cut into contexts), then for every seed
and every method (``cobalt``: bandit GRPO on the contexts; ``multiturn``: online multi-turn
GRPO) a training run with the SAME wall-clock budget, then multi-turn evaluation of the base
model and every trained model on every held-out set, scored on hidden tests. Results are
aggregated over seeds: Pass@1 by turn, mean and a 95% t-interval across seeds, plus each seed's
value, written to ``results.json``, ``results.md`` and ``pass_at_1.png``.

Every cell leaves a marker under ``stages/``; a run started again skips finished cells and
resumes unfinished ones (rollouts append, training restarts from its last checkpoint).
"""

from __future__ import annotations

import functools
import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.contexts import ContextSettings
from cobalt_rl.errors import ConfigError
from cobalt_rl.pipeline import EpisodeConfig, ProblemSet, RunConfig
from cobalt_rl.records import Problem

__all__ = ["EvalSet", "ExperimentConfig", "load_experiment_config", "run_experiment"]

# Two-sided 97.5% quantiles of Student's t by degrees of freedom (1..30), for seed CIs.
_T975 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]  # fmt: skip


class EvalSet(ProblemSet):
    """A held-out problem set for evaluation."""

    require_public_tests: bool = Field(
        True, description="Keep only problems with public tests (feedback needs them)."
    )


class ExperimentConfig(BaseModel):
    """The learning experiment (``configs/experiment.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    out_dir: Path = Field(description="Where every artifact of the experiment goes.")
    estimated_minutes: float | None = Field(None, description="Announced before it starts.")
    model: str = Field("embedded", description="Base (and reference) model.")
    device: str = Field("cpu", description="cpu, cuda, cuda:N or mps.")
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="Training/eval seeds.")
    train_problems: ProblemSet = Field(default_factory=lambda: ProblemSet(split="train"))
    eval_sets: dict[str, EvalSet] = Field(
        default_factory=lambda: {"bundled-test": EvalSet(split="test")},
        min_length=1,
        description="Held-out sets by name.",
    )
    rollout: EpisodeConfig = Field(
        default_factory=EpisodeConfig, description="Reference trajectories (offline data)."
    )
    contexts: ContextSettings = Field(default_factory=ContextSettings)
    train: dict[str, Any] = Field(
        default_factory=dict, description="`cobalt train` options shared by every method."
    )
    methods: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"cobalt": {"mode": "bandit"}, "multiturn": {"mode": "multiturn"}},
        min_length=1,
        description="Trained methods by name: TrainConfig options over `train` (mode, ...).",
    )
    train_seconds: float = Field(
        gt=0, description="Wall-clock budget of every training run (equal for all methods)."
    )
    eval: EpisodeConfig = Field(default_factory=lambda: EpisodeConfig(samples=1, turns=3))

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        if "base" in self.methods:
            raise ValueError("'base' is the untrained model: name methods otherwise")
        return self

    def run_config(self) -> RunConfig:
        """The pipeline config of the shared offline stages (rollout, score, contexts)."""
        first = next(iter(self.eval_sets.values()))
        return RunConfig(
            run_dir=self.out_dir / "shared",
            model=self.model,
            device=self.device,
            train_problems=self.train_problems,
            eval_problems=ProblemSet(**first.model_dump(exclude={"require_public_tests"})),
            rollout=self.rollout,
            contexts=self.contexts,
            eval=self.eval,
        )

    def train_config(self, method: str, seed: int) -> Any:
        from cobalt_rl.config import validate_config
        from cobalt_rl.train.config import TrainConfig

        shared = self.out_dir / "shared"
        data = {
            "contexts": shared / "contexts.jsonl",
            "problems": shared / "problems-train.jsonl",
            "out": self.out_dir / f"seed-{seed}" / method,
            "model": self.model,
            "seed": seed,
            **self.train,
            **self.methods[method],
            "max_seconds": self.train_seconds,
        }
        return validate_config(TrainConfig, data, where=f"the config's method {method!r}")


def load_experiment_config(path: Path) -> ExperimentConfig:
    """Read and validate an experiment config (every method's training too)."""
    from cobalt_rl.config import read_yaml_mapping, validate_config

    cfg = validate_config(ExperimentConfig, read_yaml_mapping(path), where=str(path))
    for method in cfg.methods:
        cfg.train_config(method, cfg.seeds[0])
    return cfg


class _Experiment:
    def __init__(self, cfg: ExperimentConfig, echo: Callable[[str], None]):
        from cobalt_rl.pipeline import _Run

        self.cfg = cfg
        self.echo = echo
        self.shared = _Run(cfg.run_config(), echo)
        self.started = time.perf_counter()

    def marker(self, cell: str) -> Path:
        return self.cfg.out_dir / "stages" / f"{cell}.json"

    def cell(self, name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run ``fn`` once: a finished cell's summary is read back from its marker."""
        marker = self.marker(name)
        if marker.exists():
            self.echo(f"[{name}] already done, skipped")
            done: dict[str, Any] = json.loads(marker.read_text())
            return done
        elapsed = (time.perf_counter() - self.started) / 60
        self.echo(f"[{name}] starting ({elapsed:.0f} min into this run)")
        t = time.perf_counter()
        summary = {**fn(), "seconds": 0.0}
        summary["seconds"] = time.perf_counter() - t
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(summary, indent=2, default=str))
        self.echo(f"[{name}] done in {summary['seconds']:.0f} s")
        return summary

    def eval_problems(self, name: str) -> list[Problem]:
        from cobalt_rl.problems import load_problems

        path = self.cfg.out_dir / f"problems-{name}.jsonl"
        return load_problems(path)

    def write_eval_sets(self) -> dict[str, Any]:
        from cobalt_rl.problems import convert
        from cobalt_rl.records import write_jsonl

        out = {}
        for name, es in self.cfg.eval_sets.items():
            opts = {"split": es.split} if es.split else {}
            conv = convert(es.source, es.input, **opts)
            problems = [p for p in conv.problems if p.public_tests or not es.require_public_tests]
            problems = problems[: es.limit] if es.limit else problems
            if not problems:
                raise ConfigError(f"eval set {name!r} has no problems")
            write_jsonl(self.cfg.out_dir / f"problems-{name}.jsonl", problems)
            out[name] = len(problems)
            self.echo(f"  {name}: {len(problems)} problems")
        return out

    def train(self, method: str, seed: int) -> dict[str, Any]:
        from cobalt_rl.train.bandit import train_bandit
        from cobalt_rl.train.multiturn import train_multiturn

        tcfg = self.cfg.train_config(method, seed)
        final = (train_bandit if tcfg.mode == "bandit" else train_multiturn)(tcfg)
        rows = [json.loads(line) for line in (tcfg.out / "metrics.jsonl").read_text().splitlines()]
        steps = [r for r in rows if "loss" in r]
        return {
            "final": str(final),
            "steps": len(steps),
            "train_seconds": sum(r.get("step_seconds", 0.0) for r in steps),
            "mean_reward": statistics.fmean(r["reward"] for r in steps if "reward" in r)
            if any("reward" in r for r in steps)
            else None,
        }

    def evaluate(self, model: str, label: str, seed: int, set_name: str) -> dict[str, Any]:
        d = self.cfg.out_dir / f"seed-{seed}"
        out = d / f"eval-{set_name}-{label}.jsonl"
        problems = self.eval_problems(set_name)
        ep = self.cfg.eval.model_copy(update={"seed": seed})
        cost = self.shared.episodes(model, problems, out, ep)
        res = self.shared.score(out, problems, d / "report" / f"{set_name}-{label}", label)
        turns = res["metrics"]["turns"]
        return {
            **cost,
            "problems": len(problems),
            "pass_at_1": [t["pass_at_1"] for t in turns],
            "public_solved": [t["public_solved"] for t in turns],
        }


def run_experiment(cfg: ExperimentConfig, echo: Callable[[str], None] = print) -> Path:
    """Run (or resume) the whole experiment; returns the results markdown's path."""
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    (cfg.out_dir / "config.yaml").write_text(
        yaml.safe_dump(json.loads(cfg.model_dump_json()), sort_keys=False)
    )
    ex = _Experiment(cfg, echo)
    run = ex.shared
    run.dir.mkdir(parents=True, exist_ok=True)
    for stage in ("problems", "rollout", "score", "contexts"):
        ex.cell(f"shared-{stage}", getattr(run, f"stage_{stage}"))
    ex.cell("eval-sets", ex.write_eval_sets)
    cells: dict[str, dict[str, Any]] = {}
    for seed in cfg.seeds:
        models = {"base": cfg.model}
        for method in cfg.methods:
            name = f"seed{seed}-train-{method}"
            cells[name] = ex.cell(name, functools.partial(ex.train, method, seed))
            models[method] = cells[name]["final"]
        for label, model in models.items():
            for set_name in cfg.eval_sets:
                name = f"seed{seed}-eval-{set_name}-{label}"
                run_eval = functools.partial(ex.evaluate, model, label, seed, set_name)
                cells[name] = ex.cell(name, run_eval)
    results = aggregate(cfg, cells)
    (cfg.out_dir / "results.json").write_text(json.dumps(results, indent=2))
    plot_results(results, cfg.out_dir / "pass_at_1.png")
    md = cfg.out_dir / "results.md"
    md.write_text(results_markdown(results))
    echo(f"results: {md}")
    return md


def seed_interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of a 95% t-interval across seeds (0 for one seed)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    t = _T975[min(len(values) - 1, len(_T975)) - 1]
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


def aggregate(cfg: ExperimentConfig, cells: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per eval set, model and turn: Pass@1 per seed, mean and 95% CI across seeds."""
    labels = ["base", *cfg.methods]
    out: dict[str, Any] = {"seeds": cfg.seeds, "train_seconds": cfg.train_seconds, "sets": {}}
    out["training"] = {
        m: {
            "steps": [cells[f"seed{s}-train-{m}"]["steps"] for s in cfg.seeds],
            "train_seconds": [cells[f"seed{s}-train-{m}"]["train_seconds"] for s in cfg.seeds],
            "wall_seconds": [cells[f"seed{s}-train-{m}"]["seconds"] for s in cfg.seeds],
        }
        for m in cfg.methods
    }
    for set_name in cfg.eval_sets:
        per_model: dict[str, Any] = {}
        for label in labels:
            runs = [cells[f"seed{s}-eval-{set_name}-{label}"] for s in cfg.seeds]
            n_turns = min(len(r["pass_at_1"]) for r in runs)
            turns = []
            for t in range(n_turns):
                values = [r["pass_at_1"][t] for r in runs]
                mean, half = seed_interval(values)
                turns.append({"turn": t + 1, "mean": mean, "ci": half, "per_seed": values})
            per_model[label] = {"problems": runs[0]["problems"], "turns": turns}
        out["sets"][set_name] = per_model
    out["samples"] = cfg.eval.samples
    return out


def results_markdown(results: dict[str, Any]) -> str:
    seeds = results["seeds"]
    lines = [
        f"Seeds: {', '.join(map(str, seeds))}; {results['samples']} sample(s) per problem per "
        f"seed; every method trained for {results['train_seconds']:g} s of wall-clock. "
        "Pass@1 on hidden tests by turn: mean over seeds ± half-width of a 95% t-interval "
        "across seeds; per-seed values in brackets.",
        "",
    ]
    for set_name, per_model in results["sets"].items():
        n_turns = max(len(m["turns"]) for m in per_model.values())
        problems = next(iter(per_model.values()))["problems"]
        lines += [f"### {set_name} ({problems} problems)", ""]
        lines.append("| model | " + " | ".join(f"turn {t + 1}" for t in range(n_turns)) + " |")
        lines.append("|---|" + "---|" * n_turns)
        for label, m in per_model.items():
            cols = [
                f"{t['mean']:.3f} ± {t['ci']:.3f} [{', '.join(f'{v:.2f}' for v in t['per_seed'])}]"
                for t in m["turns"]
            ]
            lines.append(f"| {label} | " + " | ".join(cols) + " |")
        lines.append("")
    lines += ["### Training at equal wall-clock", "", "| method | steps per seed | seconds |"]
    lines.append("|---|---|---|")
    for m, tr in results["training"].items():
        lines.append(
            f"| {m} | {', '.join(map(str, tr['steps']))} | "
            f"{', '.join(f'{s:.0f}' for s in tr['wall_seconds'])} |"
        )
    return "\n".join(lines) + "\n"


def plot_results(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(results["sets"].items())
    fig, axes = plt.subplots(1, len(sets), figsize=(5.5 * len(sets), 4), squeeze=False)
    styles = ["-o", "--s", ":^", "-.D", "-v"]
    for ax, (set_name, per_model) in zip(axes[0], sets, strict=True):
        tops: list[float] = []
        for i, (label, m) in enumerate(per_model.items()):
            turns = [t["turn"] + 0.04 * (i - 1) for t in m["turns"]]
            means = [t["mean"] for t in m["turns"]]
            lower = [min(y, t["ci"]) for y, t in zip(means, m["turns"], strict=True)]
            upper = [min(1.0 - y, t["ci"]) for y, t in zip(means, m["turns"], strict=True)]
            tops.append(max(y + u for y, u in zip(means, upper, strict=True)))
            ax.errorbar(
                turns,
                means,
                yerr=[lower, upper],
                fmt=styles[i % len(styles)],
                capsize=3,
                label=label,
            )
        ax.set_title(f"{set_name} ({next(iter(per_model.values()))['problems']} problems)")
        ax.set_xlabel("turn")
        ax.set_ylabel("Pass@1 (hidden tests)")
        ax.set_xticks(sorted({t["turn"] for m in per_model.values() for t in m["turns"]}))
        ax.set_ylim(0, min(1.02, max(0.1, max(tops, default=1.0) * 1.1 + 0.02)))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Pass@1 by turn, mean ± 95% CI over seeds {results['seeds']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
