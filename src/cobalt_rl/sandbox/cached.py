"""What every future-based backend shares: a content-addressed result cache, one execution
for identical requests in flight, and ``run``/``run_batch`` on top of ``submit``."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from cobalt_rl.records import ExecResult, Status
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.limits import Limits

__all__ = ["CachedSubmitter"]


class CachedSubmitter(ABC):
    """Mixin: subclasses call ``_init_cache`` and implement ``_start`` (and maybe the hooks).

    Results holding a ``sandbox_error`` outcome (our failure, not the program's) are never
    cached.
    """

    limits: Limits
    stats: dict[str, int]

    def _init_cache(self, cache_size: int) -> None:
        self.cache_size = cache_size
        self._cache: OrderedDict[str, ExecResult] = OrderedDict()
        self._inflight: dict[str, Future[ExecResult]] = {}
        self._lock = threading.Lock()

    @abstractmethod
    def _check_open(self) -> None:
        """Raise when no new request may be submitted (called under the lock)."""

    @abstractmethod
    def _start(self, request: ExecRequest, key: str) -> Future[ExecResult]:
        """Begin executing ``request`` (called under the lock)."""

    def _after_submit(self) -> None:  # noqa: B027 (an optional hook: nothing by default)
        """Called after a request was started, outside the lock."""

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule ``request``; the future resolves to its ``ExecResult``."""
        key = request.key(self.limits)
        with self._lock:
            self._check_open()
            if key in self._cache:
                self._cache.move_to_end(key)
                self.stats["cache_hits"] += 1
                done: Future[ExecResult] = Future()
                done.set_result(self._cache[key])
                return done
            if key in self._inflight:
                self.stats["cache_hits"] += 1
                return self._inflight[key]
            future = self._start(request, key)
            self._inflight[key] = future
        future.add_done_callback(lambda f: self._remember(key, f))
        self._after_submit()
        return future

    def _remember(self, key: str, future: Future[ExecResult]) -> None:
        with self._lock:
            self._inflight.pop(key, None)
            if self.cache_size <= 0 or future.cancelled() or future.exception() is not None:
                return
            result = future.result()
            if any(o.status is Status.SANDBOX_ERROR for o in result.outcomes):
                return  # our failure, not the program's: do not remember it
            self._cache[key] = result
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def run(self, request: ExecRequest) -> ExecResult:
        return self.submit(request).result()

    def run_batch(
        self,
        requests: Sequence[ExecRequest],
        progress: Callable[[int], None] | None = None,
    ) -> list[ExecResult]:
        """Run ``requests`` concurrently; ``progress(n)`` is called as each finishes."""
        futures = [self.submit(r) for r in requests]
        if progress is not None:
            for f in futures:
                f.add_done_callback(lambda _f: progress(1))
        return [f.result() for f in futures]
