"""trim_heap gives freed heap memory back to the system (glibc's malloc_trim)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHILD = r"""
import ctypes, sys
from cobalt_rl.heap import trim_heap

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

# 400 MB in 64 KB blocks (below the mmap threshold: on the heap), touched, then freed except
# a block every 1,000 so that the heap's top cannot simply shrink
blocks = []
for _ in range(6400):
    p = libc.malloc(64 * 1024)
    ctypes.memset(p, 1, 64 * 1024)
    blocks.append(p)
for i, p in enumerate(blocks):
    if i % 1000 != 999:
        libc.free(p)
before = rss_mb()
released = trim_heap()

after = rss_mb()
print(before, after, released)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True
    ).stdout.split()
    before, after, released = float(out[0]), float(out[1]), out[2]
    assert before > 300  # the freed blocks were still resident
    assert before - after > 250 and released == "True"
