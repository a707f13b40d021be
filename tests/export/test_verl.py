"""`cobalt export verl`: parquet rows verl reads, a reward module that scores, a launch script."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pyarrow.parquet as pq
import pytest

from cobalt_rl.cli.main import main
from cobalt_rl.episode.prompts import initial_messages
from cobalt_rl.errors import ConfigError
from cobalt_rl.export.verl import verl_schema
from cobalt_rl.export.verl_launch import VerlExportConfig, export_verl
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Context, Message, Problem, write_jsonl
from cobalt_rl.rewards.scores import cobalt_score
from cobalt_rl.sandbox import ExecRequest, Limits
from cobalt_rl.sandbox.config import LocalSandboxConfig


def _fence(code: str) -> str:
    return f"Here is my solution.\n\n```python\n{code}```\n"


def _problems() -> list[Problem]:
    train = load_bundled("train")
    functional = [p for p in train if p.mode.value == "functional"][:2]
    stdin = [p for p in train if p.mode.value == "stdin"][:1]
    return functional + stdin


def _context(p: Problem, split: str, prefix: bool = False) -> Context:
    prompt = initial_messages(p)
    prev, attempts = 0.0, 0
    if prefix:  # a prefix holding one failed attempt and its feedback
        prompt = [
            *prompt,
            Message(role="assistant", content=_fence(p.metadata["wrong_solutions"][0])),
            Message(role="user", content="Input: 1\nProgram's Output: 0\nExpected Output: 2"),
        ]
        prev, attempts = 0.5, 1
    return Context(
        id=f"{p.id}/{'p1' if prefix else 'first'}",
        problem_id=p.id,
        prompt=prompt,
        tests=p.true_public_tests + p.hidden_tests,
        mode=p.mode,
        fn_name=p.fn_name,
        prev_best_pass_rate=prev,
        num_prev_attempts=attempts,
        perturbed=prefix,
        metadata={"split": split},
    )


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return _problems()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, problems: list[Problem]) -> Path:
    root = tmp_path_factory.mktemp("verl")
    train = [_context(p, "train") for p in problems] + [_context(problems[0], "train", True)]
    write_jsonl(root / "train.jsonl", train)
    write_jsonl(root / "val.jsonl", [_context(problems[1], "validation")])
    export_verl(
        VerlExportConfig(
            contexts=root / "train.jsonl",
            val_contexts=root / "val.jsonl",
            out=root / "out",
            max_prompt_length=4096,
            sandbox=LocalSandboxConfig(workers=2, limits=Limits(timeout_s=3.0)),
            profile="cobalt-rl",  # these tests check our reward; tests/test_profiles.py the other
        )
    )
    return root / "out"


@pytest.fixture(scope="module")
def reward(exported: Path) -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location(
        "cobalt_reward_under_test", exported / "cobalt_reward.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    module._SANDBOX.close()


def test_parquet_rows_hold_every_column(exported: Path, problems: list[Problem]) -> None:
    table = pq.read_table(exported / "train.parquet")
    assert table.schema.equals(verl_schema())
    rows = table.to_pylist()
    assert len(rows) == 4
    for i, (row, p) in enumerate(zip(rows, [*problems, problems[0]], strict=True)):
        prefix = i == 3
        ctx = _context(p, "train", prefix)
        assert row["data_source"] == "cobalt"
        assert row["ability"] == "code"
        assert row["prompt"] == [{"role": m.role, "content": m.content} for m in ctx.prompt]
        assert row["reward_model"]["style"] == "rule"
        truth = json.loads(row["reward_model"]["ground_truth"])
        assert truth == {
            "tests": [{"input": t.input, "output": t.output} for t in ctx.tests],
            "mode": p.mode.value,
            "fn_name": p.fn_name,
        }
        assert row["extra_info"] == {
            "index": i,
            "context_id": ctx.id,
            "problem_id": p.id,
            "prev_best_pass_rate": 0.5 if prefix else 0.0,
            "perturbed": prefix,
            "num_prev_attempts": 1 if prefix else 0,
            "split": "train",
        }
    assert rows[2]["reward_model"]["ground_truth"].count('"mode": "stdin"') == 1
    assert rows[2]["prompt"][0]["role"] == "system"


def test_validation_parquet_is_marked_validation(exported: Path, problems: list[Problem]) -> None:
    rows = pq.read_table(exported / "val.parquet").to_pylist()
    assert [r["extra_info"]["split"] for r in rows] == ["validation"]
    assert rows[0]["extra_info"]["problem_id"] == problems[1].id


def _row(exported: Path, name: str, i: int) -> dict[str, object]:
    row: dict[str, object] = pq.read_table(exported / name).to_pylist()[i]
    return row


def test_reward_module_scores_like_the_cobalt_reward(
    exported: Path, reward: ModuleType, problems: list[Problem]
) -> None:
    for i, p in enumerate(problems):
        row = _row(exported, "train.parquet", i)
        truth = row["reward_model"]["ground_truth"]  # type: ignore[index]
        info = row["extra_info"]
        right = _fence(p.metadata["reference_solution"])
        wrong = _fence(p.metadata["wrong_solutions"][0])
        assert reward.compute_score("cobalt", right, truth, info) == 1.0
        assert reward.compute_score("cobalt", wrong, truth, info) < 1.0
        assert reward.compute_score("cobalt", "I cannot solve this.", truth, info) == -1.0


def test_reward_takes_code_after_think(exported: Path, reward: ModuleType) -> None:
    p = _problems()[0]
    row = _row(exported, "train.parquet", 0)
    truth = row["reward_model"]["ground_truth"]  # type: ignore[index]
    reply = (
        f"<think>first idea:\n```python\n{p.metadata['wrong_solutions'][0]}```\nno.</think>\n"
        + _fence(p.metadata["reference_solution"])
    )
    assert reward.compute_score("cobalt", reply, truth, row["extra_info"]) == 1.0
    only_thought = f"<think>```python\n{p.metadata['reference_solution']}```</think>\nDone."
    assert reward.compute_score("cobalt", only_thought, truth, row["extra_info"]) == -1.0


def test_batch_reward_uses_prev_best_and_validation_is_binary(
    exported: Path, reward: ModuleType, problems: list[Problem]
) -> None:
    p0, p1 = problems[0], problems[1]
    first, prefix = _row(exported, "train.parquet", 0), _row(exported, "train.parquet", 3)
    val = _row(exported, "val.parquet", 0)
    wrong0, wrong1 = (
        _fence(p0.metadata["wrong_solutions"][0]),
        _fence(p1.metadata["wrong_solutions"][0]),
    )
    rows = [first, prefix, val, val]
    replies = [wrong0, wrong0, _fence(p1.metadata["reference_solution"]), wrong1]
    scores = reward.compute_score_batch(
        data_sources=["cobalt"] * 4,
        solution_strs=replies,
        ground_truths=[r["reward_model"]["ground_truth"] for r in rows],  # type: ignore[index]
        extra_infos=[r["extra_info"] for r in rows],
    )
    # The same wrong reply: a first-turn score, then one measured against the prefix's best
    # (0.5); validation rows score 1 or 0.
    result = reward._SANDBOX.get().run(
        ExecRequest(
            code=p0.metadata["wrong_solutions"][0],
            tests=p0.true_public_tests + p0.hidden_tests,
            mode=p0.mode,
            fn_name=p0.fn_name,
        )
    )
    assert 0.0 < result.pass_rate < 1.0
    assert scores[0] == cobalt_score(result, wrong0, 0.0)
    assert scores[1] == cobalt_score(result, wrong0, 0.5) != scores[0]
    assert scores[2:] == [1.0, 0.0]
    assert (
        reward.compute_score(
            "cobalt", "no code", val["reward_model"]["ground_truth"], val["extra_info"]
        )
        == 0.0
    )  # type: ignore[index]


def test_launch_script_names_the_files_and_paper_settings(exported: Path) -> None:
    script = exported / "run_verl.sh"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash")
    for needed in [
        "python3 -m verl.trainer.main_ppo",
        "algorithm.adv_estimator=grpo",
        'data.train_files="$HERE/train.parquet"',
        'data.val_files="$HERE/val.parquet"',
        # the default is the newest verl (0.9): the reward loop's keys
        'reward.custom_reward_function.path="$HERE/cobalt_reward.py"',
        "reward.custom_reward_function.name=compute_score",
        "reward.reward_manager.name=naive",
        "actor_rollout_ref.actor.optim.lr=1e-06",
        "actor_rollout_ref.actor.clip_ratio_low=0.2",
        "actor_rollout_ref.actor.clip_ratio_high=0.4",
        "actor_rollout_ref.actor.use_kl_loss=True",
        "actor_rollout_ref.actor.kl_loss_coef=0.0001",
        "actor_rollout_ref.rollout.name=vllm",
        "actor_rollout_ref.rollout.n=16",
        'trainer.n_gpus_per_node="$N_GPUS_PER_NODE"',
        'MAX_PROMPT_LENGTH="${MAX_PROMPT_LENGTH:-4096}"',
        'TRAIN_BATCH_SIZE="${TRAIN_BATCH_SIZE:-4}"',  # 4 rows: verl drops incomplete batches
        'MODEL="${MODEL:-Qwen/Qwen3-8B}"',
        "scripts/train_grpo_multi_turn.sh",
    ]:
        assert needed in text, needed
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    readme = (exported / "README.md").read_text()
    assert "never cobalt-rl's own" in readme and "pip install --no-deps" in readme


def test_cli_exports_without_validation(tmp_path: Path, problems: list[Problem]) -> None:
    write_jsonl(tmp_path / "c.jsonl", [_context(p, "train") for p in problems])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "val.parquet").write_text("stale")
    rc = main(
        ["export", "verl", "--contexts", str(tmp_path / "c.jsonl"), "--out", str(tmp_path / "out")]
    )
    assert rc == 0
    out = tmp_path / "out"
    assert pq.read_table(out / "train.parquet").num_rows == len(problems)
    assert not (out / "val.parquet").exists()
    text = (out / "run_verl.sh").read_text()
    assert 'data.val_files="$HERE/train.parquet"' in text and "trainer.test_freq=-1" in text
    module = (out / "cobalt_reward.py").read_text()
    assert (
        "def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)"
        in module
    )
    compile(module, "cobalt_reward.py", "exec")


def test_cli_refuses_empty_or_wrong_split_contexts(
    tmp_path: Path, problems: list[Problem], capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    args = [
        "export",
        "verl",
        "--contexts",
        str(tmp_path / "empty.jsonl"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(args) == 1
    captured = capfd.readouterr()
    assert "holds no contexts" in captured.err + captured.out
    write_jsonl(tmp_path / "v.jsonl", [_context(problems[0], "validation")])
    with pytest.raises(ConfigError, match="--split train"):
        export_verl(VerlExportConfig(contexts=tmp_path / "v.jsonl", out=tmp_path / "o"))


def test_reward_side_loads_alone_without_the_trainer_or_pyarrow() -> None:
    # verl's environment has cobalt-rl without its dependencies: the module the generated
    # reward module imports must not pull in the trainer (torch, TRL) or pyarrow.
    code = (
        "import sys, cobalt_rl.export.verl\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'trl', 'pyarrow')"
        " or m.startswith('cobalt_rl.train')]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_reward_module_carries_the_sandbox_config(reward: ModuleType) -> None:
    config = reward._SANDBOX.config
    assert isinstance(config, LocalSandboxConfig) and config.workers == 2
    assert (config.limits.timeout_s, config.limits.program_timeout_s) == (3.0, 30.0)
    assert reward._SANDBOX.get().limits == config.limits
