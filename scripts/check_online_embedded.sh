#!/usr/bin/env bash
# The online trainers on the embedded model, end to end (what docs/baselines.md reports): for each
# mode, `cobalt train` one step on bundled training problems with a checkpoint, the same
# command again with --max-steps 2 (it must resume from checkpoint-1, critic included for
# rlef), then `cobalt rollout` loading the final model. Small on purpose (2 prompts x 2
# completions, 96 tokens a reply, 2 turns): it checks the wiring, not learning.
#
#   bash scripts/check_online_embedded.sh [multiturn rlef verpo] [--out DIR]
#
# Prints one line per check and exits non-zero at the first that fails.
set -euo pipefail
cd "$(dirname "$0")/.."
COBALT=.venv/bin/cobalt
OUT=runs/check-online
modes=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT="$2"; shift 2 ;;
        *) modes+=("$1"); shift ;;
    esac
done
[ ${#modes[@]} -gt 0 ] || modes=(multiturn rlef verpo)
PROBLEMS=src/cobalt_rl/problems/bundled/train.jsonl
mkdir -p "$OUT"

fail() { echo "FAIL: $*" >&2; exit 1; }

for mode in "${modes[@]}"; do
    dir="$OUT/$mode"
    rm -rf "$dir"
    common=(--mode "$mode" --out "$dir" --problems "$PROBLEMS" --num-generations 2
        --prompts-per-step 2 --micro-batch-size 4 --sampling-max-new-tokens 96 --episode-turns 2
        --learning-rate 1e-5 --beta 0 --save-steps 1 --sampling-temperature 0.8)
    start=$(date +%s)
    "$COBALT" train "${common[@]}" --max-steps 1 >"$dir.step1.log" 2>&1 \
        || fail "$mode: first step (log: $dir.step1.log)"
    [ -d "$dir/checkpoints/checkpoint-1" ] || fail "$mode: no checkpoint-1 in $dir/checkpoints"
    if [ "$mode" = rlef ]; then
        [ -f "$dir/checkpoints/checkpoint-1/critic/value_head.pt" ] \
            || fail "rlef: checkpoint-1 has no critic"
    fi
    echo "$mode: step 1 trained and checkpointed in $(( $(date +%s) - start )) s"
    start=$(date +%s)
    "$COBALT" train "${common[@]}" --max-steps 2 >"$dir.step2.log" 2>&1 \
        || fail "$mode: resumed run (log: $dir.step2.log)"
    # the console stays quiet; its last lines name the file holding the library's log
    library=$(grep -o '/[^ ]*/train-[0-9-]*\.log' "$dir.step2.log" | tail -1 || true)
    grep -q "resuming from .*checkpoint-1" "$dir.step2.log" ${library:+"$library"} \
        || fail "$mode: the second run did not resume from checkpoint-1 ($dir.step2.log)"
    [ -d "$dir/checkpoints/checkpoint-2" ] || fail "$mode: no checkpoint-2 after resuming"
    grep -q '"step": 2' "$dir/metrics.jsonl" || fail "$mode: metrics.jsonl has no step 2"
    echo "$mode: resumed from checkpoint-1, trained step 2 in $(( $(date +%s) - start )) s"
    start=$(date +%s)
    "$COBALT" rollout --backend transformers --model "$dir/final" --problems "$PROBLEMS" \
        --limit 2 --samples 1 --turns 2 --max-new-tokens 64 --out "$dir.rollout.jsonl" \
        >"$dir.rollout.log" 2>&1 || fail "$mode: rollout of $dir/final (log: $dir.rollout.log)"
    lines=$(wc -l <"$dir.rollout.jsonl")
    [ "$lines" -ge 2 ] || fail "$mode: rollout wrote $lines trajectories, wanted 2"
    echo "$mode: cobalt rollout loaded $dir/final and wrote $lines trajectories" \
        "in $(( $(date +%s) - start )) s"
done
echo "all checks passed: ${modes[*]}"
