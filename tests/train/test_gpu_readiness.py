"""Issue 18: what a reading of TRL, transformers, accelerate and vLLM says would break on a GPU,
checked here at the level that runs without one (built configs, accelerate's launch files, the
rollout function against a fake of TRL's vLLM generation object, freeing a trainer)."""

from __future__ import annotations

import gc
import json
import sys
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from scripted import (
    PROBLEMS,
    CharTokenizer,
    ScriptedGenerator,
    TextSandbox,
    prompts,
)

from cobalt_rl.episode.config import EpisodeConfig
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.train.config import (
    BanditTrainConfig,
    LoraOptions,
    MultiturnTrainConfig,
    VllmOptions,
)
from cobalt_rl.train.episodes import OnlineEpisodes, vllm_generate

ROOT = Path(__file__).resolve().parents[2]


def bandit(tmp_path: Path, **options: Any) -> BanditTrainConfig:
    base: dict[str, Any] = {
        "contexts": tmp_path / "c.jsonl",
        "out": tmp_path / "run",
        "num_generations": 4,
        "prompts_per_step": 2,
        "micro_batch_size": 8,
    }
    return BanditTrainConfig(**{**base, **options})


# ------------------------------------------------------------ points 1, 5, 8, 11: GRPOConfig


def test_bf16_training_keeps_fp32_master_weights_and_loads_without_device_map(
    tmp_path: Path,
) -> None:
    from cobalt_rl.train.common import build_grpo_config

    args = build_grpo_config(bandit(tmp_path, precision="bf16"))
    assert args.bf16 is True
    # fp32 master weights (lr 1e-6 is below bf16's resolution); the Trainer places the model
    # (TRL's default device_map="auto" would put whole copies on a GPU under FSDP).
    assert args.model_init_kwargs == {"dtype": "float32", "device_map": None}
    assert args.save_only_model is False


def test_lora_in_bf16_loads_the_frozen_base_in_bf16(tmp_path: Path) -> None:
    from cobalt_rl.train.common import build_grpo_config

    args = build_grpo_config(bandit(tmp_path, precision="bf16", lora=LoraOptions()))
    assert args.model_init_kwargs["dtype"] == "bfloat16"


def test_fp32_forced_and_checkpoints_without_optimizer(tmp_path: Path) -> None:
    from cobalt_rl.train.common import build_grpo_config

    args = build_grpo_config(bandit(tmp_path, precision="fp32", save_optimizer=False))
    assert args.bf16 is False and args.model_init_kwargs["dtype"] == "float32"
    assert args.save_only_model is True


def test_auto_precision_follows_the_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cobalt_rl.llm import hf
    from cobalt_rl.train.common import resolve_precision

    cfg = bandit(tmp_path)
    assert cfg.precision == "auto"
    monkeypatch.setattr(hf, "cpu_has_native_bf16", lambda cpuinfo=None: True)
    assert resolve_precision(cfg) == "bf16"
    monkeypatch.setattr(hf, "cpu_has_native_bf16", lambda cpuinfo=None: False)
    assert resolve_precision(cfg) == "fp32"


def test_vllm_context_length_and_sleep_mode_reach_trl(tmp_path: Path) -> None:
    from cobalt_rl.train.common import build_grpo_config

    vllm = VllmOptions(max_model_length=16384, enable_sleep_mode=True)
    args = build_grpo_config(bandit(tmp_path, vllm=vllm))
    assert args.use_vllm and args.vllm_mode == "colocate"
    assert args.vllm_max_model_length == 16384 and args.vllm_enable_sleep_mode is True


# ------------------------------------------------------------ point 2: accelerate's files


def test_deepspeed_file_leaves_gradient_accumulation_to_the_trainer() -> None:
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    path = ROOT / "configs/accelerate/deepspeed-zero2.yaml"
    assert "gradient_accumulation_steps" not in yaml.safe_load(path.read_text())["deepspeed_config"]
    parser = launch_command_parser()
    args = parser.parse_args(["--config_file", str(path), "--num_processes", "4", "x.py"])
    args, _, _ = _validate_launch_command(args)
    # None: accelerate exports no ACCELERATE_GRADIENT_ACCUMULATION_STEPS, DeepSpeed's value is
    # "auto" and the Trainer fills in ours (a fixed 1 raised at train start when ours differs).
    assert args.use_deepspeed and args.gradient_accumulation_steps is None


@pytest.mark.parametrize("name", ["ddp.yaml", "fsdp.yaml", "deepspeed-zero2.yaml"])
def test_accelerate_files_train_in_bf16(name: str) -> None:
    data = yaml.safe_load((ROOT / "configs/accelerate" / name).read_text())
    assert data["mixed_precision"] == "bf16"
    if name == "fsdp.yaml":
        assert data["fsdp_config"]["fsdp_cpu_ram_efficient_loading"] is True


# ------------------------------------------------------------ points 3, 4: rollout under vLLM


class FakeVLLMGeneration:
    """TRL 1.16's ``VLLMGeneration`` as the rollout uses it: ``generate(prompts, images,
    num_generations)`` -> (prompt_ids, completion_ids, logprobs, logprob_token_ids), with
    ``logprobs`` per completion a list of per-token lists; ``sync_weights``; the cap."""

    def __init__(self, tokenizer: CharTokenizer, mode: str = "colocate") -> None:
        self.script = ScriptedGenerator(tokenizer)
        self.mode = mode
        self.tensor_parallel_size = 1
        self.max_completion_length = 64
        self.caps: list[int] = []
        self.syncs = 0

    def sync_weights(self) -> None:
        self.syncs += 1

    def generate(
        self, prompts: list[list[int]], images: Any, num_generations: int
    ) -> tuple[Any, Any, Any, Any]:
        assert images is None and num_generations == 1
        self.caps.append(self.max_completion_length)
        out = self.script(prompts, self.max_completion_length)
        completions = [ids for ids, _ in out]
        logprobs = [[[-0.5]] * len(ids) for ids in completions]
        return prompts, completions, logprobs, None


def test_rollout_under_vllm_generates_through_trls_engine_and_returns_logprobs(
    tmp_path: Path,
) -> None:
    from cobalt_rl.train.online import make_rollout_func

    tokenizer = CharTokenizer()
    cfg = MultiturnTrainConfig(
        mode="multiturn",
        out=tmp_path / "run",
        problems=tmp_path / "p.jsonl",
        vllm=VllmOptions(),
        num_generations=2,
        prompts_per_step=2,
        micro_batch_size=4,
        sampling=SamplingParams(max_new_tokens=200),
    )
    engine = OnlineEpisodes(
        {p.id: p for p in PROBLEMS},
        TextSandbox(),
        tokenizer,
        EpisodeConfig(turns=3, max_episode_tokens=4000),
        200,
    )
    vllm = FakeVLLMGeneration(tokenizer)
    trainer = SimpleNamespace(
        vllm_generation=vllm, state=SimpleNamespace(global_step=0), _last_loaded_step=-1
    )
    out = make_rollout_func(engine, cfg)(prompts(), trainer)

    assert vllm.syncs == 1 and trainer._last_loaded_step == 0  # once per step, not per turn
    assert len(vllm.caps) == 3 and all(cap <= 64 for cap in vllm.caps)
    assert vllm.max_completion_length == 64  # the turn's cap was only for the call
    assert out["logprobs"] is not None
    for ids, logps, mask in zip(
        out["completion_ids"], out["logprobs"], out["env_mask"], strict=True
    ):
        assert len(logps) == len(ids) == len(mask)
        # the engine's log-probabilities on the policy's tokens; 0 on feedback (masked)
        assert all(lp == (-0.5 if m else 0.0) for lp, m in zip(logps, mask, strict=True))
    assert any(0 in mask for mask in out["env_mask"])  # some episodes had feedback turns


def test_idle_process_still_calls_a_collective_vllm_engine() -> None:
    tokenizer = CharTokenizer()
    server = FakeVLLMGeneration(tokenizer, mode="server")
    trainer = SimpleNamespace(
        vllm_generation=server, state=SimpleNamespace(global_step=3), _last_loaded_step=3
    )
    assert vllm_generate(trainer)([], 16) == [] and len(server.caps) == 1
    colocated = FakeVLLMGeneration(tokenizer)
    trainer.vllm_generation = colocated
    assert vllm_generate(trainer)([], 16) == [] and colocated.caps == []


def test_transformers_generate_runs_the_tiny_model_in_chunks(tiny_models: Any) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cobalt_rl.train.episodes import transformers_generate

    model = AutoModelForCausalLM.from_pretrained(str(tiny_models.always_eos))
    tok = AutoTokenizer.from_pretrained(str(tiny_models.always_eos))
    from accelerate.utils import DistributedType

    trainer = SimpleNamespace(
        model=model,
        processing_class=tok,
        args=SimpleNamespace(per_device_train_batch_size=1),
        accelerator=SimpleNamespace(
            unwrap_model=lambda m: m, num_processes=1, distributed_type=DistributedType.NO
        ),
    )
    replies = transformers_generate(trainer, SamplingParams())([[5, 6], [7], [5]], 4)
    assert [ids for ids, _ in replies] == [[tiny_models.eos_id]] * 3


# ------------------------------------------------------------ point 6 and 11: after training


def test_release_frees_the_engine_model_and_optimizer() -> None:
    from cobalt_rl.train.common import release

    model = torch.nn.Linear(4, 4)
    engine = SimpleNamespace(llm=object())
    freed: list[bool] = []
    trainer = SimpleNamespace(
        model=model,
        model_wrapped=model,
        ref_model=None,
        optimizer=torch.optim.AdamW(model.parameters()),
        lr_scheduler=None,
        vllm_generation=engine,
        accelerator=SimpleNamespace(num_processes=2, free_memory=lambda: freed.append(True)),
    )
    alive = weakref.ref(model)
    del model
    release(trainer)
    gc.collect()
    assert alive() is None and engine.llm is None and freed == [True]
    assert trainer.optimizer is None


def test_final_weights_rewritten_in_bf16(tiny_models: Any, tmp_path: Path) -> None:
    import shutil

    from transformers import AutoModelForCausalLM

    from cobalt_rl.train.common import weights_to_bf16

    final = tmp_path / "final"
    shutil.copytree(tiny_models.random, final)
    before = AutoModelForCausalLM.from_pretrained(str(final), dtype=torch.float32)
    size = (final / "model.safetensors").stat().st_size
    weights_to_bf16(final)
    assert (final / "model.safetensors").stat().st_size < 0.6 * size
    assert json.loads((final / "config.json").read_text())["dtype"] == "bfloat16"
    after = AutoModelForCausalLM.from_pretrained(str(final))
    assert after.dtype == torch.bfloat16
    for (name, a), (_, b) in zip(
        before.state_dict().items(), after.state_dict().items(), strict=True
    ):
        assert torch.allclose(a, b.float(), rtol=1e-2, atol=1e-3), name


def test_a_finished_run_returns_its_final_model_without_loading(tmp_path: Path) -> None:
    from cobalt_rl.train.common import finished_run

    cfg = bandit(tmp_path, max_steps=200)
    assert finished_run(cfg) is None
    (cfg.out / "final").mkdir(parents=True)
    (cfg.out / "final/config.json").write_text("{}")
    checkpoint = cfg.out / "checkpoints/checkpoint-200"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": 200}))
    assert finished_run(cfg) == cfg.out / "final"
    assert finished_run(cfg.model_copy(update={"max_steps": 300})) is None  # more to train
    assert finished_run(cfg.model_copy(update={"resume": False})) is None


# ------------------------------------------------------------ points 5, 9, 11: the recipes


@pytest.mark.parametrize("name", ["qwen3-8b-taco", "r1-distill-llama-8b-taco"])
def test_recipes_reason_bound_vllm_context_and_keep_one_checkpoint(name: str) -> None:
    from cobalt_rl.pipeline import load_run_config
    from cobalt_rl.train.common import build_grpo_config

    run = load_run_config(ROOT / f"configs/{name}.yaml")
    cfg = run.train
    assert cfg.reasoning and cfg.precision == "bf16"
    assert cfg.save_total_limit == 1 and cfg.save_steps >= 25
    assert cfg.vllm is not None and cfg.vllm.max_model_length is not None
    assert cfg.vllm.max_model_length >= cfg.memory.prompt_tokens + cfg.sampling.max_new_tokens
    assert getattr(run.generator, "max_model_len", None) == 32768
    args = build_grpo_config(cfg)
    assert args.bf16 and args.vllm_max_model_length == cfg.vllm.max_model_length
    assert args.model_init_kwargs == {"dtype": "float32", "device_map": None}
    text = (ROOT / f"configs/{name}.yaml").read_text()
    assert "SIZED FOR 8 GPUs of 80 GB" in text


def test_reference_model_held_in_bf16_only_where_it_is_a_plain_module() -> None:
    from accelerate.utils import DistributedType

    from cobalt_rl.train.common import reference_to_bf16

    def trainer(kind: DistributedType, bf16: bool = True) -> Any:
        return SimpleNamespace(
            ref_model=torch.nn.Linear(2, 2),
            args=SimpleNamespace(bf16=bf16),
            accelerator=SimpleNamespace(distributed_type=kind),
        )

    for kind, bf16, expected in [
        (DistributedType.NO, True, torch.bfloat16),
        (DistributedType.MULTI_GPU, True, torch.bfloat16),
        (DistributedType.FSDP, True, torch.float32),  # sharded already: left alone
        (DistributedType.NO, False, torch.float32),
    ]:
        fake = trainer(kind, bf16)
        reference_to_bf16(fake)
        assert fake.ref_model.weight.dtype == expected, kind


def test_sharded_generation_runs_with_synced_gpus(tiny_models: Any, tmp_path: Path) -> None:
    """Under FSDP / DeepSpeed the rollout's ``generate`` keeps ranks in step (one process
    here: the collective calls run on a gloo group of one)."""
    import torch.distributed as dist
    from accelerate.utils import DistributedType
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cobalt_rl.train.episodes import transformers_generate

    model = AutoModelForCausalLM.from_pretrained(str(tiny_models.always_eos))
    calls: list[bool] = []
    real = model.generate

    def spy(**kw: Any) -> Any:
        calls.append(kw["synced_gpus"])
        return real(**kw)

    model.generate = spy
    trainer = SimpleNamespace(
        model=model,
        processing_class=AutoTokenizer.from_pretrained(str(tiny_models.always_eos)),
        args=SimpleNamespace(per_device_train_batch_size=2),
        accelerator=SimpleNamespace(
            unwrap_model=lambda m: m,
            num_processes=2,
            distributed_type=DistributedType.FSDP,
            device=torch.device("cpu"),
        ),
    )
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0, world_size=1)
    try:
        generate = transformers_generate(trainer, SamplingParams())
        assert generate([[5, 6], [7]], 4) == [([tiny_models.eos_id], None)] * 2
        # Idle with no other rank busy: the agreed chunk count is 0, so no call (with a busy
        # rank it would be theirs, and this rank would run as many dummy calls).
        assert generate([], 4) == []
    finally:
        dist.destroy_process_group()
    assert calls == [True]


# ------------------------------------------------------- point 11: Qwen3's template, point 9


class ReasoningDroppingTokenizer(CharTokenizer):
    """Qwen3's template behaviour: the assistant turn after the last user turn opens with a
    thinking block; earlier assistant turns are shown without one."""

    def _render(self, messages: Sequence[dict[str, Any]], add_generation_prompt: bool) -> str:
        users = [i for i, m in enumerate(messages) if m["role"] == "user"]
        last_user = users[-1] if users else -1
        text = ""
        for i, m in enumerate(messages):
            content = m["content"]
            if m["role"] == "assistant" and i > last_user:
                content = "<think></think>" + content
            text += f"[{m['role']}] {content}\x01"
        return text + ("[assistant] " if add_generation_prompt else "")


def test_feedback_turn_tokens_under_a_template_that_rewrites_earlier_replies() -> None:
    from cobalt_rl.episode.tokens import ChatTokens

    tokenizer = ReasoningDroppingTokenizer()
    messages = [{"role": "user", "content": "solve"}, {"role": "assistant", "content": "x = 1"}]
    ids = ChatTokens(tokenizer).feedback(messages, "expected 2")
    # exactly the user turn and the next reply's opening, nothing of the earlier reply
    assert ids == tokenizer.encode_text("[user] expected 2\x01[assistant] ")


def test_online_reward_checks_the_thinking_format_of_the_reply_as_generated() -> None:
    from cobalt_rl.episode.engine import Episode, Turn
    from cobalt_rl.records import ExecResult, Status, TestOutcome
    from cobalt_rl.train.online import EpisodeReward

    passed = ExecResult(outcomes=[TestOutcome(status=Status.PASSED)], feedback="all passed")
    code = "print(1)"

    def episode(raw: str) -> Episode:
        record = Turn(number=1, raw=raw, reply="", code=code, full=passed)
        return Episode(problem=PROBLEMS[0], messages=[], turns=[record])

    whole = episode("<think>plan</think>\n```python\nprint(1)\n```")
    cut = episode("<think>plan, draft:\n```python\nprint(1)\n```")  # cut inside its thinking

    def scores(reasoning: bool) -> list[float]:
        reward = EpisodeReward("cobalt", TextSandbox(), None, "cobalt-rl", reasoning)
        return reward([None, None], episode=[whole, cut])

    assert scores(reasoning=False) == [1.0, 1.0]
    assert scores(reasoning=True) == [1.0, pytest.approx(0.8)]  # bad_think: -0.2
