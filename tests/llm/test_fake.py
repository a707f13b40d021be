"""The scripted fake generator that rollout and training tests run on."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cobalt_rl.llm import Generator, GeneratorError, SamplingParams, ScriptedFakeGenerator
from cobalt_rl.records import Message

SOLVE_A = [Message(role="user", content="solve a")]
SOLVE_B = [Message(role="system", content="be good"), Message(role="user", content="solve b")]


def test_list_script_in_order_and_recorded() -> None:
    gen = ScriptedFakeGenerator(["r1", "r2", "r3", "r4"])
    assert isinstance(gen, Generator)
    out = gen.generate([SOLVE_A, SOLVE_B], 2, SamplingParams())
    assert [[c.text for c in row] for row in out] == [["r1", "r2"], ["r3", "r4"]]
    assert gen.conversations == [SOLVE_A, SOLVE_B]
    assert gen.calls[0].n == 2
    with pytest.raises(GeneratorError, match="ran out after 4"):
        gen.generate([SOLVE_A], 1, SamplingParams())


def test_cycle_starts_over() -> None:
    gen = ScriptedFakeGenerator(["x", "y"], cycle=True)
    out = gen.generate([SOLVE_A], 3, SamplingParams())
    assert [c.text for c in out[0]] == ["x", "y", "x"]


def test_callable_script_gets_conversation_and_sample_index() -> None:
    def reply(conv: Sequence[Message], index: int) -> str:
        return f"{conv[-1].content} #{index} (turn {len(conv)})"

    gen = ScriptedFakeGenerator(reply)
    out = gen.generate([SOLVE_A, SOLVE_B], 2, SamplingParams())
    assert [c.text for c in out[1]] == ["solve b #0 (turn 2)", "solve b #1 (turn 2)"]
    again = gen.generate([SOLVE_A, SOLVE_B], 2, SamplingParams())
    assert again == out  # deterministic


def test_token_counts_and_sampling_limits() -> None:
    gen = ScriptedFakeGenerator(["one two  three\nfour", "keep this STOP drop this"], cycle=True)
    (reply,) = gen.generate([SOLVE_B], 1, SamplingParams())[0]
    assert (reply.prompt_tokens, reply.completion_tokens, reply.finish_reason) == (4, 4, "stop")
    (reply,) = gen.generate([SOLVE_A], 1, SamplingParams(stop=["STOP"]))[0]
    assert (reply.text, reply.completion_tokens, reply.finish_reason) == ("keep this ", 2, "stop")
    (reply,) = gen.generate([SOLVE_A], 1, SamplingParams(max_new_tokens=3))[0]
    assert (reply.text, reply.completion_tokens) == ("one two  three", 3)
    assert reply.finish_reason == "length"


def test_program_end_cuts_like_a_model_that_stops_there() -> None:
    program = "Sure:\n```python\nprint(1)\n```"
    unclosed = "```python\nx = 1\n" + "y = 2\n" * 10
    gen = ScriptedFakeGenerator([program + "\nand more words here", unclosed], cycle=True)
    on = SamplingParams(max_new_tokens=8, stop_at_program_end=True)

    (cut,), (long,) = gen.generate([SOLVE_A, SOLVE_B], 1, on)
    (whole,) = gen.generate([SOLVE_A], 1, SamplingParams(max_new_tokens=8))[0]

    assert (cut.text, cut.completion_tokens, cut.finish_reason) == (program, 4, "stop")
    assert long.finish_reason == "length" and long.completion_tokens == 8  # never closes
    assert whole.text.startswith(program + "\nand") and whole.completion_tokens == 8


def test_bad_requests_and_close() -> None:
    with pytest.raises(ValueError, match="empty"):
        ScriptedFakeGenerator([])
    gen = ScriptedFakeGenerator(["r"], cycle=True)
    with pytest.raises(ValueError, match="n must be"):
        gen.generate([SOLVE_A], 0, SamplingParams())
    with pytest.raises(ValueError, match="conversation 0 is empty"):
        gen.generate([[]], 1, SamplingParams())
    gen.close()
    assert gen.closed
    with pytest.raises(GeneratorError, match="closed"):
        gen.generate([SOLVE_A], 1, SamplingParams())
