"""`cobalt run` with each model-loading stage in a process of its own (what a GPU run does by
default: TRL's colocated vLLM leaves its environment and memory behind in the process that
trained, and the evaluation's engine would find the GPU held)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from cobalt_rl import pipeline
from cobalt_rl.pipeline import runner
from cobalt_rl.pipeline.config import RunConfig
from cobalt_rl.pipeline.process import StageProcessError, own_processes, run_in_own_process

sys.path.insert(0, str(Path(__file__).parent))
from test_pipeline import small_run


def test_model_stages_run_in_their_own_processes_and_the_run_completes(
    tmp_path: Path, tiny_models: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated: list[str] = []
    real = runner.run_in_own_process

    def spy(cfg: Any, name: str) -> dict[str, Any]:
        isolated.append(name)
        return real(cfg, name)

    monkeypatch.setattr(runner, "run_in_own_process", spy)
    cfg = RunConfig.model_validate(
        {**small_run(tmp_path / "run", tiny_models.random), "stage_processes": "own"}
    )
    report = pipeline.run_pipeline(cfg, echo=lambda _m: None)
    assert isolated == ["rollout", "train", "eval_base", "eval_trained"]
    assert report.is_file()
    assert (tmp_path / "run/train/final/config.json").is_file()  # the child's training
    # the parent wrote each child's summary in the stage's marker
    assert (tmp_path / "run/stages/eval_trained.json").read_text().count('"seconds"') == 1


def test_shared_processes_and_custom_generators_stay_in_process(
    tmp_path: Path, tiny_models: Any
) -> None:
    base = small_run(tmp_path / "run", tiny_models.random)
    own = RunConfig.model_validate({**base, "stage_processes": "own"})
    shared = RunConfig.model_validate({**base, "stage_processes": "shared"})
    assert own_processes(own) and not own_processes(shared)
    assert not own_processes(own, custom_generators=True)


def test_a_stage_failing_in_its_process_names_itself_and_the_cause(
    tmp_path: Path, tiny_models: Any
) -> None:
    cfg = RunConfig.model_validate(
        {**small_run(tmp_path / "run", tiny_models.random), "stage_processes": "own"}
    )
    with pytest.raises(StageProcessError, match=r"'eval_base'.*problems-eval\.jsonl"):
        run_in_own_process(cfg, "eval_base")  # the problems stage never ran


def test_experiment_cells_run_in_their_own_processes(
    tmp_path: Path, tiny_models: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cobalt_rl.pipeline import experiment

    isolated: list[str] = []
    real = experiment.call_in_own_process

    def spy(function: Any, args: Any, what: str) -> Any:
        isolated.append(what)
        return real(function, args, what)

    monkeypatch.setattr(experiment, "call_in_own_process", spy)

    cfg = experiment.ExperimentConfig.model_validate(
        {
            "out_dir": str(tmp_path / "exp"),
            "run": {
                "generator": {"backend": "transformers", "model": str(tiny_models.random)},
                "train_problems": {"source": "bundled", "split": "train", "limit": 2},
                "rollout": {"samples": 2, "episode": {"turns": 1}},
                "sampling": {"max_new_tokens": 4},
                "tokenizer_filter": False,
                "eval": {"samples": 1, "episode": {"turns": 1}},
                "stage_processes": "own",
            },
            "seeds": [0],
            "eval_sets": {"a": {"source": "bundled", "split": "test", "limit": 1}},
            "repair_samples": 0,
            "train": {
                "num_generations": 2,
                "prompts_per_step": 1,
                "micro_batch_size": 2,
                "max_steps": 1,
                "beta": 0.0,
            },
            "methods": {"cobalt": {"mode": "bandit"}},
            "train_seconds": 60,
        }
    )
    md = experiment.run_experiment(cfg, echo=lambda _m: None)
    assert md.is_file()
    stages = sorted(p.stem for p in (cfg.out_dir / "stages").glob("*.json"))
    assert {"shared-rollout", "seed0-train-cobalt", "seed0-eval-a-cobalt"} <= set(stages)
    assert (cfg.out_dir / "seed-0" / "cobalt" / "final" / "config.json").is_file()
    assert isolated == ["cell 'seed0-train-cobalt'", "cell 'seed0-eval-a-base'",
                        "cell 'seed0-eval-a-cobalt'"]  # fmt: skip
