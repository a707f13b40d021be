"""The log-probability head the trainers use on CPU.

TRL's GRPO asks the model for per-token log-probabilities with ``fused_lm_head=True`` (its
``add_fused_lm_head``). Off Triton devices that path projects every position of the batch
through the LM head, prompt included, and accumulates the head's gradient products in fp32,
which on a CPU runs at an eighth of its bf16 rate. With a 49k-token vocabulary and prompts
longer than the replies, that head was the largest part of a bandit step's optimisation
(benchmarks/train_step.py).

:func:`use_compact_head` re-patches the policy (and a patched reference model) so that, on
CPU, only the positions whose label is scored go through the head, and its products run in
the autocast dtype (bf16 under ``precision: bf16``), one vocabulary-wide product per token
chunk: each product rounds once to bf16, as every other layer's does under autocast, and the
weight gradient is summed over token chunks in fp32. The softmax statistics stay fp32.
Other devices, softcapped or scaled logits and pre-shifted labels keep TRL's path.
"""

from __future__ import annotations

import functools
import logging
import types
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["TOKEN_CHUNK", "chunked_log_probs", "compact_head", "use_compact_head"]

TOKEN_CHUNK = 1024
"""Positions per head product: 1024 x 49k fp32 logits are 200 MB at a time."""


def _chunk_stats(logits: Any, targets: Any, inv_t: float) -> tuple[Any, Any, Any]:
    """Temperature-scaled fp32 logits of one chunk, their log-partition and target logits."""
    z = logits.float().mul_(inv_t)
    log_z = z.logsumexp(-1)
    return z, log_z, z.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def _function() -> Any:
    import torch

    class CompactLogProbs(torch.autograd.Function):
        """log p(target) and entropy of ``hidden @ weight.T / T``, the logits never held
        whole: forward and backward go chunk by chunk (the backward recomputes its chunk)."""

        @staticmethod
        def forward(
            ctx: Any,
            hidden: Any,
            weight: Any,
            targets: Any,
            inv_t: float,
            dtype: Any,
            entropies: bool,
        ) -> tuple[Any, Any]:
            ctx.set_materialize_grads(False)
            w = weight.to(dtype)
            logps, entropy = [], []
            for start in range(0, hidden.size(0), TOKEN_CHUNK):
                h = hidden[start : start + TOKEN_CHUNK].to(dtype)
                z, log_z, target = _chunk_stats(
                    h @ w.t(), targets[start : start + TOKEN_CHUNK], inv_t
                )
                logps.append(target - log_z)
                if entropies:
                    p = (z - log_z.unsqueeze(-1)).exp_()
                    entropy.append(log_z - (p * z).sum(-1))
            out = torch.cat(logps), torch.cat(entropy) if entropies else hidden.new_zeros(0)
            ctx.save_for_backward(hidden, weight, targets, out[1])
            ctx.inv_t, ctx.dtype = inv_t, dtype
            return out

        @staticmethod
        def backward(ctx: Any, grad_logps: Any, grad_entropy: Any) -> tuple[Any, ...]:
            hidden, weight, targets, entropy = ctx.saved_tensors
            dtype, inv_t = ctx.dtype, ctx.inv_t
            w = weight.to(dtype)
            grad_hidden = torch.empty(hidden.shape, dtype=hidden.dtype)
            grad_weight = torch.zeros(weight.shape, dtype=torch.float32)
            for start in range(0, hidden.size(0), TOKEN_CHUNK):
                rows = slice(start, start + TOKEN_CHUNK)
                h = hidden[rows].to(dtype)
                z, log_z, _ = _chunk_stats(h @ w.t(), targets[rows], inv_t)
                log_p = z.sub_(log_z.unsqueeze(-1))
                p = log_p.exp()
                # d log p_t / dz_j = 1[j = t] - p_j;  d H / dz_j = -p_j (log p_j + H)
                if grad_logps is not None:
                    grad = p * grad_logps[rows].neg().unsqueeze(-1)
                    grad.scatter_add_(
                        -1, targets[rows].unsqueeze(-1), grad_logps[rows].unsqueeze(-1)
                    )
                else:
                    grad = torch.zeros_like(p)
                if grad_entropy is not None:
                    log_p.add_(entropy[rows].unsqueeze(-1)).mul_(p)
                    grad.addcmul_(log_p, grad_entropy[rows].unsqueeze(-1), value=-1)
                g = grad.mul_(inv_t).to(dtype)
                grad_hidden[rows] = (g @ w).to(hidden.dtype)
                grad_weight += (g.t() @ h).float()
            return grad_hidden, grad_weight.to(weight.dtype), None, None, None, None

    return CompactLogProbs


@functools.cache
def _compact_log_probs() -> Any:
    return _function()


def chunked_log_probs(
    hidden: Any, weight: Any, targets: Any, temperature: float, dtype: Any, entropy: bool = True
) -> tuple[Any, Any]:
    """Per-position log-probability of ``targets`` and entropy (empty unless ``entropy``),
    for ``hidden`` (N x H) under the head ``weight`` (V x H) at ``temperature``, products in
    ``dtype``."""
    return _compact_log_probs().apply(  # type: ignore[no-any-return]
        hidden, weight, targets, 1.0 / temperature, dtype, entropy
    )


def _plain_head(model: Any) -> bool:
    """Whether the model's logits are the head's product alone (no softcap, no scale)."""
    config = model.config.get_text_config()
    scaled = any(
        getattr(config, name, None) not in (None, 1.0)
        for name in ("logit_scale", "output_multiplier", "lm_head_multiplier", "logits_scaling")
    )
    head = model.get_output_embeddings()
    has_bias = head is None or getattr(head, "bias", None) is not None
    return not scaled and getattr(config, "final_logit_softcapping", None) is None and not has_bias


def compact_head(model: Any, temperature: float, entropy: bool) -> bool:
    """Route ``model(..., fused_lm_head=True)`` on CPU through :func:`chunked_log_probs`
    (``entropy``: also the entropy, which TRL asks of the policy). False where the model's
    logits are not the head's product alone (TRL's path stays)."""
    import torch
    from trl.trainer.utils import FusedCausalLMOutput

    if getattr(model, "_cobalt_compact_head", False) or not _plain_head(model):
        return False
    trl_forward = model.forward  # TRL's fused forward (itself falling back to the model's)

    def forward(self: Any, *args: Any, fused_lm_head: bool = False, **kwargs: Any) -> Any:
        labels = kwargs.get("labels")
        if (
            not fused_lm_head
            or labels is None
            or labels.device.type != "cpu"
            or kwargs.get("shift_labels") is not None
            or kwargs.get("output_router_logits")
        ):
            return trl_forward(*args, fused_lm_head=fused_lm_head, **kwargs)
        labels = kwargs.pop("labels")
        num_items = kwargs.pop("num_items_in_batch", None)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        labels = labels[:, 1:]
        mask = labels != -100
        dtype = (
            torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else hidden.dtype
        )
        logps, entropies = chunked_log_probs(
            hidden[mask],
            self.get_output_embeddings().weight,
            labels[mask],
            temperature,
            dtype,
            entropy,
        )
        log_probs = logps.new_zeros(mask.shape).masked_scatter(mask, logps)
        if entropy:
            entropies = entropies.new_zeros(mask.shape).masked_scatter(mask, entropies)
        count = mask.sum().clamp(min=1) if num_items is None else num_items
        return FusedCausalLMOutput(
            loss=-log_probs.sum() / count,
            log_probs=log_probs,
            entropy=entropies if entropy else None,
            label_mask=mask,
        )

    model.forward = types.MethodType(forward, model)
    model._cobalt_compact_head = True
    return True


def use_compact_head(trainer: Any) -> None:
    """On CPU, score only the labelled positions, in the autocast dtype (see the module)."""
    import torch

    if torch.cuda.is_available():
        return
    policy = trainer.model
    if hasattr(policy, "get_base_model"):  # PEFT: TRL patched the base model
        policy = policy.get_base_model()
    done = [compact_head(policy, trainer.temperature, entropy=True)]
    reference = getattr(trainer, "ref_model", None)
    if reference is not None:
        done.append(compact_head(reference, trainer.temperature, entropy=False))
    log.debug("compact CPU log-prob head on %d of %d models", sum(done), len(done))
