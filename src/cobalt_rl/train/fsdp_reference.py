"""The reference model under FSDP2, sharded block by block and held in bf16.

TRL's ``GRPOTrainer`` loads the reference model with the policy's arguments (fp32 master
weights) and hands it to ``trl.models.prepare_fsdp``, which under FSDP2 calls ``fully_shard``
on the root module only. Two costs follow on every rank: the whole fp32 model is one FSDP
unit, so every reference forward gathers all of it at once (32.8 GB for an 8B model), and it
is kept in fp32 although it is never updated.

:func:`layered_reference` wraps the trainer's construction. While it is open, TRL's
``prepare_fsdp`` (for the reference; the policy goes through accelerate) first casts the
model to bf16 when training in bf16, then applies TRL's own ``prepare_fsdp`` to each
transformer block (the classes in the model's ``_no_split_modules``, what accelerate's
transformer wrap policy uses for the policy), then to the root for what is left (embeddings,
final norm, head). A reference forward then gathers one block at a time, in bf16:
``cobalt plan`` counts it as bf16 weights sharded over the processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["layered_reference", "shard_by_block"]


def _blocks(model: Any) -> list[Any]:
    """The model's transformer blocks: modules whose class is in its ``_no_split_modules``."""
    names = set(getattr(model, "_no_split_modules", None) or [])
    return [m for m in model.modules() if m is not model and type(m).__name__ in names]


def shard_by_block(
    model: Any, accelerator: Any, prepare: Callable[[Any, Any], Any], bf16: bool
) -> Any:
    """``prepare`` (TRL's ``prepare_fsdp``) per transformer block and then on the root, after
    a cast to bf16 when ``bf16``; FSDP1 and models without known blocks go to ``prepare`` as
    they are."""
    import torch

    plugin = getattr(accelerator.state, "fsdp_plugin", None)
    if plugin is None or plugin.fsdp_version != 2:
        return prepare(model, accelerator)
    if bf16:
        model.to(torch.bfloat16)
    for block in _blocks(model):
        prepare(block, accelerator)
    return prepare(model, accelerator)


@contextmanager
def layered_reference(bf16: bool) -> Iterator[None]:
    """While open, the GRPO trainer's reference model is prepared by :func:`shard_by_block`
    (see the module docstring)."""
    from trl.trainer import grpo_trainer

    trainer_module: Any = grpo_trainer  # the name GRPOTrainer.__init__ looks up
    original = trainer_module.prepare_fsdp

    def prepare(model: Any, accelerator: Any) -> Any:
        return shard_by_block(model, accelerator, original, bf16)

    trainer_module.prepare_fsdp = prepare
    try:
        yield
    finally:
        trainer_module.prepare_fsdp = original
