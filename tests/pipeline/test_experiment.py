"""`cobalt experiment`: methods at equal wall-clock over seeds, aggregated with seed CIs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from cobalt_rl.errors import ConfigError
from cobalt_rl.evaluate.experiment import ExperimentResults, seed_interval
from cobalt_rl.pipeline import experiment
from cobalt_rl.records import Problem, read_jsonl
from cobalt_rl.report.plots import plot_feedback_use

from ..test_configs import lcb_row
from .test_pipeline import fix_after_feedback, scripted_base

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_experiment_config_validates() -> None:
    cfg = experiment.load_experiment_config(ROOT / "configs" / "experiment.yaml")
    # Its power comes from pairing by problem: every held-out bundled problem, several
    # repairs per scripted failure, and offline contexts that hold feedback (a replay).
    (test_set,) = cfg.eval_sets.values()
    assert test_set.split == "test" and test_set.limit is None
    assert cfg.repair_samples >= 4 and cfg.run.replay is not None
    assert {cfg.train_config(m, 0).mode for m in cfg.methods} == {
        "bandit",
        "multiturn",
        "rlef",
        "verpo",
    }
    assert all(cfg.train_config(m, 0).max_seconds == cfg.train_seconds for m in cfg.methods)


def test_bad_method_option_is_named_before_anything_loads(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "out_dir": str(tmp_path / "x"),
                "train_seconds": 10,
                "methods": {"cobalt": {"mode": "bandit", "num_generations": 1}},
            }
        )
    )
    with pytest.raises(ConfigError, match=r"(?s)cobalt.*num_generations"):
        experiment.load_experiment_config(path)
    path.write_text(yaml.safe_dump({"out_dir": "x", "train_seconds": 1, "methods": {"base": {}}}))
    with pytest.raises(ConfigError, match="base"):
        experiment.load_experiment_config(path)


def test_eval_set_options_reach_the_converter(tmp_path: Path) -> None:
    """An eval set's source options (a LiveCodeBench date window) are applied, not dropped."""
    lcb = tmp_path / "lcb"
    lcb.mkdir()
    rows = [lcb_row(qid, date) for qid, date in (("old", "2024-12-01"), ("new", "2025-03-01"))]
    (lcb / "test6.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = experiment.ExperimentConfig.model_validate(
        {
            "out_dir": tmp_path / "x",
            "train_seconds": 1,
            "methods": {"cobalt": {}},
            "eval_sets": {
                "lcb": {"source": "livecodebench", "input": lcb, "options": {"since": "2025-02-01"}}
            },
        }
    )
    (tmp_path / "x").mkdir()
    run = experiment._Experiment(cfg, echo=lambda _: None, generator_factory=None)
    assert run.write_eval_sets() == {"lcb": 1}
    kept = [p.id for p in read_jsonl(tmp_path / "x" / "problems-lcb.jsonl", Problem)]
    assert kept == ["livecodebench/new"]


def test_seed_interval_is_a_student_t_interval() -> None:
    mean, half = seed_interval([0.1, 0.2, 0.3])
    assert mean == pytest.approx(0.2)
    assert half == pytest.approx(4.303 * 0.1 / math.sqrt(3))
    assert seed_interval([0.5]) == (0.5, 0.0)


@pytest.mark.slow
def test_experiment_trains_every_method_per_seed_and_aggregates(
    tmp_path: Path, tiny_models: Any
) -> None:
    factory = scripted_base(tiny_models.random, fix_after_feedback)
    path = tmp_path / "exp.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "out_dir": str(tmp_path / "exp"),
                "run": {
                    "generator": {"backend": "transformers", "model": str(tiny_models.random)},
                    "train_problems": {"source": "bundled", "split": "train", "limit": 3},
                    "rollout": {"samples": 2, "episode": {"turns": 2}},
                    "sampling": {"max_new_tokens": 8},
                    "contexts": {"top_n": 2, "keep_m": 1},
                    "eval": {
                        "samples": 1,
                        "episode": {"turns": 2},
                        "sampling": {"max_new_tokens": 200},
                    },
                },
                "seeds": [0, 1],
                "eval_sets": {
                    "a": {"source": "bundled", "split": "test", "limit": 2},
                    "b": {"source": "bundled", "split": "validation", "limit": 1},
                },
                "train": {
                    "num_generations": 2,
                    "prompts_per_step": 1,
                    "micro_batch_size": 2,
                    "sampling": {"max_new_tokens": 4},
                    "max_steps": 50,
                    "beta": 0.0,
                },
                "methods": {
                    "cobalt": {"mode": "bandit"},
                    "mt": {"mode": "multiturn", "episode": {"turns": 2}},
                },
                "train_seconds": 0.01,
            }
        )
    )
    cfg = experiment.load_experiment_config(path)
    messages: list[str] = []
    md = experiment.run_experiment(cfg, echo=messages.append, generator_factory=factory)
    out = cfg.out_dir
    results = json.loads((out / "results.json").read_text())
    # The time budget, not max_steps, ended every training run: one step each.
    assert results["training"]["cobalt"]["steps"] == [1, 1]
    assert results["training"]["mt"]["steps"] == [1, 1]
    assert set(results["sets"]) == {"a", "b"}
    for per_model in results["sets"].values():
        assert set(per_model) == {"base", "cobalt", "mt"}
        for m in per_model.values():
            assert [t["turn"] for t in m["turns"]] == [1, 2]
            assert all(len(t["per_seed"]) == 2 for t in m["turns"])
    # The scripted base fixes its code after feedback: turn 2 solves what turn 1 did not.
    base = results["sets"]["a"]["base"]["turns"]
    assert base[0]["mean"] == 0.0 and base[1]["mean"] == 1.0
    # Feedback use: the scripted base repairs every failure, its own and the scripted ones;
    # the tiny random policies write no code, so paired against the base they lose it all.
    assert results["sets"]["a"]["base"]["repair"][0]["rate"] == 1.0
    scripted = results["sets"]["a"]["base"]["repair_at_1"]
    assert scripted["mean"] == 1.0 and scripted["failures"] >= 2
    assert results["sets"]["a"]["cobalt"]["repair_at_1"]["mean"] == 0.0
    paired = results["paired"]["a"]["cobalt"]
    assert paired["repair_at_1"]["diff"] == -1.0 and paired["repair_at_1"]["high"] == -1.0
    assert paired["pass_at_1_last"]["problems"] == 2
    assert "repair@1" in md.read_text()
    assert (out / "pass_at_1.png").stat().st_size > 1000
    assert (out / "feedback_use.png").stat().st_size > 1000
    assert (out / "training.png").stat().st_size > 1000
    assert "| base |" in md.read_text() and "### a (2 problems)" in md.read_text()
    for seed in (0, 1):
        assert (out / f"seed-{seed}" / "cobalt" / "final" / "model.safetensors").exists()
    # Started again: every cell is read back, nothing re-runs.
    messages.clear()
    experiment.run_experiment(cfg, echo=messages.append, generator_factory=factory)
    assert not [m for m in messages if m.endswith("starting")] and not any(
        "starting (" in m for m in messages
    )


def test_feedback_use_plot_draws_the_results_numbers(tmp_path: Path) -> None:
    scripted: dict[str, Any] = {"ci": 0.0, "per_seed": [], "failures": 20}
    results = ExperimentResults.model_validate({
        "seeds": [0], "train_seconds": 60, "samples": 1, "training": {},
        "sets": {
            "held": {
                "base": {"problems": 9, "turns": [],
                         "repair": [{"turn": 1, "rate": 0.25, "failures": 8, "repaired": 2}],
                         "repair_at_1": {"mean": 0.10, **scripted}},
                "cobalt": {"problems": 9, "turns": [], "repair": [],
                           "repair_at_1": {"mean": 0.30, **scripted}},
            }
        },
        "paired": {
            "held": {
                "cobalt": {
                    "pass_at_1_last": {"diff": 0.05, "low": -0.02, "high": 0.12, "problems": 9},
                    "repair_at_1": {"diff": 0.2, "low": 0.1, "high": 0.3, "problems": 9},
                }
            }
        },
    })  # fmt: skip
    drawn = plot_feedback_use(results, tmp_path / "f.png")["held"]
    assert drawn.labels == ["base", "cobalt"]
    assert drawn.scripted == [0.10, 0.30]
    assert drawn.own[0] == 0.25 and math.isnan(drawn.own[1])  # no own failures: no bar
    assert drawn.paired == [
        ("cobalt", "Pass@1 last turn", 0.05, -0.02, 0.12),
        ("cobalt", "repair@1", 0.2, 0.1, 0.3),
    ]
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_training_curves_accumulate_seconds_and_keep_a_relogged_step(tmp_path: Path) -> None:
    cfg = experiment.load_experiment_config(ROOT / "configs" / "experiment.yaml")
    cfg = cfg.model_copy(update={"out_dir": tmp_path, "seeds": [0]})
    log = tmp_path / "seed-0" / "cobalt" / "metrics.jsonl"
    log.parent.mkdir(parents=True)
    rows = [
        {
            "step": 1,
            "loss": 0.1,
            "reward": -0.5,
            "step_seconds": 60.0,
            "solved_rate": 0.25,
            "frac_reward_zero_std": 0.25,
        },
        {"step": 2, "loss": 0.1, "reward": -0.4, "step_seconds": 50.0},  # killed, re-logged:
        {"step": 2, "loss": 0.1, "reward": -0.2, "step_seconds": 40.0},  # this row counts
        {"step": 2, "train_runtime": 150.0},  # a summary row, not a step
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    verpo = tmp_path / "seed-0" / "verpo" / "metrics.jsonl"
    verpo.parent.mkdir(parents=True)
    row = {"step": 1, "loss": 0.0, "reward": 0.0, "verpo/dense_reward": 0.05, "step_seconds": 9}
    verpo.write_text(json.dumps(row) + "\n")
    curves = experiment.training_curves(cfg)
    cobalt = [(p.step, p.seconds, p.reward, p.solved, p.signal) for p in curves["cobalt"][0]]
    assert cobalt == [(1, 60.0, -0.5, 0.25, 0.75), (2, 100.0, -0.2, None, None)]
    assert [p.reward for p in curves["verpo"][0]] == [0.05]  # the dense reward VeRPO trains on
    assert curves["rlef"] == [[]]  # not trained yet: an empty line, no error
