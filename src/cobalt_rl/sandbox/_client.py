"""The HTTP client side that the ``http`` and ``sandboxfusion`` backends share: the services
and what we know of each (up, cooling down after a failure), kept-alive connections to them,
the threads that send requests, and closing all of it together (:class:`ServiceClient`).

A backend decides what to send where and how to read the answers; a failure that another
service might not repeat (unreachable, reset, no answer in time, a 5xx) is raised as
:class:`ServiceFailed`, and the backend sends the request elsewhere.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from cobalt_rl.errors import SandboxError

__all__ = ["Connections", "Service", "ServiceClient", "ServiceFailed"]

CONNECT_TIMEOUT_S = 5.0
COOLDOWN_S, MAX_COOLDOWN_S = 1.0, 30.0

P = ParamSpec("P")
T = TypeVar("T")


class ServiceFailed(Exception):
    """This service failed this request; another may succeed."""

    def __init__(self, message: str, cooldown: bool = True, wait_s: float = 0.0):
        super().__init__(message)
        self.cooldown = cooldown  # leave the service alone for a while
        self.wait_s = wait_s  # the service asked us to wait (Retry-After)


@dataclass
class Service:
    """One service and what we know of it."""

    index: int
    url: str
    host: str
    port: int
    https: bool
    prefix: str
    workers: int = 1
    in_flight: int = 0
    down_until: float = 0.0
    cooldown: float = COOLDOWN_S
    last_error: str = ""
    healthy: bool = True
    chunks: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, index: int, url: str) -> Service:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SandboxError(f"sandbox url {url!r}: expected http://host:port")
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        return cls(index, url, parts.hostname, port, https, parts.path.rstrip("/"))

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def mark_down(self, error: str, cooldown: bool = True) -> None:
        """Record a failure; with ``cooldown``, leave the service alone for a while (1 s,
        doubling with each failure in a row up to :data:`MAX_COOLDOWN_S`)."""
        with self.lock:
            self.last_error = error
            self.failures += 1
            if cooldown:
                self.healthy = False
                self.down_until = time.monotonic() + self.cooldown
                self.cooldown = min(self.cooldown * 2, MAX_COOLDOWN_S)

    def mark_up(self) -> None:
        """The service answered: it is healthy, and its next failure cools it down 1 s."""
        with self.lock:
            self.healthy = True
            self.cooldown = COOLDOWN_S


class Connections:
    """Keep-alive HTTP connections, one per thread and service."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []  # every thread's, to close them
        self._lock = threading.Lock()

    def _get(self, svc: Service) -> http.client.HTTPConnection:
        conns: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("conns", {})
        conn = conns.get(svc.index)
        if conn is None:
            conn = svc.connect(CONNECT_TIMEOUT_S)  # connecting is quick or hopeless
            conns[svc.index] = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def drop(self, svc: Service) -> None:
        conns: dict[int, http.client.HTTPConnection] = self._local.__dict__.get("conns", {})
        conn = conns.pop(svc.index, None)
        if conn is not None:
            conn.close()
            with self._lock:
                self._all.remove(conn)

    def close_all(self) -> None:
        """Close every thread's connections (call when no request is in flight)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()

    def post(
        self, svc: Service, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, bytes]:
        """POST ``body``; return (status, body). Raises :class:`ServiceFailed` when the service
        cannot be reached, drops the connection or sends nothing within ``timeout``."""
        headers = {**headers, "Content-Length": str(len(body))}
        for first_try in (True, False):
            conn = self._get(svc)
            fresh = conn.sock is None
            try:
                if fresh:
                    conn.connect()
                assert conn.sock is not None
                conn.sock.settimeout(timeout)  # waiting for the answer is not quick
                conn.request("POST", svc.prefix + path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except TimeoutError as e:
                self.drop(svc)
                raise ServiceFailed(f"no answer within {timeout:.0f} s") from e
            except (OSError, http.client.HTTPException) as e:
                self.drop(svc)
                # A kept-alive connection the service closed while idle: one fresh try.
                stale = isinstance(
                    e, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                )
                if first_try and not fresh and stale:
                    continue
                raise ServiceFailed(f"{type(e).__name__}: {e}") from e
            if response.will_close:
                self.drop(svc)
            return response.status, data
        raise AssertionError("unreachable")


class ServiceClient:
    """The services of one backend, the connections to them and the threads that send to them.

    Args:
        urls: the services' base URLs (``http://host:port[/prefix]``).
        token: sent as ``Authorization: Bearer`` when set.
        what: the backend's name, for error messages.
    """

    def __init__(self, urls: Sequence[str], token: str | None, what: str):
        if not urls:
            raise SandboxError(f"the {what} sandbox backend needs at least one service url")
        self.services = [Service.parse(i, url) for i, url in enumerate(urls)]
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.connections = Connections()
        self.closed = False
        self._threads: ThreadPoolExecutor | None = None

    def start(self, threads: int, name: str) -> None:
        """Start the ``threads`` that :meth:`submit` runs work on."""
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix=name)

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn`` on one of the threads."""
        self.check_open()
        assert self._threads is not None, "start() was not called"
        return self._threads.submit(fn, *args, **kwargs)

    def post(self, svc: Service, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        """POST ``body`` to ``svc`` (see :meth:`Connections.post`)."""
        return self.connections.post(svc, path, body, self.headers, timeout)

    def check_open(self) -> None:
        if self.closed:
            raise SandboxError("the sandbox is closed")

    def check_running(self) -> None:
        """Raise when the backend was closed while a batch was running."""
        if self.closed:
            raise SandboxError("the sandbox was closed while a batch was running")

    def close(self) -> None:
        """Stop sending; wait for requests in flight. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        if self._threads is not None:
            self._threads.shutdown(wait=True, cancel_futures=True)
        self.connections.close_all()
