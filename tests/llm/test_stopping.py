"""Ending replies where their program ends (``SamplingParams.stop_at_program_end``): the
token-level rule, the transformers backend on a model that follows a script (conftest's
``scripted_model``), rows of one batch, the online trainers' generation, and where the
profile decides the switch."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cobalt_rl.llm import SamplingParams
from cobalt_rl.records import Message

pytest.importorskip("transformers")

PROGRAM = "Here:\n```python\ndef f():\n    return 1\n```"
"""What the ``program`` script holds up to its closing fence (6 tokens with the newline)."""


def _ask(*names: str) -> list[list[Message]]:
    """Prompts of two tokens (an unknown word, then the script's name): generation in
    segments needs more than one."""
    return [[Message(role="user", content=f"write {name}")] for name in names]


def _generator(scripted_model: Any, segment_tokens: int | None = None) -> Any:
    from cobalt_rl.llm.hf import TransformersGenerator

    gen = TransformersGenerator(scripted_model.path, batch_size=16)
    if segment_tokens is not None:
        gen.segment_tokens = segment_tokens
    return gen


def _spy_rows(gen: Any) -> list[int]:
    """Rows of every decoding call (a segment of the refilled batch, or ``generate``)."""
    rows: list[int] = []
    real, decode = gen.model.generate, gen._decode

    def spy(**kwargs: Any) -> Any:
        rows.append(len(kwargs["input_ids"]))
        return real(**kwargs)

    def spy_decode(batch: Any, *args: Any) -> Any:
        rows.append(len(batch.ids))
        return decode(batch, *args)

    gen.model.generate = spy
    gen._decode = spy_decode
    return rows


# ---------------------------------------------------------------- the transformers backend


@pytest.mark.parametrize("segment_tokens", [0, 4], ids=["one-call", "segments"])
def test_a_program_then_rambling_is_cut_right_after_the_fence(
    scripted_model: Any, segment_tokens: int
) -> None:
    gen = _generator(scripted_model, segment_tokens)
    stop = SamplingParams(max_new_tokens=30, seed=0, stop_at_program_end=True)

    (reply,) = gen.generate(_ask("program"), 1, stop)[0]
    (rambling,) = gen.generate(
        _ask("program"), 1, stop.model_copy(update={"stop_at_program_end": False})
    )[0]

    assert reply.text == PROGRAM
    assert reply.finish_reason == "stop"
    assert reply.completion_tokens == 6  # generation ended on the newline after the fence
    assert rambling.text.startswith(PROGRAM + "\n\nNow I ramble ramble")
    assert rambling.finish_reason == "length" and rambling.completion_tokens == 30


def test_a_fence_and_its_newline_in_one_token(scripted_model: Any) -> None:
    sampling = SamplingParams(max_new_tokens=30, seed=0, stop_at_program_end=True)
    (reply,) = _generator(scripted_model).generate(_ask("joined"), 1, sampling)[0]
    assert reply.text == "```Python\nprint(2)\n```"
    assert (reply.finish_reason, reply.completion_tokens) == ("stop", 3)


@pytest.mark.parametrize("segment_tokens", [0, 4], ids=["one-call", "segments"])
def test_a_block_that_never_closes_runs_to_the_cap(
    scripted_model: Any, segment_tokens: int
) -> None:
    sampling = SamplingParams(max_new_tokens=12, seed=0, stop_at_program_end=True)
    (reply,) = _generator(scripted_model, segment_tokens).generate(_ask("unclosed"), 1, sampling)[0]
    assert reply.text == "```py\nx = 1\n" + "y = 2\n" * 10
    assert (reply.finish_reason, reply.completion_tokens) == ("length", 12)


@pytest.mark.parametrize("segment_tokens", [0, 4], ids=["one-call", "segments"])
def test_rows_of_a_batch_stop_on_their_own(scripted_model: Any, segment_tokens: int) -> None:
    gen = _generator(scripted_model, segment_tokens)
    rows = _spy_rows(gen)
    names = ("program", "unclosed", "plain", "joined")
    off = SamplingParams(temperature=1.0, max_new_tokens=16, seed=5)
    on = off.model_copy(update={"stop_at_program_end": True})

    without = gen.generate(_ask(*names), 2, off)
    rows.clear()
    stopped = gen.generate(_ask(*names), 2, on)

    by_name = dict(zip(names, stopped, strict=True))
    assert [c.text for c in by_name["program"]] == [PROGRAM] * 2
    assert [c.text for c in by_name["joined"]] == ["```Python\nprint(2)\n```"] * 2
    # the rows without a program end are what they were without the stop
    for name in ("unclosed", "plain"):
        before = without[names.index(name)]
        assert [(c.text, c.finish_reason, c.completion_tokens) for c in by_name[name]] == [
            (c.text, c.finish_reason, c.completion_tokens) for c in before
        ]
    assert [c.finish_reason for c in by_name["unclosed"]] == ["length"] * 2
    if segment_tokens:  # the stopped rows left the batch: only the unclosed ones went on
        assert rows[0] == 8 and rows[-1] == 2


def test_stop_strings_and_the_program_end_together(scripted_model: Any) -> None:
    gen = _generator(scripted_model)
    sampling = SamplingParams(max_new_tokens=30, stop=["ramble"], stop_at_program_end=True)
    (program, joined) = (row[0] for row in gen.generate(_ask("program", "joined"), 1, sampling))
    assert program.text == PROGRAM and program.completion_tokens == 6
    assert joined.text == "```Python\nprint(2)\n```" and joined.finish_reason == "stop"


def test_program_end_in_tokens(scripted_model: Any) -> None:
    from transformers import AutoTokenizer

    from cobalt_rl.llm.stopping import ProgramEnd

    tok = AutoTokenizer.from_pretrained(str(scripted_model.path))
    program = ProgramEnd(tok)
    ids = tok.convert_tokens_to_ids(["Here:\n", "```python\n", "def f():\n", "    return 1\n"])
    fence, blank, now = tok.convert_tokens_to_ids(["```", "\n\n", "Now"])
    assert program.length([*ids, fence]) is None  # "```" could still grow into "```python"
    assert program.length([*ids, fence, blank, now, now]) == 6
    assert program.ends_line(blank) and not program.ends_line(fence)


# ---------------------------------------------------------------- the online trainers


def _trainer(path: Path) -> Any:
    from accelerate.utils import DistributedType
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return SimpleNamespace(
        model=AutoModelForCausalLM.from_pretrained(str(path)),
        processing_class=AutoTokenizer.from_pretrained(str(path)),
        args=SimpleNamespace(per_device_train_batch_size=2),
        accelerator=SimpleNamespace(
            unwrap_model=lambda m: m, num_processes=1, distributed_type=DistributedType.NO
        ),
    )


def test_online_generation_ends_a_turn_after_its_program(scripted_model: Any) -> None:
    from cobalt_rl.train.episodes import transformers_generate

    trainer = _trainer(scripted_model.path)
    tok = trainer.processing_class
    contexts = [tok(name)["input_ids"] for name in ("unclosed", "program", "plain")]
    eos = scripted_model.eos_id

    stopped = transformers_generate(trainer, SamplingParams(stop_at_program_end=True))(contexts, 10)
    rambling = transformers_generate(trainer, SamplingParams())(contexts, 10)

    unclosed, program, plain = (ids for ids, _ in stopped)
    assert tok.decode(program, skip_special_tokens=True) == PROGRAM + "\n\n"
    assert len(program) == 7 and program[-1] == eos  # its 6 tokens, then the end token
    assert len(unclosed) == 10 and eos not in unclosed  # cut at the cap, as before
    assert plain[-1] == eos and tok.decode(plain, skip_special_tokens=True) == "Hi there."
    assert rambling[0][0] == unclosed
    assert len(rambling[1][0]) == 10 and eos not in rambling[1][0]  # no stop: to the cap


def test_bandit_generation_ends_a_reply_after_its_program(
    scripted_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bandit's rollout_func (TRL's generation has no per-row stop): one reply per
    prompt, cut after its program, the end token placed after it."""
    from cobalt_rl.episode.tokens import ChatTokens
    from cobalt_rl.train.episodes import single_reply_rollout

    trainer = _trainer(scripted_model.path)
    tok = trainer.processing_class
    # the scripted model continues from a prompt's last token: the prompt is the name alone
    monkeypatch.setattr(
        ChatTokens, "prompt", lambda self, messages: tok(messages[-1]["content"])["input_ids"]
    )
    prompts = [[{"role": "user", "content": name}] for name in ("program", "unclosed")]
    sampling = SamplingParams(stop_at_program_end=True, max_new_tokens=10)
    out = single_reply_rollout(sampling)(prompts, trainer)
    assert out["prompt_ids"] == [tok("program")["input_ids"], tok("unclosed")["input_ids"]]
    program, unclosed = out["completion_ids"]
    assert tok.decode(program, skip_special_tokens=True) == PROGRAM + "\n\n"
    assert program[-1] == scripted_model.eos_id
    assert len(unclosed) == 10 and out["logprobs"] is None


def test_the_bandit_generates_itself_only_where_replies_stop(tmp_path: Path) -> None:
    from cobalt_rl.train.common import bandit_generation
    from cobalt_rl.train.config import BanditTrainConfig

    base = {"contexts": tmp_path / "c.jsonl", "out": tmp_path / "run"}
    assert "rollout_func" in bandit_generation(BanditTrainConfig(**base))  # cobalt-rl: on
    assert bandit_generation(BanditTrainConfig(**base, profile="reference")) == {}
    off = BanditTrainConfig(**base, sampling={"stop_at_program_end": False})
    assert bandit_generation(off) == {}
    assert bandit_generation(BanditTrainConfig(**base, reasoning=True)) == {}


# ---------------------------------------------------------------- where the profile decides


def test_the_profile_decides_an_unset_switch() -> None:
    unset = SamplingParams(max_new_tokens=7)
    on = unset.for_profile("cobalt-rl")
    assert on.stop_at_program_end is True
    assert "stop_at_program_end" not in on.model_fields_set  # a default, decided afresh
    assert unset.for_profile("reference").stop_at_program_end is False
    off = SamplingParams(stop_at_program_end=False)
    assert off.for_profile("cobalt-rl").stop_at_program_end is False


def test_reference_refuses_the_stop() -> None:
    with pytest.raises(ValueError, match="reference profile runs every reply to its end"):
        SamplingParams(stop_at_program_end=True).for_profile("reference")


def test_training_configs_decide_and_refuse(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from cobalt_rl.train.config import BanditTrainConfig, MultiturnTrainConfig

    base: dict[str, Any] = {"contexts": tmp_path / "c.jsonl", "out": tmp_path / "run"}
    assert BanditTrainConfig(**base).sampling.stop_at_program_end is True
    assert "sampling" not in BanditTrainConfig(**base).model_fields_set
    online = MultiturnTrainConfig(mode="multiturn", problems=tmp_path / "p.jsonl", out=tmp_path)
    assert online.sampling.stop_at_program_end is True
    reference = BanditTrainConfig(**base, profile="reference")
    assert reference.sampling.stop_at_program_end is False
    # off by default where it would be wrong; refused where asked for there
    assert BanditTrainConfig(**base, vllm={}).sampling.stop_at_program_end is False
    assert BanditTrainConfig(**base, reasoning=True).sampling.stop_at_program_end is False
    on = {"stop_at_program_end": True}
    with pytest.raises(ValidationError, match="reference profile"):
        BanditTrainConfig(**base, profile="reference", sampling=on)
    with pytest.raises(ValidationError, match="not supported with vllm"):
        BanditTrainConfig(**base, vllm={}, sampling=on)
