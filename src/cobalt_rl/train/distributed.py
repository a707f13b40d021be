"""One boolean agreed on by every training process, so that all of them take the same branch.

Under ``torch.distributed`` each process has its own clock and its own batch; a process that
stops, or generates once more, while another does not leaves the other waiting in a
collective forever. With one process (or no process group) the flag is returned as it is.
"""

from __future__ import annotations

__all__ = ["any_process", "rank_zero_decides"]


def rank_zero_decides(decision: bool) -> bool:
    """Rank 0's ``decision``, shared with every process (e.g. a time budget: each process
    has its own clock)."""
    return _agreed(decision, any_of=False)


def any_process(flag: bool) -> bool:
    """Whether ``flag`` holds on any process."""
    return _agreed(flag, any_of=True)


def _agreed(flag: bool, *, any_of: bool) -> bool:
    """``flag`` agreed on: the maximum over processes (``any_of``), else rank 0's."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    value = torch.tensor([1 if flag else 0], dtype=torch.int64)
    if dist.get_backend() == "nccl":
        value = value.cuda()
    if any_of:
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
    else:
        dist.broadcast(value, src=0)
    return bool(value.item())
