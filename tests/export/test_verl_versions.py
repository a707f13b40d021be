"""Every verl key the export writes exists in that verl release's own config (excerpts of
``_generated_ppo_trainer.yaml`` and its registries in ``verl_schemas/``, see extract.py)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from cobalt_rl.episode.config import EpisodeConfig
from cobalt_rl.episode.engine import Reply
from cobalt_rl.episode.tokens import ChatTokens
from cobalt_rl.export.verl import run_feedback_episode
from cobalt_rl.export.verl_launch import VerlExportConfig, export_verl
from cobalt_rl.export.verl_versions import VERL_VERSIONS, parse_verl_version
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import write_jsonl
from cobalt_rl.sandbox import Limits
from cobalt_rl.sandbox.config import LocalSandboxConfig
from cobalt_rl.sandbox.factory import make_sandbox

SCHEMAS = {
    path.stem.removeprefix("verl-"): json.loads(path.read_text())
    for path in sorted((Path(__file__).parent / "verl_schemas").glob("verl-*.json"))
}


def _overrides(script: str) -> dict[str, str]:
    body = script.split("python3 -m verl.trainer.main_ppo", 1)[1]
    pairs = re.findall(r"^\s+([a-z_][\w.]*)=(\S*)", body, flags=re.M)
    return dict(pairs)


def _export(tmp: Path, version: str, mode: str = "cobalt") -> Path:
    problems = [p for p in load_bundled("train") if p.mode.value == "functional"][:2]
    write_jsonl(tmp / "problems.jsonl", problems)
    if mode == "cobalt":
        from test_verl import _context  # type: ignore[import-not-found]

        write_jsonl(tmp / "c.jsonl", [_context(p, "train") for p in problems])
        source = {"contexts": tmp / "c.jsonl"}
    else:
        source = {"problems": tmp / "problems.jsonl"}
    cfg = VerlExportConfig(out=tmp / "out", verl_version=version, mode=mode, **source)
    export_verl(cfg)
    return tmp / "out"


def test_every_supported_minor_has_a_schema() -> None:
    assert sorted(parse_verl_version(v) for v in SCHEMAS) == list(VERL_VERSIONS)


@pytest.mark.parametrize("release", sorted(SCHEMAS))
@pytest.mark.parametrize("mode", ["cobalt", "multiturn", "rlef"])
def test_launch_keys_exist_in_that_verls_config(tmp_path: Path, release: str, mode: str) -> None:
    schema = SCHEMAS[release]
    if mode != "cobalt" and not schema["agent_loop_run_gets_row_fields"]:
        with pytest.raises(ValueError, match=r"needs verl 0\.6"):
            _export(tmp_path, release, mode)
        return
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    out = _export(tmp_path, release, mode)
    script = (out / "run_verl.sh").read_text()
    assert subprocess.run(["bash", "-n", str(out / "run_verl.sh")], check=False).returncode == 0
    overrides = _overrides(script)
    unknown = sorted(set(overrides) - set(schema["config_keys"]))
    assert not unknown, f"verl {release} has no such keys: {unknown}"
    if mode == "cobalt":
        if schema["reward_loop_managers"]:  # 0.7+: the reward loop scores
            assert overrides["reward.reward_manager.name"] in schema["reward_loop_managers"]
            assert overrides["reward.custom_reward_function.name"] == "compute_score"
            # 0.9 ignores the legacy keys (no migration): none may be relied on
            assert not [k for k in overrides if k.startswith(("reward_model.", "custom_reward"))]
        else:
            assert overrides["reward_model.reward_manager"] in schema["reward_managers"]
            assert overrides["custom_reward_function.name"] == "compute_score_batch"
    else:
        assert overrides["actor_rollout_ref.rollout.mode"] == "async"
        estimator = overrides["algorithm.adv_estimator"]
        assert estimator == ("gae" if mode == "rlef" else "grpo")


def test_online_export_round_trips_its_files(tmp_path: Path) -> None:
    out = _export(tmp_path, "0.9.1", "rlef")
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "cobalt_agent_loop.yaml",
        "run_verl.sh",
        "train.parquet",
    ]
    rows = pq.read_table(out / "train.parquet").to_pylist()
    problems = [p for p in load_bundled("train") if p.mode.value == "functional"][:2]
    assert [r["extra_info"]["problem_id"] for r in rows] == [p.id for p in problems]
    assert {r["agent_name"] for r in rows} == {"cobalt_feedback"}
    truth = json.loads(rows[0]["reward_model"]["ground_truth"])
    assert len(truth["tests"]) == len(problems[0].true_public_tests + problems[0].hidden_tests)
    assert len(truth["public_tests"]) == len(problems[0].public_tests)
    (loop,) = yaml.safe_load((out / "cobalt_agent_loop.yaml").read_text())
    assert loop["name"] == "cobalt_feedback"
    assert loop["_target_"] == "cobalt_rl.export.verl_agent.CobaltFeedbackAgentLoop"
    episode = json.loads(loop["episode"])
    assert (loop["reward"], episode["turns"], episode["stop_on_pass"]) == ("rlef", 3, True)
    assert json.loads(loop["sandbox"])["backend"] == "local"
    text = (out / "run_verl.sh").read_text()
    assert "cobalt_agent_loop.yaml" in text and "critic.model.path" in text
    assert "every node" in (out / "README.md").read_text()


def test_verls_response_length_is_the_reply_cap_or_the_episode_budget(tmp_path: Path) -> None:
    """One name per setting: mode cobalt's response length is the reply cap
    (sampling.max_new_tokens), an online mode's the episode's budget; the online reply cap
    and the sampling reach the agent loop and the launch script."""
    bandit = VerlExportConfig(
        out=tmp_path, contexts=tmp_path / "c.jsonl", sampling={"max_new_tokens": 700}
    )
    assert bandit.max_response_length == 700
    online = VerlExportConfig.model_validate(
        {
            "out": tmp_path / "out",
            "mode": "multiturn",
            "problems": tmp_path / "problems.jsonl",
            "episode": {"max_episode_tokens": 3000},
            "sampling": {"max_new_tokens": 900, "top_p": 0.9, "top_k": 20},
        }
    )
    assert online.max_response_length == 3000
    assert online.episode.stop_on_pass  # the online default kept under a partial section
    assert VerlExportConfig(out=tmp_path, mode="rlef", problems=tmp_path).max_response_length == (
        6144
    )
    write_jsonl(tmp_path / "problems.jsonl", load_bundled("train")[:2])
    export_verl(online)
    text = (tmp_path / "out" / "run_verl.sh").read_text()
    assert 'MAX_RESPONSE_LENGTH="${MAX_RESPONSE_LENGTH:-3000}"' in text
    assert "rollout.top_p=0.9" in text and "rollout.top_k=20" in text
    (loop,) = yaml.safe_load((tmp_path / "out" / "cobalt_agent_loop.yaml").read_text())
    assert loop["max_new_tokens"] == 900


def test_a_stop_verl_cannot_honour_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stop_at_program_end"):
        VerlExportConfig(
            out=tmp_path, contexts=tmp_path / "c.jsonl", sampling={"stop_at_program_end": True}
        )


def test_verpo_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cobalt train --mode verpo"):
        VerlExportConfig(out=tmp_path, mode="verpo", problems=tmp_path / "p.jsonl")


class FakeChatTokens(ChatTokens):
    """A chat template for the test: the prompt is [1, 2, 3], a feedback turn [7, 7, 7],
    token 2000 ends a reply; replies decode through ``vocab``."""

    def __init__(self, vocab: dict[int, str]) -> None:
        self.vocab, self.eos, self.template_kwargs = vocab, 2000, {}

    def prompt(self, messages: Any) -> list[int]:
        return [1, 2, 3]

    def feedback(self, messages: Any, text: str) -> list[int]:
        return [7, 7, 7]

    def decode(self, ids: Any) -> str:
        return self.vocab[ids[0]]


def ground_truth(problem: Any) -> dict[str, Any]:
    """The ground truth an online row carries for ``problem`` (what the export writes)."""
    return {
        "tests": [t.model_dump() for t in problem.true_public_tests + problem.hidden_tests],
        "public_tests": [t.model_dump() for t in problem.public_tests],
        "mode": problem.mode.value,
        "fn_name": problem.fn_name,
    }


def test_feedback_episode_masks_feedback_and_stops_on_pass() -> None:
    problem = next(p for p in load_bundled("train") if p.mode.value == "functional")
    wrong = f"```python\n{problem.metadata['wrong_solutions'][0]}```"
    right = f"```python\n{problem.metadata['reference_solution']}```"
    replies = iter([wrong, right, right])
    vocab: dict[int, str] = {}

    async def generate(context: list[int], cap: int) -> Reply:
        token = 1000 + len(vocab)
        vocab[token] = next(replies)
        return Reply(token_ids=[token, token, 2000], logprobs=[-0.5, -0.25, -0.125])

    truth = ground_truth(problem)
    sandbox = make_sandbox(LocalSandboxConfig(workers=1, limits=Limits(timeout_s=3.0)))
    try:
        episode = asyncio.run(
            run_feedback_episode(
                prompt=[{"role": "user", "content": "solve it"}],
                ground_truth=json.dumps(truth),
                generate=generate,
                chat=FakeChatTokens(vocab),
                sandbox=sandbox,
                reward="rlef",
                episode=EpisodeConfig(turns=3, stop_on_pass=True, max_episode_tokens=6144),
                max_new_tokens=512,
            )
        )
    finally:
        sandbox.close()
    # wrong reply, feedback (masked), right reply: the public tests pass, the episode ends
    assert episode.response_ids == [1000, 1000, 2000, 7, 7, 7, 1001, 1001, 2000]
    assert episode.response_mask == [1, 1, 1, 0, 0, 0, 1, 1, 1]
    assert episode.response_logprobs == [-0.5, -0.25, -0.125, 0, 0, 0, -0.5, -0.25, -0.125]
    assert episode.turns == 2 and episode.reward == 1.0 and not episode.truncated
    assert episode.public_pass_rates[-1] == 1.0 > episode.public_pass_rates[0]


def test_feedback_episode_closes_a_cut_reply_and_stops_at_the_token_budget() -> None:
    problem = next(p for p in load_bundled("train") if p.mode.value == "functional")
    wrong = f"```python\n{problem.metadata['wrong_solutions'][0]}```"
    vocab: dict[int, str] = {}

    async def generate(context: list[int], cap: int) -> Reply:
        token = 1000 + len(vocab)
        vocab[token] = wrong
        return Reply(token_ids=[token] * min(cap, 4))  # cut by the cap: no end token

    truth = ground_truth(problem)
    sandbox = make_sandbox(LocalSandboxConfig(workers=1, limits=Limits(timeout_s=3.0)))
    try:
        episode = asyncio.run(
            run_feedback_episode(
                prompt=[{"role": "user", "content": "solve it"}],
                ground_truth=truth,
                generate=generate,
                chat=FakeChatTokens(vocab),
                sandbox=sandbox,
                reward="rlef",
                episode=EpisodeConfig(turns=3, max_episode_tokens=10),
                max_new_tokens=4,
            )
        )
    finally:
        sandbox.close()
    # reply (4, cut), end token + feedback (4, masked): 8 of 10 tokens; the next reply gets
    # the 2 left and the budget ends inside it
    assert episode.response_ids == [1000] * 4 + [2000, 7, 7, 7] + [1001] * 2
    assert episode.response_mask == [1] * 4 + [0] * 4 + [1] * 2
    assert episode.turns == 2 and episode.truncated and episode.reward == -1.0
