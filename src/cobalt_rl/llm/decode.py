"""The pieces of the CPU decode loop of :class:`~cobalt_rl.llm.hf.TransformersGenerator`:
a batch of left-padded rows with its KV cache (:class:`Batch`: rows leave, rows join), room
in the cache written in place (:func:`reserve`), and the sampler (:func:`sample`).

Importing this module is cheap: torch is imported inside the functions.
"""

from __future__ import annotations

from typing import Any

from cobalt_rl.llm.base import SamplingParams

__all__ = ["Batch", "reserve", "sample"]


def sample(logits: Any, sampling: SamplingParams) -> Any:
    """One token per row of ``logits``: greedy at temperature 0, else drawn from the
    softmax at ``sampling``'s temperature within its top-k and top-p, by inverting each row's
    cumulative distribution at a uniform draw (one ``rand`` per row: torch's multinomial
    draws an exponential per vocabulary entry, a quarter of a decode step on a 49k
    vocabulary at 64 rows)."""
    import torch

    if sampling.temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / sampling.temperature
    if 0 < sampling.top_k < logits.shape[-1]:
        kth = logits.topk(sampling.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if sampling.top_p < 1.0:
        ordered, order = probs.sort(dim=-1, descending=True)
        ordered = ordered.masked_fill(ordered.cumsum(dim=-1) - ordered > sampling.top_p, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, ordered)
    cdf = probs.cumsum(dim=-1)
    draw = torch.rand(cdf.shape[0], 1, device=cdf.device) * cdf[:, -1:]
    token = torch.searchsorted(cdf, draw, right=True).squeeze(-1)
    return token.clamp(max=cdf.shape[-1] - 1)


class Batch:
    """Rows being decoded together: left-padded ids and mask, and the KV cache of every
    column but the last (what ``generate`` continues from)."""

    def __init__(self, ids: Any, mask: Any, cache: Any) -> None:
        self.ids, self.mask, self.cache = ids, mask, cache

    def select(self, rows: list[int]) -> Batch:
        """Only ``rows``, without the leading columns that are padding in all of them."""
        import torch

        index = torch.tensor(rows, device=self.ids.device)
        mask = self.mask[index]
        first = int(mask.any(dim=0).nonzero()[0])
        self.cache.batch_select_indices(index)
        for layer in self.cache.layers:
            layer.keys, layer.values = layer.keys[:, :, first:], layer.values[:, :, first:]
        return Batch(self.ids[index][:, first:], mask[:, first:], self.cache)

    def joined(self, other: Batch, pad: int) -> Batch:
        """These rows and ``other``'s, left-padded (with ``pad``) to the wider of the two."""
        import torch

        width = max(self.ids.shape[1], other.ids.shape[1])
        parts = [_left_padded(b, width, pad) for b in (self, other)]
        for layer, (k1, v1), (k2, v2) in zip(
            self.cache.layers, parts[0][2], parts[1][2], strict=True
        ):
            layer.keys, layer.values = torch.cat([k1, k2]), torch.cat([v1, v2])
        ids = torch.cat([parts[0][0], parts[1][0]])
        mask = torch.cat([parts[0][1], parts[1][1]])
        return Batch(ids, mask, self.cache)


def reserve(cache: Any, extra: int) -> None:
    """Room for ``extra`` more columns in every layer of ``cache``, written in place by the
    next passes (:func:`_append_in_place`) instead of concatenated: the cache's own append
    copies the whole cache each token (a third of a decode step at 64 rows of ~400)."""
    for layer in cache.layers:
        keys, values = layer.keys, layer.values
        length = keys.shape[-2]
        room = [t.new_empty(*t.shape[:-2], length + extra, t.shape[-1]) for t in (keys, values)]
        room[0][..., :length, :], room[1][..., :length, :] = keys, values
        layer.keys, layer.values = room[0][..., :length, :], room[1][..., :length, :]
        layer.update = _append_in_place(layer, room[0], room[1])


def _append_in_place(layer: Any, keys_room: Any, values_room: Any) -> Any:
    """``layer.update`` writing new keys and values into the reserved tensors while they
    fit (views of them are what attention reads), else the layer's own update."""
    own = type(layer).update.__get__(layer)

    def update(key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> Any:
        start = layer.keys.shape[-2]
        end = start + key_states.shape[-2]
        fits = layer.keys.data_ptr() == keys_room.data_ptr() and end <= keys_room.shape[-2]
        if not fits or layer.keys.shape[0] != key_states.shape[0]:
            return own(key_states, value_states, *args, **kwargs)
        keys_room[..., start:end, :] = key_states
        values_room[..., start:end, :] = value_states
        layer.keys, layer.values = keys_room[..., :end, :], values_room[..., :end, :]
        return layer.keys, layer.values

    return update


def _left_padded(batch: Batch, width: int, pad: int) -> tuple[Any, Any, list[tuple[Any, Any]]]:
    """``batch``'s ids (``pad``, masked), mask and per-layer keys/values, ``width`` wide."""
    import torch.nn.functional as F

    extra = width - batch.ids.shape[1]
    ids = F.pad(batch.ids, (extra, 0), value=pad)
    mask = F.pad(batch.mask, (extra, 0))
    layers = [
        (F.pad(layer.keys, (0, 0, extra, 0)), F.pad(layer.values, (0, 0, extra, 0)))
        for layer in batch.cache.layers
    ]
    return ids, mask, layers
