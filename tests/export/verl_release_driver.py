"""Runs verl's own code on what `cobalt export verl` wrote; executed by
tests/export/test_verl_releases.py inside a side environment (``.venv-verl-<minor>``, made by
scripts/verl_envs.sh), never in cobalt-rl's own.

    python verl_release_driver.py SPEC.json OUT.json

SPEC names the model directory (a tokenizer and a config.json, no weights), the overrides each
exported ``run_verl.sh`` passes to ``python3 -m verl.trainer.main_ppo`` (captured by running
the script with a stand-in ``python3``), the exported directories and the scripted replies of
the fake LLM server. OUT receives plain facts (versions, composed values, token ids, scores);
the test asserts on them. Each check records an error instead of stopping the others.

What runs is verl's: Hydra's compose on the release's ``verl/trainer/config`` and its
validation; ``RLHFDataset`` and ``collate_fn``; its reward manager (0.5) or reward-loop worker
(0.7+) calling the exported ``cobalt_reward.py``; its ``AgentLoopWorker`` with the exported
``cobalt_agent_loop.yaml``, talking to a fake server through verl's own server manager (only the
Ray actor handles are stand-ins: awaitables instead of remote calls).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")


def _version(name: str) -> str:
    return importlib.metadata.version(name)


def compose(overrides: list[str]) -> Any:
    """The release's trainer config with ``overrides``, as ``main_ppo`` builds it."""
    import verl
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    config_dir = str(Path(verl.__file__).parent / "trainer" / "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        config = hydra_compose(config_name="ppo_trainer", overrides=overrides)
    try:  # 0.7-0.8 copy the legacy reward keys over in main(); 0.9 has no such step
        from verl.experimental.reward_loop.reward_loop import migrate_legacy_reward_impl
    except ImportError:
        return config
    return migrate_legacy_reward_impl(config)


def validate(config: Any) -> None:
    """The release's own validation of a composed config."""
    try:
        from verl.trainer.ppo.utils import need_critic, need_reference_policy
        from verl.utils.config import validate_config
    except ImportError:  # 0.5: a method of the trainer that reads a few attributes
        from types import SimpleNamespace

        from verl.trainer.ppo.ray_trainer import AdvantageEstimator, RayPPOTrainer

        algorithm = config.algorithm
        trainer = SimpleNamespace(
            config=config,
            use_reference_policy=algorithm.use_kl_in_reward
            or config.actor_rollout_ref.actor.use_kl_loss,
            use_critic=algorithm.adv_estimator == AdvantageEstimator.GAE,
        )
        RayPPOTrainer._validate_config(trainer)
        return
    validate_config(
        config=config,
        use_reference_policy=need_reference_policy(config),
        use_critic=need_critic(config),
    )


def check_compose(overrides: list[str]) -> dict[str, Any]:
    from omegaconf import OmegaConf

    config = compose(overrides)
    validate(config)
    plain = OmegaConf.to_container(config, resolve=False)
    assert isinstance(plain, dict)

    def get(dotted: str) -> Any:
        node: Any = plain
        for key in dotted.split("."):
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    keys = [
        "algorithm.adv_estimator",
        "algorithm.use_kl_in_reward",
        "actor_rollout_ref.actor.use_kl_loss",
        "actor_rollout_ref.model.path",
        "actor_rollout_ref.rollout.mode",
        "actor_rollout_ref.rollout.agent.default_agent_loop",
        "actor_rollout_ref.rollout.calculate_log_probs",
        "critic.model.path",
        "critic.enable",
        "data.return_raw_chat",
        "reward.reward_manager.name",
        "reward.custom_reward_function.path",
        "reward.custom_reward_function.name",
        "reward_model.reward_manager",
        "custom_reward_function.path",
        "custom_reward_function.name",
        "trainer.use_v1",
    ]
    return {key: get(key) for key in keys}


def _tokenizer(model_dir: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


def _dataset(config: Any, parquet: str, tokenizer: Any) -> Any:
    from verl.utils.dataset.rl_dataset import RLHFDataset

    return RLHFDataset(data_files=[parquet], tokenizer=tokenizer, config=config.data)


def _batch(dataset: Any) -> Any:
    from verl.protocol import DataProto
    from verl.utils.dataset.rl_dataset import collate_fn

    return DataProto.from_single_dict(collate_fn([dataset[i] for i in range(len(dataset))]))


def check_dataset(overrides: list[str], parquet: str, model_dir: str) -> dict[str, Any]:
    config = compose(overrides)
    tokenizer = _tokenizer(model_dir)
    batch = _batch(_dataset(config, parquet, tokenizer))
    out: dict[str, Any] = {
        "rows": len(batch),
        "tensor_keys": sorted(batch.batch.keys()) if batch.batch is not None else [],
        "non_tensor_keys": sorted(batch.non_tensor_batch),
        "data_source": [str(x) for x in batch.non_tensor_batch["data_source"]],
        "ground_truth": [r["ground_truth"] for r in batch.non_tensor_batch["reward_model"]],
        "extra_info": [dict(e) for e in batch.non_tensor_batch["extra_info"]],
    }
    if "raw_prompt" in batch.non_tensor_batch:
        out["raw_prompt"] = [list(map(dict, p)) for p in batch.non_tensor_batch["raw_prompt"]]
    if "agent_name" in batch.non_tensor_batch:
        out["agent_name"] = [str(x) for x in batch.non_tensor_batch["agent_name"]]
    if batch.batch is not None and "input_ids" in batch.batch.keys():  # noqa: SIM118 (a TensorDict)
        ids = batch.batch["input_ids"]
        mask = batch.batch["attention_mask"]
        out["input_ids"] = [row[m.bool()].tolist() for row, m in zip(ids, mask, strict=True)]
    return out


def check_reward(
    overrides: list[str], parquet: str, model_dir: str, replies: list[str]
) -> dict[str, Any]:
    """verl's reward path scores ``replies`` (one per row) with the exported function; the
    same replies scored by calling cobalt-rl directly come back beside them."""
    import importlib.util

    import torch

    config = compose(overrides)
    tokenizer = _tokenizer(model_dir)
    batch = _batch(_dataset(config, parquet, tokenizer))
    batch = batch[: len(replies)]
    prompt_len = 8
    response_ids = [tokenizer.encode(r, add_special_tokens=False) for r in replies]
    width = max(len(r) for r in response_ids)
    pad = tokenizer.pad_token_id or 0
    responses = torch.tensor([r + [pad] * (width - len(r)) for r in response_ids])
    prompts = torch.full((len(replies), prompt_len), pad)
    attention = torch.cat(
        [
            torch.ones((len(replies), prompt_len), dtype=torch.long),
            torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in response_ids]),
        ],
        dim=1,
    )
    for key in list(batch.batch.keys()):
        batch.batch.pop(key)
    batch.batch["prompts"] = prompts
    batch.batch["responses"] = responses
    batch.batch["attention_mask"] = attention
    batch.batch["input_ids"] = torch.cat([prompts, responses], dim=1)
    batch.batch["position_ids"] = torch.cumsum(attention, dim=1) - 1

    path = Path(overrides_value(overrides, "custom_reward_function.path"))
    spec = importlib.util.spec_from_file_location("cobalt_reward_direct", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    truths = [r["ground_truth"] for r in batch.non_tensor_batch["reward_model"]]
    infos = [dict(e) for e in batch.non_tensor_batch["extra_info"]]
    direct = module.compute_score_batch(["cobalt"] * len(replies), replies, truths, infos)
    if importlib.util.find_spec("verl.experimental.reward_loop") is not None:  # 0.7+
        from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

        worker = RewardLoopWorker(config)
        results = _run(worker.compute_score_batch(batch))
        scores = [float(r["reward_score"]) for r in results]
        path_name = f"RewardLoopWorker/{type(worker.reward_manager).__name__}"
    else:
        from verl.trainer.ppo.reward import load_reward_manager

        manager = load_reward_manager(config, tokenizer, num_examine=0)
        result = manager(batch, return_dict=True)
        tensor = result["reward_tensor"]
        scores = [float(tensor[i, len(r) - 1]) for i, r in enumerate(response_ids)]
        path_name = type(manager).__name__
    module._SANDBOX.close()
    return {"verl_scores": scores, "direct_scores": list(direct), "path": path_name}


def _run(coroutine: Any) -> Any:
    """Run on the event loop verl's workers captured when they were made (as a Ray actor's
    methods run on its one loop)."""
    from verl.utils.ray_utils import get_event_loop

    return get_event_loop().run_until_complete(coroutine)


def overrides_value(overrides: list[str], suffix: str) -> str:
    for override in overrides:
        key, _, value = override.partition("=")
        if key == suffix or key.endswith("." + suffix):
            return value.strip('"')
    raise KeyError(suffix)


class _Awaitable:
    """What a Ray actor method's ``.remote()`` gives: awaitable, harmless if never awaited."""

    def __init__(self, value: Any):
        self.value = value

    def __await__(self) -> Any:
        if False:  # pragma: no cover - makes this a generator
            yield
        return self.value


class _Method:
    def __init__(self, function: Any):
        self.function = function

    def remote(self, *args: Any, **kwargs: Any) -> _Awaitable:
        return _Awaitable(self.function(*args, **kwargs))


class FakeServer:
    """An LLM server that answers with scripted replies and records every call.

    A call's problem is found by a marker in the decoded prompt, its turn by the number of
    assistant turns opened in it; the reply is the script's text for that turn (the last one
    repeated), tokenized, with the end token and made-up log-probabilities."""

    def __init__(self, tokenizer: Any, script: dict[str, list[str]], opener: str):
        self.tokenizer = tokenizer
        self.script = script
        self.opener = opener
        self.calls: list[dict[str, Any]] = []
        self.generate = _Method(self._generate)

    def _generate(self, *, prompt_ids: list[int], sampling_params: dict[str, Any], **_: Any) -> Any:
        from verl.workers.rollout.replica import TokenOutput

        text = self.tokenizer.decode(prompt_ids)
        (marker,) = [m for m in self.script if m in text]
        turn = text.count(self.opener) - 1
        replies = self.script[marker]
        reply = replies[min(turn, len(replies) - 1)]
        ids = self.tokenizer.encode(reply, add_special_tokens=False)
        cap = max(int(sampling_params["max_tokens"]) - 1, 0)
        ids = [*ids[:cap], self.tokenizer.eos_token_id]
        logprobs = [-round(0.01 * (k + 1), 6) for k in range(len(ids))]
        self.calls.append(
            {
                "marker": marker,
                "turn": turn,
                "prompt_ids": list(prompt_ids),
                "reply_ids": ids,
                "logprobs": logprobs,
                "sampling_params": {k: v for k, v in sampling_params.items() if k != "logprobs"},
            }
        )
        return TokenOutput(token_ids=ids, log_probs=logprobs)


class FakeBalancer:
    """The global load balancer actor, for one server named ``fake``."""

    def __init__(self, server: FakeServer):
        self.acquire_server = _Method(self._acquire)
        self.release_server = _Method(lambda **_: None)
        self.require_acquire_fields = _Method(lambda: [])
        self.require_release_fields = _Method(lambda: [])
        self.server = server
        self.returns_handle = False

    def _acquire(self, request_id: str, **_: Any) -> Any:
        return ("fake", self.server) if self.returns_handle else "fake"


def _worker(config: Any, server: FakeServer) -> Any:
    from verl.experimental.agent_loop import agent_loop

    balancer = FakeBalancer(server)
    if hasattr(agent_loop, "AsyncLLMServerManager"):  # 0.6-0.8
        return agent_loop.AgentLoopWorker(config, [("fake", server)], balancer)
    from verl.workers.rollout.llm_server import LLMServerClient  # 0.9

    balancer.returns_handle = True
    return agent_loop.AgentLoopWorker(config, LLMServerClient(config, balancer))


def verl_feedback_ids(worker: Any, messages: list[dict[str, str]], text: str) -> list[int]:
    """The tokens verl's own agent loops append for a user turn after ``messages`` (which
    end with an assistant reply that ended with the end token)."""
    tokenizer = worker.tokenizer
    user = {"role": "user", "content": text}
    try:
        from verl.utils.tokenizer.continuous_token_wiring import create_continuous_token_builder
    except ImportError:  # 0.6-0.8: the template of the user turn alone, less the system prompt
        from verl.experimental.agent_loop.agent_loop import initialize_system_prompt

        system = initialize_system_prompt(tokenizer)
        ids = tokenizer.apply_chat_template([user], add_generation_prompt=True, tokenize=True)
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        return [int(t) for t in ids][len(system) :]
    builder = create_continuous_token_builder(tokenizer, hf_model_type=worker.hf_model_type)
    merged = builder.merge_context_tokens(
        messages, [*messages, user], [int(tokenizer.eos_token_id)]
    )
    return [int(t) for t in merged.token_ids[1:]]


def check_agent_loop(
    overrides: list[str], parquet: str, model_dir: str, script: dict[str, list[str]], opener: str
) -> dict[str, Any]:
    config = compose(overrides)
    tokenizer = _tokenizer(model_dir)
    dataset = _dataset(config, parquet, tokenizer)
    batch = _batch(dataset)
    server = FakeServer(tokenizer, script, opener)
    worker = _worker(config, server)
    output = _run(worker.generate_sequences(batch))
    tensors = output.batch
    prompt_width = tensors["prompts"].shape[1]
    rows = []
    for i in range(len(output)):
        attention = tensors["attention_mask"][i]
        prompt_mask = attention[:prompt_width].bool()
        response_mask_valid = attention[prompt_width:].bool()
        length = int(response_mask_valid.sum())
        row: dict[str, Any] = {
            "prompt_ids": tensors["prompts"][i][prompt_mask].tolist(),
            "response_ids": tensors["responses"][i][:length].tolist(),
            "response_mask": tensors["response_mask"][i][:length].tolist(),
            "padding_mask": tensors["response_mask"][i][length:].tolist(),
            "num_turns": int(output.non_tensor_batch["__num_turns__"][i]),
        }
        if "rollout_log_probs" in tensors.keys():  # noqa: SIM118 (a TensorDict)
            row["rollout_log_probs"] = [
                round(float(v), 6) for v in tensors["rollout_log_probs"][i][:length]
            ]
        if "rm_scores" in tensors.keys():  # noqa: SIM118 (a TensorDict)
            scores = tensors["rm_scores"][i]
            nonzero = scores.nonzero().flatten().tolist()
            row["rm_score_index"] = nonzero
            row["rm_score"] = float(scores.sum())
        rows.append(row)
    from omegaconf import OmegaConf

    given = config.data.get("apply_chat_template_kwargs")
    template_kwargs = OmegaConf.to_container(given) if given else {}
    template_prompts = []
    for prompt in batch.non_tensor_batch["raw_prompt"]:
        messages = [dict(m) for m in prompt]
        ids = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, **template_kwargs
        )
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        template_prompts.append([int(t) for t in ids])
    feedback = []
    pairs = [
        (call, following)
        for marker in script
        for call, following in zip(
            [c for c in server.calls if c["marker"] == marker],
            [c for c in server.calls if c["marker"] == marker][1:],
            strict=False,
        )
    ]
    for call, following in pairs:
        start = len(call["prompt_ids"]) + len(call["reply_ids"])
        ours = following["prompt_ids"][start:]
        decoded = tokenizer.decode(ours)
        text = decoded.split("user\n", 1)[1].rsplit(tokenizer.eos_token, 1)[0]
        reply_text = tokenizer.decode(call["reply_ids"], skip_special_tokens=True)
        (prompt,) = [
            p
            for p in batch.non_tensor_batch["raw_prompt"]
            if call["marker"] in json.dumps(list(map(dict, p)))
        ]
        conversation = [*[dict(m) for m in prompt], {"role": "assistant", "content": reply_text}]
        feedback.append(
            {
                "marker": call["marker"],
                "ours": ours,
                "text": text,
                "verl": verl_feedback_ids(worker, conversation, text),
            }
        )
    return {
        "rows": rows,
        "calls": server.calls,
        "template_prompts": template_prompts,
        "decoded_prompts": [tokenizer.decode(r["prompt_ids"]) for r in rows],
        "markers": [
            next(m for m in script if m in tokenizer.decode(r["prompt_ids"])) for r in rows
        ],
        "feedback": feedback,
        "tensor_keys": sorted(tensors.keys()),
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    out: dict[str, Any] = {
        "python": list(sys.version_info[:3]),
        "verl": _version("verl"),
        "transformers": _version("transformers"),
        "torch": _version("torch"),
    }
    checks = {
        "compose": lambda: {
            mode: check_compose(overrides) for mode, overrides in spec["overrides"].items()
        },
    }
    if "cobalt" in spec["overrides"]:
        bandit = spec["overrides"]["cobalt"]
        parquet = spec["parquet"]["cobalt"]
        checks["dataset"] = lambda: check_dataset(bandit, parquet, spec["model_dir"])
        checks["reward"] = lambda: check_reward(
            bandit, parquet, spec["model_dir"], spec["bandit_replies"]
        )
    if "qwen_model_dir" in spec and "multiturn" in spec["overrides"]:
        qwen = [
            *(o for o in spec["overrides"]["multiturn"] if "model.path=" not in o),
            f"actor_rollout_ref.model.path={spec['qwen_model_dir']}",
        ]
        checks["agent_loop_multiturn_qwen"] = lambda: check_agent_loop(
            qwen,
            spec["parquet"]["multiturn"],
            spec["qwen_model_dir"],
            spec["script"],
            spec["assistant_opener"],
        )
    for mode in ("multiturn", "rlef"):
        if mode in spec["overrides"] and spec.get("agent_loop", True):
            checks[f"agent_loop_{mode}"] = lambda mode=mode: check_agent_loop(
                spec["overrides"][mode],
                spec["parquet"][mode],
                spec["model_dir"],
                spec["script"],
                spec["assistant_opener"],
            )
    for name, check in checks.items():
        try:
            out[name] = check()
        except Exception as error:  # each check reports its own failure; the others go on
            trace = traceback.format_exc()
            out[name] = {"error": f"{type(error).__name__}: {error}", "trace": trace}
    Path(sys.argv[2]).write_text(json.dumps(out, default=str))
    os._exit(0)  # Ray or the sandbox may leave threads behind; the facts are written


if __name__ == "__main__":
    main()
