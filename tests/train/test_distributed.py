"""The flags every training process agrees on: rank 0's decision, or whether any holds."""

from __future__ import annotations

import socket

import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from cobalt_rl.train.distributed import any_process, rank_zero_decides


@pytest.mark.parametrize("flag", [True, False])
def test_one_process_keeps_its_flag(flag: bool) -> None:
    assert not dist.is_initialized()
    assert rank_zero_decides(flag) is flag
    assert any_process(flag) is flag


def _agree(rank: int, port: int, results: dict[int, tuple[bool, bool]]) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        # Rank 0 says no and rank 1 yes: rank 0's decision is no, and someone said yes.
        results[rank] = (rank_zero_decides(rank == 1), any_process(rank == 1))
    finally:
        dist.destroy_process_group()


def test_two_processes_agree() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_agree, args=(port, results), nprocs=2)
        assert dict(results) == {0: (False, True), 1: (False, True)}
