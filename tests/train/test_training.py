"""Training really updates weights: a tiny random model learns, runs resume, the multi-turn
baseline trains, and the saved model loads for rollouts."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cobalt_rl.episode.config import EpisodeConfig, RolloutConfig
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.records import Context, Message, Mode, Problem, TestCase, write_jsonl
from cobalt_rl.rewards.scores import REWARDS
from cobalt_rl.train.config import (
    BanditTrainConfig,
    MultiturnTrainConfig,
    ValidationOptions,
    VllmOptions,
)

REWARD_NAME = "fraction_hello_for_tests"


def fraction_hello(result: Any, response: str, prev: float) -> float:
    """A task a tiny random model learns in a few steps: say 'hello' as often as possible."""
    words = response.split()
    return sum(w == "hello" for w in words) / len(words) if words else 0.0


@pytest.fixture
def hello_reward() -> Iterator[str]:
    REWARDS[REWARD_NAME] = fraction_hello
    yield REWARD_NAME
    del REWARDS[REWARD_NAME]


def contexts(path: Path, n: int = 4) -> Path:
    write_jsonl(
        path,
        [
            Context(
                id=f"c{i}",
                problem_id=f"p{i}",
                prompt=[Message(role="user", content="please write one two three")],
                tests=[TestCase(input="", output="")],
                mode=Mode.STDIN,
            )
            for i in range(n)
        ],
    )
    return path


def small(tmp_path: Path, tiny_models: Any, reward: str, **options: Any) -> dict[str, Any]:
    """TrainConfig options for a few quick steps of the tiny model on 4 contexts."""
    return {
        "contexts": contexts(tmp_path / "c.jsonl"),
        "out": tmp_path / "run",
        "model": str(tiny_models.random),
        "reward": reward,
        "num_generations": 4,
        "prompts_per_step": 2,
        "micro_batch_size": 8,
        "beta": 0.0,
        "sampling": {"max_new_tokens": 4},
        **options,
    }


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def weights(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.mark.slow
def test_bandit_training_raises_mean_reward(
    tmp_path: Path, tiny_models: Any, hello_reward: str
) -> None:
    cfg = BanditTrainConfig(
        contexts=contexts(tmp_path / "c.jsonl"),
        out=tmp_path / "run",
        model=str(tiny_models.random),
        reward=hello_reward,
        num_generations=8,
        prompts_per_step=4,
        micro_batch_size=32,
        learning_rate=2e-2,
        beta=0.0,
        sampling=SamplingParams(max_new_tokens=8),
        max_steps=12,
        save_steps=100,
        seed=0,
    )
    from cobalt_rl.train.bandit import train_bandit

    final = train_bandit(cfg)
    logged = [r for r in rows(cfg.out / "metrics.jsonl") if "reward" in r]
    assert len(logged) == 12
    first = sum(r["reward"] for r in logged[:3]) / 3
    last = sum(r["reward"] for r in logged[-3:]) / 3
    assert last > first + 0.2, (first, last)
    before, after = weights(tiny_models.random), weights(final)
    assert any(not before[k].equal(after[k]) for k in before)
    assert "step_seconds" in logged[-1] and "exec_share" in logged[-1]
    # No completion of this model holds code: format failures 1.0 and pass rate 0.0, logged.
    assert logged[-1]["format_failure_rate"] == 1.0 and logged[-1]["pass_rate"] == 0.0


@pytest.mark.slow
def test_killed_run_resumes_from_checkpoint(
    tmp_path: Path, tiny_models: Any, hello_reward: str
) -> None:
    from cobalt_rl.train.bandit import train_bandit

    base = small(tmp_path, tiny_models, hello_reward, learning_rate=1e-3, save_steps=1)
    train_bandit(BanditTrainConfig(**base, max_steps=2))
    assert (tmp_path / "run" / "checkpoints" / "checkpoint-2").is_dir()
    # A second run to 4 steps resumes at step 2: only steps 3 and 4 are trained and logged.
    train_bandit(BanditTrainConfig(**base, max_steps=4))
    steps = [r["step"] for r in rows(tmp_path / "run" / "metrics.jsonl") if "loss" in r]
    assert steps == [1, 2, 3, 4]


def test_time_budget_stops_training_and_still_saves(
    tmp_path: Path, tiny_models: Any, hello_reward: str
) -> None:
    from cobalt_rl.train.bandit import train_bandit

    cfg = BanditTrainConfig(
        **small(tmp_path, tiny_models, hello_reward, max_steps=50, save_steps=100, max_seconds=0.01)
    )
    final = train_bandit(cfg)
    logged = rows(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in logged if "loss" in r] == [1]  # one step, not 50
    assert [r["stopped"] for r in logged if "stopped" in r] == ["time budget"]
    assert (final / "config.json").is_file()


def test_bf16_run_saves_bf16_and_frees_its_trainer_before_returning(
    tmp_path: Path, tiny_models: Any, hello_reward: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first round's fixes at their call sites: a bf16 run's final weights are written
    in bf16 (the fp32 master copy was only the optimizer's), and the trainer is released
    before training returns (``cobalt run`` evaluates next, in the same process)."""
    import torch

    import cobalt_rl.train.common as common
    from cobalt_rl.train.bandit import train_bandit

    released: list[Any] = []
    real_release = common.release

    def spy(trainer: Any) -> None:
        real_release(trainer)
        released.append(trainer.model)

    monkeypatch.setattr(common, "release", spy)
    cfg = BanditTrainConfig(
        **small(tmp_path, tiny_models, hello_reward, max_steps=1, precision="bf16")
    )
    final = train_bandit(cfg)
    assert released == [None]  # called once, and the model let go
    assert {t.dtype for t in weights(final).values()} == {torch.bfloat16}


@pytest.mark.slow
def test_multiturn_baseline_trains_and_model_loads(
    tmp_path: Path, tiny_models: Any, hello_reward: str
) -> None:
    problems = tmp_path / "p.jsonl"
    write_jsonl(
        problems,
        [
            Problem(
                id=f"p{i}",
                source="t",
                statement="Print hello.",
                mode=Mode.STDIN,
                public_tests=[TestCase(input="", output="hello\n")],
                hidden_tests=[TestCase(input="", output="hello\n")],
            )
            for i in range(2)
        ],
    )
    cfg = MultiturnTrainConfig(
        mode="multiturn",
        problems=problems,
        out=tmp_path / "run",
        model=str(tiny_models.random),
        reward=hello_reward,
        num_generations=4,
        prompts_per_step=2,
        micro_batch_size=8,
        learning_rate=1e-2,
        beta=0.0,
        sampling=SamplingParams(max_new_tokens=6),
        max_steps=2,
        episode={"turns": 2},
        save_steps=100,
    )
    from cobalt_rl.train.multiturn import train_multiturn

    final = train_multiturn(cfg)
    logged = [r for r in rows(cfg.out / "metrics.jsonl") if "reward" in r]
    assert len(logged) == 2
    # No tiny-model reply holds a code block, so every episode got the no-code feedback.
    assert logged[0]["format_failure_rate"] == 1.0
    before, after = weights(tiny_models.random), weights(final)
    assert any(not before[k].equal(after[k]) for k in before)

    from cobalt_rl.llm.hf import TransformersGenerator

    gen = TransformersGenerator(final)
    out = gen.generate(
        [[Message(role="user", content="hello")]], 2, SamplingParams(max_new_tokens=3)
    )
    assert len(out[0]) == 2
    gen.close()


@pytest.mark.slow
def test_validation_during_training_logs_pass_at_1(
    tmp_path: Path, tiny_models: Any, hello_reward: str
) -> None:
    val = tmp_path / "val.jsonl"
    write_jsonl(
        val,
        [
            Problem(
                id="v0",
                source="t",
                statement="Print hello.",
                mode=Mode.STDIN,
                public_tests=[TestCase(input="", output="hello\n")],
                hidden_tests=[TestCase(input="", output="hello\n")],
            )
        ],
    )
    cfg = BanditTrainConfig(
        contexts=contexts(tmp_path / "c.jsonl"),
        out=tmp_path / "run",
        model=str(tiny_models.random),
        reward=hello_reward,
        num_generations=2,
        prompts_per_step=2,
        micro_batch_size=4,
        learning_rate=1e-3,
        beta=0.0,
        sampling=SamplingParams(max_new_tokens=4),
        max_steps=2,
        save_steps=100,
        validation=ValidationOptions(
            problems=val,
            every=1,
            rollout=RolloutConfig(
                samples=2,
                episode=EpisodeConfig(turns=2),
                sampling=SamplingParams(max_new_tokens=4, seed=0),
            ),
        ),
    )
    from cobalt_rl.train.bandit import train_bandit

    train_bandit(cfg)
    val_rows = [r for r in rows(cfg.out / "metrics.jsonl") if "val/pass@1_turn1" in r]
    assert [r["step"] for r in val_rows] == [1, 2]
    # The tiny model never writes code: Pass@1 is 0 at both turns, measured, not assumed.
    assert all(r["val/pass@1_turn1"] == 0.0 and r["val/pass@1_turn2"] == 0.0 for r in val_rows)


def test_vllm_options_reach_trl(tmp_path: Path) -> None:
    from cobalt_rl.train.common import build_grpo_config

    cfg = BanditTrainConfig(
        contexts=tmp_path / "c.jsonl",
        out=tmp_path / "run",
        vllm=VllmOptions(
            mode="server",
            server_host="10.0.0.2",
            server_port=8123,
            gpu_memory_utilization=0.5,
            tensor_parallel_size=2,
        ),
        num_generations=4,
        prompts_per_step=2,
        micro_batch_size=8,
    )
    args = build_grpo_config(cfg)
    assert (args.use_vllm, args.vllm_mode) == (True, "server")
    assert (args.vllm_server_host, args.vllm_server_port) == ("10.0.0.2", 8123)
    assert args.vllm_gpu_memory_utilization == 0.5 and args.vllm_tensor_parallel_size == 2


def test_mode_picks_the_config_and_a_field_of_the_other_mode_is_named(tmp_path: Path) -> None:
    from cobalt_rl.errors import ConfigError
    from cobalt_rl.train.config import parse_train_config

    bandit = parse_train_config({"contexts": str(tmp_path / "c.jsonl"), "out": str(tmp_path)})
    assert isinstance(bandit, BanditTrainConfig)
    multi = parse_train_config({"mode": "multiturn", "problems": "p.jsonl", "out": "o"})
    assert isinstance(multi, MultiturnTrainConfig) and multi.episode.turns == 3
    with pytest.raises(ConfigError, match=r"--episode: not an option of 'bandit'"):
        parse_train_config({"contexts": "c.jsonl", "out": "o", "episode": {"turns": 2}})
    with pytest.raises(ConfigError, match=r"--problems: Field required"):
        parse_train_config({"mode": "multiturn", "out": "o"})


def hello_problems(path: Path, n: int = 2) -> Path:
    write_jsonl(
        path,
        [
            Problem(
                id=f"p{i}",
                source="t",
                statement="Print hello.",
                mode=Mode.STDIN,
                public_tests=[TestCase(input="", output="hello\n")],
                hidden_tests=[TestCase(input="", output="hello\n")],
            )
            for i in range(n)
        ],
    )
    return path


def online(tmp_path: Path, tiny_models: Any, reward: str, mode: str, **options: Any) -> Any:
    """A small online config of ``mode`` on the tiny model and the 'hello' task."""
    from cobalt_rl.train.config import parse_train_config

    return parse_train_config(
        {
            "mode": mode,
            "problems": hello_problems(tmp_path / "p.jsonl"),
            "out": tmp_path / "run",
            "model": str(tiny_models.random),
            "reward": reward,
            "num_generations": 8,
            "prompts_per_step": 2,
            "micro_batch_size": 16,
            "beta": 0.0,
            "sampling": {"max_new_tokens": 8},
            "episode": {"turns": 1},
            "save_steps": 100,
            "seed": 0,
            **options,
        }
    )


def reward_rise(path: Path, steps: int) -> tuple[float, float]:
    logged = [r for r in rows(path / "metrics.jsonl") if "reward" in r]
    assert len(logged) == steps
    first = sum(r["reward"] for r in logged[:3]) / 3
    last = sum(r["reward"] for r in logged[-3:]) / 3
    return first, last


@pytest.mark.slow
def test_rlef_raises_mean_reward(tmp_path: Path, tiny_models: Any, hello_reward: str) -> None:
    from cobalt_rl.train import train

    cfg = online(
        tmp_path,
        tiny_models,
        hello_reward,
        "rlef",
        learning_rate=2e-2,
        critic_learning_rate=1e-2,
        max_steps=12,
    )
    final = train(cfg)
    first, last = reward_rise(cfg.out, 12)
    assert last > first + 0.2, (first, last)
    logged = [r for r in rows(cfg.out / "metrics.jsonl") if "critic/value_loss" in r]
    assert len(logged) == 12 and "critic/value_turn1" in logged[-1]
    before, after = weights(tiny_models.random), weights(final)
    assert any(not before[k].equal(after[k]) for k in before)


@pytest.mark.slow
def test_rlef_with_its_default_kl_penalty_trains(
    tmp_path: Path, tiny_models: Any, hello_reward: str
) -> None:
    """RLEF's default beta (0.05) loads a reference model; its log-probabilities come through
    the same fused head as the policy's, and the penalty is logged."""
    from cobalt_rl.train import train
    from cobalt_rl.train.config import RlefTrainConfig

    cfg = online(tmp_path, tiny_models, hello_reward, "rlef", max_steps=2)
    cfg = cfg.model_copy(update={"beta": RlefTrainConfig.default_of("beta")})
    assert cfg.beta == 0.05
    train(cfg)
    logged = [r for r in rows(cfg.out / "metrics.jsonl") if "rlef/kl" in r]
    assert len(logged) == 2 and all(math.isfinite(r["rlef/kl"]) for r in logged)
    assert logged[-1]["rlef/kl"] != 0.0  # the policy moved after step 1: old != reference


@pytest.mark.slow
def test_rlef_critic_value_loss_falls(
    tmp_path: Path, tiny_models: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the policy (nearly) still, the returns are stationary: the critic fits them."""
    from cobalt_rl.train import train

    # 1 + the 'hello' fraction: returns far from the critic's initial 0.
    monkeypatch.setitem(REWARDS, "one_plus_hello", lambda *a: 1.0 + fraction_hello(*a))
    cfg = online(
        tmp_path,
        tiny_models,
        "one_plus_hello",
        "rlef",
        learning_rate=1e-9,
        critic_learning_rate=5e-2,
        episode={"turns": 2},
        max_steps=8,
    )
    train(cfg)
    logged = [r for r in rows(cfg.out / "metrics.jsonl") if "critic/value_loss" in r]
    losses = [r["critic/value_loss"] for r in logged]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 / 2, losses
    assert all("critic/explained_variance" in r for r in logged)


@pytest.mark.slow
def test_verpo_raises_mean_reward(tmp_path: Path, tiny_models: Any, hello_reward: str) -> None:
    from cobalt_rl.train import train

    cfg = online(tmp_path, tiny_models, hello_reward, "verpo", learning_rate=2e-2, max_steps=12)
    train(cfg)
    first, last = reward_rise(cfg.out, 12)
    assert last > first + 0.2, (first, last)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["rlef", "verpo"])
def test_killed_online_run_resumes_with_its_critic(
    tmp_path: Path, tiny_models: Any, hello_reward: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from cobalt_rl.train import train
    from cobalt_rl.train.critic import ValueCritic

    options = {
        "learning_rate": 1e-3,
        "save_steps": 1,
        "episode": {"turns": 2},
        "num_generations": 2,
        "micro_batch_size": 4,
    }
    train(online(tmp_path, tiny_models, hello_reward, mode, max_steps=2, **options))
    checkpoint = tmp_path / "run" / "checkpoints" / "checkpoint-2"
    critic = checkpoint / "critic"
    assert checkpoint.is_dir() and (critic / "optimizer.pt").is_file() == (mode == "rlef")
    saved = torch.load(critic / "value_head.pt")["weight"] if mode == "rlef" else None
    restored: list[tuple[Path, torch.Tensor]] = []
    original = ValueCritic.restore

    def restore(self: ValueCritic, directory: Path) -> None:
        original(self, directory)
        restored.append((directory, self.head.weight.detach().clone()))

    monkeypatch.setattr(ValueCritic, "restore", restore)
    train(online(tmp_path, tiny_models, hello_reward, mode, max_steps=4, **options))
    steps = [r["step"] for r in rows(tmp_path / "run" / "metrics.jsonl") if "loss" in r]
    assert steps == [1, 2, 3, 4]  # resumed at step 2: only steps 3 and 4 trained again
    if mode == "rlef":
        # The critic came back from checkpoint-2 (weights and optimizer), not from the policy.
        assert saved is not None and saved.abs().sum() > 0
        assert [directory for directory, _ in restored] == [critic]
        assert torch.equal(restored[0][1], saved)
    else:
        assert restored == []  # VeRPO has no critic: nothing to restore
