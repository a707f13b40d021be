"""The episode loop with a scripted fake generator: feedback turns, stopping, resume."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
from cobalt_rl.episode.rollout import run_rollout
from cobalt_rl.llm import ScriptedFakeGenerator
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.records import Message, Problem, TestCase, Trajectory, read_jsonl
from cobalt_rl.sandbox import ALL_PASSED, Limits, LocalSandbox

WRONG = "```python\nprint(int(input()) + 1)\n```"
RIGHT = "Fixed:\n```python\nprint(int(input()) * 2)\n```"


def problems() -> list[Problem]:
    return [
        Problem(
            id=f"double-{i}",
            source="t",
            statement="Print twice the number.",
            mode="stdin",
            public_tests=[TestCase(input="3\n", output="6\n")],
            hidden_tests=[TestCase(input="5\n", output="10\n")],
        )
        for i in range(3)
    ]


@pytest.fixture(scope="module")
def sandbox() -> LocalSandbox:
    with LocalSandbox(workers=2, limits=Limits(timeout_s=2, program_timeout_s=5)) as sb:
        yield sb  # type: ignore[misc]


def script(conv: Sequence[Message], index: int) -> str:
    """Wrong first, right once shown feedback; sample index decides nothing."""
    turns = sum(m.role == "assistant" for m in conv)
    return WRONG if turns == 0 else RIGHT


def test_feedback_becomes_next_turn(tmp_path: Path, sandbox: LocalSandbox) -> None:
    out = tmp_path / "t.jsonl"
    gen = ScriptedFakeGenerator(script)
    settings = RolloutConfig(samples=2, group_size=2, episode=EpisodeConfig(turns=3))
    prog = run_rollout(problems(), gen, sandbox, str(out), settings)
    trajs = list(read_jsonl(out, Trajectory))
    assert len(trajs) == 6 and prog.problems_done == 3
    t = trajs[0]
    assert [a.public.passed for a in t.attempts if a.public] == [False, True, True]
    roles = [m.role for m in t.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user", "assistant"]
    assert "Program's Output:\n4" in t.messages[3].content
    assert "Expected Output:\n6" in t.messages[3].content
    assert t.messages[5].content.startswith(ALL_PASSED)  # keeps going after a pass
    assert t.attempts[1].code == "print(int(input()) * 2)"


def test_stop_on_pass_and_resume(tmp_path: Path, sandbox: LocalSandbox) -> None:
    out = tmp_path / "t.jsonl"
    gen = ScriptedFakeGenerator(script)
    settings = RolloutConfig(
        samples=2, group_size=1, episode=EpisodeConfig(turns=3, stop_on_pass=True)
    )
    run_rollout(problems()[:2], gen, sandbox, str(out), settings)
    first = list(read_jsonl(out, Trajectory))
    assert all(len(t.attempts) == 2 for t in first)
    # Simulate a kill mid-write of the next problem: a torn line, then resume on all three.
    with out.open("a") as f:
        f.write('{"problem_id": "double-2", "sam')
    calls_before = len(gen.conversations)
    run_rollout(problems(), gen, sandbox, str(out), settings)
    trajs = list(read_jsonl(out, Trajectory))
    keys = [(t.problem_id, t.sample) for t in trajs]
    assert len(keys) == len(set(keys)) == 6  # no duplicates, nothing missing
    assert (tmp_path / "t.jsonl.torn").exists()
    # Only the missing problem was generated: first turn (1 conversation) + 2 fix turns.
    assert len(gen.conversations) - calls_before == 3


def test_reply_without_code(tmp_path: Path, sandbox: LocalSandbox) -> None:
    out = tmp_path / "t.jsonl"
    gen = ScriptedFakeGenerator(["I don't know."], cycle=True)
    run_rollout(
        problems()[:1],
        gen,
        sandbox,
        str(out),
        RolloutConfig(samples=1, episode=EpisodeConfig(turns=2)),
    )
    (t,) = read_jsonl(out, Trajectory)
    assert t.attempts[0].code is None and not t.attempts[0].public.passed  # type: ignore[union-attr]
    assert "did not contain a Python code block" in t.messages[3].content


def test_a_reply_cut_by_the_token_cap_is_recorded_as_cut(
    tmp_path: Path, sandbox: LocalSandbox
) -> None:
    out = tmp_path / "t.jsonl"
    long_reply = "Here is a long answer " * 10 + RIGHT
    gen = ScriptedFakeGenerator([long_reply, RIGHT], cycle=True)
    settings = RolloutConfig(
        samples=2, episode=EpisodeConfig(turns=1), sampling=SamplingParams(max_new_tokens=12)
    )
    run_rollout(problems()[:1], gen, sandbox, str(out), settings)
    finishes = sorted(str(t.attempts[0].finish_reason) for t in read_jsonl(out, Trajectory))
    assert finishes == ["length", "stop"]  # the long reply hit the cap; the short one ended
