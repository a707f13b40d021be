"""Length-grouped micro-batches (cobalt_rl.train.microbatch): every row kept once with its own
fields, no column that is padding in all of a micro-batch's rows, and the same loss and
gradient as TRL's shuffled, full-width micro-batches under its default (dapo) loss."""

from __future__ import annotations

from typing import Any

import torch

from cobalt_rl.train.microbatch import regroup, trim


def _batch(
    prompts: list[int], completions: list[int], width: tuple[int, int], vocab: int = 200
) -> dict[str, Any]:
    """A TRL-shaped batch: prompts left-padded to width[0], completions right-padded to width[1]."""
    generator = torch.Generator().manual_seed(0)
    rows = len(prompts)
    prompt_mask = torch.zeros(rows, width[0], dtype=torch.long)
    completion_mask = torch.zeros(rows, width[1], dtype=torch.long)
    for i, (p, c) in enumerate(zip(prompts, completions, strict=True)):
        prompt_mask[i, width[0] - p :] = 1
        completion_mask[i, :c] = 1
    return {
        "prompt_ids": torch.randint(4, vocab, (rows, width[0]), generator=generator) * prompt_mask,
        "prompt_mask": prompt_mask,
        "completion_ids": torch.randint(4, vocab, (rows, width[1]), generator=generator)
        * completion_mask,
        "completion_mask": completion_mask,
        "advantages": torch.randn(rows, generator=generator),
        "old_per_token_logps": torch.randn(rows, width[1], generator=generator),
        "num_items_in_batch": completion_mask.sum(),
        "ids": list(range(rows)),
    }


PROMPTS = [3, 9, 4, 8, 2, 9, 5, 7]
COMPLETIONS = [11, 2, 6, 12, 3, 1, 9, 4]


def _split(batch: dict[str, Any], parts: int) -> list[dict[str, Any]]:
    per = len(batch["ids"]) // parts
    return [
        {
            k: v[i * per : (i + 1) * per] if isinstance(v, list) or v.ndim else v
            for k, v in batch.items()
        }
        for i in range(parts)
    ]


def test_regroup_keeps_every_row_and_drops_only_padding() -> None:
    batch = _batch(PROMPTS, COMPLETIONS, (10, 12))
    groups = regroup(_split(batch, 4))
    assert sorted(i for g in groups for i in g["ids"]) == list(range(8))
    widths = [g["prompt_ids"].size(1) + g["completion_ids"].size(1) for g in groups]
    assert sum(widths) < 4 * 22  # narrower than the batch's full width
    for g in groups:
        assert g["prompt_mask"][:, 0].any() and g["completion_mask"][:, -1].any()
        assert g["old_per_token_logps"].shape == g["completion_mask"].shape
        assert g["num_items_in_batch"] == batch["num_items_in_batch"]
        for row, i in enumerate(g["ids"]):  # each row's real tokens and fields, unchanged
            p, c = PROMPTS[i], COMPLETIONS[i]
            assert torch.equal(g["prompt_ids"][row, -p:], batch["prompt_ids"][i, -p:])
            assert torch.equal(g["completion_ids"][row, :c], batch["completion_ids"][i, :c])
            mask = g["completion_mask"][row].bool()
            assert torch.equal(
                g["old_per_token_logps"][row][mask], batch["old_per_token_logps"][i, :c]
            )
            assert g["advantages"][row] == batch["advantages"][i]
    lengths = [max(PROMPTS[i] + COMPLETIONS[i] for i in g["ids"]) for g in groups]
    assert lengths == sorted(lengths)  # grouped by length


def test_trim_of_an_all_padding_completion_keeps_one_column() -> None:
    batch = _batch([3, 4], [0, 0], (6, 5))
    out = trim(batch)
    assert out["completion_ids"].size(1) == 1 and out["prompt_ids"].size(1) == 4


def _dapo_loss_and_grads(model: Any, batches: list[dict[str, Any]]) -> tuple[float, Any]:
    """TRL's default loss over micro-batches: sum of advantage x log-prob over completion
    tokens, divided by the step's token count; gradients accumulated over micro-batches."""
    model.zero_grad()
    total = 0.0
    for b in batches:
        ids = torch.cat([b["prompt_ids"], b["completion_ids"]], 1)
        attention = torch.cat([b["prompt_mask"], b["completion_mask"]], 1)
        width = b["completion_ids"].size(1)
        logits = model(input_ids=ids, attention_mask=attention).logits[:, -width - 1 : -1]
        logps = logits.log_softmax(-1).gather(-1, b["completion_ids"].unsqueeze(-1)).squeeze(-1)
        per_token = logps * b["advantages"].unsqueeze(1) * b["completion_mask"]
        loss = -per_token.sum() / b["num_items_in_batch"]
        loss.backward()
        total += float(loss)
    return total, torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def test_grouped_micro_batches_give_the_same_loss_and_gradient(tiny_models: Any) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_models.random), dtype=torch.float32)
    batch = _batch(PROMPTS, COMPLETIONS, (10, 12), vocab=model.config.vocab_size)
    shuffled = _split(batch, 4)
    loss_a, grads_a = _dapo_loss_and_grads(model, shuffled)
    loss_b, grads_b = _dapo_loss_and_grads(model, regroup(shuffled))
    assert abs(loss_a - loss_b) <= 1e-5 * max(1.0, abs(loss_a))
    assert torch.allclose(grads_a, grads_b, atol=1e-5, rtol=1e-4)


class FakeGrpoTrainer:
    """What group_by_length reads of TRL's GRPOTrainer: a _prepare_inputs that fills
    _buffered_inputs once per generation round and returns the current step's slice."""

    loss_type = "dapo"

    def __init__(self) -> None:
        self._buffered_inputs: list[dict[str, Any]] | None = None
        self._step = 0
        self.rounds = 0
        self.model = type("M", (), {"training": True})()
        self.args = type("A", (), {"steps_per_generation": 4})()

    def _prepare_inputs(self, generation_batch: Any) -> dict[str, Any]:
        if self._step % 4 == 0:
            self.rounds += 1
            self._buffered_inputs = _split(_batch(PROMPTS, COMPLETIONS, (10, 12)), 4)
        assert self._buffered_inputs is not None
        return self._buffered_inputs[self._step % 4]


def test_group_by_length_regroups_each_new_round_once() -> None:
    from cobalt_rl.train.microbatch import group_by_length

    trainer = FakeGrpoTrainer()
    assert group_by_length(trainer)
    seen = []
    for step in range(8):
        trainer._step = step
        batch = trainer._prepare_inputs(None)
        seen.append(batch["ids"])
        assert batch is trainer._buffered_inputs[step % 4]  # type: ignore[index]
    assert trainer.rounds == 2
    assert sorted(i for ids in seen[:4] for i in ids) == list(range(8))
    assert seen[:4] == seen[4:] and seen[0] != [0, 1]  # regrouped, the same way each round
    bnpo = FakeGrpoTrainer()
    bnpo.loss_type = "bnpo"
    assert not group_by_length(bnpo)
