"""The Cobalt reference repository's trajectories and contexts, read and written.

Layouts (OSU-NLP-Group/cobalt; one JSON object per line, one line per problem or context):

**Trajectories**: a row of ``run_multi_turn_vllm.py`` output, optionally completed by
``eval_multi_turn.py``. Besides the problem row's fields (``id``, ``instruction``,
``public_test_cases``, ``hidden_test_cases``, ``test_cases``, ``difficulty``) and the
single-turn fields (``responses``, ``exec_results``), it holds, for n samples and T turns:

- ``conversations``: n message lists ``[system, user, assistant, user, ...]``; every
  assistant reply (reasoning before ``</think>`` already dropped) is followed by a feedback
  user turn, the last one included.
- ``public_exec_results``: T lists of n ``{"passing": [bool...], "feedback": [str...]}``,
  one entry per public test, or a single failing entry when the program could not be run as
  a whole (no code block, time-out of the whole program, an evaluator exception).
- ``public_pass_rates``: T lists of n pass rates on the public tests.
- ``all_pass_rates`` (``eval_multi_turn.py``): n lists of T pass rates on the hidden tests.

**Contexts**: a row of ``preproc/process_multi_turn_taco.py`` output: ``example_id``,
``conversation`` (the prefix, ending with a user turn), ``test_cases`` (the tests the
reward runs, ``{"inputs", "outputs"}`` as a JSON string), ``difficulty``,
``prev_best_pass_rate``.

Reading (the paper's released data or a user's own runs of those scripts): each row is
matched to a problem of ours (``cobalt problems convert --source cobalt`` of the same
dataset; a problem matches by id, or by its ``metadata.reference_id`` / last id segment).
A trajectory row gives n :class:`~cobalt_rl.records.Trajectory` records, one per sample,
with attempts, feedback, and public and hidden results. What the reference does not record
is not invented, and is said where it lands:

- a failing test's kind is unknown: it is ``wrong_answer`` with a ``detail`` saying so
  (``runtime_error`` "no code block in the reply" when the reply had none);
- hidden results are pass rates only: k = rate x (hidden tests) must be a whole number, and
  the result holds k passed outcomes then the failed ones, each ``detail`` saying the order
  is not recorded (a rate that does not fit the problem's hidden tests rejects the row);
- an attempt's code is the last fenced block of the stored reply, the reference's rule.

Writing goes the other way for users who run the reference's scripts. Its layout is
rectangular (every sample has T attempts), so a problem whose trajectories differ in length
(ours stop early once the public tests pass) is rejected with that reason, as are script-mode
problems (their tests have no ``inputs``/``outputs`` form). Our own feedback wording is kept;
``process_multi_turn_taco.py`` recognises an all-passed turn by its own wording only.

Every row that does not fit is rejected whole with its reason and counted; nothing is
half-read.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from cobalt_rl.contexts.build import all_public_passed
from cobalt_rl.episode.prompts import feedback_turn
from cobalt_rl.errors import ProblemSourceError
from cobalt_rl.problems import Rejection, Row, RowRejected, iter_rows, summary_line
from cobalt_rl.problems.cobalt import dump_io_tests, parse_io_tests
from cobalt_rl.records import (
    Attempt,
    Context,
    ExecResult,
    Message,
    Mode,
    Problem,
    Status,
    TestOutcome,
    Trajectory,
)
from cobalt_rl.sandbox.feedback import ALL_PASSED

__all__ = [
    "Translated",
    "export_contexts",
    "export_trajectories",
    "import_contexts",
    "import_trajectories",
    "write_rows",
]

T = TypeVar("T")

_FENCED = re.compile(r"```[\w+-]*\n(.*?)```", re.DOTALL)
_UNKNOWN_KIND = "failed in the reference run, which does not record how"
_COUNT_ONLY = "the reference records a hidden pass rate, not which tests passed"


@dataclass
class Translated(Generic[T]):
    """Records read (or rows written), the rows rejected with reasons, and notes."""

    what: str
    records: list[T] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)

    def summary(self, verb: str = "read") -> str:
        return summary_line(self.what, len(self.records), self.rejected, self.notes, verb)


def _translate(what: str, rows: Iterable[Row], convert: Callable[[Row], list[T]]) -> Translated[T]:
    out: Translated[T] = Translated(what)
    for row in rows:
        try:
            out.records.extend(convert(row))
        except ProblemSourceError as e:
            reason = e.reason if isinstance(e, RowRejected) else "invalid row"
            out.rejected.append(Rejection(str(e.row), reason, str(e)))
    return out


def _read(what: str, path: str | Path) -> Iterable[Row]:
    for raw in iter_rows(what, path):
        if raw.data is None:
            yield Row(what, raw.label, raw.index, {"__unreadable__": raw.error}, raw.label)
        else:
            yield Row(what, raw.label, raw.index, raw.data, raw.label)


def _identified(row: Row, key: str) -> tuple[Row, Any]:
    """The reference's id for ``row`` (its ``key`` field) and the row named by it, for the
    messages; an unreadable row, or one without the id, is rejected."""
    if "__unreadable__" in row.data:
        row.reject("unreadable row", str(row.data["__unreadable__"]))
    ref_id = row.data.get(key)
    if ref_id is None:
        row.reject(f"missing {key}")
    return row.named(f"{key} {ref_id}"), ref_id


class _ProblemIndex:
    """Our problems, found by their id or by the reference's id for them."""

    def __init__(self, problems: Sequence[Problem]):
        self.by_id = {p.id: p for p in problems}
        self.by_reference: dict[str, list[Problem]] = defaultdict(list)
        for p in problems:
            ref = p.metadata.get("reference_id")
            self.by_reference[str(ref) if ref is not None else p.id.rsplit("/", 1)[-1]].append(p)

    def find(self, row: Row, ref_id: object) -> Problem:
        if str(ref_id) in self.by_id:
            return self.by_id[str(ref_id)]
        found = self.by_reference.get(str(ref_id), [])
        if len(found) != 1:
            why = "unknown problem" if not found else "ambiguous problem id"
            row.reject(why, f"{ref_id!r} matches {len(found)} of the given problems")
        return found[0]


def _last_code_block(reply: str) -> str | None:
    blocks = _FENCED.findall(reply)
    return blocks[-1].strip() if blocks else None


def _messages(row: Row, conversation: Any, sample: int) -> list[Message]:
    if not isinstance(conversation, list) or not conversation:
        row.reject("bad conversations", f"sample {sample} is not a list of messages")
    try:
        messages = [Message.model_validate(m) for m in conversation]
    except ValidationError as e:
        row.reject("bad conversations", f"sample {sample}: {e.errors()[0]['msg']}")
    head = 1 if messages[0].role == "system" else 0
    for k, m in enumerate(messages[head:]):
        if m.role != ("user" if k % 2 == 0 else "assistant"):
            row.reject("bad conversations", f"sample {sample}: message {head + k} is {m.role}")
    return messages


def _list_of(row: Row, name: str, length: int | None = None) -> list[Any]:
    value = row.data.get(name)
    if not isinstance(value, list) or (length is not None and len(value) != length):
        want = f"a list of {length}" if length is not None else "a list"
        row.reject(f"bad {name}", f"expected {want}")
    return value


def _public_result(row: Row, entry: Any, num_public: int, code: str | None) -> ExecResult:
    passing = entry.get("passing") if isinstance(entry, dict) else None
    feedback = entry.get("feedback") if isinstance(entry, dict) else None
    if (
        not isinstance(passing, list)
        or not isinstance(feedback, list)
        or len(passing) != len(feedback)
        or not all(isinstance(p, bool) for p in passing)
        or not all(isinstance(f, str) for f in feedback)
    ):
        row.reject("bad public_exec_results", "expected {passing: [bool], feedback: [str]}")
    if len(passing) != num_public:
        if passing != [False] or num_public == 0:
            row.reject(
                "public result does not fit",
                f"{len(passing)} results for a problem with {num_public} public tests",
            )
        passing = [False] * num_public  # the whole program failed once: every test failed
    failed = (
        TestOutcome(status=Status.RUNTIME_ERROR, detail="no code block in the reply")
        if code is None
        else TestOutcome(status=Status.WRONG_ANSWER, detail=_UNKNOWN_KIND)
    )
    outcomes = [TestOutcome(status=Status.PASSED) if p else failed for p in passing]
    # The feedback the reference showed: the first failing test's, as it picks it.
    shown = next((f for p, f in zip(passing, feedback, strict=False) if not p), ALL_PASSED)
    return ExecResult(outcomes=outcomes, feedback=shown)


def _hidden_result(row: Row, rate: Any, num_hidden: int) -> ExecResult:
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 1:
        row.reject("bad all_pass_rates", f"{rate!r:.40} is not a pass rate")
    passed = rate * num_hidden
    if num_hidden == 0 or abs(passed - round(passed)) > 1e-6:
        row.reject(
            "hidden pass rate does not fit",
            f"{rate} of {num_hidden} hidden tests is not a whole number of tests",
        )
    k = round(passed)
    outcomes = [TestOutcome(status=Status.PASSED, detail=_COUNT_ONLY)] * k
    outcomes += [TestOutcome(status=Status.WRONG_ANSWER, detail=_COUNT_ONLY)] * (num_hidden - k)
    return ExecResult(outcomes=outcomes)


def _trajectory_reader(problems: _ProblemIndex) -> Callable[[Row], list[Trajectory]]:
    def read(row: Row) -> list[Trajectory]:
        row, ref_id = _identified(row, "id")
        problem = problems.find(row, ref_id)
        conversations = _list_of(row, "conversations")
        n = len(conversations)
        turns = _list_of(row, "public_exec_results")
        if not all(isinstance(t, list) and len(t) == n for t in turns):
            row.reject("bad public_exec_results", f"every turn needs {n} results (one a sample)")
        hidden = _list_of(row, "all_pass_rates", n) if "all_pass_rates" in row.data else None
        out = []
        for i, conversation in enumerate(conversations):
            messages = _messages(row, conversation, i)
            replies = [m.content for m in messages if m.role == "assistant"]
            if len(replies) != len(turns) or (hidden is not None and len(hidden[i]) != len(turns)):
                row.reject(
                    "turn counts disagree",
                    f"sample {i}: {len(replies)} replies, {len(turns)} public results"
                    + (f", {len(hidden[i])} hidden pass rates" if hidden is not None else ""),
                )
            attempts = []
            for t, reply in enumerate(replies):
                code = _last_code_block(reply)
                attempts.append(
                    Attempt(
                        turn=t + 1,
                        response=reply,
                        code=code,
                        public=_public_result(row, turns[t][i], len(problem.public_tests), code),
                        hidden=(
                            _hidden_result(row, hidden[i][t], len(problem.hidden_tests))
                            if hidden is not None
                            else None
                        ),
                    )
                )
            out.append(
                Trajectory(
                    problem_id=problem.id,
                    sample=i,
                    messages=messages,
                    attempts=attempts,
                    perturbed=problem.perturbed,
                    metadata={"reference_id": ref_id},
                )
            )
        return out

    return read


def import_trajectories(path: str | Path, problems: Sequence[Problem]) -> Translated[Trajectory]:
    """Read the reference's multi-turn (+ evaluation) rows into trajectories.

    Args:
        path: a JSONL (or parquet) file of ``run_multi_turn_vllm.py`` / ``eval_multi_turn.py``
            output rows, or a directory of them.
        problems: our problems for those rows (see the module docstring for matching).

    Returns:
        The trajectories (one per sample), the rejected rows with reasons, and notes (how many
        trajectories have no hidden results yet: run ``cobalt evaluate`` on them).
    """
    reader = _trajectory_reader(_ProblemIndex(problems))
    result = _translate("cobalt trajectories", _read("cobalt", path), reader)
    without_hidden = sum(any(a.hidden is None for a in t.attempts) for t in result.records)
    if without_hidden:
        result.notes["trajectories without hidden results (run cobalt evaluate)"] = without_hidden
    return result


def _context_reader(problems: _ProblemIndex | None) -> Callable[[Row], list[Context]]:
    per_problem: Counter[str] = Counter()

    def read(row: Row) -> list[Context]:
        row, ref_id = _identified(row, "example_id")
        problem = problems.find(row, ref_id) if problems is not None else None
        prompt = _messages(row, row.data.get("conversation"), 0)
        if prompt[-1].role != "user":
            row.reject("bad conversation", "a context ends with a user turn")
        tests = parse_io_tests(row, "test_cases")
        if not tests:
            row.reject("missing test_cases")
        best = row.data.get("prev_best_pass_rate", 0.0)
        if not isinstance(best, int | float) or isinstance(best, bool) or not 0 <= best <= 1:
            row.reject("bad prev_best_pass_rate", f"{best!r:.40}")
        problem_id = problem.id if problem is not None else f"cobalt/{ref_id}"
        per_problem[problem_id] += 1
        previous = sum(m.role == "assistant" for m in prompt)
        metadata: dict[str, Any] = {"reference_id": ref_id}
        if isinstance(row.data.get("difficulty"), str):
            metadata["difficulty"] = row.data["difficulty"]
        return [
            Context(
                id=f"{problem_id}/reference-{per_problem[problem_id]}",
                problem_id=problem_id,
                prompt=prompt,
                tests=tests,
                mode=problem.mode if problem is not None else Mode.STDIN,
                fn_name=problem.fn_name if problem is not None else None,
                prev_best_pass_rate=float(best),
                num_prev_attempts=previous,
                perturbed=bool(problem is not None and problem.perturbed and previous),
                metadata=metadata,
            )
        ]

    return read


def import_contexts(
    path: str | Path, problems: Sequence[Problem] | None = None
) -> Translated[Context]:
    """Read the reference's bandit contexts (``process_multi_turn_taco.py`` output).

    Args:
        path: the JSONL file (or a directory of them).
        problems: our problems, to take each context's problem id, mode and function name
            from; without them ids are ``cobalt/<example_id>`` and tests run as stdin, as the
            reference runs them.
    """
    index = _ProblemIndex(problems) if problems is not None else None
    return _translate("cobalt contexts", _read("cobalt", path), _context_reader(index))


# --------------------------------------------------------------------------- writing


def _exec_entry(result: ExecResult) -> dict[str, list[Any]]:
    """Our result as the reference's ``{"passing", "feedback"}``: our feedback text stands at
    the first failing test, the other failing tests carry their status."""
    passing = [o.status is Status.PASSED for o in result.outcomes]
    first = passing.index(False) if False in passing else -1
    feedback = [
        "" if ok else (result.feedback if k == first else o.status.value)
        for k, (ok, o) in enumerate(zip(passing, result.outcomes, strict=True))
    ]
    return {"passing": passing or [False], "feedback": feedback or [result.feedback]}


def _rate(entry: dict[str, list[Any]]) -> float:
    return float(sum(entry["passing"]) / len(entry["passing"]))


def _conversation(t: Trajectory) -> list[dict[str, str]]:
    messages = [m.model_dump() for m in t.messages]
    last = t.attempts[-1]
    if messages[-1]["role"] == "assistant" and last.public is not None:
        # The reference writes a feedback turn after every reply, the last one included.
        text = feedback_turn(last.public.feedback, all_public_passed(last))
        messages.append({"role": "user", "content": text})
    return messages


def _problem_row(problem: Problem) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": problem.metadata.get("reference_id", problem.id),
        "question": problem.statement,
        "difficulty": problem.difficulty or "",
        "test_cases": dump_io_tests(problem.true_public_tests + problem.hidden_tests),
        "public_test_cases": dump_io_tests(problem.true_public_tests),
        "hidden_test_cases": dump_io_tests(problem.hidden_tests),
    }
    if problem.perturbed:  # run_perturbation.py's fields
        row["perturbed_public_test_cases"] = dump_io_tests(problem.public_tests)
    return row


def _trajectory_row(row: Row, problem: Problem, group: list[Trajectory]) -> dict[str, Any]:
    if problem.mode is Mode.SCRIPT:
        row.reject("script-mode problem", "its tests have no inputs/outputs form")
    group = sorted(group, key=lambda t: t.sample)
    lengths = {len(t.attempts) for t in group}
    if len(lengths) != 1:
        row.reject("ragged trajectories", f"attempts per sample vary ({sorted(lengths)})")
    publics = [[a.public for a in t.attempts if a.public is not None] for t in group]
    if any(len(rs) != len(t.attempts) for rs, t in zip(publics, group, strict=True)):
        row.reject("attempt without a public result")
    hiddens = [[a.hidden for a in t.attempts if a.hidden is not None] for t in group]
    scored = sum(map(len, hiddens))
    turns = range(lengths.pop())
    public = [[_exec_entry(rs[k]) for rs in publics] for k in turns]
    out = {
        **_problem_row(problem),
        "instruction": next(m.content for m in group[0].messages if m.role == "user"),
        "responses": [t.attempts[0].response for t in group],
        "raw_responses": [[t.attempts[k].response for t in group] for k in turns],
        "conversations": [_conversation(t) for t in group],
        "public_exec_results": public,
        "public_pass_rates": [[_rate(e) for e in turn] for turn in public],
    }
    if scored == len(group) * len(turns):
        out["all_pass_rates"] = [[h.pass_rate for h in hs] for hs in hiddens]
        # The single-turn run's results, on public + hidden tests (all the reference reads
        # of them is whether every test passed).
        out["exec_results"] = [
            _exec_entry(ExecResult(outcomes=rs[0].outcomes + hs[0].outcomes))
            for rs, hs in zip(publics, hiddens, strict=True)
        ]
    elif scored:
        row.reject("hidden results on some attempts only", "run cobalt evaluate first")
    return out


def export_trajectories(
    trajectories: Sequence[Trajectory], problems: Sequence[Problem]
) -> Translated[dict[str, Any]]:
    """Our trajectories as the reference's multi-turn (+ evaluation) rows, one per problem."""
    by_id = {p.id: p for p in problems}
    groups: dict[str, list[Trajectory]] = defaultdict(list)
    for t in trajectories:
        groups[t.problem_id].append(t)

    def write(row: Row) -> list[dict[str, Any]]:
        pid = row.data["problem_id"]
        if pid not in by_id:
            row.reject("unknown problem", f"{pid!r} is not among the given problems")
        return [_trajectory_row(row, by_id[pid], groups[pid])]

    rows = (Row("cobalt", pid, k, {"problem_id": pid}, pid) for k, pid in enumerate(groups))
    return _translate("cobalt trajectories", rows, write)


def export_contexts(
    contexts: Sequence[Context], problems: Sequence[Problem] | None = None
) -> Translated[dict[str, Any]]:
    """Our contexts as the reference's bandit rows (``process_multi_turn_taco.py`` output)."""
    by_id = {p.id: p for p in problems or []}

    def write(row: Row) -> list[dict[str, Any]]:
        context = contexts[row.index]
        if context.mode is Mode.SCRIPT:
            row.reject("script-mode problem", "its tests have no inputs/outputs form")
        problem = by_id.get(context.problem_id)
        ref_id = problem.metadata.get("reference_id", problem.id) if problem else context.problem_id
        difficulty = problem.difficulty if problem else context.metadata.get("difficulty")
        return [
            {
                "example_id": ref_id,
                "conversation": [m.model_dump() for m in context.prompt],
                "test_cases": dump_io_tests(context.tests),
                "difficulty": difficulty or "",
                "prev_best_pass_rate": context.prev_best_pass_rate,
            }
        ]

    rows = (Row("cobalt", c.id, k, {}, c.id) for k, c in enumerate(contexts))
    return _translate("cobalt contexts", rows, write)


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write JSON rows to ``path`` atomically (temp file + rename). Returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return n
