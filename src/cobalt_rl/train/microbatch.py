"""Micro-batches of like-length sequences, without the padding no row of them needs.

TRL's GRPO pads a step's whole generation batch once (prompts on the left, completions on the
right), shuffles it and cuts it into micro-batches, so every forward and backward pass runs at
the width of the step's longest prompt plus its longest completion. With replies that end
with their program, most are far shorter than the one that ran to the cap.

:func:`group_by_length` re-cuts each freshly generated batch: its rows are ordered by length
and split into the same number of micro-batches, and each drops the columns that are padding
in all its rows (the left of its prompts, the right of its completions). Nothing a row
attends to changes (the dropped columns are masked out of attention and loss in every row; a
common shift of positions leaves rotary attention unchanged), and the default loss
(``dapo``: one token-weighted sum over the step's batch, ``num_items_in_batch``) does not
depend on how rows are grouped, so the step's gradient is the same up to rounding. Under
losses normalised per micro-batch (``bnpo``) the grouping does change the weights, so
grouping is left off there.
"""

from __future__ import annotations

import types
from typing import Any

__all__ = ["group_by_length", "regroup", "trim"]

PER_BATCH_LOSSES = {"bnpo"}
"""Loss types whose per-micro-batch normalisation makes the grouping matter."""


def _rows(value: Any) -> bool:
    """Whether ``value`` holds one entry per row (a tensor with a batch dimension, a list)."""
    return isinstance(value, list) or (hasattr(value, "ndim") and value.ndim > 0)


def _merge(batches: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    merged: dict[str, Any] = {}
    for key, first in batches[0].items():
        if isinstance(first, list):
            merged[key] = [item for b in batches for item in b[key]]
        elif first is not None and _rows(first):
            merged[key] = torch.cat([b[key] for b in batches])
        else:
            merged[key] = first  # scalars (num_items_in_batch) and absent fields
    return merged


def _take(batch: dict[str, Any], rows: Any) -> dict[str, Any]:
    return {
        key: (
            [value[i] for i in rows.tolist()]
            if isinstance(value, list)
            else value[rows]
            if value is not None and _rows(value)
            else value
        )
        for key, value in batch.items()
    }


def trim(batch: dict[str, Any]) -> dict[str, Any]:
    """``batch`` without the prompt columns (left) and completion columns (right) that are
    padding in every row; per-token fields of the completion's width are cut alike."""
    prompt_mask, completion_mask = batch["prompt_mask"], batch["completion_mask"]
    width = completion_mask.size(1)
    used = prompt_mask.any(0).nonzero()
    start = int(used[0]) if len(used) else prompt_mask.size(1) - 1
    used = completion_mask.any(0).nonzero()
    end = int(used[-1]) + 1 if len(used) else 1
    out = dict(batch)
    for key, value in batch.items():
        if key in ("prompt_ids", "prompt_mask"):
            out[key] = value[:, start:]
        elif hasattr(value, "ndim") and value.ndim >= 2 and value.size(1) == width:
            out[key] = value[:, :end]
    return out


def regroup(batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of ``batches`` ordered by length, cut into as many micro-batches, trimmed."""
    import torch

    merged = _merge(batches)
    lengths = merged["prompt_mask"].sum(1) + merged["completion_mask"].sum(1)
    order = torch.argsort(lengths, stable=True)
    per = len(order) // len(batches)
    return [trim(_take(merged, order[i * per : (i + 1) * per])) for i in range(len(batches))]


def group_by_length(trainer: Any) -> bool:
    """Make ``trainer`` (TRL's GRPOTrainer) train on length-grouped, trimmed micro-batches;
    False where its loss type makes the grouping matter (see the module)."""
    if trainer.loss_type in PER_BATCH_LOSSES:
        return False
    original = trainer._prepare_inputs

    def prepare(self: Any, generation_batch: Any) -> Any:
        before = self._buffered_inputs
        inputs = original(generation_batch)
        buffered = self._buffered_inputs
        if not self.model.training or buffered is before or not buffered:
            return inputs
        self._buffered_inputs = regroup(buffered)
        return self._buffered_inputs[self._step % self.args.steps_per_generation]

    trainer._prepare_inputs = types.MethodType(prepare, trainer)
    return True
