"""The dispatcher of the Ray sandbox backend: one thread in the calling process that sends
queued requests to the actors, watches deadlines, and replaces actors that die or hang (the
rules are in :mod:`cobalt_rl.sandbox.ray`'s docstring).

Every result goes to its request's future exactly once: the first to arrive is kept, a later
one (a straggler's, a retry's) is counted as late and dropped.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayError

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import ExecResult, Status, TestOutcome
from cobalt_rl.sandbox._ray_actor import Actor, free_resources, plan_actors, spawn
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.verdicts import exec_result

__all__ = ["Call", "Dispatcher", "Job"]

log = logging.getLogger("cobalt_rl.sandbox.ray")

POLL_S = 0.05  # longest the dispatcher sleeps in ray.wait (new submissions, deadlines)
START_TIMEOUT_S = 120.0  # placing and starting the actors (a busy cluster queues them)
CLOSE_TIMEOUT_S = 10.0  # a graceful close of the actors before they are killed
MAX_START_FAILURES = 3  # consecutive actor start failures before we give up
# An actor's round of work (one request per worker) goes out in this many calls: a call
# returns when its slowest program ends, so smaller calls keep the workers busier.
CHUNKS_PER_ROUND = 4


@dataclass(eq=False)
class Job:
    """One distinct request and the future its callers wait on."""

    request: ExecRequest
    payload: str
    key: str
    future: Future[ExecResult]
    timeout_s: float
    attempts: int = 0
    queued: bool = True
    active: set[Call] = field(default_factory=set)  # live calls not past their deadline
    failed_on: set[int] = field(default_factory=set)  # actors that failed it
    errors: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Call:
    actor: Actor
    jobs: list[Job]
    sent: float
    span: float
    overdue: bool = False

    @property
    def deadline(self) -> float:
        return self.sent + self.span


class Dispatcher:
    """The actors and the work queued for and held by them.

    ``lock`` (the sandbox's, shared with its result cache) guards :attr:`pending` and
    :attr:`counts`; everything else is touched only by the dispatcher thread once it runs.
    """

    def __init__(
        self, limits: Limits, require_isolation: bool, max_attempts: int, lock: threading.Lock
    ):
        self.limits = limits
        self.require_isolation = require_isolation
        self.max_attempts = max_attempts
        self._lock = lock
        self.counts = {
            "programs": 0,
            "tests": 0,
            "worker_restarts": 0,
            "retries": 0,
            "actor_restarts": 0,
            "deadline_misses": 0,
            "late_results": 0,
        }
        self.wake = threading.Event()
        self.pending: deque[Job] = deque()
        self.actors: list[Actor] = []
        self._starting: dict[Any, Actor] = {}  # info() ref -> actor not yet ready
        self._calls: dict[Any, Call] = {}  # run() ref -> call
        self._restarts_seen: dict[int, int] = {}  # actor serial -> its worker_restarts
        self._serial = 0
        self._start_failures = 0
        self._thread: threading.Thread | None = None
        self.closed = False
        self.broken: str | None = None

    def start_actors(
        self, actors: int | None, workers: int | None, max_in_flight: int | None
    ) -> None:
        plan = plan_actors(actors, workers)
        if not plan:
            raise SandboxError("the Ray cluster has no node with a CPU for a sandbox actor")
        total = sum(w for w, _ in plan)
        for w, options in plan:
            share = 2 * w if max_in_flight is None else round(max_in_flight * w / total)
            capacity = max(1, share)
            self.actors.append(self._new_actor(w, capacity, options))
        refs = {a.handle.info.remote(): a for a in self.actors}
        try:
            infos = ray.get(list(refs), timeout=START_TIMEOUT_S)
        except GetTimeoutError as e:
            free = free_resources().get("CPU", 0)
            raise SandboxError(
                f"could not place {len(plan)} sandbox actors ({total} CPUs in all) on the Ray "
                f"cluster within {START_TIMEOUT_S:.0f} s ({free:g} CPUs free now); ask for "
                "fewer actors or workers (ray_actors, workers)"
            ) from e
        except RayError as e:
            raise SandboxError(f"a Ray sandbox actor failed to start: {e}") from e
        for actor, info in zip(refs.values(), infos, strict=True):
            self._ready(actor, info)

    def _new_actor(self, workers: int, capacity: int, options: dict[str, Any]) -> Actor:
        self._serial += 1
        return spawn(self._serial, workers, capacity, options, self.limits, self.require_isolation)

    def _ready(self, actor: Actor, info: dict[str, Any]) -> None:
        actor.info, actor.ready = info, True
        self._start_failures = 0
        if info.get("isolation") != "bwrap":
            log.warning(
                "sandbox actor on %s runs with %s isolation (no working bubblewrap there)",
                info.get("host"),
                info.get("isolation"),
            )

    def start(self) -> None:
        """Start the dispatcher thread."""
        self._thread = threading.Thread(target=self._run, name="ray-sandbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, fail what is left, close and kill every actor. Safe twice."""
        if self.closed:
            return
        self.closed = True
        self.wake.set()
        if self._thread is not None:
            self._thread.join()
        self._fail_everything("the Ray sandbox was closed")
        with contextlib.suppress(RayError):
            ray.get([a.handle.close.remote() for a in self.actors], timeout=CLOSE_TIMEOUT_S)
        self.kill_all()

    def kill_all(self) -> None:
        for actor in [*self.actors, *self._starting.values()]:
            with contextlib.suppress(RayError):
                ray.kill(actor.handle, no_restart=True)

    def enqueue(self, job: Job) -> None:
        """Queue ``job`` (call under the lock); :attr:`wake` tells the thread."""
        self.pending.append(job)

    def _run(self) -> None:
        try:
            while not self.closed and not self.broken:
                self._dispatch()
                self._wait()
                self._check_deadlines()
        except BaseException as e:  # our bug: fail the callers loudly, never hang them
            log.exception("the Ray sandbox dispatcher failed")
            self.broken = f"the Ray sandbox dispatcher failed: {e!r}"
        if self.broken:
            self._fail_everything(self.broken)

    def _wait(self) -> None:
        refs = [*self._calls, *self._starting]
        if not refs:
            self.wake.wait(POLL_S * 10)
            self.wake.clear()
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
        self.actors.append(actor)
        self._ready(actor, info)

    def _start_failed(self, actor: Actor, error: str) -> None:
        self._start_failures += 1
        log.warning("a replacement sandbox actor failed to start: %s", error)
        if self._start_failures >= MAX_START_FAILURES:
            self.broken = (
                f"{self._start_failures} sandbox actors in a row failed to start; the last "
                f"error: {error}"
            )
            with contextlib.suppress(RayError):
                ray.kill(actor.handle, no_restart=True)
            return
        self._replace(actor, "it failed to start", count=False)

    def _next_job(self) -> Job | None:
        """The first queued job not answered meanwhile (by a straggler)."""
        with self._lock:
            while self.pending:
                job = self.pending[0]
                if job.future.done():
                    self.pending.popleft()
                    job.queued = False
                    continue
                return job
        return None

    def _dispatch(self) -> None:
        while True:
            free = [a for a in self.actors if a.free > 0 and not a.overdue]
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

    def _take(self, n: int) -> list[Job]:
        """Up to ``n`` queued jobs from the front (a chunk of retries is a single job)."""
        taken: list[Job] = []
        with self._lock:
            while self.pending and len(taken) < n:
                job = self.pending[0]
                if taken and job.attempts:
                    break
                self.pending.popleft()
                job.queued = False
                if not job.future.done():
                    taken.append(job)
                if job.attempts:
                    break
        return taken

    def _send(self, actor: Actor, jobs: list[Job]) -> None:
        rounds = math.ceil((actor.outstanding + len(jobs)) / actor.workers)
        span = max(j.timeout_s for j in jobs) * rounds
        ref = actor.handle.run.remote([j.payload for j in jobs])
        call = Call(actor, jobs, time.monotonic(), span)
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
        accepted: list[tuple[Job, ExecResult]] = []
        late = 0
        for job, payload in zip(call.jobs, payloads, strict=True):
            if job.future.done():
                late += 1
                continue
            accepted.append((job, ExecResult.model_validate_json(payload)))
        with self._lock:
            self.counts["late_results"] += late
            self.counts["programs"] += len(accepted)
            self.counts["tests"] += sum(len(r.outcomes) for _, r in accepted)
            self.counts["worker_restarts"] = sum(self._restarts_seen.values())
        for job, result in accepted:
            job.future.set_result(result)

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        for ref, actor in list(self._starting.items()):
            if now > actor.created + START_TIMEOUT_S:  # cannot be placed (a node is gone?)
                del self._starting[ref]
                self._start_failed(actor, f"not started within {START_TIMEOUT_S:.0f} s")
        for call in list(self._calls.values()):
            if call.actor not in self.actors:
                continue
            if not call.overdue and now > call.deadline:
                self._late(call.actor, f"no answer within {call.span:.0f} s")
            elif call.overdue and now > call.deadline + call.span:
                self._replace(call.actor, f"no answer within {2 * call.span:.0f} s")

    def _late(self, actor: Actor, reason: str) -> None:
        """``actor`` missed a deadline: send everything it holds elsewhere too (its queue is
        behind that call) and give it nothing new until it answers."""
        jobs: list[Job] = []
        for call in self._calls.values():
            if call.actor is actor and not call.overdue:
                call.overdue = True
                actor.overdue += 1
                for job in call.jobs:
                    job.active.discard(call)
                jobs += call.jobs
        with self._lock:
            self.counts["deadline_misses"] += 1
        self._requeue(jobs, actor, reason)

    def _requeue(self, jobs: list[Job], actor: Actor, reason: str) -> None:
        """Send ``jobs`` again (those not answered, queued or held by a punctual call)."""
        retry: list[Job] = []
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
                self.counts["retries"] += len(retry)
                for job in reversed(retry):
                    job.queued = True
                    self.pending.appendleft(job)

    def _give_up(self, job: Job) -> None:
        detail = f"no result after {job.attempts} attempts on Ray actors: " + "; ".join(job.errors)
        request = job.request
        outcomes = [TestOutcome(status=Status.SANDBOX_ERROR, detail=detail) for _ in request.tests]
        with self._lock:
            self.counts["programs"] += 1
            self.counts["tests"] += len(outcomes)
        job.future.set_result(exec_result(request, outcomes, request.limits or self.limits))

    def _replace(
        self, actor: Actor, reason: str, failed: Call | None = None, count: bool = True
    ) -> None:
        """Kill ``actor``, start another like it and send what it held elsewhere."""
        log.warning(
            "replacing sandbox actor %s (%s): %s", actor.serial, actor.info.get("host"), reason
        )
        with contextlib.suppress(RayError):
            ray.kill(actor.handle, no_restart=True)
        if actor in self.actors:
            self.actors.remove(actor)
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
                self.counts["actor_restarts"] += 1
        new = self._new_actor(actor.workers, actor.capacity, actor.options)
        self._starting[new.handle.info.remote()] = new

    def _fail_everything(self, message: str) -> None:
        with self._lock:
            if not self.broken:
                self.broken = message
            jobs = list(self.pending)
            self.pending.clear()
        jobs += [j for c in self._calls.values() for j in c.jobs]
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(SandboxError(message))
