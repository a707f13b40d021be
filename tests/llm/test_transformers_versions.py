"""The decode loop, the generators and the episode tokens under transformers 5.17.0: the GPU
image's version and the newest vLLM 0.31 allows, while the main environment has a newer one.

5.17's forward takes the KV cache as ``past_key_values`` and silently ignores ``cache`` (the
keyword from 5.2x): the decode loop then ran every step without its cache. The tests of
tests/llm and the template tests run again in ``.venv-tf517`` (scripts/transformers_env.sh,
made by ``make test``); missing, the test fails: it is part of the suite, not optional."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-tf517" / "bin" / "python"


def test_llm_and_template_tests_pass_under_transformers_5_17() -> None:
    assert PYTHON.exists(), (
        "no .venv-tf517: run `bash scripts/transformers_env.sh` (make test does)"
    )
    version = subprocess.run(
        [str(PYTHON), "-c", "import transformers; print(transformers.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert version == "5.17.0"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [str(PYTHON), "-m", "pytest", "-q", "-x", "-m", "not slow", "-p", "no:cacheprovider",
         "tests/llm", "tests/train/test_gpu_round_two.py",
         "--deselect", "tests/llm/test_transformers_versions.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1]
