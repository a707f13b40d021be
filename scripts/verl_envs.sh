#!/usr/bin/env bash
# Side environments with verl's own code, one per verl release, for tests/export/test_verl_releases.py.
#
#   bash scripts/verl_envs.sh            # every release below (idempotent: a stamp per env)
#   bash scripts/verl_envs.sh 0.9        # one of them
#
# Each is a venv at .venv-verl-<minor>/ (gitignored; never the main .venv): verl's wheel from
# PyPI with --no-deps, plus the packages that verl's config, data, reward and agent-loop paths
# import, at the versions that release pins (transformers 4 for 0.5/0.7, transformers 5 for 0.9).
# Not installed: vLLM, flash-attn, wandb and the rest of verl's GPU and logging stack; no test
# here starts a model. cobalt-rl itself is not installed either: the tests put src/ on
# PYTHONPATH, as `pip install --no-deps cobalt-rl` would in verl's own environment.
set -euo pipefail
cd "$(dirname "$0")/.."

MAIN_PYTHON="${MAIN_PYTHON:-.venv/bin/python}"
# release -> the packages pinned for it (besides the common ones below)
declare -A PINS=(
    [0.5]="verl==0.5.0 transformers==4.57.6 tokenizers==0.22.2 huggingface-hub<1 tensordict==0.9.1 numpy<2 pyarrow>=19,<21 datasets<4.1"
    [0.7]="verl==0.7.1 transformers==4.57.6 tokenizers==0.22.2 huggingface-hub<1 tensordict==0.10.0 numpy<2 pyarrow>=19,<21 datasets<4.1"
    [0.9]="verl==0.9.1 transformers==5.10.4 tokenizers==0.22.2 huggingface-hub>=1.5,<2 tensordict==0.10.0 numpy>=2"
)
# What verl's config/data/reward/agent-loop modules import, unpinned (their newest that fit).
COMMON="hydra-core codetiming aiohttp ray pandas pyarrow datasets orjson pillow httpx cachetools uvicorn fastapi torchdata peft"

if [ "$#" -eq 0 ]; then set -- 0.5 0.7 0.9; fi
if [ ! -x "$MAIN_PYTHON" ]; then
    echo "verl_envs: $MAIN_PYTHON is missing; run scripts/setup.sh first" >&2
    exit 1
fi
# The main environment's torch (a CPU build where setup.sh installed one), so no side env
# pulls a CUDA build of several GB.
TORCH=$("$MAIN_PYTHON" -c 'import importlib.metadata as m; print(m.version("torch").split("+")[0])')
BASE_PYTHON=$("$MAIN_PYTHON" -c 'import sys, os; print(os.path.join(sys.base_prefix, "bin", "python3"))')

MAIN_SITE=$("$MAIN_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# Disk: three side envs with their own torch, ray and pyarrow cost ~5 GB, more than some CI
# machines have free. The main env's torch is hard-linked in before pip runs (pip then finds
# torch==$TORCH installed and copies nothing), and after each env is made the files it shares
# with the others are hard-linked (scripts/share_env_files.py).
seed_torch() {
    local site
    site=$("$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    for dir in "$MAIN_SITE"/torch "$MAIN_SITE"/torchgen "$MAIN_SITE"/functorch "$MAIN_SITE"/torch-*.dist-info; do
        [ -e "$dir" ] && cp -al "$dir" "$site"/
    done
    return 0
}

for minor in "$@"; do
    pins="${PINS[$minor]:-}"
    if [ -z "$pins" ]; then
        echo "verl_envs: no pins for verl $minor (known: ${!PINS[*]})" >&2
        exit 1
    fi
    venv=".venv-verl-$minor"
    want="torch==$TORCH $pins $COMMON"
    if [ -f "$venv/.cobalt-verl-env" ] && [ "$(cat "$venv/.cobalt-verl-env")" = "$want" ]; then
        continue  # made with these pins already
    fi
    echo "verl_envs: making $venv ($pins; log: $venv.log)..."
    rm -rf "$venv"
    log="$venv.log"
    : >"$log"
    read -r -a verl_pins <<<"$pins"
    read -r -a common <<<"$COMMON"
    if ! { "$BASE_PYTHON" -m venv "$venv" \
            && seed_torch "$venv" \
            && "$venv/bin/python" -m pip install -q --no-deps "${verl_pins[0]}" \
            && "$venv/bin/python" -m pip install -q "torch==$TORCH" "${verl_pins[@]:1}" "${common[@]}"; \
         } >>"$log" 2>&1; then
        echo "verl_envs: error: could not make $venv; the end of $log:" >&2
        tail -n 30 "$log" >&2
        rm -rf "$venv"
        exit 1
    fi
    echo "$want" >"$venv/.cobalt-verl-env"
    "$MAIN_PYTHON" scripts/share_env_files.py "$(dirname "$MAIN_PYTHON")/.." .venv-verl-*/
done
