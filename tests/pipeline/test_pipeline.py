"""`cobalt run`: every stage in order in one run directory, skip-when-done, --from, report.

The reference/base model is a scripted fake generator (wrong code first, right code after
feedback) so the contexts stage has improving trajectories; the policy trained is the tiny
random model, whose checkpoint the trained evaluation loads for real.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from cobalt_rl import pipeline
from cobalt_rl.errors import ConfigError
from cobalt_rl.llm import ScriptedFakeGenerator
from cobalt_rl.records import Message


def small_run(run_dir: Path, tiny: Path) -> dict[str, Any]:
    """A run config sized for tests: the tiny model, 3 + 2 bundled problems, one step."""
    return {
        "run_dir": str(run_dir),
        "generator": {"backend": "transformers", "model": str(tiny)},
        "train_problems": {"source": "bundled", "split": "train", "limit": 3},
        "eval_problems": {"source": "bundled", "split": "test", "limit": 2},
        "rollout": {"samples": 2, "episode": {"turns": 2}, "sampling": {"max_new_tokens": 8}},
        "contexts": {"top_n": 2, "keep_m": 1},
        "tokenizer_filter": False,
        "train": {
            "num_generations": 2,
            "prompts_per_step": 1,
            "micro_batch_size": 2,
            "sampling": {"max_new_tokens": 4},
            "max_steps": 1,
            "beta": 0.0,
        },
        "eval": {"samples": 1, "episode": {"turns": 2}, "sampling": {"max_new_tokens": 4}},
    }


def scripted_base(tiny: Path, script: Any) -> Any:
    """A generator factory: the base model (``tiny``) is scripted, checkpoints are real."""
    from cobalt_rl.llm import make_generator

    def factory(config: Any) -> Any:
        if getattr(config, "model", None) == str(tiny):
            return ScriptedFakeGenerator(script)
        return make_generator(config)

    return factory


def fix_after_feedback(conv: Sequence[Message], index: int) -> str:
    """Wrong code first; the bundled reference solution once feedback has been shown."""
    if sum(m.role == "assistant" for m in conv) == 0:
        return "```python\nprint(0)\n```"
    from cobalt_rl.problems.bundled import load_bundled

    question = next(m.content for m in conv if m.role == "user")
    for p in load_bundled():
        if question.startswith(p.statement.strip()):
            return f"```python\n{p.metadata['reference_solution']}\n```"
    raise AssertionError("unknown problem")


@pytest.fixture
def config(tmp_path: Path, tiny_models: Any) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(small_run(tmp_path / "run", tiny_models.random)))
    return path


def test_bad_config_fails_before_any_model_loads(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"run_dir": str(tmp_path), "train": {"num_generations": 1}}))
    with pytest.raises(ConfigError, match="num_generations"):
        pipeline.load_run_config(path)


@pytest.mark.slow
def test_pipeline_runs_resumes_and_reports(config: Path, tiny_models: Any) -> None:
    factory = scripted_base(tiny_models.random, fix_after_feedback)
    cfg = pipeline.load_run_config(config)
    messages: list[str] = []
    report = pipeline.run_pipeline(cfg, echo=messages.append, generator_factory=factory)
    run = cfg.run_dir
    assert report == run / "report" / "index.html" and report.exists()
    for stage in pipeline.STAGES:
        assert (run / "stages" / f"{stage}.json").exists(), stage
    assert (run / "train" / "final" / "model.safetensors").exists()
    html = report.read_text()
    assert html.count("data:image/png;base64,") >= 2  # Pass@1 plot and training curves
    assert "Example trajectories" in html and (run / "report" / "report.md").exists()
    assert (run / "config.yaml").exists()

    # Run again: every stage is skipped.
    messages.clear()
    pipeline.run_pipeline(cfg, echo=messages.append, generator_factory=factory)
    assert all(f"[{s}] already done, skipped" in messages for s in pipeline.STAGES)

    # --from report: only the report is redone; the old one is moved aside, not deleted.
    messages.clear()
    pipeline.run_pipeline(cfg, from_stage="report", echo=messages.append, generator_factory=factory)
    assert "[report] starting" in messages and "[train] already done, skipped" in messages
    assert list((run / "report").glob("index.html.old-*"))


def test_replay_section_mixes_replayed_failures_into_the_contexts(
    config: Path, tiny_models: Any
) -> None:
    """A base model that never improves gives first-turn contexts only; the replay reference
    adds contexts with a failed attempt and its real feedback, at the configured share."""
    data = yaml.safe_load(config.read_text())
    data["replay"] = {"fraction": 0.5}
    config.write_text(yaml.safe_dump(data))
    cfg = pipeline.load_run_config(config)
    never_fixes = scripted_base(tiny_models.random, lambda conv, index: "```python\nprint(0)\n```")
    run = pipeline.Run(cfg, echo=lambda _m: None, generator_factory=never_fixes)
    names = [stage.name for stage in pipeline.stages_for(cfg)]
    assert names[:5] == ["problems", "rollout", "score", "replay", "contexts"]
    for stage in pipeline.stages_for(cfg)[:5]:
        run.log.step(stage.name, lambda stage=stage: stage.body(run))  # type: ignore[misc]
    summary = run.log.read("contexts")
    assert summary["replayed"] > 0 and summary["own"] > 0
    assert summary["replayed"] == summary["own"]  # fraction 0.5, enough replayed ones
    from cobalt_rl.records import Context, read_jsonl

    contexts = list(read_jsonl(cfg.run_dir / "contexts.jsonl", Context))
    replayed = [c for c in contexts if c.id.startswith("replay/")]
    assert all(c.num_prev_attempts >= 1 and c.metadata["origin"] == "replay" for c in replayed)
    assert all(c.num_prev_attempts == 0 for c in contexts if not c.id.startswith("replay/"))
