"""The reference model under FSDP2 (issue 27, point 7): TRL's ``prepare_fsdp`` shards only the
root, so every reference forward gathers the whole fp32 model; ours casts it to bf16 and
shards each transformer block first. Run for real on CPU: a one-process gloo group, FSDP2's
``fully_shard`` and TRL's own ``prepare_fsdp``."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from cobalt_rl.train.fsdp_reference import layered_reference, shard_by_block


@pytest.fixture
def one_process_group(monkeypatch: pytest.MonkeyPatch) -> Any:
    import torch.distributed as dist

    for key, value in {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29533", "RANK": "0",
                       "WORLD_SIZE": "1", "LOCAL_RANK": "0"}.items():  # fmt: skip
        monkeypatch.setitem(os.environ, key, value)
    dist.init_process_group("gloo", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def _accelerator(version: int) -> Any:
    """What ``prepare_fsdp`` reads of an accelerator (accelerate turns FSDP on only for GPUs)."""
    from accelerate.utils import FullyShardedDataParallelPlugin

    plugin = FullyShardedDataParallelPlugin(fsdp_version=version)
    return SimpleNamespace(
        state=SimpleNamespace(fsdp_plugin=plugin),
        device=torch.device("cpu"),
        torch_device_mesh=None,
        parallelism_config=None,
    )


def _model(tiny_models: Any) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(tiny_models.random), dtype=torch.float32)


def _units(model: Any) -> list[str]:
    from torch.distributed.fsdp import FSDPModule

    return [name for name, m in model.named_modules() if isinstance(m, FSDPModule)]


def test_the_fsdp2_reference_is_sharded_per_block_in_bf16(
    one_process_group: Any, tiny_models: Any
) -> None:
    from trl.trainer import grpo_trainer

    model = _model(tiny_models)
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        before = model(ids).logits.float()
    layers = len(model.model.layers)
    with layered_reference(bf16=True):
        prepared = grpo_trainer.prepare_fsdp(model, _accelerator(2))  # what TRL calls
    # every block its own FSDP unit, then the root: a forward gathers one block at a time
    assert _units(prepared) == ["", *(f"model.layers.{i}" for i in range(layers))]
    assert {p.dtype for p in prepared.parameters()} == {torch.bfloat16}
    assert not prepared.training
    with torch.no_grad():
        after = prepared(ids).logits.float()
    assert torch.allclose(before, after, atol=0.05, rtol=0.05)  # the same model, in bf16
    # and TRL's own function is back once the trainer is built
    assert grpo_trainer.prepare_fsdp.__module__ == "trl.models.utils"


def test_trl_alone_shards_only_the_root_in_fp32(one_process_group: Any, tiny_models: Any) -> None:
    from trl.models.utils import prepare_fsdp

    prepared = prepare_fsdp(_model(tiny_models), _accelerator(2))
    assert _units(prepared) == [""]  # what point 7 is about
    assert {p.dtype for p in prepared.parameters()} == {torch.float32}


def test_fp32_training_keeps_the_reference_in_fp32_and_fsdp1_is_left_to_trl() -> None:
    calls: list[Any] = []
    model = torch.nn.Linear(2, 2)
    assert shard_by_block(model, _accelerator(1), lambda m, a: calls.append(m) or m, True) is model
    assert calls == [model] and model.weight.dtype == torch.float32  # FSDP1: TRL's, untouched
