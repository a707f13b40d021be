"""The reference's own files train: hand-made rows in the layouts of OSU-NLP-Group/cobalt are
converted (a TACO-Cobalt problem row), imported (a multi-turn trajectory row, cut into
contexts here; or the reference's context rows as they are), and take ONE bandit GRPO step
with the tiny random model.

The reward says "hello" (as in tests/train/test_training.py) so that the step has something
to learn and the weights must move; it also records the ``prev_best_pass_rate`` each
completion was scored against, which must be the imported contexts' own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cobalt_rl.contexts.build import ContextSettings, build_contexts
from cobalt_rl.interop import import_contexts, import_trajectories
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.records import Context, Problem, read_jsonl, write_jsonl
from cobalt_rl.rewards.scores import REWARDS

from .test_cobalt_reference import context_row, multi_turn_row, problem, write

REWARD_NAME = "hello_recording_prev_for_tests"
SEEN_PREV: list[float] = []


def hello_recording_prev(result: Any, response: str, prev: float) -> float:
    SEEN_PREV.append(prev)
    words = response.split()
    return sum(w == "hello" for w in words) / len(words) if words else 0.0


@pytest.fixture
def reward() -> Iterator[str]:
    REWARDS[REWARD_NAME] = hello_recording_prev
    SEEN_PREV.clear()
    yield REWARD_NAME
    del REWARDS[REWARD_NAME]


def from_trajectories(tmp_path: Path, cobalt_problem: Problem) -> list[Context]:
    """A run_multi_turn_vllm.py + eval_multi_turn.py row, as `cobalt contexts` would cut it."""
    imported = import_trajectories(
        write(tmp_path / "mt.jsonl", [multi_turn_row()]), [cobalt_problem]
    )
    assert not imported.rejected, imported.summary()
    contexts, _ = build_contexts(
        imported.records,
        {cobalt_problem.id: cobalt_problem},
        ContextSettings(),
        count_tokens=lambda messages: 10,
    )
    return contexts


def from_context_rows(tmp_path: Path, cobalt_problem: Problem) -> list[Context]:
    """process_multi_turn_taco.py rows, read as they are."""
    rows = [context_row(), context_row(prev_best_pass_rate=0.0)]
    imported = import_contexts(write(tmp_path / "ctx.jsonl", rows), [cobalt_problem])
    assert not imported.rejected, imported.summary()
    return imported.records


def weights(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.mark.slow
@pytest.mark.parametrize("layout", [from_trajectories, from_context_rows])
def test_reference_files_take_one_bandit_step(
    tmp_path: Path, tiny_models: Any, reward: str, layout: Any
) -> None:
    from cobalt_rl.train.bandit import train_bandit
    from cobalt_rl.train.config import BanditTrainConfig

    cobalt_problem = problem(tmp_path)  # a TACO-Cobalt row through `problems convert`
    contexts = layout(tmp_path, cobalt_problem)
    assert contexts and {c.problem_id for c in contexts} == {cobalt_problem.id}
    write_jsonl(tmp_path / "contexts.jsonl", contexts)

    cfg = BanditTrainConfig(
        contexts=tmp_path / "contexts.jsonl",
        out=tmp_path / "train",
        model=str(tiny_models.random),
        reward=reward,
        num_generations=4,
        prompts_per_step=2,
        micro_batch_size=8,
        learning_rate=2e-2,
        beta=0.0,
        sampling=SamplingParams(max_new_tokens=8),
        max_steps=1,
        save_steps=100,
        seed=0,
    )
    final = train_bandit(cfg)

    assert len(SEEN_PREV) == 2 * 4  # one step: 2 prompts x 4 completions, each scored
    assert set(SEEN_PREV) <= {c.prev_best_pass_rate for c in read_jsonl(cfg.contexts, Context)}
    before, after = weights(tiny_models.random), weights(final)
    assert any(not before[name].equal(after[name]) for name in before)
