"""What the local and Ray backends put in front of their execution: a content-addressed result
cache, and one execution for identical requests in flight; and :class:`FutureSandbox`, the
``run`` / ``run_batch`` / ``with`` that every backend built on ``submit`` shares."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from cobalt_rl.records import ExecResult, Status
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.limits import Limits

__all__ = ["FutureSandbox", "ResultCache", "run_all"]


class ResultCache:
    """Answers a request from the cache, joins an identical one in flight, or starts it.

    Results holding a ``sandbox_error`` outcome (our failure, not the program's) are never
    cached.

    Args:
        start: begins executing a request (called under ``lock``, with the request and its
            content address); returns the future of its result.
        check_open: raises when no request may be submitted (called under ``lock``, before
            anything else, so a closing backend sees no request slip in).
        limits: the backend's default limits (part of a request's content address).
        size: results kept (0 disables the cache; identical requests in flight still share
            one execution).
        lock: the backend's lock, when it guards more than the cache.
    """

    def __init__(
        self,
        start: Callable[[ExecRequest, str], Future[ExecResult]],
        check_open: Callable[[], None],
        limits: Limits,
        size: int,
        lock: threading.Lock | None = None,
    ):
        self._start = start
        self._check_open = check_open
        self._limits = limits
        self.size = size
        self.lock = lock or threading.Lock()
        self.hits = 0  # requests answered without a new execution
        self._results: OrderedDict[str, ExecResult] = OrderedDict()
        self._inflight: dict[str, Future[ExecResult]] = {}

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule ``request``; the future resolves to its ``ExecResult``."""
        key = request.key(self._limits)
        with self.lock:
            self._check_open()
            if key in self._results:
                self._results.move_to_end(key)
                self.hits += 1
                done: Future[ExecResult] = Future()
                done.set_result(self._results[key])
                return done
            if key in self._inflight:
                self.hits += 1
                return self._inflight[key]
            future = self._start(request, key)
            self._inflight[key] = future
        future.add_done_callback(lambda f: self._remember(key, f))
        return future

    def _remember(self, key: str, future: Future[ExecResult]) -> None:
        with self.lock:
            self._inflight.pop(key, None)
            if self.size <= 0 or future.cancelled() or future.exception() is not None:
                return
            result = future.result()
            if any(o.status is Status.SANDBOX_ERROR for o in result.outcomes):
                return  # our failure, not the program's: do not remember it
            self._results[key] = result
            while len(self._results) > self.size:
                self._results.popitem(last=False)


def run_all(
    submit: Callable[[ExecRequest], Future[ExecResult]],
    requests: Sequence[ExecRequest],
    progress: Callable[[int], None] | None = None,
) -> list[ExecResult]:
    """Submit every request, then wait for all; ``progress(n)`` is called as each finishes."""
    futures = [submit(r) for r in requests]
    if progress is not None:
        for future in futures:
            future.add_done_callback(lambda _f: progress(1))
    return [f.result() for f in futures]


_S = TypeVar("_S", bound="FutureSandbox")


class FutureSandbox(ABC):
    """``run``, ``run_batch`` and the ``with`` block of a sandbox, in terms of its ``submit``
    and ``close`` (what the local, Ray and SandboxFusion backends share)."""

    @abstractmethod
    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule ``request``; the future resolves to its ``ExecResult``."""

    @abstractmethod
    def close(self) -> None:
        """Release workers and other resources (safe to call twice)."""

    def run(self, request: ExecRequest) -> ExecResult:
        """Run one request."""
        return self.submit(request).result()

    def run_batch(
        self,
        requests: Sequence[ExecRequest],
        progress: Callable[[int], None] | None = None,
    ) -> list[ExecResult]:
        """Run ``requests`` concurrently; ``progress(n)`` is called as each finishes."""
        return run_all(self.submit, requests, progress)

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
