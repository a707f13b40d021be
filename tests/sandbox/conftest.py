"""Fixtures for the sandbox tests; shared helpers live in ``sandbox_helpers.py``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests are imported with --import-mode=importlib (no sys.path changes): make the helpers
# module next to this file importable by the test modules of this directory.
sys.path.insert(0, str(Path(__file__).parent))

from sandbox_helpers import FAST

from cobalt_rl.sandbox import LocalSandbox


@pytest.fixture
def fresh_pool() -> Iterator[LocalSandbox]:
    """One worker of its own: tests that need the same worker for consecutive programs."""
    with LocalSandbox(workers=1, limits=FAST, cache_size=0, require_isolation=True) as sandbox:
        yield sandbox
