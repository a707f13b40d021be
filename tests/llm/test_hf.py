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
    """Record the rows of every decoding call: a segment of the refilled batch
    (``_decode``) or one ``model.generate`` call."""
    calls: list[dict[str, Any]] = []
    real, decode = gen.model.generate, gen._decode

    def spy(**kwargs: Any) -> Any:
        calls.append(
            {
                "input_ids": kwargs["input_ids"].tolist(),
                "attention_mask": kwargs["attention_mask"].tolist(),
            }
        )
        return real(**kwargs)

    def spy_decode(batch: Any, *args: Any) -> Any:
        calls.append({"input_ids": batch.ids.tolist(), "attention_mask": batch.mask.tolist()})
        return decode(batch, *args)

    gen.model.generate = spy
    gen._decode = spy_decode  # type: ignore[method-assign]
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


def _generators(path: Any, segment_tokens: int) -> tuple[Any, Any]:
    """The same model generating in one call and in segments; its replies never end by
    themselves (its end-of-sequence id is replaced by one outside the vocabulary)."""
    pair = []
    for segment in (0, segment_tokens):
        gen = TransformersGenerator(path, batch_size=8)
        gen.segment_tokens = segment
        gen._eos_ids = [10_000]
        pair.append(gen)
    return pair[0], pair[1]


def test_segments_generate_what_one_call_generates(tiny_models: TinyModels) -> None:
    plain, segmented = _generators(tiny_models.random, 3)
    calls = _spy_generate(segmented)
    greedy = SamplingParams(temperature=0.0, max_new_tokens=10)

    whole = plain.generate([SHORT, LONG], 1, greedy)  # transformers' generate, one call
    parts = segmented.generate([SHORT, LONG], 1, greedy)  # our decode loop, in segments

    assert len(calls) > 1  # the reply was written in several calls
    assert [c[0].text for c in parts] == [c[0].text for c in whole]
    assert [c[0].completion_tokens for c in parts] == [c[0].completion_tokens for c in whole]
    assert [c[0].finish_reason for c in parts] == [c[0].finish_reason for c in whole]


def test_rows_whose_reply_ended_leave_the_batch(tiny_models: TinyModels) -> None:
    torch = pytest.importorskip("torch")
    _, segmented = _generators(tiny_models.random, 3)
    sampling = SamplingParams(temperature=1.0, max_new_tokens=9, seed=3)
    prompts = [segmented.prompt_ids(SHORT), segmented.prompt_ids(LONG)]
    with torch.inference_mode():
        torch.manual_seed(3)
        short, long = segmented._generate_pool(prompts, sampling)
    # a token the SHORT row draws among its first 3 and the LONG row does not: made an
    # end-of-sequence token, it ends the SHORT row in the first segment only
    ender = next(t for t in short[:3] if t not in long[:3])
    segmented._eos_ids = [ender]
    calls = _spy_generate(segmented)

    parts = segmented.generate([SHORT, LONG], 1, sampling)

    assert [len(call["input_ids"]) for call in calls[:2]] == [2, 1]  # SHORT left after one
    ended = short.index(ender)
    assert parts[0][0].completion_tokens == ended + 1 and parts[0][0].finish_reason == "stop"


def test_copies_of_a_prompt_share_one_prefill(tiny_models: TinyModels) -> None:
    gen = TransformersGenerator(tiny_models.random, batch_size=8)
    rows: list[int] = []
    forward = gen.model.forward

    def spy(*args: Any, **kwargs: Any) -> Any:
        rows.append(len(kwargs["input_ids"]))
        return forward(*args, **kwargs)

    gen.model.forward = spy
    replies = gen.generate([LONG], 4, SamplingParams(temperature=1.0, max_new_tokens=5, seed=1))

    assert rows[0] == 1  # the prompt ran once for its 4 samples
    assert max(rows) == 4  # then the 4 samples decoded together
    assert len(replies[0]) == 4
    assert len({c.prompt_tokens for c in replies[0]}) == 1


def _conversations(count: int) -> list[list[Message]]:
    """Prompts of different lengths (the pool admits rows of several widths)."""
    return [[Message(role="user", content="add " + "one two " * k)] for k in range(count)]


def test_a_refilled_batch_generates_what_each_prompt_alone_generates(
    tiny_models: TinyModels,
) -> None:
    """Rows join a running batch (their KV cache left-padded to its width) and leave it;
    greedy replies must equal each prompt's reply generated alone, so every merge, trim
    and per-row reply start is right."""
    conversations = _conversations(7)
    alone = TransformersGenerator(tiny_models.random, batch_size=1, dtype="float32")
    alone.continuous = False
    pooled = TransformersGenerator(tiny_models.random, batch_size=3, dtype="float32")
    pooled.segment_tokens = 2
    calls = _spy_generate(pooled)
    greedy = SamplingParams(temperature=0.0, max_new_tokens=9)

    expected = [alone.generate([c], 1, greedy)[0][0] for c in conversations]
    got = [replies[0] for replies in pooled.generate(conversations, 1, greedy)]

    assert [c.text for c in got] == [c.text for c in expected]
    assert [c.completion_tokens for c in got] == [c.completion_tokens for c in expected]
    assert max(len(call["input_ids"]) for call in calls) == 3  # never more than batch_size
    widths = {len(call["input_ids"][0]) for call in calls}
    assert len(widths) > 2  # rows of several widths shared calls as rows came and went


def test_rows_join_the_batch_as_others_end(tiny_models: TinyModels) -> None:
    """A row that ends early frees its place for a waiting row before the others finish."""
    import torch

    gen = TransformersGenerator(tiny_models.random, batch_size=2, dtype="float32")
    gen.segment_tokens = 2
    gen._eos_ids = [10_000]  # nothing ends: the replies' tokens, to pick an end token from
    sampling = SamplingParams(temperature=1.0, max_new_tokens=8)
    prompts = [gen.prompt_ids(c) for c in _conversations(3)]
    with torch.inference_mode():
        torch.manual_seed(0)
        tokens = gen._generate_pool(prompts, sampling)
    ender = tokens[0][1]
    assert ender not in tokens[1][:2]  # the first segment's draws differ there
    gen._eos_ids = [ender]  # row 0 now ends in the first segment, row 1 runs on
    calls = _spy_generate(gen)
    with torch.inference_mode():
        torch.manual_seed(0)
        gen._generate_pool(prompts, sampling)
    first, second = (c["input_ids"] for c in calls[:2])
    assert len(first) == len(second) == 2
    # the second call holds row 1 (continuing) and row 2, which took row 0's place
    assert any(row[len(row) - len(prompts[2]) :] == prompts[2] for row in second)
    assert any(row[-2:] == tokens[1][:2] for row in second)


def test_sampling_draws_from_the_tempered_top_k_top_p_distribution() -> None:
    torch = pytest.importorskip("torch")
    from cobalt_rl.llm.decode import sample as _sample

    logits = torch.log(torch.tensor([[0.5, 0.3, 0.2, 0.0]])).repeat(20_000, 1)
    torch.manual_seed(0)
    counts = torch.bincount(_sample(logits, SamplingParams(temperature=1.0)), minlength=4)
    shares = (counts / counts.sum()).tolist()
    assert shares[3] == 0.0  # a token of probability 0 is never drawn
    for share, p in zip(shares, [0.5, 0.3, 0.2], strict=False):
        assert abs(share - p) < 0.015, shares  # 20k draws: ~0.0035 standard error
    top2 = _sample(logits, SamplingParams(temperature=1.0, top_k=2))
    assert set(top2.tolist()) == {0, 1}
    nucleus = _sample(logits, SamplingParams(temperature=1.0, top_p=0.6))
    assert set(nucleus.tolist()) == {0, 1}  # 0.5 alone is under 0.6: the second is kept
    cold = _sample(logits, SamplingParams(temperature=0.05))
    assert (cold == 0).float().mean() > 0.99
    assert _sample(logits[:2], SamplingParams(temperature=0.0)).tolist() == [0, 0]
