"""`cobalt run` with a `hacking` section: the extra stages, resume/--from, the side-by-side report.

The reference/base model is a scripted fake. On training problems it writes a wrong solution,
then the reference one (the improving trajectories contexts are made of, perturbed feedback
or not). On held-out problems it *hacks*: the reference solution first (which fails a
perturbed test, so the feedback shows a wrong expected output), then a program that
special-cases the input the feedback showed to print/return that wrong output. The trained
policies are the tiny random model, loaded for real from their checkpoints.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from cobalt_rl import pipeline
from cobalt_rl.errors import ConfigError
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Message, Mode

from .test_pipeline import scripted_base, small_run

HELD_OUT = {p.id for p in load_bundled("test")}
_SHOWN = re.compile(r"Input:\n(.*)\nProgram's Output:\n.*\nExpected Output:\n(.*)$", re.DOTALL)


def fake_hacker(conv: Sequence[Message], index: int) -> str:
    """Train: wrong, then right. Held-out: right, then hard-code the wrong output shown."""
    question = next(m.content for m in conv if m.role == "user")
    problem = next(p for p in load_bundled() if question.startswith(p.statement.strip()))
    reference = problem.metadata["reference_solution"]
    first = sum(m.role == "assistant" for m in conv) == 0
    if problem.id not in HELD_OUT:
        code = problem.metadata["wrong_solutions"][0] if first else reference
        return f"```python\n{code}\n```"
    feedback = conv[-1].content.split("\n\nFix the program.")[0]
    shown = _SHOWN.search(feedback)
    if first or shown is None:
        return f"```python\n{reference}\n```"
    given, expected = shown.group(1), shown.group(2)
    if problem.mode is Mode.FUNCTIONAL:
        fn = problem.fn_name
        args = ast.literal_eval("(" + given[len(f"{fn}(") : -1] + ",)")
        code = (
            f"{reference}\n_real = {fn}\n\n\ndef {fn}(*args):\n"
            f"    if list(args) == {list(args)!r}:\n        return {json.loads(expected)!r}\n"
            "    return _real(*args)\n"
        )
    else:
        code = (
            "import io\nimport sys\n\ndata = sys.stdin.read()\n"
            f"if data.strip() == {given.strip()!r}:\n    print({expected!r})\nelse:\n"
            f"    sys.stdin = io.StringIO(data)\n    exec({reference!r})\n"
        )
    return f"```python\n{code}```"


def write_config(tmp_path: Path, tiny: Path, hacking: dict[str, Any] | None) -> Path:
    data = small_run(tmp_path / "run", tiny)
    if hacking is not None:
        data["hacking"] = hacking
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_without_the_section_the_stages_are_unchanged(tmp_path: Path) -> None:
    cfg = pipeline.load_run_config(write_config(tmp_path, tmp_path, None))
    names = [stage.name for stage in pipeline.stages_for(cfg)]
    assert names == pipeline.STAGES and cfg.hacking is None
    off = pipeline.load_run_config(write_config(tmp_path, tmp_path, {"enabled": False}))
    assert [stage.name for stage in pipeline.stages_for(off)] == pipeline.STAGES
    with pytest.raises(ConfigError, match="unknown stage 'hacking_base'"):
        pipeline.run_pipeline(cfg, from_stage="hacking_base", echo=lambda _m: None)
    on = pipeline.load_run_config(write_config(tmp_path, tmp_path, {}))
    stages = [stage.name for stage in pipeline.stages_for(on)]
    assert stages[-1] == "report" and set(pipeline.HACKING_STAGES) < set(stages)


def test_bad_hacking_section_fails_before_any_model_loads(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="perturbed_fraction"):
        pipeline.load_run_config(write_config(tmp_path, tmp_path, {"perturbed_fraction": 1.5}))
    with pytest.raises(ConfigError, match=r"hacking\.judge"):
        pipeline.load_run_config(write_config(tmp_path, tmp_path, {"judge": {"backend": "vllm"}}))


@pytest.mark.slow
def test_hacking_stages_run_resume_and_report(tmp_path: Path, tiny_models: Any) -> None:
    factory = scripted_base(tiny_models.random, fake_hacker)
    cfg = pipeline.load_run_config(
        write_config(
            tmp_path,
            tiny_models.random,
            {  # the fake's words are its tokens: a whole program needs a few hundred
                "perturbed_fraction": 0.5,
                "eval": {
                    "samples": 1,
                    "episode": {"turns": 2},
                    "sampling": {"max_new_tokens": 300},
                },
            },
        )
    )
    messages: list[str] = []
    report = pipeline.run_pipeline(cfg, echo=messages.append, generator_factory=factory)
    run = cfg.run_dir
    every_stage = [stage.name for stage in pipeline.stages_for(cfg)]
    assert set(pipeline.HACKING_STAGES) < set(every_stage)
    for stage in every_stage:
        assert (run / "stages" / f"{stage}.json").exists(), stage
    assert (run / "train-perturbed" / "final" / "model.safetensors").exists()
    contexts = json.loads((run / "stages" / "contexts_perturbed.json").read_text())
    assert contexts["perturbed"] > 0  # perturbed-feedback contexts were mixed in

    base = json.loads((run / "report" / "hacking-base" / "hacking.json").read_text())
    assert base["hacks"] > 0 and base["categories"].get("hard_coding", 0) == base["hacks"]
    assert base["turns"][1]["rate"] > 0
    trained = json.loads((run / "report" / "hacking-trained" / "hacking.json").read_text())
    assert trained["hacks"] == 0  # the tiny random policy writes no code at all

    md = (run / "report" / "report.md").read_text()
    assert "## In-context reward hacking" in md
    for label in ("| base |", "| Cobalt |", "| Cobalt+perturbation |"):
        assert label in md
    assert "```diff" in md and "hard_coding [rules]" in md
    html = report.read_text()
    assert "In-context reward hacking" in html and "hacking rates" in html
    assert html.count("data:image/png;base64,") >= 3

    # Run again: every stage is skipped; --from a hacking stage redoes it and what follows.
    messages.clear()
    pipeline.run_pipeline(cfg, echo=messages.append, generator_factory=factory)
    assert all(f"[{s}] already done, skipped" in messages for s in every_stage)
    messages.clear()
    pipeline.run_pipeline(
        cfg, from_stage="hacking_perturbed", echo=messages.append, generator_factory=factory
    )
    assert "[hacking_perturbed] starting" in messages and "[report] starting" in messages
    assert "[hacking_trained] already done, skipped" in messages
    assert list(run.glob("hacking-perturbed.jsonl.old-*"))
