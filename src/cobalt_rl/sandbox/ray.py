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
    from ray.exceptions import GetTimeoutError, RayError
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
except ImportError as e:  # pragma: no cover - exercised only without Ray
    raise ImportError(
        "the Ray sandbox backend needs Ray: pip install 'cobalt-rl[ray]'"
        f" (importing ray failed: {e})"
    ) from e

import contextlib
import logging
import math
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import ExecResult, Status, TestOutcome
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.cached import ResultCache, run_all
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.local import LocalSandbox
from cobalt_rl.sandbox.verdicts import exec_result

if TYPE_CHECKING:
    from cobalt_rl.sandbox.config import RaySandboxConfig

__all__ = ["RaySandbox"]

log = logging.getLogger(__name__)

POLL_S = 0.05  # longest the dispatcher sleeps in ray.wait (new submissions, deadlines)
START_TIMEOUT_S = 120.0  # placing and starting the actors (a busy cluster queues them)
CLOSE_TIMEOUT_S = 10.0  # a graceful close of the actors before they are killed
MAX_START_FAILURES = 3  # consecutive actor start failures before we give up
# An actor's round of work (one request per worker) goes out in this many calls: a call
# returns when its slowest program ends, so smaller calls keep the workers busier.
CHUNKS_PER_ROUND = 4


def default_request_timeout(limits: Limits) -> float:
    """The deadline of one request: its program's whole budget twice over, plus time for
    worker restarts and a loaded node (a deadline only triggers a retry; too short wastes
    work, too long delays recovery from a stuck node)."""
    return 2.0 * limits.program_timeout_s + 15.0


def _nodes() -> list[dict[str, Any]]:
    nodes: Callable[[], list[dict[str, Any]]] = ray.nodes  # untyped in Ray
    return nodes()


def _free_resources() -> dict[str, float]:
    free: Callable[[], dict[str, float]] = ray.available_resources  # untyped in Ray
    return free()


class _SandboxActor:
    """Runs inside a Ray actor: one local sandbox on the actor's node.

    Requests and results cross the wire as JSON (the records' own format), not pickles.
    """

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


_RemoteActor = ray.remote(_SandboxActor)


@dataclass(eq=False)
class _Job:
    """One distinct request and the future its callers wait on."""

    request: ExecRequest
    payload: str
    key: str
    future: Future[ExecResult]
    timeout_s: float
    attempts: int = 0
    queued: bool = True
    active: set[_Call] = field(default_factory=set)  # live calls not past their deadline
    failed_on: set[int] = field(default_factory=set)  # actors that failed it
    errors: list[str] = field(default_factory=list)


@dataclass(eq=False)
class _Actor:
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


@dataclass(eq=False)
class _Call:
    actor: _Actor
    jobs: list[_Job]
    sent: float
    span: float
    overdue: bool = False

    @property
    def deadline(self) -> float:
        return self.sent + self.span


class RaySandbox:
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
        self.max_attempts = max_attempts
        self.require_isolation = require_isolation
        self._counts = {
            "programs": 0,
            "tests": 0,
            "worker_restarts": 0,
            "retries": 0,
            "actor_restarts": 0,
            "deadline_misses": 0,
            "late_results": 0,
        }
        self._lock = threading.Lock()  # guards _pending and _counts, and the cache
        self._cache = ResultCache(
            self._start, self._check_open, self.limits, cache_size, self._lock
        )
        self._wake = threading.Event()
        self._pending: deque[_Job] = deque()
        # Touched only by the dispatcher thread once it runs:
        self._actors: list[_Actor] = []
        self._starting: dict[Any, _Actor] = {}  # info() ref -> actor not yet ready
        self._calls: dict[Any, _Call] = {}  # run() ref -> call
        self._restarts_seen: dict[int, int] = {}  # actor serial -> its worker_restarts
        self._serial = 0
        self._start_failures = 0
        self._closed = False
        self._broken: str | None = None

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
            self._start_actors(actors, workers_per_actor, max_in_flight)
        except BaseException:
            self._kill_all()
            if self._owns_ray:
                ray.shutdown()
            raise
        self.num_workers = sum(a.workers for a in self._actors)
        self._thread = threading.Thread(target=self._run, name="ray-sandbox", daemon=True)
        self._thread.start()

    @classmethod
    def from_config(cls, cfg: RaySandboxConfig, require_isolation: bool = False) -> RaySandbox:
        """The sandbox a :class:`~cobalt_rl.sandbox.config.RaySandboxConfig` describes."""
        return cls(
            actors=cfg.ray_actors,
            workers_per_actor=cfg.workers,
            limits=cfg.limits,
            address=cfg.ray_address,
            request_timeout_s=cfg.request_timeout_s,
            max_in_flight=cfg.max_in_flight,
            require_isolation=require_isolation,
        )

    # -- lifecycle -------------------------------------------------------------------------

    def _plan(self, actors: int | None, workers: int | None) -> list[tuple[int, dict[str, Any]]]:
        """(workers, Ray options) for each actor to start."""
        if actors is None and workers is None:
            nodes = [n for n in _nodes() if n.get("Alive") and n["Resources"].get("CPU", 0)]
            return [
                (
                    int(n["Resources"]["CPU"]),
                    {
                        "scheduling_strategy": NodeAffinitySchedulingStrategy(
                            node_id=n["NodeID"], soft=True
                        )
                    },
                )
                for n in nodes
                if int(n["Resources"]["CPU"]) >= 1
            ]
        cpus = int(_free_resources().get("CPU", 0))
        if actors is None:
            assert workers is not None
            actors = max(1, cpus // workers)
        elif workers is None:
            workers = max(1, cpus // actors)
        return [(workers, {"scheduling_strategy": "SPREAD"})] * actors

    def _start_actors(
        self, actors: int | None, workers: int | None, max_in_flight: int | None
    ) -> None:
        plan = self._plan(actors, workers)
        if not plan:
            raise SandboxError("the Ray cluster has no node with a CPU for a sandbox actor")
        total = sum(w for w, _ in plan)
        for w, options in plan:
            share = 2 * w if max_in_flight is None else round(max_in_flight * w / total)
            capacity = max(1, share)
            self._actors.append(self._new_actor(w, capacity, options))
        refs = {a.handle.info.remote(): a for a in self._actors}
        try:
            infos = ray.get(list(refs), timeout=START_TIMEOUT_S)
        except GetTimeoutError as e:
            free = _free_resources().get("CPU", 0)
            raise SandboxError(
                f"could not place {len(plan)} sandbox actors ({total} CPUs in all) on the Ray "
                f"cluster within {START_TIMEOUT_S:.0f} s ({free:g} CPUs free now); ask for "
                "fewer actors or workers (ray_actors, workers)"
            ) from e
        except RayError as e:
            raise SandboxError(f"a Ray sandbox actor failed to start: {e}") from e
        for actor, info in zip(refs.values(), infos, strict=True):
            self._ready(actor, info)

    def _new_actor(self, workers: int, capacity: int, options: dict[str, Any]) -> _Actor:
        self._serial += 1
        handle = _RemoteActor.options(
            num_cpus=workers,
            max_concurrency=capacity + 2,  # every call it holds runs at once, plus info/close
            max_restarts=0,  # we replace it ourselves, knowing what it held
            **options,
        ).remote(workers, self.limits.model_dump_json(), self.require_isolation)
        return _Actor(self._serial, handle, workers, capacity, options)

    def _ready(self, actor: _Actor, info: dict[str, Any]) -> None:
        actor.info, actor.ready = info, True
        self._start_failures = 0
        if info.get("isolation") != "bwrap":
            log.warning(
                "sandbox actor on %s runs with %s isolation (no working bubblewrap there)",
                info.get("host"),
                info.get("isolation"),
            )

    def close(self) -> None:
        """Stop the dispatcher and every actor; stop Ray if we started it. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join()
        self._fail_everything("the Ray sandbox was closed")
        with contextlib.suppress(RayError):
            ray.get([a.handle.close.remote() for a in self._actors], timeout=CLOSE_TIMEOUT_S)
        self._kill_all()
        if self._owns_ray:
            ray.shutdown()

    def _kill_all(self) -> None:
        for actor in [*self._actors, *self._starting.values()]:
            with contextlib.suppress(RayError):
                ray.kill(actor.handle, no_restart=True)

    def __enter__(self) -> RaySandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def actors(self) -> list[dict[str, Any]]:
        """Each live actor's pid, host, node id, workers and isolation level."""
        return [dict(a.info) for a in self._actors if a.ready]

    # -- submitting ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")
        if self._broken:
            raise SandboxError(self._broken)

    def _start(self, request: ExecRequest, key: str) -> Future[ExecResult]:
        future: Future[ExecResult] = Future()
        timeout = self.request_timeout_s or default_request_timeout(request.limits or self.limits)
        self._pending.append(_Job(request, request.model_dump_json(), key, future, timeout))
        return future

    @property
    def stats(self) -> dict[str, int]:
        """Programs and tests run, cache hits, workers and actors replaced, retries, missed
        deadlines and late results dropped."""
        with self._lock:
            return {**self._counts, "cache_hits": self._cache.hits}

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule ``request``; the future resolves to its ``ExecResult``."""
        future = self._cache.submit(request)
        self._wake.set()
        return future

    def run(self, request: ExecRequest) -> ExecResult:
        return self.submit(request).result()

    def run_batch(
        self,
        requests: Sequence[ExecRequest],
        progress: Callable[[int], None] | None = None,
    ) -> list[ExecResult]:
        """Run ``requests`` concurrently; ``progress(n)`` is called as each finishes."""
        return run_all(self.submit, requests, progress)

    # -- the dispatcher thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._closed and not self._broken:
                self._dispatch()
                self._wait()
                self._check_deadlines()
        except BaseException as e:  # our bug: fail the callers loudly, never hang them
            log.exception("the Ray sandbox dispatcher failed")
            self._broken = f"the Ray sandbox dispatcher failed: {e!r}"
        if self._broken:
            self._fail_everything(self._broken)

    def _wait(self) -> None:
        refs = [*self._calls, *self._starting]
        if not refs:
            self._wake.wait(POLL_S * 10)
            self._wake.clear()
            return
        now = time.monotonic()
        nearest = min(
            (c.deadline for c in self._calls.values() if not c.overdue), default=now + POLL_S
        )
        timeout = min(POLL_S, max(0.0, nearest - now))
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:
            rest = [r for r in refs if r not in ready]
            if rest:
                more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
                ready += more
        for ref in ready:  # (a call of an actor replaced meanwhile was sent again then)
            if ref in self._starting:
                self._started(ref)
            elif ref in self._calls:
                self._returned(ref)

    def _started(self, ref: Any) -> None:
        actor = self._starting.pop(ref)
        try:
            info = ray.get(ref)
        except RayError as e:
            self._start_failed(actor, str(e))
            return
        self._actors.append(actor)
        self._ready(actor, info)

    def _start_failed(self, actor: _Actor, error: str) -> None:
        self._start_failures += 1
        log.warning("a replacement sandbox actor failed to start: %s", error)
        if self._start_failures >= MAX_START_FAILURES:
            self._broken = (
                f"{self._start_failures} sandbox actors in a row failed to start; the last "
                f"error: {error}"
            )
            with contextlib.suppress(RayError):
                ray.kill(actor.handle, no_restart=True)
            return
        self._replace(actor, "it failed to start", count=False)

    def _next_job(self) -> _Job | None:
        """The first queued job not answered meanwhile (by a straggler)."""
        with self._lock:
            while self._pending:
                job = self._pending[0]
                if job.future.done():
                    self._pending.popleft()
                    job.queued = False
                    continue
                return job
        return None

    def _dispatch(self) -> None:
        while True:
            free = [a for a in self._actors if a.free > 0 and not a.overdue]
            job = self._next_job()
            if not free or job is None:
                return
            free.sort(key=lambda a: a.outstanding / a.workers)
            if job.attempts:  # a retry: on its own, away from the actors that failed it
                actor = next((a for a in free if a.serial not in job.failed_on), free[0])
                chunk = self._take(1)
            else:
                actor = free[0]
                chunk = self._take(min(actor.free, math.ceil(actor.workers / CHUNKS_PER_ROUND)))
            if chunk:
                self._send(actor, chunk)

    def _take(self, n: int) -> list[_Job]:
        """Up to ``n`` queued jobs from the front (a chunk of retries is a single job)."""
        taken: list[_Job] = []
        with self._lock:
            while self._pending and len(taken) < n:
                job = self._pending[0]
                if taken and job.attempts:
                    break
                self._pending.popleft()
                job.queued = False
                if not job.future.done():
                    taken.append(job)
                if job.attempts:
                    break
        return taken

    def _send(self, actor: _Actor, jobs: list[_Job]) -> None:
        rounds = math.ceil((actor.outstanding + len(jobs)) / actor.workers)
        span = max(j.timeout_s for j in jobs) * rounds
        ref = actor.handle.run.remote([j.payload for j in jobs])
        call = _Call(actor, jobs, time.monotonic(), span)
        self._calls[ref] = call
        actor.outstanding += len(jobs)
        for job in jobs:
            job.attempts += 1
            job.active.add(call)

    def _returned(self, ref: Any) -> None:
        call = self._calls.pop(ref)
        actor = call.actor
        actor.outstanding -= len(call.jobs)
        if call.overdue:
            actor.overdue -= 1
        for job in call.jobs:
            job.active.discard(call)
        try:
            payloads, stats = ray.get(ref)
        except RayError as e:
            self._replace(actor, f"its actor failed: {type(e).__name__}", failed=call)
            return
        actor.served += 1
        self._restarts_seen[actor.serial] = stats.get("worker_restarts", 0)
        accepted: list[tuple[_Job, ExecResult]] = []
        late = 0
        for job, payload in zip(call.jobs, payloads, strict=True):
            if job.future.done():
                late += 1
                continue
            accepted.append((job, ExecResult.model_validate_json(payload)))
        with self._lock:
            self._counts["late_results"] += late
            self._counts["programs"] += len(accepted)
            self._counts["tests"] += sum(len(r.outcomes) for _, r in accepted)
            self._counts["worker_restarts"] = sum(self._restarts_seen.values())
        for job, result in accepted:
            job.future.set_result(result)

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        for ref, actor in list(self._starting.items()):
            if now > actor.created + START_TIMEOUT_S:  # cannot be placed (a node is gone?)
                del self._starting[ref]
                self._start_failed(actor, f"not started within {START_TIMEOUT_S:.0f} s")
        for call in list(self._calls.values()):
            if call.actor not in self._actors:
                continue
            if not call.overdue and now > call.deadline:
                self._late(call.actor, f"no answer within {call.span:.0f} s")
            elif call.overdue and now > call.deadline + call.span:
                self._replace(call.actor, f"no answer within {2 * call.span:.0f} s")

    def _late(self, actor: _Actor, reason: str) -> None:
        """``actor`` missed a deadline: send everything it holds elsewhere too (its queue is
        behind that call) and give it nothing new until it answers."""
        jobs: list[_Job] = []
        for call in self._calls.values():
            if call.actor is actor and not call.overdue:
                call.overdue = True
                actor.overdue += 1
                for job in call.jobs:
                    job.active.discard(call)
                jobs += call.jobs
        with self._lock:
            self._counts["deadline_misses"] += 1
        self._requeue(jobs, actor, reason)

    def _requeue(self, jobs: list[_Job], actor: _Actor, reason: str) -> None:
        """Send ``jobs`` again (those not answered, queued or held by a punctual call)."""
        retry: list[_Job] = []
        for job in jobs:
            if job.future.done() or job.queued or job.active:
                continue
            job.failed_on.add(actor.serial)
            job.errors.append(reason)
            if job.attempts >= self.max_attempts:
                self._give_up(job)
            else:
                retry.append(job)
        if retry:
            with self._lock:
                self._counts["retries"] += len(retry)
                for job in reversed(retry):
                    job.queued = True
                    self._pending.appendleft(job)

    def _give_up(self, job: _Job) -> None:
        detail = f"no result after {job.attempts} attempts on Ray actors: " + "; ".join(job.errors)
        request = job.request
        outcomes = [TestOutcome(status=Status.SANDBOX_ERROR, detail=detail) for _ in request.tests]
        with self._lock:
            self._counts["programs"] += 1
            self._counts["tests"] += len(outcomes)
        job.future.set_result(exec_result(request, outcomes, request.limits or self.limits))

    def _replace(
        self, actor: _Actor, reason: str, failed: _Call | None = None, count: bool = True
    ) -> None:
        """Kill ``actor``, start another like it and send what it held elsewhere."""
        log.warning(
            "replacing sandbox actor %s (%s): %s", actor.serial, actor.info.get("host"), reason
        )
        with contextlib.suppress(RayError):
            ray.kill(actor.handle, no_restart=True)
        if actor in self._actors:
            self._actors.remove(actor)
        held = [failed] if failed else []
        for ref, call in list(self._calls.items()):
            if call.actor is actor:
                del self._calls[ref]
                held.append(call)
                for job in call.jobs:
                    job.active.discard(call)
        for call in held:
            self._requeue(call.jobs, actor, reason)
        if count:
            with self._lock:
                self._counts["actor_restarts"] += 1
        new = self._new_actor(actor.workers, actor.capacity, actor.options)
        self._starting[new.handle.info.remote()] = new

    def _fail_everything(self, message: str) -> None:
        with self._lock:
            if not self._broken:
                self._broken = message
            jobs = list(self._pending)
            self._pending.clear()
        jobs += [j for c in self._calls.values() for j in c.jobs]
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(SandboxError(message))
