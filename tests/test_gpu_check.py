"""scripts/gpu_check.sh: without a GPU it stops with a clear message (no silent CPU
fallback); its CPU rehearsal runs every path, each in its own process, and prints the table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHON": sys.executable, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": str(Path.home())}  # fmt: skip
    return subprocess.run(
        [str(ROOT / "scripts/gpu_check.sh"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def test_without_a_gpu_the_check_refuses_with_a_clear_message() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is here: run scripts/gpu_check.sh itself")
    done = _check()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot run: no GPU" in done.stdout and "--cpu-rehearsal" in done.stdout
    assert "| path |" not in done.stdout  # nothing ran


def test_cpu_rehearsal_runs_every_path_and_names_what_did_not_run() -> None:
    done = _check("--cpu-rehearsal", "--skip", "vllm")
    out = done.stdout
    assert done.returncode == 0, out[-4000:] + done.stderr[-4000:]
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    for path in ("bandit", "fsdp2", "multiturn", "rlef", "eval"):
        assert "| passed |" in rows[path], rows.get(path)
    assert "grad norm" in rows["bandit"] and "saved bf16" in rows["bandit"]
    assert "beta 0.05" in rows["rlef"]
    assert "MULTI_CPU (FSDP needs a GPU)" in rows["fsdp2"]  # says what the CPU could rehearse
    assert "| NOT RUN |" in rows["vllm"] and "--skip" in rows["vllm"]
