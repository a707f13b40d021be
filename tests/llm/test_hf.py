"""The transformers backend on tiny random models built locally (no download)."""

from __future__ import annotations

from typing import Any

import pytest

from cobalt_rl.errors import ConfigError
from cobalt_rl.llm import GeneratorError, SamplingParams
from cobalt_rl.llm.hf import TransformersGenerator
from cobalt_rl.records import Message

TinyModels = Any  # the tiny_models fixture of tests/conftest.py

pytest.importorskip("transformers")

SHORT = [Message(role="user", content="hello")]
LONG = [
    Message(role="system", content="write code please"),
    Message(role="user", content="write a function add of a and b and return the sum"),
]
GREEDY = SamplingParams(temperature=0.0, max_new_tokens=6)


def _spy_generate(gen: TransformersGenerator) -> list[dict[str, Any]]:
    """Record the inputs of every model.generate call."""
    calls: list[dict[str, Any]] = []
    real = gen.model.generate

    def spy(**kwargs: Any) -> Any:
        calls.append(
            {
                "input_ids": kwargs["input_ids"].tolist(),
                "attention_mask": kwargs["attention_mask"].tolist(),
            }
        )
        return real(**kwargs)

    gen.model.generate = spy
    return calls


def test_batches_are_left_padded_and_match_unbatched(tiny_models: TinyModels) -> None:
    batched = TransformersGenerator(tiny_models.random, batch_size=8)
    single = TransformersGenerator(tiny_models.random, batch_size=1)
    assert batched.tokenizer.padding_side == "left"
    calls = _spy_generate(batched)

    together = batched.generate([SHORT, LONG], 1, GREEDY)
    alone = single.generate([SHORT, LONG], 1, GREEDY)

    assert len(calls) == 1  # one batch holding both rows
    (mask_short, mask_long) = calls[0]["attention_mask"]  # sorted by prompt length
    pad = len(batched.prompt_ids(LONG)) - len(batched.prompt_ids(SHORT))
    assert pad > 0
    assert mask_short == [0] * pad + [1] * len(batched.prompt_ids(SHORT))
    assert mask_long == [1] * len(mask_long)
    assert calls[0]["input_ids"][0][:pad] == [batched.tokenizer.pad_token_id] * pad
    # Left padding with a mask must not change what a row generates.
    assert [c[0].text for c in together] == [c[0].text for c in alone]
    assert [c[0].completion_tokens for c in together] == [c[0].completion_tokens for c in alone]


def test_n_completions_per_conversation_in_batches(tiny_models: TinyModels) -> None:
    gen = TransformersGenerator(tiny_models.always_eos, batch_size=5)
    calls = _spy_generate(gen)
    convs = [SHORT, LONG, [Message(role="user", content="one two three")]]

    out = gen.generate(convs, 4, SamplingParams(temperature=1.0, seed=0, max_new_tokens=8))

    assert [len(row) for row in out] == [4, 4, 4]
    assert [len(c["input_ids"]) for c in calls] == [5, 5, 2]  # 12 rows in batches of 5
    for conv, row in zip(convs, out, strict=True):
        for reply in row:
            assert reply.text == ""
            assert reply.finish_reason == "stop"
            assert reply.completion_tokens == 1  # the end-of-sequence token itself
            assert reply.prompt_tokens == len(gen.prompt_ids(conv))


def test_max_new_tokens_is_respected(tiny_models: TinyModels) -> None:
    gen = TransformersGenerator(tiny_models.never_eos)
    out = gen.generate([SHORT, LONG], 2, SamplingParams(max_new_tokens=7, seed=1))
    for row in out:
        for reply in row:
            assert reply.finish_reason == "length"
            assert reply.completion_tokens == 7
            assert reply.text.split() == ["hello"] * 7


def test_stop_string_ends_and_cuts_the_reply(tiny_models: TinyModels) -> None:
    gen = TransformersGenerator(tiny_models.never_eos)
    sampling = SamplingParams(temperature=0.0, max_new_tokens=20, stop=["hello hello hello"])
    (reply,) = gen.generate([SHORT], 1, sampling)[0]
    assert reply.finish_reason == "stop"
    assert reply.text == ""
    assert reply.completion_tokens <= 4  # generation stopped early, not at the cap


def test_greedy_generates_each_conversation_once(tiny_models: TinyModels) -> None:
    gen = TransformersGenerator(tiny_models.random)
    calls = _spy_generate(gen)
    out = gen.generate([SHORT, LONG], 3, GREEDY)
    assert len(calls[0]["input_ids"]) == 2
    for row in out:
        assert len(row) == 3 and len({c.text for c in row}) == 1


def test_seeded_sampling_repeats_and_leaves_global_rng_alone(tiny_models: TinyModels) -> None:
    import torch

    gen = TransformersGenerator(tiny_models.random)
    sampling = SamplingParams(temperature=1.0, max_new_tokens=12, seed=123)
    state = torch.random.get_rng_state()
    first = gen.generate([SHORT, LONG], 3, sampling)
    assert torch.equal(torch.random.get_rng_state(), state)
    again = gen.generate([SHORT, LONG], 3, sampling)
    other = gen.generate([SHORT, LONG], 3, sampling.model_copy(update={"seed": 124}))
    texts = [[c.text for c in row] for row in first]
    assert texts == [[c.text for c in row] for row in again]
    assert texts != [[c.text for c in row] for row in other]


def test_tokenizer_without_chat_template_is_a_config_error(tiny_models: TinyModels) -> None:
    with pytest.raises(ConfigError, match="chat template"):
        TransformersGenerator(tiny_models.no_template)


def test_bad_options_are_config_errors(tiny_models: TinyModels, tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="device"):
        TransformersGenerator(tiny_models.random, device="gpu")
    with pytest.raises(ConfigError, match="batch_size"):
        TransformersGenerator(tiny_models.random, batch_size=0)
    with pytest.raises(ConfigError, match="cannot load"):
        TransformersGenerator(tmp_path / "missing")


def test_closed_generator_refuses_work(tiny_models: TinyModels) -> None:
    gen = TransformersGenerator(tiny_models.random)
    gen.close()
    gen.close()
    with pytest.raises(GeneratorError, match="closed"):
        gen.generate([SHORT], 1, GREEDY)


INTEL_SPR = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"
AMD_ZEN3 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"


def test_native_bf16_is_read_from_the_cpu_flags() -> None:
    from cobalt_rl.llm.hf import cpu_has_native_bf16

    assert cpu_has_native_bf16(INTEL_SPR) is True
    assert cpu_has_native_bf16(AMD_ZEN3) is False
    assert cpu_has_native_bf16("flags : avx512f\nbogomips : 1\n") is False


@pytest.mark.parametrize(("native", "expected"), [(True, "bfloat16"), (False, "float32")])
def test_auto_dtype_on_cpu_is_bf16_only_where_native(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch, native: bool, expected: str
) -> None:
    import torch

    from cobalt_rl.llm import hf

    monkeypatch.setattr(hf, "cpu_has_native_bf16", lambda cpuinfo=None: native)
    gen = TransformersGenerator(tiny_models.random)
    assert gen.model.dtype == getattr(torch, expected)
    gen.close()
    forced = TransformersGenerator(tiny_models.random, dtype="float32")  # the switch wins
    assert forced.model.dtype == torch.float32
    forced.close()
