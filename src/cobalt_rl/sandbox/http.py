"""The ``http`` sandbox backend: programs run on one or many ``cobalt sandbox serve`` services.

A batch is cut into chunks (a few requests each, bounded in bytes) that are spread over the
services, least loaded first (chunks in flight per worker). At most ``max_in_flight`` chunks
are outstanding at once over all callers (back-pressure: a larger batch waits for a slot).

Failures and retries: a chunk whose service cannot be reached, resets the connection, misses
its deadline or answers 5xx (draining, busy, broken) is sent again to another service, and
that service is left alone for a while (1 s, doubling to 30 s); before it gets work again a
``GET /healthz`` must answer. Every chunk's results fill exactly its own positions of the
batch's result list, once: a chunk abandoned on one service and answered by another cannot
produce duplicates, and none is dropped. (So a program may *run* twice when a service dies
mid-chunk; programs are judged from their own run, so the verdict is the same.) When every
service keeps failing, :class:`~cobalt_rl.errors.SandboxError` names each one and why.

Errors that another service would repeat (400 a malformed request, 401 a wrong token) are
raised at once. 413 (a chunk too large for the service) splits the chunk in two.

The verdicts are those of the local backend: the service runs the same pool, and every
request is sent with explicit limits (this client's defaults when it carries none), so a
service's own defaults never change a result.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pydantic import ValidationError

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import ExecResult
from cobalt_rl.sandbox._client import MAX_COOLDOWN_S, Service, ServiceClient, ServiceFailed
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.limits import Limits

__all__ = ["HttpSandbox"]

log = logging.getLogger(__name__)

CHUNK_REQUESTS = 16  # most requests in one POST
CHUNK_BYTES = 8 << 20  # and most bytes (the service's default limit is 32 MiB)
HEALTH_TIMEOUT_S = 5.0


class _TooLarge(Exception):
    """The service refused the chunk's size (413)."""


class HttpSandbox:
    """Runs requests on remote sandbox services (implements ``Sandbox``).

    Args:
        urls: base URLs of ``cobalt sandbox serve`` services (``http://host:port``).
        token: bearer token the services expect (None: no ``Authorization`` header).
        limits: limits sent with requests that carry none.
        request_timeout_s: deadline for one chunk on one service, after which it is sent
            elsewhere (default: derived from the chunk's limits and the service's workers).
        max_in_flight: chunks outstanding at once (default: twice what keeps every worker
            busy).
        chunk_requests: most requests per chunk.
        check_health: probe every service now; raise if none answers.
    """

    def __init__(
        self,
        urls: Sequence[str],
        token: str | None = None,
        limits: Limits | None = None,
        request_timeout_s: float | None = None,
        max_in_flight: int | None = None,
        chunk_requests: int = CHUNK_REQUESTS,
        check_health: bool = True,
    ):
        self._client = ServiceClient(urls, token, "http")
        self._services = self._client.services
        self.limits = limits or Limits()
        self.request_timeout_s = request_timeout_s
        self.chunk_requests = max(1, chunk_requests)
        self._lock = threading.Lock()
        self._counts = {"batches": 0, "programs": 0, "chunks": 0, "retries": 0, "splits": 0}
        if check_health:
            self._probe_all()
        total_workers = sum(s.workers for s in self._services)
        self.max_in_flight = max_in_flight or max(
            2 * len(self._services), math.ceil(2 * total_workers / self.chunk_requests)
        )
        self._slots = threading.BoundedSemaphore(self.max_in_flight)
        self._client.start(self.max_in_flight, "http-sandbox")
        # submit() runs a batch of one on threads of its own: a batch waits on the chunk
        # threads above, so it must never hold one of them.
        self._singles = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="http-submit")

    def close(self) -> None:
        """Stop sending; wait for the chunks in flight. Safe to call twice."""
        self._client.close()
        self._singles.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> HttpSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- health ----------------------------------------------------------------------------

    def health(self) -> list[dict[str, Any]]:
        """Each service's ``/healthz`` answer, or ``{"url", "status": "unreachable", ...}``."""
        answers = []
        for svc in self._services:
            try:
                answers.append({"url": svc.url, **self._get_health(svc)})
            except ServiceFailed as e:
                answers.append({"url": svc.url, "status": "unreachable", "error": str(e)})
        return answers

    def _get_health(self, svc: Service) -> dict[str, Any]:
        conn = svc.connect(HEALTH_TIMEOUT_S)
        try:
            conn.request("GET", svc.prefix + "/healthz")
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as e:
            raise ServiceFailed(f"{type(e).__name__}: {e}") from e
        finally:
            conn.close()
        try:
            data: dict[str, Any] = json.loads(body)
        except ValueError as e:
            raise ServiceFailed(f"/healthz answered {response.status} with non-JSON") from e
        if response.status != 200 or data.get("status") != "ok":
            raise ServiceFailed(f"/healthz says {data.get('status', response.status)!r}")
        return data

    def _probe(self, svc: Service) -> bool:
        try:
            data = self._get_health(svc)
        except ServiceFailed as e:
            svc.mark_down(str(e))
            return False
        with svc.lock:
            svc.workers = max(1, int(data.get("workers", 1)))
        svc.mark_up()
        return True

    def _probe_all(self) -> None:
        with ThreadPoolExecutor(len(self._services)) as pool:
            alive = list(pool.map(self._probe, self._services))
        if not any(alive):
            raise SandboxError(
                "no sandbox service answers: "
                + "; ".join(f"{s.url}: {s.last_error}" for s in self._services)
            )
        for svc, ok in zip(self._services, alive, strict=True):
            if not ok:
                log.warning(
                    "sandbox service %s is down (%s); using the others", svc.url, svc.last_error
                )

    # -- choosing a service ----------------------------------------------------------------

    def _pick(self, avoid: Service | None) -> Service | None:
        """The least loaded service that is up (``avoid``, the one that just failed, only
        when no other is); None when all are cooling down."""
        now = time.monotonic()
        with self._lock:
            up = [s for s in self._services if s.healthy or s.down_until <= now]
            if len(up) > 1 and avoid in up:
                up.remove(avoid)
            if not up:
                return None
            svc = min(up, key=lambda s: (s.in_flight / s.workers, s.chunks))
            svc.in_flight += 1
            svc.chunks += 1
            return svc

    def _release(self, svc: Service) -> None:
        with self._lock:
            svc.in_flight -= 1

    def _next_wake(self) -> float:
        with self._lock:
            return min(s.down_until for s in self._services) - time.monotonic()

    # -- running ---------------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, int]:
        """Batches and programs sent, chunks answered, retries, chunks split."""
        with self._lock:
            return dict(self._counts)

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule ``request`` as a batch of its own (:meth:`run_batch` chunks many)."""
        self._client.check_open()
        return self._singles.submit(self.run, request)

    def run(self, request: ExecRequest) -> ExecResult:
        return self.run_batch([request])[0]

    def run_batch(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
        """Run ``requests`` on the services; results in the same order."""
        self._client.check_open()
        if not requests:
            return []
        bodies = [self._encode(r) for r in requests]
        results: list[ExecResult | None] = [None] * len(requests)
        chunks = self._chunks(bodies)
        futures: list[Future[None]] = []
        for positions in chunks:
            self._slots.acquire()  # back-pressure: wait for a free slot
            try:
                future = self._client.submit(self._run_chunk, positions, requests, bodies, results)
            except BaseException:
                self._slots.release()
                raise
            future.add_done_callback(lambda _f: self._slots.release())
            futures.append(future)
        for f in futures:
            f.result()  # raises the first SandboxError
        with self._lock:
            self._counts["batches"] += 1
            self._counts["programs"] += len(requests)
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:  # cannot happen: every chunk filled its positions or raised
            raise SandboxError(f"results missing for requests {missing[:10]}")
        return [r for r in results if r is not None]

    def _encode(self, request: ExecRequest) -> bytes:
        if request.limits is None:
            request = request.model_copy(update={"limits": self.limits})
        return request.model_dump_json().encode()

    def _chunks(self, bodies: list[bytes]) -> list[list[int]]:
        up = sum(1 for s in self._services if s.healthy) or 1
        size = max(1, min(self.chunk_requests, math.ceil(len(bodies) / (2 * up))))
        chunks: list[list[int]] = []
        nbytes = 0
        for i, body in enumerate(bodies):
            if not chunks or len(chunks[-1]) >= size or nbytes + len(body) > CHUNK_BYTES:
                chunks.append([])
                nbytes = 0
            chunks[-1].append(i)
            nbytes += len(body)
        return chunks

    def _deadline(
        self, svc: Service, positions: list[int], requests: Sequence[ExecRequest]
    ) -> float:
        if self.request_timeout_s is not None:
            return self.request_timeout_s
        # Generous: a chunk may queue behind other clients' work on the service, and a
        # chunk sent elsewhere too early doubles the load it was waiting on.
        slowest = max((requests[i].limits or self.limits).program_timeout_s for i in positions)
        rounds = math.ceil(len(positions) / svc.workers)
        return 60.0 + 2.0 * slowest * rounds

    def _run_chunk(
        self,
        positions: list[int],
        requests: Sequence[ExecRequest],
        bodies: list[bytes],
        results: list[ExecResult | None],
    ) -> None:
        """Run one chunk to completion somewhere, filling ``results`` at ``positions``."""
        attempts = busy_waits = 0
        max_attempts = 2 * len(self._services) + 1
        errors: dict[str, str] = {}
        avoid: Service | None = None
        while True:
            self._client.check_running()
            svc = self._pick(avoid)
            if svc is None:  # every service is cooling down: wait for the first to be due
                time.sleep(min(max(self._next_wake(), 0.05), MAX_COOLDOWN_S))
                continue
            try:
                if not svc.healthy and not self._probe(svc):
                    raise ServiceFailed(svc.last_error, cooldown=False)  # _probe marked it down
                body = b'{"requests":[' + b",".join(bodies[i] for i in positions) + b"]}"
                deadline = self._deadline(svc, positions, requests)
                answer = self._client.post(svc, "/v1/run", body, deadline)
                chunk_results = self._decode(svc, answer, len(positions))
            except _TooLarge as e:
                if len(positions) == 1:
                    raise SandboxError(
                        f"request {positions[0]} is larger than {svc.url} accepts: {e}"
                    ) from e
                half = len(positions) // 2
                with self._lock:
                    self._counts["splits"] += 1
                self._release(svc)
                self._run_chunk(positions[:half], requests, bodies, results)
                self._run_chunk(positions[half:], requests, bodies, results)
                return
            except ServiceFailed as e:
                self._release(svc)
                if e.cooldown:
                    svc.mark_down(str(e))
                else:
                    with svc.lock:
                        svc.last_error = str(e)
                errors[svc.url] = str(e)
                if e.wait_s:  # busy, not broken: wait longer each time, do not give up
                    busy_waits += 1
                else:
                    attempts += 1
                with self._lock:
                    self._counts["retries"] += 1
                log.warning(
                    "sandbox service %s failed a chunk of %d (%s); retrying elsewhere",
                    svc.url,
                    len(positions),
                    e,
                )
                if attempts >= max_attempts:
                    raise SandboxError(
                        f"every sandbox service failed ({attempts} attempts): "
                        + "; ".join(f"{url}: {err}" for url, err in errors.items())
                    ) from e
                avoid = svc
                if e.wait_s:
                    time.sleep(min(e.wait_s * busy_waits, 2.0))
                continue
            except BaseException:
                self._release(svc)
                raise
            self._release(svc)
            with self._lock:
                self._counts["chunks"] += 1
            for i, result in zip(positions, chunk_results, strict=True):
                results[i] = result
            return

    def _decode(self, svc: Service, answer: tuple[int, bytes], n: int) -> list[ExecResult]:
        status, data = answer
        try:
            payload: Any = json.loads(data)
        except ValueError:
            payload = None
        message = payload.get("error", "") if isinstance(payload, dict) else ""
        message = message or data[:200].decode("utf-8", "replace")
        if status == 413:
            raise _TooLarge(message)
        if status == 503:
            busy = "busy" in message
            raise ServiceFailed(f"503: {message}", cooldown=not busy, wait_s=0.2 if busy else 0.0)
        if status >= 500:
            raise ServiceFailed(f"{status}: {message}")
        if status != 200:
            raise SandboxError(f"sandbox service {svc.url} refused the batch ({status}): {message}")
        if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
            raise ServiceFailed('the answer is not {"results": [...]}')
        if len(payload["results"]) != n:
            raise ServiceFailed(f"{len(payload['results'])} results for {n} requests")
        try:
            return [ExecResult.model_validate(r) for r in payload["results"]]
        except ValidationError as e:
            raise ServiceFailed(f"malformed results: {e.errors()[0]}") from e
