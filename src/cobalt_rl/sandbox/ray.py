"""The Ray sandbox backend: local sandboxes in Ray actors spread over a cluster's CPUs.

At paper scale one GRPO step runs ~2,048 programs on ~20 tests each; the reference ran 80
sandbox replicas behind Ray Serve. Here each Ray actor owns a
:class:`~cobalt_rl.sandbox.local.LocalSandbox` (warm bubblewrap workers on the node the actor
landed on, one CPU per worker), and a dispatcher thread in the calling process spreads the
requests over the actors. Isolation is exactly the local backend's (see
:mod:`cobalt_rl.sandbox`): a program runs in a worker on some node and can fail only itself;
every node needs bubblewrap and the same cobalt-rl installation. Outputs are compared inside
the actor by the same code as locally, so verdicts are the same as the local backend's.

Scheduling and failures:

- **back-pressure**: an actor holds at most ``capacity`` requests (default twice its workers,
  or its share of ``max_in_flight``), sent in chunks of a quarter of its worker count; the
  rest wait in the dispatcher's queue, so a slow actor is simply given less;
- **deadlines**: a chunk has ``request_timeout_s`` for each round of requests its actor has
  ahead of it and in it (``ceil(queued / workers)`` rounds); past that every request the
  late actor holds is sent again, one per chunk, to other actors, and the late actor gets no
  new work until it answers. One that does not answer for a second deadline is killed and
  replaced;
- **actor death** (the node died, the process was killed): the actor is replaced and every
  request it held is sent again elsewhere;
- **exactly one result per request**: results are keyed by request and the first to arrive
  is kept; any later one (a straggler's, or a retry's) is dropped and counted in
  ``stats["late_results"]``, never counted twice. A request that fails ``max_attempts`` times
  (its actor died or missed the deadline each time) gets a ``sandbox_error`` outcome per test:
  our infrastructure failed, not the program;
- actors that fail to *start* (no bubblewrap on a node, cobalt-rl not installed there) three
  times in a row make the sandbox raise :class:`~cobalt_rl.errors.SandboxError` instead of
  looping.

Like the local backend, identical requests are answered from a content-addressed cache (kept
in the calling process) and identical requests in flight share one execution.
"""

from __future__ import annotations

try:
    import ray
except ImportError as e:  # pragma: no cover - exercised only without Ray
    raise ImportError(
        "the Ray sandbox backend needs Ray: pip install 'cobalt-rl[ray]'"
        f" (importing ray failed: {e})"
    ) from e

import os
import threading
from concurrent.futures import Future
from typing import Any

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import ExecResult
from cobalt_rl.sandbox._ray_dispatch import Dispatcher, Job
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.cached import FutureSandbox, ResultCache
from cobalt_rl.sandbox.limits import Limits

__all__ = ["RaySandbox", "default_request_timeout"]


def default_request_timeout(limits: Limits) -> float:
    """The deadline of one request: its program's whole budget twice over, plus time for
    worker restarts and a loaded node (a deadline only triggers a retry; too short wastes
    work, too long delays recovery from a stuck node)."""
    return 2.0 * limits.program_timeout_s + 15.0


class RaySandbox(FutureSandbox):
    """Local sandboxes in Ray actors across a cluster (implements ``Sandbox``).

    Args:
        actors: number of sandbox actors. With ``workers_per_actor`` also unset: one actor
            per node, as many workers as the node has CPUs. Otherwise the cluster's free
            CPUs divided by the other setting; actors are spread over the nodes.
        workers_per_actor: sandbox workers (and CPUs) per actor.
        limits: default limits for requests that carry none.
        address: Ray cluster to connect to; None: the one this process is connected to, or
            a new local one (stopped again by :meth:`close`).
        request_timeout_s: deadline per request, after which it is retried elsewhere
            (default: :func:`default_request_timeout` of its limits).
        max_in_flight: requests outstanding at once over all actors (default: twice the
            workers).
        require_isolation: actors refuse to start without bubblewrap.
        cache_size: results kept in the content-addressed cache (0 disables it).
        max_attempts: tries of one request before it is given a ``sandbox_error`` result.
    """

    def __init__(
        self,
        actors: int | None = None,
        workers_per_actor: int | None = None,
        limits: Limits | None = None,
        address: str | None = None,
        request_timeout_s: float | None = None,
        max_in_flight: int | None = None,
        require_isolation: bool = False,
        cache_size: int = 100_000,
        max_attempts: int = 3,
    ):
        for name, value in (
            ("actors", actors),
            ("workers_per_actor", workers_per_actor),
            ("max_in_flight", max_in_flight),
        ):
            if value is not None and value < 1:
                raise SandboxError(f"{name} must be >= 1, got {value}")
        if request_timeout_s is not None and request_timeout_s <= 0:
            raise SandboxError(f"request_timeout_s must be > 0, got {request_timeout_s}")
        if max_attempts < 1:
            raise SandboxError(f"max_attempts must be >= 1, got {max_attempts}")
        self.limits = limits or Limits()
        self.request_timeout_s = request_timeout_s
        self._lock = threading.Lock()  # guards the cache and the dispatcher's queue and counts
        self._dispatcher = Dispatcher(self.limits, require_isolation, max_attempts, self._lock)
        self._cache = ResultCache(
            self._start, self._check_open, self.limits, cache_size, self._lock
        )

        self._owns_ray = False
        if not ray.is_initialized():
            try:
                if address is None:
                    # A private cluster on this machine: nothing to report anywhere.
                    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                    ray.init(include_dashboard=False)
                else:
                    ray.init(address=address)
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
                raise SandboxError(f"cannot start or reach {where}: {e}") from e
            self._owns_ray = True
        try:
            self._dispatcher.start_actors(actors, workers_per_actor, max_in_flight)
        except BaseException:
            self._dispatcher.kill_all()
            if self._owns_ray:
                ray.shutdown()
            raise
        self.num_workers = sum(a.workers for a in self._dispatcher.actors)
        self._dispatcher.start()

    def close(self) -> None:
        """Stop the dispatcher and every actor; stop Ray if we started it. Safe to call twice."""
        if self._dispatcher.closed:
            return
        self._dispatcher.stop()
        if self._owns_ray:
            ray.shutdown()

    @property
    def actors(self) -> list[dict[str, Any]]:
        """Each live actor's pid, host, node id, workers and isolation level."""
        return [dict(a.info) for a in self._dispatcher.actors if a.ready]

    # -- submitting ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._dispatcher.closed:
            raise SandboxError("the sandbox is closed")
        if self._dispatcher.broken:
            raise SandboxError(self._dispatcher.broken)

    def _start(self, request: ExecRequest, key: str) -> Future[ExecResult]:
        future: Future[ExecResult] = Future()
        timeout = self.request_timeout_s or default_request_timeout(request.limits or self.limits)
        self._dispatcher.enqueue(Job(request, request.model_dump_json(), key, future, timeout))
        return future

    @property
    def stats(self) -> dict[str, int]:
        """Programs and tests run, cache hits, workers and actors replaced, retries, missed
        deadlines and late results dropped."""
        with self._lock:
            return {**self._dispatcher.counts, "cache_hits": self._cache.hits}

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule ``request``; the future resolves to its ``ExecResult``."""
        future = self._cache.submit(request)
        self._dispatcher.wake.set()
        return future
