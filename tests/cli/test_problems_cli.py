"""``cobalt problems convert`` and ``cobalt problems stats``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cobalt_rl.cli import main as cli_main
from cobalt_rl.problems import SOURCES
from cobalt_rl.records import Mode, Problem, read_jsonl

REAL_COMMANDS = list(cli_main.COMMANDS)


@pytest.fixture(autouse=True)
def _only_problems_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # Build the parser with this subcommand alone, so these tests do not depend on the others.
    monkeypatch.setattr(cli_main, "COMMANDS", ["problems"])


def test_problems_is_a_registered_command() -> None:
    assert "problems" in REAL_COMMANDS


def test_convert_humaneval_writes_164_readable_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "he.jsonl"
    assert cli_main.main(["problems", "convert", "--source", "humaneval", "--out", str(out)]) == 0
    problems = list(read_jsonl(out, Problem))
    assert len(problems) == 164
    assert all(p.mode is Mode.SCRIPT and p.hidden_tests for p in problems)
    printed = capsys.readouterr().out
    assert "humaneval: converted 164, rejected 0" in printed
    assert f"wrote 164 problems to {out}" in printed


def test_bad_source_is_a_clear_error_listing_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.jsonl"
    argv = ["problems", "convert", "--source", "apps", "--out", str(out)]
    assert cli_main.main(argv) == 1
    err = capsys.readouterr().err
    assert "--source" in err and "unknown source 'apps'" in err
    assert f"valid sources: {', '.join(SOURCES)}" in err
    assert not out.exists()


def test_option_the_source_does_not_take_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["problems", "convert", "--source", "humaneval", "--since", "2024-01-01"]
    assert cli_main.main([*argv, "--out", str(tmp_path / "x.jsonl")]) == 1
    assert "'humaneval' does not take since" in capsys.readouterr().err


def test_convert_livecodebench_with_date_window_and_rejections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def row(qid: str, when: str) -> dict[str, str]:
        return {
            "question_title": qid,
            "question_content": "Echo the input.",
            "platform": "atcoder",
            "question_id": qid,
            "contest_id": "abc1",
            "contest_date": when,
            "starter_code": "",
            "difficulty": "easy",
            "public_test_cases": json.dumps(
                [{"input": "1\n", "output": "1\n", "testtype": "stdin"}]
            ),
            "private_test_cases": "",
            "metadata": "{}",
        }

    src = tmp_path / "test6.jsonl"
    src.write_text(
        json.dumps(row("old", "2023-01-01T00:00:00"))
        + "\n"
        + json.dumps(row("new", "2024-09-01T00:00:00"))
        + "\n{broken\n"
    )
    out = tmp_path / "lcb.jsonl"
    argv = ["problems", "convert", "--source", "livecodebench", "--input", str(src)]
    assert cli_main.main([*argv, "--since", "2024-06-01", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "converted 1, rejected 1 (unreadable row: 1)" in captured.out
    assert "1 outside the since/until window" in captured.out
    assert "test6.jsonl:3" in captured.err  # the rejected row is named
    assert [p.id for p in read_jsonl(out, Problem)] == ["livecodebench/new"]


def test_nothing_converted_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text("{broken\n")
    out = tmp_path / "out.jsonl"
    argv = ["problems", "convert", "--source", "taco", "--input", str(src), "--out", str(out)]
    assert cli_main.main(argv) == 1
    assert "no problems converted" in capsys.readouterr().err
    assert not out.exists()


def test_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "he.jsonl"
    cli_main.main(["problems", "convert", "--source", "humaneval", "--out", str(out)])
    capsys.readouterr()
    assert cli_main.main(["problems", "stats", "--problems", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("164 problems")
    assert "source: humaneval 164" in text and "mode: script 164" in text
    assert "hidden tests: 164 in all; per problem min 1, mean 1.0, max 1" in text


def test_help_lists_sources_and_documented_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main.main(["problems", "convert", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ", ".join(SOURCES) in text
    for flag in ("--since", "--until", "--num-public", "--include-generated", "--split"):
        assert flag in text
    assert "contamination control" in text


def test_source_options_are_the_run_configs_own_with_unprefixed_flags() -> None:
    """`problems convert` takes a source's options as a run config's `options:` documents
    them (one model), each under its own flag."""
    import datetime

    from cobalt_rl.cli.flags import model_from_args
    from cobalt_rl.cli.problems import ConvertOptions

    parser = cli_main.build_parser()
    command = ["problems", "convert", "--source", "taco", "--out", "p.jsonl", "--split", "train"]
    args = parser.parse_args(
        [*command, "--num-public", "2", "--unwrap-single", "--since", "2024-08-01"]
    )
    options = model_from_args(ConvertOptions, args).source_options()
    assert options == {
        "since": datetime.date(2024, 8, 1),
        "num_public": 2,
        "unwrap_single": True,
        "split": "train",
    }


def test_reference_formats_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A TACO-Cobalt row in a hub cache (datasets--osunlp--TACO-Cobalt/snapshots/<commit>/...),
    # then a run_multi_turn_vllm.py + eval_multi_turn.py row for it, imported and written back.
    io = json.dumps({"inputs": ["1\n", "2\n", "3\n"], "outputs": ["1\n", "2\n", "3\n"]})
    public = json.dumps({"inputs": ["1\n"], "outputs": ["1\n"]})
    hidden = json.dumps({"inputs": ["2\n", "3\n"], "outputs": ["2\n", "3\n"]})
    row = {"id": 5, "difficulty": "EASY", "question": "Echo.", "test_cases": io}
    row |= {"public_test_cases": public, "hidden_test_cases": hidden}
    commit = "a" * 40
    top = tmp_path / "hub" / "datasets--osunlp--TACO-Cobalt"
    (top / "refs").mkdir(parents=True)
    (top / "refs" / "main").write_text(commit)
    data = top / "snapshots" / commit / "data"
    data.mkdir(parents=True)
    (data / "train-00000-of-00001.jsonl").write_text(json.dumps(row) + "\n")
    problems = tmp_path / "problems.jsonl"
    convert = ["problems", "convert", "--source", "cobalt", "--input", "osunlp/TACO-Cobalt"]
    hub = ["--hub-cache", str(tmp_path / "hub"), "--no-hub-download"]
    assert cli_main.main([*convert, *hub, "--out", str(problems)]) == 0
    assert [p.id for p in read_jsonl(problems, Problem)] == ["cobalt/5"]

    reply = "```python\nprint(input())\n```"
    conversation = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "Echo."},
        {"role": "assistant", "content": reply},
        {"role": "user", "content": "feedback"},
    ]
    multi_turn = row | {
        "conversations": [conversation],
        "public_exec_results": [[{"passing": [True], "feedback": [""]}]],
        "public_pass_rates": [[1.0]],
        "all_pass_rates": [[1.0]],
    }
    (tmp_path / "mt.jsonl").write_text(json.dumps(multi_turn) + "\n")
    trajectories = tmp_path / "trajectories.jsonl"
    argv = ["problems", "import-trajectories", "--input", str(tmp_path / "mt.jsonl")]
    assert cli_main.main([*argv, "--problems", str(problems), "--out", str(trajectories)]) == 0
    assert "cobalt trajectories: read 1, rejected 0" in capsys.readouterr().out
    back = tmp_path / "back.jsonl"
    argv = ["problems", "export-trajectories", "--trajectories", str(trajectories)]
    assert cli_main.main([*argv, "--problems", str(problems), "--out", str(back)]) == 0
    (written,) = [json.loads(line) for line in back.read_text().splitlines()]
    assert written["id"] == 5 and written["all_pass_rates"] == [[1.0]]


def test_hub_name_missing_from_the_cache_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["problems", "convert", "--source", "cobalt", "--input", "osunlp/TACO-Cobalt-PTB"]
    argv += ["--hub-cache", str(tmp_path), "--no-hub-download", "--out", str(tmp_path / "p")]
    assert cli_main.main(argv) == 1
    err = capsys.readouterr().err
    assert "hf download osunlp/TACO-Cobalt-PTB --repo-type dataset" in err
    assert not (tmp_path / "p").exists()
