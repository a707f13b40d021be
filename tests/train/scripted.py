"""A scripted two-problem batch for the online trainers: a character tokenizer, a sandbox
that judges by text, and a generator that replies from a script (no model, no bubblewrap)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from cobalt_rl.records import ExecResult, Mode, Problem, Status, TestCase, TestOutcome
from cobalt_rl.sandbox.base import ExecRequest

EOS = 1
PAD = 0


class CharTokenizer:
    """One token per character (id = code point + 10), EOS = 1; a plain chat template."""

    eos_token_id = EOS
    pad_token_id = PAD

    def _render(self, messages: Sequence[dict[str, Any]], add_generation_prompt: bool) -> str:
        text = "".join(f"[{m['role']}] {m['content']}\x01" for m in messages)
        return text + ("[assistant] " if add_generation_prompt else "")

    def encode_text(self, text: str) -> list[int]:
        return [EOS if c == "\x01" else ord(c) + 10 for c in text]

    def apply_chat_template(
        self,
        messages: Sequence[dict[str, Any]],
        add_generation_prompt: bool = False,
        tokenize: bool = True,
    ) -> Any:
        text = self._render(messages, add_generation_prompt)
        return self.encode_text(text) if tokenize else text

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": self.encode_text(text)}

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(i - 10) for i in ids if i not in (EOS, PAD))


class TextSandbox:
    """Test j passes when its expected output appears in the program text (a toy verdict)."""

    def __init__(self) -> None:
        self.requests: list[ExecRequest] = []

    @property
    def stats(self) -> dict[str, int]:
        return {"programs": len(self.requests)}

    def run(self, request: ExecRequest) -> ExecResult:
        self.requests.append(request)
        outcomes = [
            TestOutcome(
                status=Status.PASSED if t.output.strip() in request.code else Status.WRONG_ANSWER
            )
            for t in request.tests
        ]
        failed = [t for t, o in zip(request.tests, outcomes, strict=True) if o.status != "passed"]
        feedback = f"expected {failed[0].output}" if failed else "all passed"
        return ExecResult(outcomes=outcomes, feedback=feedback)

    def run_batch(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
        return [self.run(r) for r in requests]

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        future: Future[ExecResult] = Future()
        future.set_result(self.run(request))
        return future

    def close(self) -> None:
        pass


def code(text: str) -> str:
    return f"```python\n{text}\n```"


PROBLEMS = [
    Problem(
        id="alpha",
        source="t",
        statement="Problem alpha.",
        mode=Mode.STDIN,
        public_tests=[TestCase(input="", output="1")],
        hidden_tests=[TestCase(input="", output="2"), TestCase(input="", output="3")],
    ),
    Problem(
        id="beta",
        source="t",
        statement="Problem beta.",
        mode=Mode.STDIN,
        public_tests=[TestCase(input="", output="4")],
        hidden_tests=[TestCase(input="", output="5")],
    ),
]

SCRIPT: dict[tuple[str, int], list[str]] = {
    # alpha, sample 0: solves everything at turn 1 (an episode of one turn)
    ("alpha", 0): [code("print(1, 2, 3)")],
    # alpha, sample 1: no code, then passes the public test only (stops on the public pass)
    ("alpha", 1): ["I am not sure.", code("print(1)")],
    # beta, sample 0: fails twice, then passes the public test but not the hidden one
    ("beta", 0): [code("print(0)"), code("print(0)"), code("print(4)")],
    # beta, sample 1: solves everything at turn 1
    ("beta", 1): [code("print(4, 5)")],
}


def prompts(num_generations: int = 2) -> list[list[dict[str, Any]]]:
    """TRL's batch: each problem's first-turn prompt, repeated ``num_generations`` times."""
    from cobalt_rl.train.online import problems_to_rows

    rows = problems_to_rows(PROBLEMS)
    return [row["prompt"] for row in rows for _ in range(num_generations)]


class ScriptedGenerator:
    """Replies from :data:`SCRIPT`: the context's problem and sample (its position among the
    contexts of that problem at turn 1) and the number of replies so far pick the text."""

    def __init__(self, tokenizer: CharTokenizer) -> None:
        self.tokenizer = tokenizer
        self.calls = 0

    def __call__(self, contexts: list[list[int]], cap: int) -> list[tuple[list[int], None]]:
        seen: dict[str, int] = defaultdict(int)
        out = []
        for context in contexts:
            text = "".join("\x01" if i == EOS else chr(i - 10) for i in context)
            problem = "alpha" if "alpha" in text else "beta"
            turn = text.count("[assistant]")  # replies so far + the opening of this one
            if turn == 1:
                key = (problem, seen[problem])
                seen[problem] += 1
            else:
                key = self._key(problem, text)
            replies = SCRIPT[key]  # past its script, an episode repeats its last reply
            reply = replies[min(turn, len(replies)) - 1]
            out.append(([*self.tokenizer.encode_text(reply), EOS][:cap], None))
        self.calls += 1
        return out

    def _key(self, problem: str, text: str) -> tuple[str, int]:
        first = text.split("[assistant] ")[1].split("\x01")[0]
        for (name, sample), replies in SCRIPT.items():
            if name == problem and replies[0] == first:
                return (name, sample)
        raise KeyError(text)
