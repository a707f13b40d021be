"""Problem sources: rows written by hand in each dataset's published format."""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cobalt_rl.errors import ConfigError, RecordError, UnsafePayloadError
from cobalt_rl.problems import (
    SOURCES,
    Conversion,
    convert,
    describe_problems,
    load_problems,
    source_options,
)
from cobalt_rl.problems.humaneval import docstring_examples
from cobalt_rl.problems.livecodebench import decode_private_tests
from cobalt_rl.records import Mode, Problem, TestCase, write_jsonl


def write_rows(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def only(result: Conversion) -> Problem:
    assert not result.rejected, result.summary()
    assert len(result.problems) == 1
    return result.problems[0]


# --------------------------------------------------------------------------- LiveCodeBench


def encode_private(tests: list[dict[str, str]]) -> str:
    """LiveCodeBench lite's encoding: json.dumps -> pickle.dumps -> zlib.compress -> base64."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def lcb_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "question_title": "A. Sum",
        "question_content": "Print a + b.\n\nSample Input 1\n\n1 2\n\nSample Output 1\n\n3",
        "platform": "atcoder",
        "question_id": "abc300_a",
        "contest_id": "abc300",
        "contest_date": "2023-04-29T00:00:00",
        "starter_code": "",
        "difficulty": "easy",
        "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
        "private_test_cases": encode_private(
            [
                {"input": "5 7\n", "output": "12\n", "testtype": "stdin"},
                {"input": "0 0\n", "output": "0\n", "testtype": "stdin"},
            ]
        ),
        "metadata": "{}",
    }
    row.update(overrides)
    return row


def test_lcb_stdin_row_decodes_encoded_private_tests(tmp_path: Path) -> None:
    p = only(convert("livecodebench", write_rows(tmp_path / "test.jsonl", [lcb_row()])))
    assert p.id == "livecodebench/abc300_a"
    assert p.source == "livecodebench"
    assert p.mode is Mode.STDIN and p.fn_name is None
    assert p.public_tests == [TestCase(input="1 2\n", output="3\n")]
    assert p.hidden_tests == [
        TestCase(input="5 7\n", output="12\n"),
        TestCase(input="0 0\n", output="0\n"),
    ]
    assert p.difficulty == "easy"
    assert p.metadata["platform"] == "atcoder"
    assert p.metadata["contest_date"] == "2023-04-29T00:00:00"
    assert p.metadata["title"] == "A. Sum"


def test_lcb_functional_row_keeps_one_json_argument_per_line(tmp_path: Path) -> None:
    row = lcb_row(
        platform="leetcode",
        question_id="1",
        starter_code="class Solution:\n    def twoSum(self, nums: List[int], target: int):\n",
        public_test_cases=json.dumps(
            [{"input": "[2, 7, 11, 15]\n9", "output": "[0, 1]", "testtype": "functional"}]
        ),
        # Older releases store private tests as plain JSON: both forms are accepted.
        private_test_cases=json.dumps(
            [{"input": "[3, 3]\n6", "output": "[0, 1]", "testtype": "functional"}]
        ),
        metadata=json.dumps({"func_name": "twoSum"}),
    )
    p = only(convert("livecodebench", write_rows(tmp_path / "test.jsonl", [row])))
    assert p.mode is Mode.FUNCTIONAL and p.fn_name == "twoSum"
    assert p.starter_code.startswith("class Solution:")
    assert [json.loads(line) for line in p.public_tests[0].input.splitlines()] == [
        [2, 7, 11, 15],
        9,
    ]
    assert p.hidden_tests == [TestCase(input="[3, 3]\n6", output="[0, 1]")]


class _RunsCommand:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (self.command,))


class _OpensFile:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def _encode_object(obj: Any) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()


def test_lcb_hostile_pickles_are_refused_and_never_run(tmp_path: Path) -> None:
    ran = tmp_path / "system-ran"
    opened = tmp_path / "open-ran"
    rows = [
        lcb_row(
            question_id="evil_system",
            private_test_cases=_encode_object(_RunsCommand(f"touch {ran}")),
        ),
        lcb_row(
            question_id="evil_open", private_test_cases=_encode_object(_OpensFile(str(opened)))
        ),
        lcb_row(question_id="good"),
    ]
    result = convert("livecodebench", write_rows(tmp_path / "test.jsonl", rows))
    assert not ran.exists() and not opened.exists()
    assert [p.id for p in result.problems] == ["livecodebench/good"]
    assert [r.reason for r in result.rejected] == ["unsafe payload", "unsafe payload"]
    assert "evil_system" in result.rejected[0].message
    assert "posix.system" in result.rejected[0].message or "os.system" in result.rejected[0].message
    assert "evil_open" in result.rejected[1].message
    assert "unsafe payload: 2" in result.summary()


def test_lcb_decoder_refuses_non_string_plain_data() -> None:
    with pytest.raises(UnsafePayloadError, match="unpickles to a list"):
        decode_private_tests(_encode_object([{"input": "1", "output": "1"}]), "row 7")
    with pytest.raises(UnsafePayloadError, match="row 7"):
        decode_private_tests(_encode_object(_RunsCommand("true")), "row 7")


def test_lcb_date_window_skips_rows_outside_it(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "test.jsonl",
        [
            lcb_row(question_id="old", contest_date="2023-05-01T00:00:00"),
            lcb_row(question_id="mid", contest_date="2024-03-10T12:30:00"),
            lcb_row(question_id="new", contest_date="2024-09-01T00:00:00"),
        ],
    )
    result = convert("livecodebench", path, since="2024-01-01", until="2024-08-31")
    assert [p.id for p in result.problems] == ["livecodebench/mid"]
    assert result.notes["outside the since/until window"] == 2
    assert "2 outside the since/until window" in result.summary()
    with pytest.raises(ConfigError, match="after until"):
        convert("livecodebench", path, since="2024-09-01", until="2024-01-01")
    with pytest.raises(ConfigError, match="since must be a date like"):
        convert("livecodebench", path, since="last spring")


def test_lcb_malformed_rows_are_rejected_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    lines = [
        json.dumps(lcb_row(question_id="ok")),
        "{not json",
        json.dumps(lcb_row(question_id="no_content", question_content=None)),
        json.dumps(lcb_row(question_id="garbage", private_test_cases="%%% not base64 %%%")),
        json.dumps(
            lcb_row(
                question_id="bad_type",
                public_test_cases=json.dumps(
                    [{"input": "1", "output": "1", "testtype": "interactive"}]
                ),
            )
        ),
        json.dumps(lcb_row(question_id="mixed", metadata=json.dumps({"func_name": "f"}))),
        json.dumps(lcb_row(question_id="ok")),
    ]
    path.write_text("\n".join(lines) + "\n")
    result = convert("livecodebench", path)
    assert [p.id for p in result.problems] == ["livecodebench/ok"]
    assert [r.reason for r in result.rejected] == [
        "unreadable row",
        "missing question_content",
        "bad private_test_cases",
        "bad public_test_cases",
        "mixed test types",
        "duplicate id",
    ]
    assert result.rejected[0].row == "test.jsonl:2"
    assert "garbage" in result.rejected[2].message
    assert result.summary().startswith("livecodebench: converted 1, rejected 6 (")


# --------------------------------------------------------------------------- TACO


def taco_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "question": "Given two integers, print their sum.\n\nExample\nInput\n1 2\nOutput\n3\n",
        "solutions": json.dumps(["a, b = map(int, input().split())\nprint(a + b)\n"]),
        "starter_code": "",
        "input_output": json.dumps(
            {
                # TACO stores some tests as strings and some as lists of lines.
                "inputs": ["5 7\n", "1 2\n", ["10", "20"]],
                "outputs": ["12\n", "3\n", ["30"]],
            }
        ),
        "difficulty": "MEDIUM_HARD",
        "raw_tags": "[]",
        "name": "sum",
        "source": "codeforces",
        "tags": "['Mathematics', 'Implementation']",
        "skill_types": "[]",
        "url": "https://codeforces.com/problemset/problem/1/A",
        "Expected Auxiliary Space": None,
        "time_limit": "1 seconds",
        "date": "2020-01-01",
        "picture_num": "0",
        "memory_limit": "256 megabytes",
        "Expected Time Complexity": None,
    }
    row.update(overrides)
    return row


def test_taco_stdin_row_joins_lines_and_takes_statement_examples_as_public(tmp_path: Path) -> None:
    p = only(convert("taco", write_rows(tmp_path / "taco.jsonl", [taco_row()])))
    assert p.id == "taco/0"
    assert p.mode is Mode.STDIN
    # "1 2" -> "3" appears in the statement's example, so it is the public test even though
    # it is not first; the others are hidden.
    assert p.public_tests == [TestCase(input="1 2\n", output="3\n")]
    assert p.hidden_tests == [
        TestCase(input="5 7\n", output="12\n"),
        TestCase(input="10\n20", output="30"),
    ]
    assert p.metadata["public_from"] == "statement"
    assert p.difficulty == "medium_hard"
    assert p.metadata["tags"] == ["Mathematics", "Implementation"]
    assert p.metadata["platform"] == "codeforces"
    assert p.metadata["reference_solution"].startswith("a, b = map(int")


def test_taco_call_based_row_stores_json_arguments_and_unwraps_outputs(tmp_path: Path) -> None:
    io = {
        "fn_name": "pair_sum",
        "inputs": [[1, 2], [[3, 4], "x"], [5, 6]],
        # TACO wraps expected return values in a one-element list.
        "outputs": [[3], [[7, "x"]], [11]],
    }
    row = taco_row(
        question="Write pair_sum(a, b).",
        starter_code="def pair_sum(a, b):\n\t",
        input_output=json.dumps(io),
        source="codewars",
    )
    path = write_rows(tmp_path / "taco.jsonl", [row])
    p = only(convert("taco", path))
    assert p.mode is Mode.FUNCTIONAL and p.fn_name == "pair_sum"
    assert p.starter_code == "def pair_sum(a, b):\n\t"
    tests = p.public_tests + p.hidden_tests
    assert [t.input for t in tests] == ["1\n2", '[3, 4]\n"x"', "5\n6"]
    assert [json.loads(t.output) for t in tests] == [3, [7, "x"], 11]
    # No statement match for call-based tests: the first num_public are public.
    assert len(p.public_tests) == 2 and p.metadata["public_from"] == "first"
    kept = only(convert("taco", path, unwrap_single=False, num_public=1))
    assert [json.loads(t.output) for t in kept.public_tests + kept.hidden_tests] == [
        [3],
        [[7, "x"]],
        [11],
    ]
    assert len(kept.public_tests) == 1


def test_taco_single_test_stays_hidden(tmp_path: Path) -> None:
    row = taco_row(input_output=json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]}))
    result = convert("taco", write_rows(tmp_path / "taco.jsonl", [row]))
    p = only(result)
    assert p.public_tests == [] and len(p.hidden_tests) == 1
    assert result.notes["without public tests"] == 1


def test_taco_reads_parquet_and_rejects_bad_input_output(tmp_path: Path) -> None:
    rows = [
        taco_row(),
        taco_row(input_output=json.dumps({"inputs": ["1"], "outputs": []})),
        taco_row(input_output="not json"),
        taco_row(input_output=json.dumps({"fn_name": "f", "inputs": ["1"], "outputs": [[1]]})),
        taco_row(input_output=json.dumps({"inputs": [], "outputs": []})),
    ]
    result = convert("taco", write_parquet(tmp_path / "train-00000-of-00001.parquet", rows))
    assert [p.id for p in result.problems] == ["taco/0"]
    assert [r.reason for r in result.rejected] == [
        "bad input_output",
        "bad input_output",
        "bad input_output",
        "no tests",
    ]
    assert result.rejected[0].row == "train-00000-of-00001.parquet[1]"
    # A directory is read split by split (the hub's shard names).
    assert len(convert("taco", tmp_path, split="train").problems) == 1
    with pytest.raises(ConfigError, match=r"no .* files for split 'test'"):
        convert("taco", tmp_path, split="test")


# --------------------------------------------------------------------------- CodeContests


def cc_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "name": "1548_A. Web of Lies",
        "description": "Count the vulnerable nobles.",
        "public_tests": {"input": ["4 3\n"], "output": ["2\n"]},
        "private_tests": {"input": ["1 0\n", "2 1\n"], "output": ["1\n", "1\n"]},
        "generated_tests": {"input": ["3 0\n"], "output": ["3\n"]},
        "source": 2,
        "difficulty": 9,
        "solutions": {"language": [2, 3], "solution": ["int main(){}", "print(2)\n"]},
        "incorrect_solutions": {"language": [], "solution": []},
        "cf_contest_id": 1548,
        "cf_index": "A",
        "cf_points": 500.0,
        "cf_rating": 1400,
        "cf_tags": ["brute force", "graphs"],
        "is_description_translated": False,
        "untranslated_description": "",
        "time_limit": {"seconds": 2, "nanos": 500000000},
        "memory_limit_bytes": 256000000,
        "input_file": "",
        "output_file": "",
    }
    row.update(overrides)
    return row


def test_codecontests_row(tmp_path: Path) -> None:
    p = only(convert("codecontests", write_parquet(tmp_path / "valid.parquet", [cc_row()])))
    assert p.id == "codecontests/1548_A. Web of Lies"
    assert p.mode is Mode.STDIN
    assert p.public_tests == [TestCase(input="4 3\n", output="2\n")]
    assert p.hidden_tests == [
        TestCase(input="1 0\n", output="1\n"),
        TestCase(input="2 1\n", output="1\n"),
        TestCase(input="3 0\n", output="3\n"),
    ]
    assert p.difficulty == "C"
    assert p.metadata["platform"] == "codeforces"
    assert p.metadata["cf_rating"] == 1400
    assert p.metadata["time_limit_s"] == 2.5
    assert p.metadata["reference_solution"] == "print(2)\n"  # the PYTHON3 one, not the C++


def test_codecontests_options_and_rejections(tmp_path: Path) -> None:
    rows = [
        cc_row(),
        cc_row(name="io", input_file="input.txt", output_file="output.txt"),
        cc_row(name="short", private_tests={"input": ["1\n"], "output": []}),
        cc_row(name="easy", source=1, difficulty=1, solutions=None),
    ]
    result = convert(
        "codecontests", write_rows(tmp_path / "cc.jsonl", rows), include_generated=False
    )
    assert [p.id for p in result.problems] == [
        "codecontests/1548_A. Web of Lies",
        "codecontests/easy",
    ]
    assert len(result.problems[0].hidden_tests) == 2  # generated tests left out
    assert result.problems[1].difficulty == "easy"
    assert result.problems[1].metadata["platform"] == "codechef"
    assert [r.reason for r in result.rejected] == ["file I/O problem", "bad private_tests"]


# --------------------------------------------------------------------------- HumanEval


def test_humaneval_converts_all_164_with_the_official_check() -> None:
    result = convert("humaneval")
    assert len(result.problems) == 164 and not result.rejected
    for p in result.problems:
        assert p.mode is Mode.SCRIPT and p.fn_name
        assert p.statement == p.starter_code
        [hidden] = p.hidden_tests
        assert "def check(candidate)" in hidden.input
        assert hidden.input.rstrip().endswith(f"check({p.fn_name})")
        assert p.metadata["reference_solution"].startswith(p.statement)
    with_public = sum(bool(p.public_tests) for p in result.problems)
    assert with_public >= 140  # measured: 143 of 164
    assert result.notes["without public tests"] == 164 - with_public


def test_humaneval_tests_pass_the_canonical_solutions() -> None:
    # The public tests come from docstrings; a wrong one would punish correct programs. Run
    # every test against the official canonical solution, in a child process.
    problems = convert("humaneval").problems
    jobs = [
        (p.id, p.metadata["reference_solution"], t.input)
        for p in problems
        for t in p.public_tests + p.hidden_tests
    ]
    child = (
        "import json, sys\n"
        "failed = []\n"
        "for pid, program, test in json.load(sys.stdin):\n"
        "    scope = {'__name__': '__main__'}\n"
        "    try:\n"
        "        exec(program, scope)\n"
        "        exec(test, scope)\n"
        "    except Exception as e:\n"
        "        failed.append([pid, test.splitlines()[0], repr(e)[:200]])\n"
        "print(json.dumps(failed))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(out.stdout) == []
    assert len(jobs) > 164 + 350  # measured: 164 checks + 393 examples


def test_docstring_example_forms() -> None:
    prompt = '''
def f(xs: list, k: int = 0) -> int:
    """Sum.
    >>> f([1, 2])
    3
    >>> f([1.5], k=1)
    2.5
    >>> print(f([]))
    0
    >>> f(__import__("os").system("touch pwned"))
    0
    """
'''
    assert docstring_examples(prompt, "f") == [("f([1, 2])", 3), ("f([1.5], k=1)", 2.5)]
    lines = '''
def g(s):
    """Examples:
    g("ab") ➞ 2
    g('abc') == 3
    g([1]) ==> (1,)
    g("x") should return 1.
    g(y) => 5
    For s = "abcd" the output should be 4
    Input: s = "z"
    Output: 1 # one letter
    """
'''
    assert docstring_examples(lines, "g") == [
        ("g('ab')", 2),
        ("g('abc')", 3),
        ("g([1])", (1,)),
        ("g('x')", 1),
        ("g('abcd')", 4),
        ("g(s='z')", 1),
    ]


def test_humaneval_rejects_split_other_than_test() -> None:
    with pytest.raises(ConfigError, match="only the 'test' split"):
        convert("humaneval", split="train")


# --------------------------------------------------------------------------- jsonl, registry


def _problem(pid: str) -> Problem:
    return Problem(
        id=pid,
        source="demo",
        statement="s",
        mode=Mode.STDIN,
        hidden_tests=[TestCase(input="1\n", output="1\n")],
    )


def test_jsonl_source_keeps_good_lines_and_rejects_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "problems.jsonl"
    write_jsonl(path, [_problem("a"), _problem("b")])
    with path.open("a") as f:
        f.write(json.dumps({"id": "c", "source": "demo", "statement": "s", "mode": "stdin"}) + "\n")
    result = convert("jsonl", path)
    assert [p.id for p in result.problems] == ["a", "b"]
    assert [r.reason for r in result.rejected] == ["not a valid problem"]
    assert result.rejected[0].row == "problems.jsonl:3"
    with pytest.raises(RecordError, match=r"problems\.jsonl:3"):
        load_problems(path)


def test_registry_and_option_errors() -> None:
    assert set(SOURCES) == {
        "bundled",
        "cobalt",
        "codecontests",
        "humaneval",
        "jsonl",
        "livecodebench",
        "taco",
    }
    with pytest.raises(ConfigError) as err:
        convert("apps")
    valid = "bundled, cobalt, codecontests, humaneval, jsonl, livecodebench, taco"
    assert f"valid sources: {valid}" in str(err.value)
    with pytest.raises(ConfigError, match="does not take since; its options: split, num_public"):
        convert("taco", "x.jsonl", since="2024-01-01")
    assert source_options("livecodebench") == ["split", "release", "since", "until"]
    with pytest.raises(ConfigError, match="needs --input"):
        convert("taco")
    with pytest.raises(ConfigError, match="does not exist"):
        convert("codecontests", "/nonexistent/cc.parquet")
    with pytest.raises(ConfigError, match="bundled takes no --input"):
        convert("bundled", "x.jsonl")


def test_bundled_source_when_available() -> None:
    bundled = pytest.importorskip("cobalt_rl.problems.bundled")
    if not hasattr(bundled, "load_bundled"):
        pytest.skip("cobalt_rl.problems.bundled has no load_bundled yet")
    result = convert("bundled")
    assert result.problems and not result.rejected
    assert len({p.id for p in result.problems}) == len(result.problems)


def test_describe_problems_counts() -> None:
    problems = [_problem("a"), _problem("b").model_copy(update={"difficulty": "easy"})]
    text = describe_problems(problems)
    assert text.splitlines()[0] == "2 problems"
    assert "difficulty: (none) 1, easy 1" in text or "difficulty: easy 1, (none) 1" in text
    assert (
        "hidden tests: 2 in all; per problem min 1, mean 1.0, max 1; 0 problems have none" in text
    )
    assert "public tests: 0 in all" in text and "2 problems have none" in text
