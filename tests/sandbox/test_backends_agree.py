"""One mixed batch (passes, wrong answers, errors in every mode, hostile programs) through every
sandbox backend: the local pool, Ray actors (when Ray is installed) and the HTTP service; the
verdicts (status of every test, pass rate) and the feedback must be the same everywhere."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from mixed_batch import check_hostile, mixed_batch, verdicts
from sandbox_helpers import FAST, needs_bwrap

from cobalt_rl.records import ExecResult
from cobalt_rl.sandbox import LocalSandbox, Sandbox

pytestmark = needs_bwrap

BATCH = mixed_batch("agree")  # the same requests for every backend (no backend caches)


def local_pool() -> LocalSandbox:
    return LocalSandbox(workers=2, limits=FAST, cache_size=0, require_isolation=True)


@contextmanager
def ray_backend() -> Iterator[Sandbox]:
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'cobalt-rl[ray]')")
    from cobalt_rl.sandbox.ray import RaySandbox

    # No cluster is running in this process: the sandbox starts a local one and stops it.
    with RaySandbox(
        actors=2, workers_per_actor=1, limits=FAST, cache_size=0, require_isolation=True
    ) as sandbox:
        yield sandbox


@contextmanager
def http_backend() -> Iterator[Sandbox]:
    try:
        from cobalt_rl.sandbox.http import HttpSandbox
        from cobalt_rl.sandbox.service import SandboxService
    except ImportError as e:
        pytest.skip(f"the HTTP backend is not available: {e}")
    with (
        SandboxService(local_pool()) as service,
        HttpSandbox([service.url], limits=FAST) as sandbox,
    ):
        yield sandbox


BACKENDS: dict[str, Any] = {"ray": ray_backend, "http": http_backend}


@pytest.fixture(scope="module")
def local_results() -> list[ExecResult]:
    with local_pool() as sandbox:
        results = sandbox.run_batch(BATCH)
    check_hostile(results)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_same_verdicts_and_feedback_as_local(name: str, local_results: list[ExecResult]) -> None:
    with BACKENDS[name]() as sandbox:
        results = sandbox.run_batch(BATCH)
    check_hostile(results)
    assert verdicts(results) == verdicts(local_results)
    assert [r.feedback for r in results] == [r.feedback for r in local_results]
