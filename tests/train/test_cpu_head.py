"""The compact CPU log-probability head (cobalt_rl.train.cpu_head) against TRL's fused head:
the same log-probabilities, entropies and gradients in fp32; within the bf16 tolerance of
fp32 (tests/train/test_precision.py) under bf16 autocast; only the scored positions go
through the head."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from tests.train.test_precision import GRAD_COS, GRAD_RTOL, LOSS_RTOL

from cobalt_rl.train import cpu_head


def test_chunked_log_probs_equal_trl_in_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    from trl.kernels import ChunkedLogProbFunction

    monkeypatch.setattr(cpu_head, "TOKEN_CHUNK", 7)  # several chunks, the last one short
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(20, 16, generator=generator, requires_grad=True)
    weight = torch.randn(50, 16, generator=generator, requires_grad=True)
    targets = torch.randint(0, 50, (20,), generator=generator)
    upstream = torch.randn(20, generator=generator), torch.randn(20, generator=generator)
    results = []
    for ours in (False, True):
        hidden.grad = weight.grad = None
        if ours:
            logps, entropy = cpu_head.chunked_log_probs(hidden, weight, targets, 0.7, torch.float32)
        else:
            logps, entropy, *_ = ChunkedLogProbFunction.apply(
                hidden, weight, None, targets, 0.7, 16, None, 1.0, ("log_probs", "entropy")
            )
        (logps * upstream[0] + entropy * upstream[1]).sum().backward()
        results.append((logps.detach(), entropy.detach(), hidden.grad, weight.grad))
    for theirs, ours in zip(*results, strict=True):
        assert torch.allclose(theirs, ours, atol=1e-4, rtol=1e-4)


def _model(tiny_models: Any, compact: bool) -> Any:
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    model = AutoModelForCausalLM.from_pretrained(str(tiny_models.random), dtype=torch.float32)
    add_fused_lm_head(model, temperature=0.9, outputs=("log_probs", "entropy"))
    if compact:
        assert cpu_head.compact_head(model, 0.9, entropy=True)
    return model


def _step(model: Any, bf16: bool) -> tuple[Any, Any, Any]:
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(4, model.config.vocab_size, (3, 30), generator=generator)
    attention = torch.ones_like(ids)
    attention[0, :6] = 0  # a left-padded row
    labels = ids.masked_fill(attention == 0, -100)
    labels[:, :18] = -100  # the prompt: only the last 12 positions are scored
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = model(input_ids=ids, attention_mask=attention, labels=labels, fused_lm_head=True)
    loss = -(out.log_probs.sum() / (labels != -100).sum()) - 0.01 * out.entropy.sum()
    loss.backward()
    grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    return out.log_probs.detach(), out.entropy.detach(), grads


def test_patched_model_matches_trl_fp32_and_stays_within_bf16_tolerance(
    tiny_models: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    scored: list[int] = []
    real = cpu_head.chunked_log_probs

    def spy(hidden: Any, *args: Any) -> Any:
        scored.append(hidden.size(0))
        return real(hidden, *args)

    monkeypatch.setattr(cpu_head, "chunked_log_probs", spy)
    trl = _step(_model(tiny_models, compact=False), bf16=False)
    ours = _step(_model(tiny_models, compact=True), bf16=False)
    assert scored == [3 * 12]  # the head saw the scored positions only
    for a, b in zip(trl, ours, strict=True):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-3)
    logps16, _, grads16 = _step(_model(tiny_models, compact=True), bf16=True)
    assert abs(logps16.sum() - trl[0].sum()) <= LOSS_RTOL * abs(trl[0].sum())
    assert (grads16 - trl[2]).norm() <= GRAD_RTOL * trl[2].norm()
    assert torch.nn.functional.cosine_similarity(grads16, trl[2], dim=0) >= GRAD_COS


def test_models_whose_logits_are_scaled_keep_trls_head(tiny_models: Any) -> None:
    model = _model(tiny_models, compact=False)
    model.config.final_logit_softcapping = 30.0
    assert not cpu_head.compact_head(model, 0.9, entropy=True)
