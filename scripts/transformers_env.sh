#!/usr/bin/env bash
# A side environment with the transformers of the lent GPU image and of vLLM's range
# (5.17.0; vLLM 0.31 caps it below 5.18), for tests/llm/test_transformers_versions.py: the
# main environment's packages, with transformers 5.17.0 (and the huggingface-hub and httpx it
# needs) in front of them. ~130 MB; made once (a stamp), never the main .venv.
#
#   bash scripts/transformers_env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MAIN_PYTHON="${MAIN_PYTHON:-.venv/bin/python}"
VENV=.venv-tf517
WANT="transformers==5.17.0 huggingface-hub>=1.5,<2 httpx"
if [ -f "$VENV/.cobalt-tf-env" ] && [ "$(cat "$VENV/.cobalt-tf-env")" = "$WANT" ]; then
    exit 0
fi
rm -rf "$VENV"
LOG="$VENV.log"
: >"$LOG"
BASE_PYTHON=$("$MAIN_PYTHON" -c 'import sys, os; print(os.path.join(sys.base_prefix, "bin", "python3"))')
MAIN_SITE=$("$MAIN_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "transformers_env: making $VENV (transformers 5.17.0 over the main environment; log: $LOG)..."
if ! { "$BASE_PYTHON" -m venv --without-pip "$VENV" \
        && site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
        && echo "$MAIN_SITE" >"$site/zz-cobalt-main.pth" \
        && "$MAIN_PYTHON" -m pip install -q --no-deps --target "$site" \
            transformers==5.17.0 'huggingface-hub>=1.5,<2' \
        && "$MAIN_PYTHON" -m pip install -q --target "$site" httpx; } >>"$LOG" 2>&1; then
    echo "transformers_env: error: could not make $VENV; the end of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    rm -rf "$VENV"
    exit 1
fi
echo "$WANT" >"$VENV/.cobalt-tf-env"
