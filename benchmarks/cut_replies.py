"""Which replies of a run were cut at the token cap, and whether the program they were judged on
was cut too.

A reply that reaches the cap (``finish_reason: length``) is only a problem for the reward when
its program is cut: a reply whose code block closed before the model rambled on is judged on
whole code. For every trajectory file given (rollouts, evaluations, repairs of a run
directory) this prints, per turn: the replies, the share cut at the cap, the share of replies
whose judged program was cut (the last code block unclosed), and the share of cut replies that
the reward's repetition check flags as a loop (a loop runs to any cap).

    .venv/bin/python benchmarks/cut_replies.py runs/experiment/shared/rollout-train.jsonl \\
        runs/experiment/seed-0/*.jsonl
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from cobalt_rl.llm.extract import find_code_blocks
from cobalt_rl.records import Trajectory, read_jsonl
from cobalt_rl.rewards.reply_format import has_repetition_loop


def cut_counts(path: Path) -> dict[int, list[int]]:
    """Per turn: [replies, cut at the cap, judged program cut, cut replies that loop]."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for trajectory in read_jsonl(path, Trajectory):
        for attempt in trajectory.attempts:
            row = counts[attempt.turn]
            row[0] += 1
            if attempt.finish_reason != "length":
                continue
            row[1] += 1
            blocks = find_code_blocks(attempt.response)
            row[2] += bool(blocks) and not blocks[-1].closed
            row[3] += has_repetition_loop(attempt.response)
    return dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="trajectory .jsonl files")
    args = parser.parse_args()
    print("file | turn | replies | cut at the cap | program cut | cut replies that loop")
    for path in args.files:
        for turn, (n, cut, code_cut, loops) in sorted(cut_counts(path).items()):
            print(
                f"{path.name} | {turn} | {n} | {cut / n:.1%} | {code_cut / n:.1%} | {loops}/{cut}"
            )


if __name__ == "__main__":
    main()
