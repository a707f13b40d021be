"""Replies that end with their program: reply lengths, the share cut at the cap, time and
base Pass@1, without and with ``SamplingParams.stop_at_program_end``, side by side.

The embedded SmolLM2-135M-Instruct answers the first-turn prompts of the first N bundled
training problems (the rollout stage's own prompts), twice with the same seed: without the
stop, then with it. Each reply's program (extracted under the cobalt-rl profile) runs on its
problem's public tests; Pass@1 is the share of replies that pass all of them.

The two runs draw the same random numbers only until the first reply stops (a row that leaves
the batch changes what the others draw next), so their Pass@1 differ by sampling noise too.
The third column takes it out: the replies WITHOUT the stop, each cut where the stop would
have ended it (``program_end``: the stop is exact, so a reply sampled with the same draws up to
its program's end is this cut). Its Pass@1 against the first column is the stop's own effect
(a reply whose later block, not its first, held the judged program), reply by reply. Its
token counts are the cut text re-tokenized up to the newline the stop ends on. About 7 minutes
on 2 cores at the size below.

    .venv/bin/python benchmarks/program_stop.py --problems 64 --samples 2 --limit 448
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cobalt_rl.episode.prompts import initial_messages
from cobalt_rl.llm import Completion, SamplingParams, extract_code
from cobalt_rl.llm.embedded import prepare_embedded_model
from cobalt_rl.llm.extract import program_end
from cobalt_rl.llm.hf import TransformersGenerator
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Problem
from cobalt_rl.sandbox import LocalSandbox
from cobalt_rl.sandbox.base import ExecRequest


@dataclass(frozen=True)
class Column:
    """One way of sampling: its replies (per problem) and how long generating them took."""

    name: str
    replies: list[list[Completion]]
    seconds: float | None
    tokens: list[int]


def _passes(
    problems: list[Problem], replies: list[list[Completion]], sandbox: LocalSandbox
) -> list[bool]:
    """Per reply, in order: whether its program passes every public test."""
    codes = [extract_code(c.text) for problem_replies in replies for c in problem_replies]
    owners = [
        p for p, problem_replies in zip(problems, replies, strict=True) for _ in problem_replies
    ]
    requests = [
        ExecRequest.for_problem(p, code, "public", profile="cobalt-rl")
        for p, code in zip(owners, codes, strict=True)
        if code is not None
    ]
    results = iter(sandbox.run_batch(requests))
    return [code is not None and next(results).passed for code in codes]


def _share(column: Column, holds: Callable[[Completion], bool]) -> str:
    """The share of the column's replies for which ``holds`` is true."""
    replies = [reply for row in column.replies for reply in row]
    return f"{sum(holds(reply) for reply in replies) / len(replies):.1%}"


def _after_program(text: str) -> bool:
    """Whether ``text`` goes on past the end of its program."""
    end = program_end(text)
    return end is not None and bool(text[end:].strip())


def _cut_afterwards(replies: list[list[Completion]], tokenizer: Any) -> Column:
    """The replies without the stop, each cut where the stop would have ended it."""
    cut: list[list[Completion]] = []
    tokens: list[int] = []
    for problem_replies in replies:
        row = []
        for reply in problem_replies:
            end = program_end(reply.text)
            if end is None:
                row.append(reply)
                tokens.append(reply.completion_tokens)
                continue
            text = reply.text[:end]
            # the stop ends on the token holding the newline after the fence: count to there
            count = len(tokenizer(reply.text[: end + 1], add_special_tokens=False)["input_ids"])
            row.append(reply.model_copy(update={"text": text, "finish_reason": "stop"}))
            tokens.append(min(count, reply.completion_tokens))
        cut.append(row)
    return Column("no stop, cut afterwards", cut, None, tokens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=32, help="first N bundled train problems")
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--limit", type=int, default=448, help="the reply cap (tokens)")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    generator = TransformersGenerator(
        prepare_embedded_model(), num_threads=0, batch_size=args.batch_size
    )
    problems = load_bundled("train")[: args.problems]
    conversations = [initial_messages(p) for p in problems]
    base = SamplingParams(temperature=args.temperature, max_new_tokens=args.limit, seed=0)
    columns: list[Column] = []
    for name, stop in (("no stop", False), ("stop at program end", True)):
        sampling = base.model_copy(update={"stop_at_program_end": stop})
        started = time.perf_counter()
        replies = generator.generate(conversations, args.samples, sampling)
        seconds = time.perf_counter() - started
        tokens = [c.completion_tokens for row in replies for c in row]
        columns.append(Column(name, replies, seconds, tokens))
        print(f"{name}: {sum(tokens)} tokens in {seconds:.0f} s", flush=True)
    columns.append(_cut_afterwards(columns[0].replies, generator.tokenizer))
    generator.close()

    with LocalSandbox() as sandbox:
        passes = [_passes(problems, column.replies, sandbox) for column in columns]

    print(
        f"\n{len(problems)} bundled train problems x {args.samples} samples, T "
        f"{args.temperature}, reply cap {args.limit} tokens, seed 0, batch {args.batch_size}\n"
    )
    print("| | " + " | ".join(c.name for c in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")

    def row(label: str, values: list[str]) -> None:
        print(f"| {label} | " + " | ".join(values) + " |")

    row("reply tokens p50", [f"{statistics.median(c.tokens):.0f}" for c in columns])
    row("reply tokens p90", [f"{statistics.quantiles(c.tokens, n=10)[8]:.0f}" for c in columns])
    row("reply tokens mean", [f"{statistics.mean(c.tokens):.0f}" for c in columns])
    row("reply tokens total", [f"{sum(c.tokens)}" for c in columns])
    row("cut at the cap", [_share(c, lambda r: r.finish_reason == "length") for c in columns])
    row("text after the program", [_share(c, lambda r: _after_program(r.text)) for c in columns])
    row("generation seconds", [f"{c.seconds:.0f}" if c.seconds else "-" for c in columns])
    row(
        "reply tokens/s",
        [f"{sum(c.tokens) / c.seconds:.0f}" if c.seconds else "-" for c in columns],
    )
    row(
        "Pass@1 (public tests)",
        [f"{sum(p) / len(p):.3f} ({sum(p)}/{len(p)})" for p in passes],
    )
    lost = sum(a and not b for a, b in zip(passes[0], passes[2], strict=True))
    gained = sum(b and not a for a, b in zip(passes[0], passes[2], strict=True))
    print(
        f"\nreply by reply, cutting at the program's end: {lost} passing replies fail after the "
        f"cut, {gained} failing ones pass"
    )


if __name__ == "__main__":
    main()
