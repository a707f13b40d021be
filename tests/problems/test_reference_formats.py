"""The Cobalt reference repository's problem rows (source ``cobalt``), hub names as --input,
and LiveCodeBench release tags.

Every row below is hand-made in the layout the named reference file (OSU-NLP-Group/cobalt)
reads or writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cobalt_rl.errors import ConfigError
from cobalt_rl.problems import Conversion, convert
from cobalt_rl.problems.cobalt import INSTRUCTION_LEAD_IN
from cobalt_rl.problems.livecodebench import release_files
from cobalt_rl.records import Mode, Problem, TestCase


def io(pairs: list[tuple[str, str]]) -> str:
    """Tests as the reference stores them: a JSON string of {"inputs", "outputs"}."""
    return json.dumps({"inputs": [i for i, _ in pairs], "outputs": [o for _, o in pairs]})


PUBLIC = [("1 2\n", "3\n"), ("2 2\n", "4\n")]
HIDDEN = [("5 5\n", "10\n"), ("0 0\n", "0\n"), ("9 1\n", "10\n")]


def taco_cobalt_row(**overrides: Any) -> dict[str, Any]:
    """A TACO-Cobalt row: preproc/preproc_taco.py's fields (id, difficulty, question,
    test_cases) plus public_test_cases (read by run_multi_turn_vllm.py) and hidden_test_cases
    (read by eval_multi_turn.py)."""
    row: dict[str, Any] = {
        "id": 17,
        "difficulty": "MEDIUM",
        "question": "Read two integers a and b and print their sum.",
        "test_cases": io(PUBLIC + HIDDEN),
        "public_test_cases": io(PUBLIC),
        "hidden_test_cases": io(HIDDEN),
    }
    row.update(overrides)
    return row


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def only(result: Conversion) -> Problem:
    assert not result.rejected, result.summary()
    assert len(result.problems) == 1
    return result.problems[0]


def test_taco_cobalt_row(tmp_path: Path) -> None:
    p = only(convert("cobalt", write(tmp_path / "train.jsonl", [taco_cobalt_row()])))
    assert p.id == "cobalt/17" and p.source == "cobalt"
    assert p.mode is Mode.STDIN and p.difficulty == "medium"
    assert p.public_tests == [TestCase(input=i, output=o) for i, o in PUBLIC]
    assert p.hidden_tests == [TestCase(input=i, output=o) for i, o in HIDDEN]
    assert p.metadata["reference_id"] == 17 and not p.perturbed


def test_hidden_tests_from_test_cases_when_the_row_has_no_hidden_field(tmp_path: Path) -> None:
    row = taco_cobalt_row()
    del row["hidden_test_cases"]
    p = only(convert("cobalt", write(tmp_path / "t.jsonl", [row])))
    assert p.hidden_tests == [TestCase(input=i, output=o) for i, o in HIDDEN]


def test_preproc_taco_output_with_only_test_cases_takes_four_public(tmp_path: Path) -> None:
    # preproc/preproc_taco.py writes id, difficulty, question, test_cases only.
    row = taco_cobalt_row()
    del row["public_test_cases"], row["hidden_test_cases"]
    p = only(convert("cobalt", write(tmp_path / "t.jsonl", [row])))
    assert len(p.public_tests) == 4 and len(p.hidden_tests) == 1
    assert p.metadata["public_from"] == "first"
    q = only(convert("cobalt", tmp_path / "t.jsonl", num_public=2))
    assert len(q.public_tests) == 2


def test_taco_cobalt_ptb_row_keeps_the_original_public_tests(tmp_path: Path) -> None:
    # preproc/run_perturbation.py: public_test_cases untouched; perturbed_public_test_cases
    # holds the swapped pair first (in shuffled order), then the rest; modified_test_cases the
    # pair alone.
    public = [("a\n", "1\n"), ("b\n", "2\n"), ("c\n", "3\n")]
    perturbed = [("c\n", "2\n"), ("b\n", "3\n"), ("a\n", "1\n")]
    row = taco_cobalt_row(
        public_test_cases=io(public),
        perturbed_public_test_cases=io(perturbed),
        modified_test_cases=io(perturbed[:2]),
    )
    p = only(convert("cobalt", write(tmp_path / "ptb.jsonl", [row])))
    assert p.perturbed
    assert p.public_tests == [TestCase(input=i, output=o) for i, o in perturbed]
    assert p.original_public_tests == [
        TestCase(input="c\n", output="3\n"),
        TestCase(input="b\n", output="2\n"),
        TestCase(input="a\n", output="1\n"),
    ]
    assert p.true_public_tests == p.original_public_tests
    assert p.metadata["perturbed_pair"] == [0, 1]
    assert "1 perturbed (original public tests kept)" in convert("cobalt", tmp_path).summary()


def test_lcb_v6_row_from_preproc_lcb_test6(tmp_path: Path) -> None:
    # preproc/preproc_lcb_test6.py: LiveCodeBench's fields, question_content replaced by
    # instruction, question_id renamed id, the three test fields added.
    args = [("[1, 2]", "3"), ("[0, 0]", "0")]
    row = {
        "question_title": "Add",
        "platform": "leetcode",
        "contest_date": "2025-03-01T00:00:00",
        "starter_code": "class Solution:\n    def add(self, xs):\n        ",
        "difficulty": "easy",
        "metadata": json.dumps({"func_name": "add"}),
        "id": "3456",
        "instruction": f"Think first.\n\n{INSTRUCTION_LEAD_IN}\nReturn the sum of xs.",
        "public_test_cases": io(args[:1]),
        "hidden_test_cases": io(args[1:]),
        "test_cases": io(args),
    }
    p = only(convert("cobalt", write(tmp_path / "lcb_v6.jsonl", [row])))
    assert p.mode is Mode.FUNCTIONAL and p.fn_name == "add"
    assert p.statement == "Return the sum of xs."
    assert p.metadata["instruction"] == row["instruction"]
    assert p.metadata["platform"] == "leetcode"
    assert len(p.public_tests) == 1 and len(p.hidden_tests) == 1


def test_rows_that_do_not_fit_are_rejected_whole_and_counted(tmp_path: Path) -> None:
    rows = [
        taco_cobalt_row(id=1),
        taco_cobalt_row(id=2, public_test_cases="{not json"),
        taco_cobalt_row(id=3, hidden_test_cases=json.dumps({"inputs": ["1"], "outputs": []})),
        {k: v for k, v in taco_cobalt_row().items() if k != "id"},
        taco_cobalt_row(id=5, perturbed_public_test_cases=io([("zzz\n", "1\n"), ("1 2\n", "4\n")])),
        taco_cobalt_row(id=6, question=None),
    ]
    result = convert("cobalt", write(tmp_path / "t.jsonl", rows))
    assert [p.id for p in result.problems] == ["cobalt/1"]
    reasons = [r.reason for r in result.rejected]
    assert reasons == [
        "bad public_test_cases",
        "bad hidden_test_cases",
        "missing id",
        "bad perturbed_public_test_cases",
        "missing question",
    ]
    assert "rejected 5" in result.summary()
    assert "t.jsonl:2 (id 2)" in result.rejected[0].message


# --------------------------------------------------------------------------- hub names


def hub_cache(tmp_path: Path, repo: str, files: dict[str, list[dict[str, Any]]]) -> Path:
    """A Hugging Face hub cache holding one dataset snapshot, as ``hf download`` lays it out:
    datasets--<owner>--<name>/refs/main names the commit under snapshots/."""
    cache = tmp_path / "hub"
    top = cache / ("datasets--" + repo.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    (top / "refs").mkdir(parents=True)
    (top / "refs" / "main").write_text(commit)
    for name, rows in files.items():
        path = top / "snapshots" / commit / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".parquet"):
            pq.write_table(pa.Table.from_pylist(rows), path)
        else:
            write(path, rows)
    return cache


def test_hub_name_reads_the_cached_snapshot(tmp_path: Path) -> None:
    cache = hub_cache(
        tmp_path,
        "osunlp/TACO-Cobalt",
        {
            "data/train-00000-of-00001.parquet": [taco_cobalt_row(id=1), taco_cobalt_row(id=2)],
            "data/validation-00000-of-00001.parquet": [taco_cobalt_row(id=3)],
        },
    )
    train = convert(
        "cobalt", "osunlp/TACO-Cobalt", split="train", hub_cache=cache, hub_download=False
    )
    assert [p.id for p in train.problems] == ["cobalt/1", "cobalt/2"]
    valid = convert(
        "cobalt", "osunlp/TACO-Cobalt", split="validation", hub_cache=cache, hub_download=False
    )
    assert [p.id for p in valid.problems] == ["cobalt/3"]


def test_hub_name_not_cached_says_what_to_download_and_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        convert("cobalt", "osunlp/TACO-Cobalt-PTB", hub_cache=tmp_path, hub_download=False)
    message = str(err.value)
    assert "hf download osunlp/TACO-Cobalt-PTB --repo-type dataset" in message
    assert "datasets--osunlp--TACO-Cobalt-PTB" in message and str(tmp_path) in message
    assert "--local-dir DIR" in message


def test_a_local_path_wins_over_a_hub_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "osunlp").mkdir()
    write(tmp_path / "osunlp" / "TACO-Cobalt", [taco_cobalt_row()])  # a file, no suffix
    with pytest.raises(ConfigError, match=r"expected one of \.jsonl"):
        convert("cobalt", "osunlp/TACO-Cobalt", hub_cache=tmp_path, hub_download=False)


def lcb_row(qid: str) -> dict[str, Any]:
    """A code_generation_lite row (plain-JSON private tests, as the decoder also accepts)."""
    tests = json.dumps([{"input": "1\n", "output": "1\n", "testtype": "stdin"}])
    return {
        "question_title": qid,
        "question_content": "Echo the number.",
        "platform": "atcoder",
        "question_id": qid,
        "contest_id": "abc",
        "contest_date": "2025-02-01T00:00:00",
        "starter_code": "",
        "difficulty": "easy",
        "public_test_cases": tests,
        "private_test_cases": tests,
        "metadata": "{}",
    }


def test_livecodebench_release_tags_pick_files_of_the_hub_snapshot(tmp_path: Path) -> None:
    cache = hub_cache(
        tmp_path,
        "livecodebench/code_generation_lite",
        {"test5.jsonl": [lcb_row("five")], "test6.jsonl": [lcb_row("six")]},
    )
    hub = {"hub_cache": cache, "hub_download": False}
    name = "livecodebench/code_generation_lite"
    v6 = convert("livecodebench", name, release="v6", **hub)
    assert [p.id for p in v6.problems] == ["livecodebench/six"]
    both = convert("livecodebench", name, release="v5_v6", **hub)
    assert [p.id for p in both.problems] == ["livecodebench/five", "livecodebench/six"]
    with pytest.raises(ConfigError, match=r"lacks test\.jsonl, test2\.jsonl"):
        convert("livecodebench", name, release="release_v6", **hub)
    assert release_files("release_v2") == ["test.jsonl", "test2.jsonl"]
    assert release_files("v1") == ["test.jsonl"]
    with pytest.raises(ConfigError, match="unknown release 'v0'"):
        release_files("v0")
