"""The HTTP sandbox service: a :class:`~cobalt_rl.sandbox.local.LocalSandbox` behind a small
JSON API, so training nodes can offload execution to CPU machines (``cobalt sandbox serve``;
the client is :class:`~cobalt_rl.sandbox.http.HttpSandbox`).

Endpoints (JSON in and out; errors are ``{"error": "..."}`` naming the problem):

- ``POST /v1/run``: ``{"requests": [ExecRequest, ...]}`` → ``{"results": [ExecResult, ...]}``,
  in order. Every request of the batch is submitted to the shared pool at once; batches of
  several clients run side by side on the same workers.
- ``GET /healthz``: ``{"status": "ok" | "draining", "workers", "in_flight_batches",
  "pending_programs", "isolation"}``; 503 while draining (so a load balancer stops sending).
  Unauthenticated: it reveals nothing about the programs.
- ``GET /v1/stats``: the pool's counters and the service's (authenticated).

Bounds: the body size (413 before the body is read), the number of requests per batch (413),
the programs queued on the pool at once (503 with ``Retry-After``: the client tries another
service or waits), and a ceiling on the per-request limits a client may ask for (400). With a
token, every endpoint but ``/healthz`` needs ``Authorization: Bearer <token>`` (compared in
constant time; 401 otherwise).

Drain (SIGTERM/SIGINT, or :meth:`SandboxService.drain`): new batches are refused with 503,
``/healthz`` says ``draining``, batches in flight finish and are answered, then the server and
the pool stop. A second signal stops at once.

What this adds to the local sandbox's isolation: nothing and nothing less. The service runs
the same bubblewrap workers; it is plain HTTP (put TLS in front of it when it leaves a
trusted network) and it trusts an authenticated client with its CPU.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cobalt_rl.errors import SandboxError
from cobalt_rl.records import ExecResult
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.local import LocalSandbox

__all__ = ["RunBatch", "SandboxService", "ServiceLimits", "serve_until_signalled"]

log = logging.getLogger(__name__)

API_RUN = "/v1/run"
API_STATS = "/v1/stats"
HEALTH = "/healthz"
IDLE_CONNECTION_S = 120.0  # a keep-alive connection with no request for this long is closed


class RunBatch(BaseModel):
    """The body of ``POST /v1/run``."""

    model_config = ConfigDict(extra="forbid")

    requests: list[ExecRequest]


CEILING: dict[str, Any] = {"timeout_s": 60.0, "program_timeout_s": 600.0, "memory_mb": 8192}
"""The default ceiling's limits that differ from a request's defaults."""


class ServiceLimits(BaseModel):
    """What one client may ask of the service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: int = Field(32 << 20, ge=1024, description="Largest request body, in bytes.")
    max_batch: int = Field(4096, ge=1, description="Most requests in one POST /v1/run.")
    max_pending: int = Field(
        16384,
        ge=1,
        description="Most programs queued or running on the pool at once, over all clients; "
        "a batch that would go over is refused with 503 (the client retries elsewhere).",
    )
    ceiling: Limits = Field(
        default_factory=lambda: Limits(**CEILING),
        description="The largest per-request limits accepted (memory_mb 0, no limit, is "
        "accepted only when the ceiling's memory_mb is 0).",
    )

    @field_validator("ceiling", mode="before")
    @classmethod
    def _ceiling_defaults(cls, value: Any) -> Any:
        """A partial ceiling keeps the ceiling's defaults for the limits it does not name."""
        if not isinstance(value, dict):
            return value
        merged = {**CEILING, **value}
        if "timeout_s" in value and "program_timeout_s" not in value:
            merged["program_timeout_s"] = max(CEILING["program_timeout_s"], value["timeout_s"])
        return merged


def _over_ceiling(limits: Limits, ceiling: Limits) -> list[str]:
    """Fields of ``limits`` above ``ceiling`` (0 memory means unlimited)."""
    bad = []
    for name in Limits.model_fields:
        value, top = getattr(limits, name), getattr(ceiling, name)
        unlimited = name == "memory_mb" and value == 0  # 0 memory: no limit at all
        if (unlimited and top != 0) or (value > top and not (name == "memory_mb" and top == 0)):
            bad.append(f"{name} = {value} exceeds the service's ceiling {top}")
    return bad


class _HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class SandboxService:
    """Serve ``sandbox`` over HTTP on ``host:port`` (port 0: an ephemeral one, see ``url``).

    Args:
        sandbox: the pool that runs the programs (the service closes it when it stops).
        host: address to bind; 127.0.0.1 by default.
        port: TCP port; 0 picks a free one.
        token: the bearer token clients must send; None: no authentication.
        bounds: body, batch, queue and limit ceilings.
    """

    def __init__(
        self,
        sandbox: LocalSandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        bounds: ServiceLimits | None = None,
    ):
        self.sandbox = sandbox
        self.bounds = bounds or ServiceLimits()
        self._token = token.encode() if token else None
        self._lock = threading.Condition()
        self._in_flight = 0  # batches being run
        self._pending = 0  # programs of those batches not finished
        self._draining = False
        self.counters = {"batches": 0, "programs": 0, "rejected": 0, "errors": 0}
        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True  # idle keep-alive connections must not block exit
        self._httpd.service = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    @property
    def draining(self) -> bool:
        return self._draining

    def start(self) -> SandboxService:
        """Serve in a background thread; return at once."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="sandbox-service", daemon=True
        )
        self._thread.start()
        log.info(
            "sandbox service on %s: %d workers, %s isolation, auth %s",
            self.url,
            self.sandbox.num_workers,
            self.sandbox.isolation.value,
            "on" if self._token else "off",
        )
        return self

    def drain(self, timeout_s: float | None = None, abort: threading.Event | None = None) -> bool:
        """Refuse new batches, wait for those in flight (up to ``timeout_s``, or until
        ``abort`` is set), then stop. Returns whether every batch in flight finished."""
        with self._lock:
            self._draining = True
            waiting = self._in_flight
        log.info("draining: %d batches in flight", waiting)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._lock:
            while self._in_flight:
                if abort is not None and abort.is_set():
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._lock.wait(0.2)
            finished = self._in_flight == 0
        self.stop()
        return finished

    def stop(self) -> None:
        """Stop serving and close the pool (batches in flight get errors). Safe twice."""
        if self._stopped:
            return
        self._stopped = True
        self._draining = True
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.server_close()
        self.sandbox.close()
        log.info("sandbox service on %s stopped", self.url)

    def __enter__(self) -> SandboxService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (called from the handler threads) --------------------------------

    def authorized(self, header: str | None) -> bool:
        if self._token is None:
            return True
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), self._token)

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": "draining" if self._draining else "ok",
                "workers": self.sandbox.num_workers,
                "in_flight_batches": self._in_flight,
                "pending_programs": self._pending,
                "isolation": self.sandbox.isolation.value,
            }

    def stats(self) -> dict[str, Any]:
        with self._lock:
            service = dict(self.counters)
        return {"sandbox": dict(self.sandbox.stats), "service": service, **self.health()}

    def parse_batch(self, body: bytes) -> list[ExecRequest]:
        try:
            data = json.loads(body)
        except ValueError as e:
            raise _HttpError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {e}") from e
        if isinstance(data, dict) and isinstance(data.get("requests"), list):
            n = len(data["requests"])
            if n > self.bounds.max_batch:
                raise _HttpError(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"a batch of {n} requests exceeds the service's limit of "
                    f"{self.bounds.max_batch}: send smaller batches",
                )
        try:
            batch = RunBatch.model_validate(data)
        except ValidationError as e:
            problems = []
            for err in e.errors()[:10]:
                loc = ".".join(str(p) for p in err["loc"]) or "(body)"
                problems.append(f"{loc}: {err['msg']}")
            more = f" (and {e.error_count() - 10} more)" if e.error_count() > 10 else ""
            raise _HttpError(
                HTTPStatus.BAD_REQUEST, "invalid batch: " + "; ".join(problems) + more
            ) from e
        for i, request in enumerate(batch.requests):
            if request.limits is not None:
                bad = _over_ceiling(request.limits, self.bounds.ceiling)
                if bad:
                    raise _HttpError(
                        HTTPStatus.BAD_REQUEST, f"requests.{i}.limits: " + "; ".join(bad)
                    )
        return batch.requests

    def run_batch(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
        n = len(requests)
        with self._lock:
            if self._draining:
                self.counters["rejected"] += 1
                raise _HttpError(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "the service is draining: send this batch to another service",
                    {"Connection": "close"},
                )
            if self._pending and self._pending + n > self.bounds.max_pending:
                self.counters["rejected"] += 1
                raise _HttpError(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    f"busy: {self._pending} programs queued, a batch of {n} would exceed "
                    f"max_pending={self.bounds.max_pending}",
                    {"Retry-After": "1"},
                )
            self._in_flight += 1
            self._pending += n
        try:
            futures: list[Future[ExecResult]] = [self.sandbox.submit(r) for r in requests]
            for f in futures:
                f.add_done_callback(self._one_done)
            return [f.result() for f in futures]
        except SandboxError as e:
            with self._lock:
                self.counters["errors"] += 1
            raise _HttpError(HTTPStatus.INTERNAL_SERVER_ERROR, f"sandbox error: {e}") from e
        finally:
            with self._lock:
                self._in_flight -= 1
                self.counters["batches"] += 1
                self.counters["programs"] += n
                self._lock.notify_all()

    def _one_done(self, _future: Future[ExecResult]) -> None:
        with self._lock:
            self._pending -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection per service
    timeout = IDLE_CONNECTION_S
    server_version = "cobalt-sandbox"

    @property
    def service(self) -> SandboxService:
        service: SandboxService = self.server.service  # type: ignore[attr-defined]
        return service

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request is written by _reply

    def _reply(
        self,
        status: HTTPStatus,
        payload: dict[str, Any] | bytes,
        started: float,
        programs: int = 0,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if (headers or {}).get("Connection") == "close":
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        note = ""
        if isinstance(payload, dict) and "error" in payload:
            note = f" ({str(payload['error'])[:200]})"
        log.info(
            "%s %s %s %d %dB %d programs %.3fs%s",
            self.client_address[0],
            self.command,
            self.path,
            status.value,
            len(body),
            programs,
            time.monotonic() - started,
            note,
        )

    def _error(self, err: _HttpError, started: float) -> None:
        self._reply(err.status, {"error": err.message}, started, headers=err.headers)

    def _route(self, handlers: dict[str, Callable[[float], None]]) -> None:
        started = time.monotonic()
        path = self.path.split("?", 1)[0]
        known = {HEALTH, API_RUN, API_STATS}
        try:
            if path not in known:
                raise _HttpError(HTTPStatus.NOT_FOUND, f"no endpoint {path!r}")
            if path not in handlers:
                raise _HttpError(
                    HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not allowed on {path}"
                )
            if path != HEALTH and not self.service.authorized(self.headers.get("Authorization")):
                raise _HttpError(
                    HTTPStatus.UNAUTHORIZED,
                    "missing or wrong bearer token (Authorization: Bearer <token>)",
                    {"WWW-Authenticate": "Bearer"},
                )
            handlers[path](started)
        except _HttpError as err:
            if (
                path == API_RUN
                and self.command == "POST"
                and err.status
                in (
                    HTTPStatus.UNAUTHORIZED,
                    HTTPStatus.METHOD_NOT_ALLOWED,
                )
            ):
                err.headers.setdefault("Connection", "close")  # its body was not read
            self._error(err, started)

    def do_GET(self) -> None:
        self._route({HEALTH: self._health, API_STATS: self._stats})

    def do_POST(self) -> None:
        self._route({API_RUN: self._run})

    def _health(self, started: float) -> None:
        health = self.service.health()
        status = HTTPStatus.OK if health["status"] == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
        self._reply(status, health, started)

    def _stats(self, started: float) -> None:
        self._reply(HTTPStatus.OK, self.service.stats(), started)

    def _run(self, started: float) -> None:
        service = self.service
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise _HttpError(
                HTTPStatus.LENGTH_REQUIRED, "Content-Length is required", {"Connection": "close"}
            )
        try:
            length = int(length_header)
            if length < 0:
                raise ValueError(length_header)
        except ValueError as e:
            raise _HttpError(
                HTTPStatus.BAD_REQUEST,
                f"bad Content-Length {length_header!r}",
                {"Connection": "close"},
            ) from e
        if length > service.bounds.max_body_bytes:
            raise _HttpError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body ({length} bytes) exceeds the service's limit of "
                f"{service.bounds.max_body_bytes} bytes: send smaller batches",
                {"Connection": "close"},
            )
        body = self.rfile.read(length)
        if len(body) < length:
            raise _HttpError(
                HTTPStatus.BAD_REQUEST, "the body ended early", {"Connection": "close"}
            )
        requests = service.parse_batch(body)
        results = service.run_batch(requests)
        # One JSON document built from the records' own serialiser (no re-parsing).
        payload = b'{"results":[' + b",".join(r.model_dump_json().encode() for r in results)
        self._reply(HTTPStatus.OK, payload + b"]}", started, programs=len(requests))


def serve_until_signalled(service: SandboxService, drain_timeout_s: float | None = None) -> int:
    """Run ``service`` until SIGTERM or SIGINT, then drain it (a second signal stops at
    once). Must be called from the main thread. Returns the exit status: 0 when every batch
    in flight finished, 1 otherwise."""
    stop, abort = threading.Event(), threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():
            log.warning("second %s: stopping now", signal.Signals(signum).name)
            abort.set()
        else:
            log.info("%s: draining (send it again to stop at once)", signal.Signals(signum).name)
            stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        service.start()
        while not stop.wait(0.5):
            pass
        finished = service.drain(drain_timeout_s, abort=abort)
    finally:
        service.stop()
        for s, handler in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(s, handler)
    return 0 if finished else 1
