"""scripts/gpu_check.sh's CPU fallback: without a GPU it says so, skips every GPU path by name,
and still runs rollout + evaluation on CPU (tiny model) and the memory estimate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_cpu_fallback_skips_gpu_paths_with_a_clear_message() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is here: run scripts/gpu_check.sh itself")
    done = subprocess.run(
        [str(ROOT / "scripts/gpu_check.sh"), "--problems", "1", "--max-new-tokens", "8"],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "no CUDA GPU here: the GPU paths are SKIPPED" in out
    assert "[ran] rollout + evaluation (transformers, CPU)" in out
    for path in ("transformers, CUDA, bf16", "vLLM colocated", "multi-turn GRPO steps"):
        assert any(line.startswith("[skipped]") and path in line for line in out.splitlines())
    assert "| pre-flight memory estimate (nominal 80 GB device) | ran |" in out
    assert "| 2 bandit GRPO steps (bf16, transformers generation) | skipped |" in out
