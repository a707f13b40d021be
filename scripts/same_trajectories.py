"""Whether two trajectory files hold the same trajectories, leaving out measured seconds.

A rollout with a fixed seed is deterministic on one machine and backend: the replies, the
programs, their verdicts and feedback repeat; only how long each test took does not. This
compares two such files record by record, to check that a change of the code's shape left
its behaviour alone (docs/architecture.md says how the episode engine was checked).

    python scripts/same_trajectories.py before.jsonl after.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def without_seconds(value: Any) -> Any:
    """``value`` with every ``seconds`` key dropped, at any depth."""
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    args = parser.parse_args()
    with open(args.before) as a, open(args.after) as b:
        before = [without_seconds(json.loads(line)) for line in a]
        after = [without_seconds(json.loads(line)) for line in b]
    differing = [
        f"{x.get('problem_id')}/{x.get('sample')}"
        for x, y in zip(before, after, strict=False)
        if x != y
    ]
    print(f"{len(before)} vs {len(after)} trajectories; {len(differing)} differ")
    for name in differing[:10]:
        print(f"  differs: {name}")
    return 0 if len(before) == len(after) and not differing else 1


if __name__ == "__main__":
    sys.exit(main())
