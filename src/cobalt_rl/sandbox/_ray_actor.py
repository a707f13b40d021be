"""The Ray side of the Ray sandbox backend: the actor that owns a local sandbox on its node,
where actors go (:func:`plan_actors`), and the dispatcher's record of each (:class:`Actor`).

Requests and results cross the wire as JSON (the records' own format), not pickles.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.local import LocalSandbox

__all__ = ["Actor", "RemoteActor", "SandboxActor", "free_resources", "plan_actors", "spawn"]


def nodes() -> list[dict[str, Any]]:
    listing: Callable[[], list[dict[str, Any]]] = ray.nodes  # untyped in Ray
    return listing()


def free_resources() -> dict[str, float]:
    free: Callable[[], dict[str, float]] = ray.available_resources  # untyped in Ray
    return free()


class SandboxActor:
    """Runs inside a Ray actor: one local sandbox on the actor's node."""

    def __init__(self, workers: int, limits_json: str, require_isolation: bool):
        self.sandbox = LocalSandbox(
            workers=workers,
            limits=Limits.model_validate_json(limits_json),
            require_isolation=require_isolation,
            cache_size=0,  # the driver caches; a retry must really run again
        )

    def info(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "workers": self.sandbox.num_workers,
            "isolation": self.sandbox.isolation.value,
        }

    def run(self, payloads: list[str]) -> tuple[list[str], dict[str, int]]:
        requests = [ExecRequest.model_validate_json(p) for p in payloads]
        results = self.sandbox.run_batch(requests)
        return [r.model_dump_json() for r in results], dict(self.sandbox.stats)

    def close(self) -> None:
        self.sandbox.close()


RemoteActor = ray.remote(SandboxActor)


@dataclass(eq=False)
class Actor:
    """The dispatcher's record of one actor: its handle, size and the work it holds."""

    serial: int
    handle: Any  # ray.actor.ActorHandle
    workers: int
    capacity: int
    options: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    info: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    served: int = 0
    outstanding: int = 0  # requests in its live calls
    overdue: int = 0  # its live calls past their deadline

    @property
    def free(self) -> int:
        return self.capacity - self.outstanding


def plan_actors(actors: int | None, workers: int | None) -> list[tuple[int, dict[str, Any]]]:
    """(workers, Ray options) for each actor to start."""
    if actors is None and workers is None:
        alive = [n for n in nodes() if n.get("Alive") and n["Resources"].get("CPU", 0)]
        return [
            (
                int(n["Resources"]["CPU"]),
                {
                    "scheduling_strategy": NodeAffinitySchedulingStrategy(
                        node_id=n["NodeID"], soft=True
                    )
                },
            )
            for n in alive
            if int(n["Resources"]["CPU"]) >= 1
        ]
    cpus = int(free_resources().get("CPU", 0))
    if actors is None:
        assert workers is not None
        actors = max(1, cpus // workers)
    elif workers is None:
        workers = max(1, cpus // actors)
    return [(workers, {"scheduling_strategy": "SPREAD"})] * actors


def spawn(
    serial: int,
    workers: int,
    capacity: int,
    options: dict[str, Any],
    limits: Limits,
    require_isolation: bool,
) -> Actor:
    """Start actor number ``serial`` (it answers ``info()`` once its sandbox is up)."""
    handle = RemoteActor.options(
        num_cpus=workers,
        max_concurrency=capacity + 2,  # every call it holds runs at once, plus info/close
        max_restarts=0,  # we replace it ourselves, knowing what it held
        **options,
    ).remote(workers, limits.model_dump_json(), require_isolation)
    return Actor(serial, handle, workers, capacity, options)
