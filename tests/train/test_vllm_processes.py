"""The online trainers' vLLM calls on two processes, through TRL 1.16's real
``VLLMGeneration.generate`` on a two-process gloo group (no GPU, no vLLM).

- Server mode: TRL gathers every process's prompts, rank 0 asks the server, and each process
  keeps ``process_index * len(prompts)`` onwards. From the second turn on, the episode engine
  sends only the episodes still running, so counts differ between processes; a process must
  get the replies to its own contexts, not its neighbour's.
- Colocate with sleep mode over sharded weights: the call starts by re-syncing the sleeping
  weights, a collective gather. A process whose episodes have all ended must still call, or
  the busy one waits forever (here: until the group's 20 s timeout fails the test).

The server's client and vLLM's ``LLM`` are fakes (named so); TRL's code between them is real.
"""

from __future__ import annotations

import datetime
import os
import socket
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

pytest.importorskip("trl.generation.vllm_generation")


class FakeServerClient:
    """vLLM's server as TRL's ``VLLMClient.generate`` returns it: per prompt ``n`` completions;
    each completion is the prompt's first token + 1000, then its length, so it names its
    prompt."""

    def generate(self, prompts: list[list[int]], n: int, **_: Any) -> dict[str, Any]:
        completions = [[p[0] + 1000, len(p)] for p in prompts for _ in range(n)]
        return {
            "prompt_ids": prompts,
            "completion_ids": completions,
            "logprobs": [[[-0.25], [-0.5]] for _ in completions],
        }


class FakeLLM:
    """vLLM's ``LLM`` for colocate mode: the same completions as the server, as request
    outputs without log-probabilities; counts wake-ups."""

    def __init__(self) -> None:
        self.wakes = 0

    def wake_up(self, tags: list[str]) -> None:
        self.wakes += 1

    def sleep(self, level: int) -> None:
        pass

    def generate(self, prompts: list[dict[str, Any]], **_: Any) -> list[Any]:
        return [
            SimpleNamespace(
                prompt_token_ids=p["prompt_token_ids"],
                outputs=[
                    SimpleNamespace(
                        token_ids=[p["prompt_token_ids"][0] + 1000, len(p["prompt_token_ids"])],
                        logprobs=None,
                    )
                ],
            )
            for p in prompts
        ]


def _engine(mode: str) -> Any:
    """TRL's ``VLLMGeneration`` with the attributes its ``generate`` reads, without starting
    vLLM (its constructor would)."""
    from accelerate import PartialState
    from trl.generation.vllm_generation import VLLMGeneration

    engine = VLLMGeneration.__new__(VLLMGeneration)
    engine.accelerator = PartialState(cpu=True)
    assert engine.accelerator.num_processes == 2  # TRL sees the two processes
    engine.mode = mode
    engine.temperature, engine.top_p, engine.top_k, engine.min_p = 1.0, 1.0, 0, None
    engine.repetition_penalty, engine.max_completion_length = 1.0, 16
    engine.logprobs, engine.structured_outputs_regex, engine.generation_kwargs = 0, None, {}
    engine.tensor_parallel_size = 1
    engine.enable_sleep_mode = mode == "colocate"
    engine._llm_weights_sleeping = mode == "colocate"
    engine.model = torch.nn.Linear(1, 1)  # not a PEFT model
    engine.vllm_client = FakeServerClient()
    engine.llm = FakeLLM()
    return engine


def _trainer(engine: Any) -> Any:
    return SimpleNamespace(
        vllm_generation=engine,
        state=SimpleNamespace(global_step=1),
        _last_loaded_step=1,
        processing_class=SimpleNamespace(eos_token_id=2, pad_token_id=0),
        accelerator=SimpleNamespace(num_processes=2),
    )


# From turn 2: rank 0 still has three episodes running, rank 1 one, or none.
CONTEXTS = {
    "uneven": {0: [[10, 11, 12], [20, 21], [30]], 1: [[40, 41, 42, 43]]},
    "idle": {0: [[10, 11, 12], [20, 21], [30]], 1: []},
}


def _run(rank: int, port: int, mode: str, case: str, results: Any) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
        WORLD_SIZE="2",
    )  # fmt: skip
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=2,
        timeout=datetime.timedelta(seconds=20),
    )
    try:
        import trl.generation.vllm_generation as trl_vllm

        from cobalt_rl.train.episodes import vllm_generate

        # vLLM's SamplingParams, absent without vLLM: TRL's colocate branch only builds one
        trl_vllm.SamplingParams = lambda **kwargs: kwargs  # type: ignore[attr-defined]
        engine = _engine(mode)
        if mode == "colocate":

            def gather_like_fsdp() -> None:  # the sharded weights' re-sync: collective
                dist.all_reduce(torch.ones(1))
                engine._llm_weights_sleeping = False

            engine.sync_weights = gather_like_fsdp
        contexts = CONTEXTS[case][rank]
        replies = vllm_generate(_trainer(engine))(contexts, 8)
        results[rank] = [ids for ids, _ in replies]
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("mode", "case"), [("server", "uneven"), ("server", "idle"),
                                            ("colocate", "idle")])  # fmt: skip
def test_each_process_gets_the_replies_to_its_own_contexts(mode: str, case: str) -> None:
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_run, args=(_port(), mode, case, results), nprocs=2)
        got = dict(results)
    for rank in (0, 1):
        want = [[c[0] + 1000, len(c)] for c in CONTEXTS[case][rank]]
        assert got[rank] == want, f"rank {rank} got {got[rank]}, wanted {want}"
