"""The Cobalt reference's trajectories and contexts, read into our records and written back.

Rows are hand-made in the layouts of OSU-NLP-Group/cobalt: ``run_multi_turn_vllm.py`` (the
multi-turn row: conversations, public_exec_results, public_pass_rates), completed by
``eval_multi_turn.py`` (all_pass_rates), and ``preproc/process_multi_turn_taco.py`` (the
context row: example_id, conversation, test_cases, difficulty, prev_best_pass_rate).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cobalt_rl.contexts.build import ContextSettings, build_contexts
from cobalt_rl.interop import (
    export_contexts,
    export_trajectories,
    import_contexts,
    import_trajectories,
    write_rows,
)
from cobalt_rl.problems import convert
from cobalt_rl.records import Mode, Problem, Status

PUBLIC = [("1 2\n", "3\n"), ("2 2\n", "4\n")]
HIDDEN = [("5 5\n", "10\n"), ("0 0\n", "0\n"), ("9 1\n", "10\n")]
SYSTEM = "You are a careful Python programmer."
TASK = "Read a and b; print a + b."
GOOD = "Fixed:\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
WRONG = "```python\nprint(3)\n```"
NO_CODE = "I would add the numbers."


def io(pairs: list[tuple[str, str]]) -> str:
    return json.dumps({"inputs": [i for i, _ in pairs], "outputs": [o for _, o in pairs]})


def problem(tmp_path: Path) -> Problem:
    """The problem through the cobalt source, from a TACO-Cobalt row."""
    row = {
        "id": 7,
        "difficulty": "EASY",
        "question": TASK,
        "test_cases": io(PUBLIC + HIDDEN),
        "public_test_cases": io(PUBLIC),
        "hidden_test_cases": io(HIDDEN),
    }
    path = tmp_path / "problems-src.jsonl"
    path.write_text(json.dumps(row) + "\n")
    return convert("cobalt", path).problems[0]


def conversation(*replies: str) -> list[dict[str, str]]:
    """As run_multi_turn_vllm.py writes it: every reply followed by a feedback turn."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TASK}]
    for reply in replies:
        messages.append({"role": "assistant", "content": reply})
        messages.append({"role": "user", "content": "Here is the execution feedback:\n..."})
    return messages


def multi_turn_row(**overrides: Any) -> dict[str, Any]:
    """Two samples, two turns. Sample 0: wrong on the 2nd public test, then right. Sample 1:
    no code block (one failing entry for the whole program), then right."""
    row: dict[str, Any] = {
        "id": 7,
        "instruction": TASK,
        "public_test_cases": io(PUBLIC),
        "hidden_test_cases": io(HIDDEN),
        "responses": [WRONG, NO_CODE],
        "conversations": [conversation(WRONG, GOOD), conversation(NO_CODE, GOOD)],
        "public_exec_results": [
            [
                {"passing": [True, False], "feedback": ["", "Expected Output: 4"]},
                {"passing": [False], "feedback": ["No code block found."]},
            ],
            [
                {"passing": [True, True], "feedback": ["", ""]},
                {"passing": [True, True], "feedback": ["", ""]},
            ],
        ],
        "public_pass_rates": [[0.5, 0.0], [1.0, 1.0]],
        "all_pass_rates": [[1 / 3, 1.0], [0.0, 1.0]],
    }
    row.update(overrides)
    return row


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_multi_turn_rows_become_trajectories(tmp_path: Path) -> None:
    p = problem(tmp_path)
    result = import_trajectories(write(tmp_path / "mt.jsonl", [multi_turn_row()]), [p])
    assert not result.rejected, result.summary()
    first, second = result.records
    assert (first.problem_id, first.sample, second.sample) == ("cobalt/7", 0, 1)
    assert first.messages[0].content == SYSTEM and len(first.messages) == 6
    wrong, good = first.attempts
    assert wrong.code == "print(3)" and good.code is not None and "a + b" in good.code
    assert wrong.public is not None and wrong.public.feedback == "Expected Output: 4"
    assert [o.status for o in wrong.public.outcomes] == [Status.PASSED, Status.WRONG_ANSWER]
    assert wrong.hidden is not None and wrong.hidden.num_passed == 1
    assert len(wrong.hidden.outcomes) == 3
    assert good.public is not None and good.public.passed
    no_code = second.attempts[0]
    assert no_code.code is None and no_code.public is not None
    assert [o.status for o in no_code.public.outcomes] == [Status.RUNTIME_ERROR] * 2
    assert no_code.public.feedback == "No code block found."


def test_imported_trajectories_build_contexts(tmp_path: Path) -> None:
    p = problem(tmp_path)
    trajectories = import_trajectories(write(tmp_path / "mt.jsonl", [multi_turn_row()]), [p])
    contexts, _ = build_contexts(
        trajectories.records, {p.id: p}, ContextSettings(), count_tokens=lambda m: 10
    )
    # The first-turn prompt and, per improving trajectory, the prefix after its first attempt.
    assert [c.num_prev_attempts for c in contexts] == [0, 1, 1]
    assert contexts[1].prompt[-1].content.startswith("Here is the execution feedback")
    assert {c.prev_best_pass_rate for c in contexts[1:]} == {0.0, 0.4}


def test_rows_that_do_not_fit_are_rejected_whole_and_counted(tmp_path: Path) -> None:
    p = problem(tmp_path)
    rows = [
        multi_turn_row(),
        multi_turn_row(id=99),
        multi_turn_row(all_pass_rates=[[0.5, 1.0], [0.0, 1.0]]),
        multi_turn_row(conversations=[conversation(WRONG), conversation(NO_CODE, GOOD)]),
        multi_turn_row(
            public_exec_results=[[{"passing": [True, False, True], "feedback": ["", "x", ""]}] * 2]
            * 2
        ),
    ]
    result = import_trajectories(write(tmp_path / "mt.jsonl", rows), [p])
    assert len(result.records) == 2  # the first row's two samples, nothing of the others
    assert [r.reason for r in result.rejected] == [
        "unknown problem",
        "hidden pass rate does not fit",
        "turn counts disagree",
        "public result does not fit",
    ]
    assert "read 2, rejected 4" in result.summary()


def test_rows_without_evaluation_have_no_hidden_results(tmp_path: Path) -> None:
    p = problem(tmp_path)
    row = multi_turn_row()
    del row["all_pass_rates"]
    result = import_trajectories(write(tmp_path / "mt.jsonl", [row]), [p])
    assert all(a.hidden is None for t in result.records for a in t.attempts)
    assert "2 trajectories without hidden results" in result.summary()


def context_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "example_id": 7,
        "conversation": conversation(WRONG),
        "test_cases": io(PUBLIC + HIDDEN),
        "difficulty": "EASY",
        "prev_best_pass_rate": 0.4,
    }
    row.update(overrides)
    return row


def test_context_rows_become_contexts(tmp_path: Path) -> None:
    p = problem(tmp_path)
    rows = [
        context_row(),
        context_row(conversation=conversation(WRONG)[:2], prev_best_pass_rate=0.0),
        context_row(conversation=conversation(WRONG)[:3]),  # ends with the reply: no prompt
        context_row(prev_best_pass_rate=2),
    ]
    result = import_contexts(write(tmp_path / "ctx.jsonl", rows), [p])
    assert [r.reason for r in result.rejected] == ["bad conversation", "bad prev_best_pass_rate"]
    first, second = result.records
    assert (first.id, second.id) == ("cobalt/7/reference-1", "cobalt/7/reference-2")
    assert first.num_prev_attempts == 1 and second.num_prev_attempts == 0
    assert first.prev_best_pass_rate == 0.4 and first.mode is Mode.STDIN
    assert len(first.tests) == 5
    alone = import_contexts(tmp_path / "ctx.jsonl")
    assert alone.records[0].problem_id == "cobalt/7"


def test_trajectories_written_back_read_the_same(tmp_path: Path) -> None:
    p = problem(tmp_path)
    imported = import_trajectories(write(tmp_path / "mt.jsonl", [multi_turn_row()]), [p])
    exported = export_trajectories(imported.records, [p])
    assert not exported.rejected
    (row,) = exported.records
    assert row["id"] == 7 and row["public_pass_rates"] == [[0.5, 0.0], [1.0, 1.0]]
    assert row["all_pass_rates"] == [[1 / 3, 1.0], [0.0, 1.0]]
    assert [e["passing"] for e in row["exec_results"]] == [
        [True, False, True, False, False],
        [False] * 5,
    ]
    again = import_trajectories(write_path(tmp_path / "back.jsonl", exported.records), [p])
    assert again.records == imported.records


def write_path(path: Path, rows: list[dict[str, Any]]) -> Path:
    write_rows(path, rows)
    return path


def test_ragged_trajectories_are_not_written(tmp_path: Path) -> None:
    p = problem(tmp_path)
    imported = import_trajectories(write(tmp_path / "mt.jsonl", [multi_turn_row()]), [p])
    first, second = imported.records
    cut = second.model_copy(
        update={"attempts": second.attempts[:1], "messages": second.messages[:3]}
    )
    result = export_trajectories([first, cut], [p])
    assert not result.records and [r.reason for r in result.rejected] == ["ragged trajectories"]


def test_contexts_written_back_read_the_same(tmp_path: Path) -> None:
    p = problem(tmp_path)
    imported = import_contexts(write(tmp_path / "ctx.jsonl", [context_row()]), [p])
    exported = export_contexts(imported.records, [p])
    assert exported.records[0]["example_id"] == 7
    assert exported.records[0]["difficulty"] == "easy"
    again = import_contexts(write_path(tmp_path / "back.jsonl", exported.records), [p])
    assert [c.model_dump(exclude={"metadata"}) for c in again.records] == [
        c.model_dump(exclude={"metadata"}) for c in imported.records
    ]
