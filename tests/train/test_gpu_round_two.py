"""GPU path, second reading: the points checkable without a GPU (the two-process vLLM points
are in test_vllm_processes.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cobalt_rl.train.config import MultiturnTrainConfig, VllmOptions


def multiturn(tmp_path: Path, **options: Any) -> MultiturnTrainConfig:
    base: dict[str, Any] = {
        "mode": "multiturn",
        "out": tmp_path / "run",
        "problems": tmp_path / "p.jsonl",
        "num_generations": 2,
        "prompts_per_step": 2,
        "micro_batch_size": 4,
    }
    return MultiturnTrainConfig(**{**base, **options})


def test_vllm_importance_sampling_is_per_token_on_purpose(tmp_path: Path) -> None:
    """TRL's default (sequence_mask) multiplies the ratios over a reply: a small mismatch per
    token over thousands of tokens passes the cap and the reply gets weight 0."""
    from cobalt_rl.train.common import build_grpo_config

    args = build_grpo_config(multiturn(tmp_path, vllm=VllmOptions()))
    assert args.vllm_importance_sampling_mode == "token_truncate"
    assert args.vllm_importance_sampling_clip_max == 3.0
    chosen = VllmOptions(importance_sampling_mode="sequence_truncate")
    args = build_grpo_config(multiturn(tmp_path, vllm=chosen))
    assert args.vllm_importance_sampling_mode == "sequence_truncate"


class _StopAtBuild(Exception):
    pass


def test_distributed_state_is_made_by_the_training_config_with_its_timeout(
    tiny_models: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """accelerate's distributed state is made once, by whoever asks first. The online
    trainers' ``build`` asks (``PartialState().device``), so the GRPO config, which makes it
    with ``ddp_timeout``, must come first; else every collective gets torch's 10 minutes."""
    from accelerate.state import PartialState

    import cobalt_rl.train.common as common

    made: list[str] = []
    real = common.build_grpo_config

    def config_spy(cfg: Any) -> Any:
        made.append("config")
        args = real(cfg)
        assert args.ddp_timeout == 7200
        return args

    def build(sandbox: Any, tokenizer: Any, model_path: Path) -> Any:
        made.append("build")
        raise _StopAtBuild

    monkeypatch.setattr(common, "build_grpo_config", config_spy)
    PartialState._reset_state()
    cfg = multiturn(tmp_path, model=str(tiny_models.random))
    with pytest.raises(_StopAtBuild):
        common.run_grpo(cfg, [{"prompt": [{"role": "user", "content": "x"}]}], build)
    assert made == ["config", "build"]


def _bpe_tokenizer(template: str) -> Any:
    """A byte-level BPE tokenizer trained here (keeps newlines, unlike the word-level one of
    conftest), with ChatML's special tokens and ``template``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    core.train_from_iterator(["user assistant system solve x = 1 expected 2\n"] * 4, trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tok.chat_template = template
    return tok


@pytest.mark.parametrize("name", ["qwen3.jinja", "llama3.jinja"])
def test_feedback_turn_tokens_are_the_templates_own_between_turns(name: str) -> None:
    """Prompt + reply (ending with the end token it stopped on) + feedback turn decode to the
    template's own rendering of the conversation: under ChatML (Qwen3, SmolLM2) the newline
    after ``<|im_end|>`` belongs to the feedback turn."""
    from importlib.resources import files

    from cobalt_rl.episode.tokens import ChatTokens

    template = (files("trl") / "chat_templates" / name).read_text()
    tokenizer = _bpe_tokenizer(template)
    if name == "llama3.jinja":
        llama = ["<|start_header_id|>", "<|end_header_id|>", "<|begin_of_text|>", "<|eot_id|>"]
        tokenizer.add_special_tokens({"additional_special_tokens": llama})
        tokenizer.eos_token = "<|eot_id|>"
        tokenizer.bos_token = "<|begin_of_text|>"
    chat = ChatTokens(tokenizer)
    first = [{"role": "user", "content": "solve"}]
    reply = "x = 1"
    prompt = chat.prompt(first)
    reply_ids = [*tokenizer(reply, add_special_tokens=False)["input_ids"], chat.eos]
    messages = [*first, {"role": "assistant", "content": reply}]
    feedback = chat.feedback(messages, "expected 2")
    whole = tokenizer.apply_chat_template(
        [*messages, {"role": "user", "content": "expected 2"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert tokenizer.decode(prompt + reply_ids + feedback) == whole


def test_sharded_generation_agrees_on_the_accelerator_not_where_offloaded_weights_are(
    tiny_models: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With parameter offload the weights sit on the CPU while the process group is NCCL's,
    which cannot reduce a CPU tensor: the chunk count is agreed on the accelerator's device.
    Here the weights are on the CPU and the accelerator is ``meta`` (standing for the GPU);
    the reduction must see a ``meta`` tensor (reading it back then fails, as meta does)."""
    import torch
    import torch.distributed as dist
    from accelerate.utils import DistributedType
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cobalt_rl.llm.base import SamplingParams
    from cobalt_rl.train.episodes import transformers_generate

    seen: list[str] = []
    monkeypatch.setattr(dist, "all_reduce", lambda t, **_: seen.append(t.device.type))
    trainer = SimpleNamespace(
        model=AutoModelForCausalLM.from_pretrained(str(tiny_models.always_eos)),
        processing_class=AutoTokenizer.from_pretrained(str(tiny_models.always_eos)),
        args=SimpleNamespace(per_device_train_batch_size=2),
        accelerator=SimpleNamespace(
            unwrap_model=lambda m: m,
            num_processes=2,
            distributed_type=DistributedType.FSDP,
            device=torch.device("meta"),
        ),
    )
    with pytest.raises((RuntimeError, NotImplementedError)):
        transformers_generate(trainer, SamplingParams())([[5, 6]], 4)
    assert seen == ["meta"]


class FakeShardedAccelerator:
    """accelerate's ``Accelerator`` as validation uses it under FSDP on two processes:
    records the collectives each process joins."""

    def __init__(self) -> None:
        from accelerate.utils import DistributedType

        self.num_processes = 2
        self.distributed_type = DistributedType.FSDP
        self.calls: list[str] = []

    def get_state_dict(self, model: Any) -> dict[str, Any]:
        self.calls.append("gather")
        return {"w": 1}

    def wait_for_everyone(self) -> None:
        self.calls.append("wait")


@pytest.mark.parametrize("main", [True, False])
def test_validation_under_sharded_weights_is_joined_by_every_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main: bool
) -> None:
    """Every process joins the gather of the whole weights and waits for the main one, which
    alone validates, from the gathered weights. Before: only the main process saved (its own
    shard) and the others ran ahead into the next collective."""
    import cobalt_rl.train.common as common
    from cobalt_rl.train.config import ValidationOptions

    validated: list[Any] = []
    monkeypatch.setattr(
        common, "validate", lambda *a, **k: validated.append(a[5]) or {"val/pass@1_turn1": 0.5}
    )
    cfg = multiturn(tmp_path, validation=ValidationOptions(problems=tmp_path / "v.jsonl", every=1))
    cfg.out.mkdir(parents=True)
    (callback,) = common.make_callbacks(cfg, common.TrackedReward(lambda c, **k: []), None)
    callback.accelerator = accelerator = FakeShardedAccelerator()
    state = SimpleNamespace(global_step=1, is_world_process_zero=main)
    callback.on_step_end(None, state, SimpleNamespace(), model=object(), processing_class=object())
    assert accelerator.calls == ["gather", "wait"]
    assert validated == ([{"w": 1}] if main else [])


# ---------------------------------------- point 10: the first round's fixes, at their call sites


@pytest.mark.parametrize("mode", ["multiturn", "rlef", "verpo"])
def test_online_trainers_build_their_reward_with_the_configs_reasoning(
    tiny_models: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The reward an online trainer builds checks the thinking format when the config says
    ``reasoning`` (a reply cut inside its thinking scores less), and not otherwise."""
    import sys

    from cobalt_rl.episode.engine import Episode, Turn
    from cobalt_rl.records import ExecResult, Status, TestOutcome
    from cobalt_rl.train import online
    from cobalt_rl.train.config import RlefTrainConfig, VerpoTrainConfig

    sys.path.insert(0, str(Path(__file__).parent))
    from scripted import PROBLEMS, CharTokenizer, TextSandbox

    from cobalt_rl.records import write_jsonl
    from cobalt_rl.train import TRAINERS

    problems = tmp_path / "p.jsonl"
    write_jsonl(problems, PROBLEMS)
    passed = ExecResult(outcomes=[TestOutcome(status=Status.PASSED)], feedback="all passed")
    raw = "<think>draft\n```python\nprint(1)\n```"  # cut inside its thinking
    turn = Turn(number=1, raw=raw, reply="", code="print(1)", full=passed)
    cut = Episode(problem=PROBLEMS[0], messages=[], turns=[turn])
    config_class = {"multiturn": MultiturnTrainConfig, "rlef": RlefTrainConfig,
                    "verpo": VerpoTrainConfig}[mode]  # fmt: skip
    built: dict[bool, Any] = {}

    def capture(cfg: Any, rows: Any, build: Any) -> Path:
        parts = build(TextSandbox(), CharTokenizer(), tiny_models.random)
        built[cfg.reasoning] = parts.reward
        return tmp_path

    monkeypatch.setattr(online, "run_grpo", capture)
    for reasoning in (False, True):
        cfg = config_class(
            mode=mode, out=tmp_path / mode, problems=problems, num_generations=2,
            prompts_per_step=2, micro_batch_size=4, reasoning=reasoning, beta=0.0, reward="cobalt",
        )  # fmt: skip
        TRAINERS[type(cfg)](cfg)
    low, high = (built[r]([cut.last.raw], episode=[cut])[0] for r in (True, False))
    assert low < high
