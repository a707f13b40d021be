"""The pre-flight memory estimate and ``cobalt plan``, against issue 18's figures for Qwen3-8B
full fine-tuning with GRPO (micro-batch 2 of 10k-token prompts + 6,144 completion tokens, a
reference model, gradient checkpointing, colocated vLLM at 0.3): one GPU or DDP ~210 GB (on a
141 GB card's vLLM share); on 80 GB cards ZeRO-2 x4 ~100, FSDP2 x4 80-85, FSDP2 x8 ~60, FSDP2
x4 with vLLM on a fifth GPU ~55. Those figures are estimates themselves: within 10%."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from cobalt_rl.errors import ConfigError
from cobalt_rl.train.memory import Layout, architecture, estimate, plan, preflight

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "configs/qwen3-8b-taco.yaml"


@pytest.fixture(scope="module")
def qwen3() -> tuple[Any, Any]:
    from cobalt_rl.cli.plan import load_train_config

    cfg = load_train_config(RECIPE)
    return cfg, architecture(cfg.model)  # offline: the recipes' architectures are known


def near(value: float, figure: float) -> bool:
    return abs(value - figure) <= 0.10 * figure


def test_parameter_count_from_accelerates_estimator(qwen3: tuple[Any, Any]) -> None:
    _, arch = qwen3
    assert 8.1e9 < arch.params < 8.3e9  # Qwen3-8B: 8.2B with its untied LM head
    assert arch.layers == 36 and arch.vocab == 151936


def test_estimates_match_the_issue(qwen3: tuple[Any, Any]) -> None:
    cfg, arch = qwen3
    cfg = cfg.model_copy(update={"gradient_checkpointing": True, "beta": 1e-4})
    one = estimate(cfg, arch, Layout("single", 1, "colocate"), 141)
    assert near(one.total, 210)
    assert one.optimizer == pytest.approx(8 * arch.params / 1e9)  # AdamW's two fp32 moments
    by_label = {e.layout.label: e.total for e in plan(cfg, 80, arch)}
    assert near(by_label["ZeRO-2 x4 + vLLM colocated"], 100)
    assert 80 * 0.95 <= by_label["FSDP2 x4 + vLLM colocated"] <= 85 * 1.05
    assert near(by_label["FSDP2 x8 + vLLM colocated"], 60)
    assert near(by_label["FSDP2 x4 + vLLM server GPU"], 55)


def test_recipe_fits_the_hardware_it_names(qwen3: tuple[Any, Any]) -> None:
    cfg, arch = qwen3
    # The recipe's header names 8 GPUs of 80 GB (FSDP2) or 4 of 141 GB; one GPU never fits.
    assert estimate(cfg, arch, Layout("fsdp", 8, "colocate"), 80).total <= 80
    assert estimate(cfg, arch, Layout("fsdp", 4, "colocate"), 141).total <= 141
    assert estimate(cfg, arch, Layout("single", 1, "colocate"), 141).total > 141


def test_preflight_stops_with_a_layout_that_fits(qwen3: tuple[Any, Any]) -> None:
    cfg, _ = qwen3
    with pytest.raises(ConfigError) as error:
        preflight(cfg, device_gb=80)  # this process: one GPU
    message = str(error.value)
    assert "per GPU as launched (one GPU" in message
    assert "accelerate launch --config_file configs/accelerate/fsdp.yaml" in message
    assert "cobalt plan" in message and "memory.check: false" in message
    off = cfg.model_copy(update={"memory": cfg.memory.model_copy(update={"check": False})})
    assert preflight(off, device_gb=80) is None


def test_lora_fits_one_gpu(qwen3: tuple[Any, Any]) -> None:
    from cobalt_rl.train.config import LoraOptions

    cfg, arch = qwen3
    lora = cfg.model_copy(update={"lora": LoraOptions()})
    one = estimate(lora, arch, Layout("single", 1, "colocate"), 80)
    assert one.reference == 0 and one.total < 80  # adapters off = the reference


def test_cobalt_plan_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    from cobalt_rl.cli.plan import run

    assert run(argparse.Namespace(config=RECIPE, gpu_memory_gb=80.0)) == 0
    out = capsys.readouterr().out
    assert (
        "| layout | weights | grads | optimizer | reference | vLLM | activations | critic |" in out
    )
    assert "| FSDP2 x8 + vLLM colocated |" in out and "Qwen/Qwen3-8B" in out


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ("single", 1)),
        ({"WORLD_SIZE": "2"}, ("ddp", 2)),
        ({"WORLD_SIZE": "8", "ACCELERATE_USE_FSDP": "true"}, ("fsdp", 8)),
        ({"WORLD_SIZE": "4", "ACCELERATE_USE_DEEPSPEED": "true"}, ("zero2", 4)),
        (
            {
                "WORLD_SIZE": "4",
                "ACCELERATE_USE_DEEPSPEED": "true",
                "ACCELERATE_DEEPSPEED_ZERO_STAGE": "3",
            },
            ("zero3", 4),
        ),
    ],
)
def test_layout_read_from_accelerate_launch(
    qwen3: tuple[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    expected: tuple[str, int],
) -> None:
    from cobalt_rl.train.memory import current_layout

    for key in (
        "WORLD_SIZE",
        "PMI_SIZE",
        "OMPI_COMM_WORLD_SIZE",
        "MV2_COMM_WORLD_SIZE",
        "ACCELERATE_USE_FSDP",
        "ACCELERATE_USE_DEEPSPEED",
        "ACCELERATE_DEEPSPEED_ZERO_STAGE",
    ):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    cfg, _ = qwen3
    layout = current_layout(cfg)
    assert (layout.strategy, layout.gpus, layout.vllm) == (*expected, "colocate")


def test_rlef_counts_its_critic_unsharded_and_cut_to_its_layers(qwen3: tuple[Any, Any]) -> None:
    """16 bytes a parameter of the critic's backbone (fp32 weights, gradients, AdamW), on
    every process: the policy's backbone without its LM head, or its first layers."""
    from cobalt_rl.train.config import RlefTrainConfig
    from cobalt_rl.train.memory import critic_parameters

    cfg, arch = qwen3
    rlef = RlefTrainConfig(mode="rlef", out=Path("x"), problems=Path("p.jsonl"), model=cfg.model)
    whole = estimate(rlef, arch, Layout("fsdp", 8), 80)
    head = arch.vocab * arch.hidden  # Qwen3-8B's LM head is untied
    assert not arch.tied and whole.critic == pytest.approx(16 * (arch.params - head) / 1e9)
    assert whole.critic > 100  # a full copy of an 8B backbone cannot sit beside it on 80 GB
    cut = estimate(rlef.model_copy(update={"critic_layers": 6}), arch, Layout("fsdp", 8), 80)
    assert cut.critic == pytest.approx(16 * critic_parameters(arch, 6) / 1e9)
    assert cut.critic < whole.critic / 3
    assert estimate(cfg, arch, Layout("fsdp", 8), 80).critic == 0  # the bandit has none


def test_rlef_reference_is_a_whole_bf16_model_on_every_process(qwen3: tuple[Any, Any]) -> None:
    """RLEF loads its own reference (beta > 0 by default) on every process; TRL's reference
    of the bandit is sharded with the policy under FSDP2 (train/fsdp_reference.py)."""
    from cobalt_rl.train.config import RlefTrainConfig

    cfg, arch = qwen3
    rlef = RlefTrainConfig(mode="rlef", out=Path("x"), problems=Path("p.jsonl"), model=cfg.model)
    assert rlef.beta > 0
    fsdp = estimate(rlef, arch, Layout("fsdp", 8), 80)
    assert fsdp.reference == pytest.approx(2 * arch.params / 1e9)
    bandit = estimate(cfg.model_copy(update={"beta": 0.04}), arch, Layout("fsdp", 8), 80)
    assert bandit.reference == pytest.approx(2 * arch.params / 8 / 1e9)
