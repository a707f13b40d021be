"""`cobalt export verl` under verl's own code, one side environment per verl release.

scripts/verl_envs.sh makes ``.venv-verl-<minor>`` (verl's wheel with --no-deps and what its
config, data, reward and agent-loop paths import; transformers 4 for 0.5 and 0.7, 5 for 0.9);
`make test` runs it first. Here each release's environment runs verl_release_driver.py once on
exports written by this test, and the tests below check what verl did:

- the overrides ``run_verl.sh`` really passes (the script run with a stand-in ``python3``)
  compose with the release's Hydra config and pass its validation;
- the exported parquet goes through verl's ``RLHFDataset`` and ``collate_fn``;
- verl's reward path (0.5: the ``batch`` reward manager; 0.7+: a reward-loop worker with the
  ``naive`` manager) calls ``cobalt_reward.py`` and gets the scores cobalt-rl gives directly;
- the online modes' episodes run in verl's ``AgentLoopWorker`` with the exported agent-loop
  registration, against a fake server that answers one problem wrong then right and another
  wrong every time: token ids, the mask over feedback, the log-probs verl hands the trainer
  (``rollout_log_probs``) and the reward on the last token.

Without a side environment a test skips, saying how to make it; under CI it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cobalt_rl.episode.config import EpisodeConfig
from cobalt_rl.export.verl_launch import VerlExportConfig, export_verl
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import Context, Problem, write_jsonl
from cobalt_rl.sandbox import Limits
from cobalt_rl.sandbox.config import LocalSandboxConfig

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("verl_release_driver.py")
RELEASES = {"0.5": "0.5.0", "0.7": "0.7.1", "0.9": "0.9.1"}  # scripts/verl_envs.sh's pins
ONLINE = ("multiturn", "rlef")
OPENER = "<|im_start|>assistant"  # SmolLM2's chat template opens a reply with it
TEMPLATE_FLAG = "cobalt_test_flag"  # a chat-template keyword only the test template reads
FLAG_TEXT = "[rendered with cobalt_test_flag]"


def _side_python(minor: str) -> Path:
    python = ROOT / f".venv-verl-{minor}" / "bin" / "python"
    if not python.is_file():
        message = (
            f"no side environment for verl {minor} ({python.parent.parent.name}): "
            f"run `bash scripts/verl_envs.sh {minor}` (make test does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


def _fence(code: str) -> str:
    return f"Here is my program.\n\n```python\n{code}```"


def _problems() -> list[Problem]:
    functional = [p for p in load_bundled("train") if p.mode.value == "functional"]
    chosen = [p for p in functional if p.metadata.get("wrong_solutions")][:2]
    names = [p.fn_name or "" for p in chosen]
    statements = [p.statement for p in chosen]
    assert all(n and sum(n in s for s in statements) == 1 for n in names), names
    return chosen


def _model_dir(root: Path, model_type: str = "llama") -> Path:
    """SmolLM2's tokenizer (from the embedded model's GGUF) and a tiny config, no weights:
    what verl's model config loads (its tokenizer, the model type). SmolLM2's template is
    ChatML, Qwen's format: ``qwen2`` makes verl treat it as a Qwen model."""
    from cobalt_rl.llm.embedded import SMOLLM2_CHAT_TEMPLATE, default_cache_dir, find_gguf

    out = root / f"model-{model_type}"
    out.mkdir()
    cached = default_cache_dir() / "tokenizer.json"
    template = SMOLLM2_CHAT_TEMPLATE
    if cached.is_file():
        shutil.copy(cached, out / "tokenizer.json")
    else:
        from transformers import AutoTokenizer

        gguf = find_gguf()
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tokenizer.save_pretrained(root / "converted")
        shutil.copy(root / "converted" / "tokenizer.json", out / "tokenizer.json")
        template = tokenizer.chat_template or template
    # Written by hand so transformers 4 and 5 both read it.
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|im_start|>",
        "eos_token": "<|im_end|>",
        "pad_token": "<|im_end|>",
        "unk_token": "<|endoftext|>",
        "model_max_length": 8192,
        "chat_template": f"{{% if {TEMPLATE_FLAG} is defined and {TEMPLATE_FLAG} %}}"
        f"{FLAG_TEXT}{{% endif %}}" + template,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    config = {
        "architectures": ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"],
        "model_type": model_type,
        "vocab_size": 49152,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "max_position_embeddings": 8192,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 2,
        "tie_word_embeddings": True,
    }
    (out / "config.json").write_text(json.dumps(config))
    return out


def _launch_overrides(script: Path, model_dir: Path, root: Path) -> list[str]:
    """What ``bash run_verl.sh`` passes to ``python3 -m verl.trainer.main_ppo``."""
    shim = root / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "python3").write_text('#!/bin/sh\nprintf "%s\\0" "$@" > "$ARGV_OUT"\n')
    (shim / "python3").chmod(0o755)
    argv_out = root / f"{script.parent.name}.argv"
    env = {
        **{k: v for k, v in os.environ.items() if k != "CRITIC_MODEL"},
        "PATH": f"{shim}:{os.environ['PATH']}",
        "ARGV_OUT": str(argv_out),
        "MODEL": str(model_dir),
    }
    subprocess.run(["bash", str(script)], env=env, check=True, capture_output=True)
    argv = argv_out.read_bytes().decode().split("\0")[:-1]
    assert argv[:2] == ["-m", "verl.trainer.main_ppo"], argv[:2]
    return argv[2:]


def _context(problem: Problem, index: int) -> Context:
    from cobalt_rl.episode.prompts import initial_messages

    return Context(
        id=f"{problem.id}/first",
        problem_id=problem.id,
        prompt=initial_messages(problem),
        tests=problem.true_public_tests + problem.hidden_tests,
        mode=problem.mode,
        fn_name=problem.fn_name,
        prev_best_pass_rate=0.0,
        metadata={"split": "train"},
    )


def _spec(root: Path, minor: str) -> dict[str, Any]:
    problems = _problems()
    model_dir = _model_dir(root)
    write_jsonl(root / "problems.jsonl", problems)
    write_jsonl(root / "contexts.jsonl", [_context(p, i) for i, p in enumerate(problems)])
    sandbox = LocalSandboxConfig(workers=1, limits=Limits(timeout_s=3.0))
    modes = ["cobalt"] + ([] if minor == "0.5" else list(ONLINE))
    overrides, parquet = {}, {}
    for mode in modes:
        source = {"contexts": root / "contexts.jsonl"} if mode == "cobalt" else {}
        if mode != "cobalt":
            source = {"problems": root / "problems.jsonl"}
        out = root / mode
        export_verl(
            VerlExportConfig(
                mode=mode,
                out=out,
                verl_version=RELEASES[minor],
                max_prompt_length=2048,
                sampling=SamplingParams(max_new_tokens=1024),
                episode=EpisodeConfig(stop_on_pass=True, max_episode_tokens=1024),
                sandbox=sandbox,
                profile="cobalt-rl",
                **source,
            )
        )
        overrides[mode] = _launch_overrides(out / "run_verl.sh", model_dir, root)
        if mode == "multiturn":  # the loop must render with the data config's template kwargs
            overrides[mode].append(f"+data.apply_chat_template_kwargs.{TEMPLATE_FLAG}=true")
        parquet[mode] = str(out / "train.parquet")
    first, second = problems
    right = _fence(first.metadata["reference_solution"])
    return {
        "model_dir": str(model_dir),
        "qwen_model_dir": str(_model_dir(root, "qwen2")),
        "overrides": overrides,
        "parquet": parquet,
        "bandit_replies": [right, _fence(second.metadata["wrong_solutions"][0])],
        "script": {
            first.fn_name: [_fence(first.metadata["wrong_solutions"][0]), right],
            second.fn_name: [_fence(second.metadata["wrong_solutions"][0])],
        },
        "assistant_opener": OPENER,
    }


_RUNS: dict[str, dict[str, Any]] = {}


@pytest.fixture(params=sorted(RELEASES))
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The driver's facts for one release (run once per release and session)."""
    minor: str = request.param
    python = _side_python(minor)
    if minor not in _RUNS:
        root = tmp_path_factory.mktemp(f"verl-{minor}")
        spec = _spec(root, minor)
        (root / "spec.json").write_text(json.dumps(spec))
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "RAY_DEDUP_LOGS": "0"}
        done = subprocess.run(
            [str(python), str(DRIVER), str(root / "spec.json"), str(root / "out.json")],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        facts = json.loads((root / "out.json").read_text())
        _RUNS[minor] = {"minor": minor, "spec": spec, **facts}
    return _RUNS[minor]


def _ok(facts: dict[str, Any], check: str) -> Any:
    result = facts[check]
    assert "error" not in result, f"verl {facts['verl']}: {check}: {result.get('trace', '')}"
    return result


def test_side_environment_holds_that_release(run: dict[str, Any]) -> None:
    assert run["verl"] == RELEASES[run["minor"]]
    transformers_major = int(run["transformers"].split(".")[0])
    assert transformers_major == (5 if run["minor"] == "0.9" else 4)


def test_exported_overrides_compose_and_validate(run: dict[str, Any]) -> None:
    composed = _ok(run, "compose")
    model = run["spec"]["model_dir"]
    bandit = composed["cobalt"]
    assert bandit["algorithm.adv_estimator"] == "grpo"
    assert bandit["actor_rollout_ref.model.path"] == model
    if run["minor"] == "0.5":
        assert bandit["reward_model.reward_manager"] == "batch"
        assert bandit["custom_reward_function.name"] == "compute_score_batch"
    else:
        assert bandit["reward.reward_manager.name"] == "naive"
        assert bandit["reward.custom_reward_function.name"] == "compute_score"
        assert bandit["reward.custom_reward_function.path"].endswith("cobalt_reward.py")
        for mode in ONLINE:
            online = composed[mode]
            assert online["actor_rollout_ref.rollout.mode"] == "async"
            assert online["actor_rollout_ref.rollout.agent.default_agent_loop"] == "cobalt_feedback"
            assert online["data.return_raw_chat"] is True
        rlef = composed["rlef"]
        assert rlef["algorithm.adv_estimator"] == "gae"
        assert rlef["algorithm.use_kl_in_reward"] is True
        assert rlef["actor_rollout_ref.actor.use_kl_loss"] is False
        assert rlef["critic.model.path"] == model  # no --critic-model: the policy's
        assert composed["multiturn"]["critic.model.path"] != model  # no critic written


def test_exported_parquet_goes_through_verls_dataset_and_collate(run: dict[str, Any]) -> None:
    data = _ok(run, "dataset")
    problems = _problems()
    assert data["rows"] == len(problems)
    assert data["data_source"] == ["cobalt"] * len(problems)
    assert [json.loads(t)["fn_name"] for t in data["ground_truth"]] == [p.fn_name for p in problems]
    assert [e["problem_id"] for e in data["extra_info"]] == [p.id for p in problems]
    if "input_ids" in data:  # 0.5/0.7 tokenize in the dataset: the chat template's ids
        assert all(ids and ids[-1] != 2 for ids in data["input_ids"])
    assert "reward_model" in data["non_tensor_keys"]


def test_verls_reward_path_calls_the_exported_function(run: dict[str, Any]) -> None:
    reward = _ok(run, "reward")
    assert reward["verl_scores"] == pytest.approx(reward["direct_scores"])
    assert reward["direct_scores"][0] == 1.0 > reward["direct_scores"][1]
    expected = "BatchRewardManager" if run["minor"] == "0.5" else "RewardLoopWorker/Naive"
    assert reward["path"].startswith(expected)


@pytest.mark.parametrize("mode", ONLINE)
def test_online_episode_runs_in_verls_agent_loop_worker(run: dict[str, Any], mode: str) -> None:
    if run["minor"] == "0.5":
        pytest.skip("verl 0.5's agent loop never sees a row's tests: the export refuses it")
    loop = _ok(run, f"agent_loop_{mode}")
    first, second = _problems()
    rows = dict(zip(loop["markers"], loop["rows"], strict=True))
    calls = {name: [c for c in loop["calls"] if c["marker"] == name] for name in rows}
    assert [c["turn"] for c in calls[first.fn_name]] == [0, 1]  # wrong, then right: stop
    assert [c["turn"] for c in calls[second.fn_name]] == [0, 1, 2]  # never passes: 3 turns
    for name, row in rows.items():
        turns = calls[name]
        # the prompt is the chat template's (what verl's dataset renders), as token ids
        assert row["prompt_ids"] == turns[0]["prompt_ids"]
        assert row["prompt_ids"] in loop["template_prompts"]
        # each reply was generated after the whole episode so far, and the response holds
        # every reply (mask 1, the server's log-probs) and the feedback between (mask 0, 0.0)
        response: list[int] = []
        mask: list[int] = []
        logprobs: list[float] = []
        for turn, following in zip(turns, [*turns[1:], None], strict=True):
            assert turn["prompt_ids"] == row["prompt_ids"] + response
            response += turn["reply_ids"]
            mask += [1] * len(turn["reply_ids"])
            logprobs += turn["logprobs"]
            if following is not None:
                feedback = following["prompt_ids"][len(row["prompt_ids"]) + len(response) :]
                assert feedback
                response += feedback
                mask += [0] * len(feedback)
                logprobs += [0.0] * len(feedback)
        assert row["response_ids"] == response
        assert row["response_mask"] == mask
        assert set(row["padding_mask"]) <= {0}
        assert row["rollout_log_probs"] == pytest.approx(logprobs)
        assert row["num_turns"] == 2 * len(turns)
        assert row["rm_score_index"] in ([len(response) - 1], [])  # on the last token
    solved, failed = rows[first.fn_name]["rm_score"], rows[second.fn_name]["rm_score"]
    if mode == "rlef":
        assert (solved, failed) == (1.0, -1.0)
    else:
        assert solved == 1.0 > failed
    assert all(c["sampling_params"]["max_tokens"] > 0 for c in loop["calls"])
    # data.apply_chat_template_kwargs reach the loop's template (set for multiturn only)
    flagged = [FLAG_TEXT in prompt for prompt in loop["decoded_prompts"]]
    assert flagged == [mode == "multiturn"] * len(flagged)


@pytest.mark.parametrize("mode", ONLINE)
def test_feedback_turns_are_the_tokens_verls_own_loops_append(
    run: dict[str, Any], mode: str
) -> None:
    if run["minor"] == "0.5":
        pytest.skip("no online export for verl 0.5")
    loop = _ok(run, f"agent_loop_{mode}")
    assert loop["feedback"], "no feedback turn was seen"
    newline = 198  # SmolLM2's "\n", which ChatML puts after <|im_end|>
    for turn in loop["feedback"]:
        # verl before 0.9 leaves out the template's newline after the reply; ours keeps it
        verl = turn["verl"] if run["minor"] == "0.9" else [newline, *turn["verl"]]
        assert turn["ours"] == verl, turn["text"][:200]
        assert "Expected" in turn["text"] or "Error" in turn["text"], turn["text"][:200]


def test_feedback_after_a_qwen_reply_holds_the_templates_newline(run: dict[str, Any]) -> None:
    """For a Qwen model the template renders ``<|im_end|>\\n`` after a reply, generation
    stops at ``<|im_end|>``: the episode's tokens must hold the newline (verl 0.9 adds it
    too; 0.7 leaves it out)."""
    if run["minor"] == "0.5":
        pytest.skip("no online export for verl 0.5")
    loop = _ok(run, "agent_loop_multiturn_qwen")
    newline = 198  # SmolLM2's "\\n"
    for turn in loop["feedback"]:
        assert turn["ours"][0] == newline, turn["ours"][:4]
        verl = turn["verl"] if run["minor"] == "0.9" else [newline, *turn["verl"]]
        assert turn["ours"] == verl


def test_driver_is_not_collected_and_runs_outside_cobalt_rl() -> None:
    source = DRIVER.read_text()
    assert "import pytest" not in source and "from cobalt_rl" not in source
    assert sys.version_info >= (3, 11)


def test_rlef_script_writes_the_critic_model_and_only_rlef_has_one(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "problems.jsonl", _problems())
    argv = {}
    for mode in ONLINE:
        out = tmp_path / mode
        export_verl(VerlExportConfig(mode=mode, out=out, problems=tmp_path / "problems.jsonl"))
        argv[mode] = _launch_overrides(out / "run_verl.sh", tmp_path / "policy", tmp_path)
    assert f"critic.model.path={tmp_path / 'policy'}" in argv["rlef"]  # default: the policy
    assert not [a for a in argv["multiturn"] if a.startswith("critic.")]
    script = (tmp_path / "rlef" / "run_verl.sh").read_text()
    assert 'CRITIC_MODEL="${CRITIC_MODEL:-$MODEL}"' in script
    critic = tmp_path / "critic"
    env = {
        **os.environ,
        "CRITIC_MODEL": str(critic),
        "MODEL": "m",
        "ARGV_OUT": str(tmp_path / "c"),
        "PATH": f"{tmp_path / 'shim'}:{os.environ['PATH']}",
    }
    subprocess.run(["bash", str(tmp_path / "rlef" / "run_verl.sh")], env=env, check=True)
    assert f"critic.model.path={critic}" in (tmp_path / "c").read_bytes().decode().split("\0")
