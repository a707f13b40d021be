"""Every shipped config in ``configs/`` loads and validates, so none can rot unnoticed.

The paper-scale recipes cannot run here (no GPU); what can be checked without one is checked:
they validate, carry the paper's numbers, their LiveCodeBench date window reaches the
converter, and the multi-GPU ``cobalt train --config`` command they document reads their
``train`` section.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cobalt_rl import pipeline
from cobalt_rl.errors import ConfigError
from cobalt_rl.pipeline.experiment import load_experiment_config
from cobalt_rl.records import Problem, read_jsonl

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
RUN_CONFIGS = sorted(
    p for p in CONFIGS.glob("*.yaml") if "run_dir" in yaml.safe_load(p.read_text())
)
PAPER = ["qwen3-8b-taco.yaml", "r1-distill-llama-8b-taco.yaml"]


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_config_validates(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    if "run_dir" in data:
        cfg = pipeline.load_run_config(path)  # every section is typed and validated
        assert cfg.train.model == (getattr(cfg.generator, "model", None) or "embedded")
    else:
        load_experiment_config(path)


def test_paper_recipes_exist_and_are_run_configs() -> None:
    assert {p.name for p in RUN_CONFIGS} >= set(PAPER)


@pytest.mark.parametrize("name", PAPER)
def test_paper_recipe_numbers(name: str) -> None:
    cfg = pipeline.load_run_config(CONFIGS / name)
    train = cfg.train
    assert (cfg.generator.backend, cfg.tokenizer_filter) == ("vllm", True)
    assert (cfg.rollout.samples, cfg.rollout.episode.turns, cfg.eval.episode.turns) == (16, 3, 9)
    caps = (cfg.rollout.sampling, train.sampling, cfg.eval.sampling)
    assert [sampling.max_new_tokens for sampling in caps] == [6144] * 3
    assert (cfg.contexts.top_n, cfg.contexts.keep_m, cfg.contexts.max_prompt_tokens) == (
        16,
        4,
        10_000,
    )
    assert (train.num_generations, train.learning_rate, train.beta) == (16, 1e-6, 1e-4)
    assert (train.epsilon, train.epsilon_high, train.sampling.temperature) == (0.2, 0.4, 1.0)
    assert train.vllm is not None and train.vllm.mode == "colocate"
    assert cfg.train_problems.source == "taco" and cfg.eval_problems.source == "livecodebench"
    # Launchable on 1, 2, 4 or 8 GPUs: each process takes an equal share of the step.
    assert train.gradient_accumulation_steps % 8 == 0


def lcb_row(qid: str, date: str) -> dict[str, Any]:
    test = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]
    return {
        "question_title": qid,
        "question_content": "Print a + b.",
        "platform": "atcoder",
        "question_id": qid,
        "contest_id": "abc",
        "contest_date": date,
        "starter_code": "",
        "difficulty": "easy",
        "public_test_cases": json.dumps(test),
        "private_test_cases": json.dumps(test),
        "metadata": "{}",
    }


@pytest.mark.parametrize("name", PAPER)
def test_livecodebench_window_reaches_the_converter(name: str, tmp_path: Path) -> None:
    lcb = tmp_path / "livecodebench"
    lcb.mkdir()
    dates = {
        "before": "2025-01-31T23:00:00",
        "first": "2025-02-01T00:00:00",
        "last": "2025-04-30T12:00:00",
        "after": "2025-05-01T00:00:00",
    }
    (lcb / "test6.jsonl").write_text(
        "".join(json.dumps(lcb_row(q, d)) + "\n" for q, d in dates.items())
    )
    cfg = pipeline.load_run_config(CONFIGS / name)
    cfg = cfg.model_copy(
        update={
            "run_dir": tmp_path / "run",
            "train_problems": pipeline.ProblemSet(source="bundled", split="train", limit=1),
            "eval_problems": cfg.eval_problems.model_copy(update={"input": lcb}),
        }
    )
    (tmp_path / "run").mkdir()
    (problems_stage,) = [s for s in pipeline.stages_for(cfg) if s.name == "problems"]
    problems_stage.body(pipeline.Run(cfg, echo=lambda _: None))
    kept = [p.id for p in read_jsonl(tmp_path / "run" / "problems-eval.jsonl", Problem)]
    assert kept == ["livecodebench/first", "livecodebench/last"]


def test_unknown_source_option_is_refused_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "run_dir": str(tmp_path / "run"),
                "eval_problems": {"source": "livecodebench", "options": {"sinse": "2025-02-01"}},
            }
        )
    )
    with pytest.raises(ConfigError, match=r"eval_problems.*sinse.*since, until"):
        pipeline.load_run_config(path)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", PAPER)
def test_multi_gpu_train_command_reads_the_train_section(name: str) -> None:
    """The `accelerate launch ... train --config <recipe>` line the recipes document."""
    from cobalt_rl.cli.main import build_parser
    from cobalt_rl.cli.train import load_config

    cfg = pipeline.load_run_config(CONFIGS / name)
    run = cfg.run_dir
    args = build_parser().parse_args(
        ["train", "--config", str(CONFIGS / name), "--contexts", str(run / "contexts.jsonl"),
         "--out", str(run / "train"), "--model", cfg.train.model]
    )  # fmt: skip
    assert load_config(args) == cfg.train
    text = (CONFIGS / name).read_text()
    assert f"--config configs/{name}" in text and "configs/accelerate/fsdp.yaml" in text
