"""bf16 training (issue 15): on a fixed batch, loss and gradients under bf16 autocast over fp32
weights (what ``precision: bf16`` runs: accelerate's mixed precision, torch.autocast on CPU)
stay within a stated tolerance of fp32.

Tolerances, stated: loss within 2% (relative); the whole gradient within 5% of fp32's norm
(relative error of the difference) and pointing the same way (cosine >= 0.99); the same for
each weight matrix at 10% / 0.98. bf16 keeps 8 bits of mantissa (~0.4% per value), so a
forward and backward through two layers lands well inside these; a failure means something
runs in bf16 that should not (the master weights, the loss reduction).
"""

from __future__ import annotations

from typing import Any

import torch

LOSS_RTOL = 0.02
GRAD_RTOL, GRAD_COS = 0.05, 0.99
MATRIX_RTOL, MATRIX_COS = 0.10, 0.98


def loss_and_grads(model: Any, batch: torch.Tensor, bf16: bool) -> tuple[float, dict[str, Any]]:
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    return float(loss), grads


def test_bf16_autocast_loss_and_gradients_match_fp32(tiny_models: Any) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_models.random), dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    batch = torch.randint(4, model.config.vocab_size, (4, 24), generator=generator)

    loss32, grads32 = loss_and_grads(model, batch, bf16=False)
    loss16, grads16 = loss_and_grads(model, batch, bf16=True)

    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32
    assert abs(loss16 - loss32) <= LOSS_RTOL * abs(loss32)
    flat32 = torch.cat([g.flatten() for g in grads32.values()])
    flat16 = torch.cat([grads16[n].flatten().float() for n in grads32])
    assert (flat16 - flat32).norm() <= GRAD_RTOL * flat32.norm()
    assert torch.nn.functional.cosine_similarity(flat16, flat32, dim=0) >= GRAD_COS
    for name, g32 in grads32.items():
        if g32.dim() < 2 or g32.norm() == 0:
            continue
        g16 = grads16[name].float()
        assert (g16 - g32).norm() <= MATRIX_RTOL * g32.norm(), name
        assert torch.nn.functional.cosine_similarity(g16.flatten(), g32.flatten(), dim=0) >= (
            MATRIX_COS
        ), name
