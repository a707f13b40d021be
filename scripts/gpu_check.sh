#!/usr/bin/env bash
# The prepared GPU check: cobalt-rl's GPU paths once, offline, under 8 minutes.
# On one NVIDIA GPU: rollout + evaluation (transformers; vLLM when installed), 2 bandit GRPO
# steps in bf16 (and with vLLM colocated), 2 multi-turn steps, the memory estimate; prints
# which paths ran and their step times. Without a GPU it skips the GPU paths and says so.
# Not part of CI's test run (.ci/run); tests/test_gpu_check.py runs its CPU fallback.
#
#   scripts/gpu_check.sh [--problems 4] [--max-new-tokens 96] [--tiny]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
exec timeout 480 "$PY" scripts/gpu_check.py "$@"
