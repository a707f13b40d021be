"""Replayed trajectories: real execution and feedback, prefix contexts, scripted repairs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from cobalt_rl.contexts.build import ContextSettings, build_contexts
from cobalt_rl.contexts.replay_reference import (
    read_sequences,
    reference_sequences,
    replay_rollout,
    scripted_failures,
)
from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
from cobalt_rl.errors import RecordError
from cobalt_rl.evaluate import compute_metrics, score_trajectories
from cobalt_rl.llm import ScriptedFakeGenerator
from cobalt_rl.llm.replay import code_reply
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Message, Problem, Trajectory, read_jsonl
from cobalt_rl.sandbox import Limits, LocalSandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=Limits(timeout_s=2, program_timeout_s=10)) as box:
        yield box


def two_problems() -> list[Problem]:
    """Two bundled training problems with two known-wrong solutions each."""
    return [p for p in load_bundled("train") if len(p.metadata["wrong_solutions"]) == 2][:2]


def test_replayed_attempts_run_for_real_and_cut_into_prefix_contexts(
    tmp_path: Path, sandbox: LocalSandbox
) -> None:
    problems = two_problems()
    out = tmp_path / "replay.jsonl"
    sequences = reference_sequences(problems)
    assert all(len(s) == 2 for s in sequences.values())
    replay_rollout(problems, sequences, sandbox, out, RolloutConfig())
    trajectories = list(read_jsonl(out, Trajectory))
    assert len(trajectories) == 4 and {t.sample for t in trajectories} == {0, 1}
    by_id = {p.id: p for p in problems}
    for trajectory in trajectories:
        problem = by_id[trajectory.problem_id]
        first, second = trajectory.attempts
        assert first.code is not None and first.code.strip() in [
            w.strip() for w in problem.metadata["wrong_solutions"]
        ]
        assert second.code == problem.metadata["reference_solution"].rstrip()
        assert second.public is not None and second.public.passed
        # The feedback shown after the wrong program is the sandbox's verdict on it.
        assert first.public is not None
        assert trajectory.messages[3].content.startswith(first.public.feedback)
    scored = score_trajectories(trajectories, by_id, sandbox)
    contexts, _ = build_contexts(scored, by_id, ContextSettings(top_n=2, keep_m=2), None)
    with_feedback = [c for c in contexts if c.num_prev_attempts == 1]
    assert with_feedback, "replayed failures must give partial-trajectory contexts"
    assert all(c.prompt[-1].role == "user" and c.prompt[-2].role == "assistant"
               for c in with_feedback)  # fmt: skip


def test_scripted_failures_are_repaired_by_the_model_and_counted(
    tmp_path: Path, sandbox: LocalSandbox
) -> None:
    problems = two_problems()
    by_id = {p.id: p for p in problems}

    def fixer(conversation: Sequence[Message], index: int) -> str:
        """Repairs the first problem, not the second."""
        prompt = next(m.content for m in conversation if m.role == "user")
        fixed = prompt.startswith(problems[0].statement.strip())
        return code_reply(problems[0].metadata["reference_solution"]) if fixed else "no idea"

    model = ScriptedFakeGenerator(fixer)
    out = tmp_path / "repair.jsonl"
    replay_rollout(
        problems,
        scripted_failures(problems),
        sandbox,
        out,
        RolloutConfig(episode=EpisodeConfig(turns=2)),
        then=model,
    )
    assert model.conversations and all(
        sum(m.role == "assistant" for m in c) == 1 for c in model.conversations
    )  # the model only ever wrote the second turn
    scored = score_trajectories(list(read_jsonl(out, Trajectory)), by_id, sandbox)
    metrics = compute_metrics(scored, by_id)
    (repair,) = metrics.repair
    failures = sum(not (t.attempts[0].hidden and t.attempts[0].hidden.passed) for t in scored)
    assert repair.failures == failures == 4
    assert repair.repaired == 2 and repair.rate == 0.5
    assert metrics.per_problem[problems[0].id] == [0.0, 1.0]
    assert metrics.per_problem[problems[1].id] == [0.0, 0.0]


def test_programs_file_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "programs.jsonl"
    path.write_text('{"problem_id": "a", "attempts": ["print(1)"]}\n{"problem_id": "b"}\n')
    with pytest.raises(RecordError, match=r"programs.jsonl:2"):
        read_sequences(path)
    path.write_text('{"problem_id": "a", "attempts": ["print(1)", "print(2)"]}\n')
    assert read_sequences(path) == {"a": [["print(1)", "print(2)"]]}


def test_scripted_failures_repeat_for_more_samples() -> None:
    problems = two_problems()
    once, thrice = scripted_failures(problems), scripted_failures(problems, samples=3)
    assert all(len(thrice[p]) == 3 * len(once[p]) == 6 for p in once)
