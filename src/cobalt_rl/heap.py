"""Giving freed heap memory back to the system between steps.

On CPU, torch allocates activations, KV caches and logits through glibc's ``malloc``; their
sizes change with every batch (prompt and reply lengths vary), and glibc keeps freed chunks
in its arenas rather than returning them. A long run's resident memory then grows with the
heap's high-water marks: the long run of ``configs/experiment-long.yaml`` went from 9.5 to
12.4 GB in a few minutes of training a 135M model, and one ``malloc_trim(0)`` took it back
to 3.8 GB, so the memory was free, not leaked. :func:`trim_heap` asks glibc to return what
is free; the trainers call it after every step and the generator after every call.
Elsewhere (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Any

__all__ = ["trim_heap"]


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def trim_heap() -> bool:
    """Return freed heap pages to the system; True when glibc released any."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
