"""RLEF's critic: a scalar value head on a transformer backbone, with its own optimizer.

The backbone is a copy of the initial policy, or any checkpoint sharing the policy's
tokenizer (e.g. a smaller model of the same family): the critic reads the same token ids.
The head is zero-initialised, so every value starts at 0 (the mean of RLEF's +1/-1 reward
under a policy that solves half its problems) and the first advantages are the returns.

The critic is trained beside TRL's policy update, on the same batch, in one forward pass
(:meth:`ValueCritic.fit`): the values of a batch's turn contexts, read before the update,
give the advantages and the turn returns, and the same forward's graph regresses the values
on those returns. The backbone may keep only its first ``critic_layers`` layers (a smaller
critic at a fraction of the policy's cost), and runs in bf16 autocast when the policy does.
Its weights and optimizer state go into every checkpoint (``critic/``) and come back on resume.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["ValueCritic"]

_HEAD = "value_head.pt"
_OPTIMIZER = "optimizer.pt"


class ValueCritic(nn.Module):
    """Values at chosen positions of a token sequence: backbone hidden state -> linear -> V."""

    def __init__(self, backbone: Any, learning_rate: float):
        super().__init__()
        self.backbone = backbone
        hidden = int(backbone.config.hidden_size)
        self.head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.optimizer = torch.optim.AdamW(self.parameters(), lr=learning_rate)
        self.bf16 = False  # bf16 autocast for the backbone (set by the trainer)

    @classmethod
    def load(
        cls, source: str | Path, learning_rate: float, device: Any, layers: int | None = None
    ) -> ValueCritic:
        """A critic on the backbone of the checkpoint ``source`` (its LM head is dropped);
        ``layers``: keep only its first N transformer layers (a smaller critic that still
        reads the policy's tokens: its embeddings and lower layers)."""
        from transformers import AutoConfig, AutoModel

        config = AutoConfig.from_pretrained(str(source))
        if layers is not None:
            total = getattr(config, "num_hidden_layers", None)
            if not isinstance(total, int):
                raise ValueError(
                    f"critic_layers: the config of {source} has no num_hidden_layers, so its "
                    "layers cannot be cut; unset critic_layers or give a smaller critic_model"
                )
            if layers > total:
                raise ValueError(
                    f"critic_layers: {layers} is more than the {total} layers of {source}"
                )
            config.num_hidden_layers = layers
            kinds = getattr(config, "layer_types", None)
            if isinstance(kinds, list):  # per-layer attention kinds (Qwen3, Gemma): cut too
                config.layer_types = kinds[:layers]
        backbone = AutoModel.from_pretrained(str(source), config=config, dtype=torch.float32)
        critic = cls(backbone, learning_rate)
        critic.to(device)  # moves the parameters in place: the optimizer still holds them
        return critic

    def values(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor
    ) -> torch.Tensor:
        """``V`` at ``positions`` (B, K) of each row (B, L); -1 positions give 0. The
        backbone runs under bf16 autocast when :attr:`bf16` is set (as the policy trains)."""
        device = input_ids.device
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=self.bf16):
            out = self.backbone(input_ids=input_ids, attention_mask=attention_mask)
        hidden = out.last_hidden_state  # (B, L, H)
        index = positions.clamp(min=0)
        picked = hidden.gather(1, index.unsqueeze(-1).expand(-1, -1, hidden.size(-1)))
        values: torch.Tensor = self.head(picked.float()).squeeze(-1)  # (B, K)
        return values * (positions >= 0)

    def fit(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        returns_of: Callable[[slice, torch.Tensor], torch.Tensor],
        micro_batch: int,
        epochs: int,
    ) -> tuple[torch.Tensor, torch.Tensor, float]:
        """Read the values of a batch and regress them on their returns, in one forward.

        The optimizer steps only after a whole pass, so the first pass's forward gives the
        values *before* this update: ``returns_of(rows, values)`` turns those rows' values
        (detached, on the CPU) into their return targets (the advantages are computed there
        too), and the same forward's graph takes the loss, 0.5 x squared error, mean over
        turns. Later ``epochs`` reuse the targets. Returns the values (B, K), the targets and
        the first pass's loss, all before the update. Gradients are averaged over processes.
        """
        import torch.distributed as dist

        self.train()
        valid = positions >= 0
        turns = max(1, int(valid.sum().item()))
        values = torch.zeros(positions.shape)
        targets = torch.zeros(positions.shape)
        first_pass = 0.0
        for epoch in range(epochs):
            self.optimizer.zero_grad(set_to_none=True)
            total = 0.0
            for start in range(0, input_ids.size(0), micro_batch):
                rows = slice(start, min(start + micro_batch, input_ids.size(0)))
                predicted = self.values(input_ids[rows], attention_mask[rows], positions[rows])
                if epoch == 0:
                    values[rows] = predicted.detach().float().cpu()
                    targets[rows] = returns_of(rows, values[rows])
                error = (predicted - targets[rows].to(predicted.device)) * valid[rows]
                loss = 0.5 * (error**2).sum() / turns
                loss.backward()  # type: ignore[no-untyped-call]
                total += float(loss.item())
            if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
                for param in self.parameters():
                    if param.grad is not None:
                        dist.all_reduce(param.grad)
                        param.grad /= dist.get_world_size()
            nn.utils.clip_grad_norm_(self.parameters(), 1.0)
            self.optimizer.step()
            if epoch == 0:
                first_pass = total
        self.eval()
        return values, targets, first_pass

    def save(self, directory: Path) -> None:
        """Backbone (``save_pretrained``), head and optimizer state under ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        self.backbone.save_pretrained(directory / "backbone")
        torch.save(self.head.state_dict(), directory / _HEAD)
        torch.save(self.optimizer.state_dict(), directory / _OPTIMIZER)

    def restore(self, directory: Path) -> None:
        """Load what :meth:`save` wrote (weights and optimizer) into this critic."""
        from transformers import AutoModel

        device = next(self.parameters()).device
        backbone = AutoModel.from_pretrained(str(directory / "backbone"), dtype=torch.float32)
        self.backbone.load_state_dict(backbone.state_dict())
        self.head.load_state_dict(torch.load(directory / _HEAD, map_location=device))
        self.optimizer.load_state_dict(torch.load(directory / _OPTIMIZER, map_location=device))
