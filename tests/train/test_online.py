"""The online trainers on a scripted two-problem batch: the episode engine's stop rules,
spans and masks, and each trainer's per-token advantages against a hand computation."""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from scripted import PAD, PROBLEMS, CharTokenizer, ScriptedGenerator, TextSandbox, prompts

from cobalt_rl.episode.config import EpisodeConfig
from cobalt_rl.episode.engine import Episode
from cobalt_rl.rewards.scores import verpo_test_weights, verpo_turn_rewards
from cobalt_rl.train.config import RlefTrainConfig, VerpoTrainConfig
from cobalt_rl.train.episodes import OnlineEpisodes
from cobalt_rl.train.multiturn import GroupOutcomeCredit
from cobalt_rl.train.online import EpisodeReward
from cobalt_rl.train.rlef import RlefCredit, rlef_turn_rewards, turn_gae
from cobalt_rl.train.verpo import VerpoCredit, verpo_advantages

EPS = 1e-4  # TRL's epsilon in the group normalisation


def run_episodes(
    every_turn: bool = True, stop_on_pass: bool = True, max_tokens: int = 4000
) -> tuple[list[Episode], TextSandbox]:
    tokenizer, sandbox = CharTokenizer(), TextSandbox()
    engine = OnlineEpisodes(
        {p.id: p for p in PROBLEMS},
        sandbox,
        tokenizer,
        EpisodeConfig(turns=3, stop_on_pass=stop_on_pass, max_episode_tokens=max_tokens),
        200,
        score="every" if every_turn else "last",
    )
    return engine.run(prompts(), ScriptedGenerator(tokenizer)), sandbox


def batch_of(episodes: list[Episode], advantages: list[float] | None = None) -> dict[str, Any]:
    """What TRL hands a credit rule: padded prompt and completion ids and masks."""
    traces = [e.tokens for e in episodes]
    assert all(trace is not None for trace in traces)
    prompts_ = [trace.prompt_ids for trace in traces if trace is not None]
    completions = [trace.completion_ids for trace in traces if trace is not None]
    prompt_width = max(len(ids) for ids in prompts_)
    width = max(len(ids) for ids in completions)
    prompt_ids = [[PAD] * (prompt_width - len(ids)) + ids for ids in prompts_]
    prompt_mask = [[0] * (prompt_width - len(ids)) + [1] * len(ids) for ids in prompts_]
    completion = [ids + [PAD] * (width - len(ids)) for ids in completions]
    mask = [[1] * len(ids) + [0] * (width - len(ids)) for ids in completions]
    return {
        "prompt_ids": torch.tensor(prompt_ids),
        "prompt_mask": torch.tensor(prompt_mask),
        "completion_ids": torch.tensor(completion),
        "completion_mask": torch.tensor(mask),
        "advantages": torch.tensor(advantages or [0.0] * len(episodes)),
    }


def fake_trainer(num_generations: int = 2) -> Any:
    return SimpleNamespace(
        num_generations=num_generations,
        accelerator=SimpleNamespace(process_index=0),
        args=SimpleNamespace(per_device_train_batch_size=4),
        _metrics={"train": defaultdict(list)},
    )


def expected_tokens(episode: Episode, per_turn: list[float], width: int) -> torch.Tensor:
    row = torch.zeros(width)
    for record, value in zip(episode.turns, per_turn, strict=True):
        row[record.start : record.end] = value
    return row


def assert_feedback_carries_nothing(episodes: list[Episode], advantages: torch.Tensor) -> None:
    for row, episode in enumerate(episodes):
        for position, flag in enumerate(episode.tokens.mask):
            if flag == 0:
                assert advantages[row, position] == 0.0, (episode.problem.id, position)
        assert advantages[row, len(episode.tokens.mask) :].abs().sum() == 0.0


# ------------------------------------------------------------------------------ engine


def test_engine_stops_on_public_pass_and_masks_feedback() -> None:
    episodes, _ = run_episodes()
    alpha0, alpha1, beta0, beta1 = episodes
    # Passing the public tests at turn 1 ends the episode: one turn.
    assert [len(e.turns) for e in episodes] == [1, 2, 3, 1]
    assert alpha0.last.public_passed and beta1.last.public_passed
    # Problems are found by id: each episode has its own problem's tests.
    assert [e.problem.id for e in episodes] == ["alpha", "alpha", "beta", "beta"]
    # Spans: the policy's tokens are exactly the env_mask = 1 tokens, turn by turn.
    for episode in episodes:
        spans = [range(r.start, r.end) for r in episode.turns]
        policy = [i for i, flag in enumerate(episode.tokens.mask) if flag]
        assert policy == [i for span in spans for i in span]
        assert len(episode.tokens.mask) == len(episode.tokens.completion_ids)
    # The feedback between turns is there, masked: the public test's expected output.
    text = CharTokenizer().decode(
        beta0.tokens.completion_ids[beta0.turns[0].end : beta0.turns[1].start]
    )
    assert "expected 4" in text and "Fix the program" in text
    # Per-turn results: public (what the model is shown) and full (true public + hidden).
    # A reply without code fails every public test (nothing runs) and gets the no-code feedback.
    first = alpha1.turns[0]
    assert first.code is None and first.public is not None and not first.public_passed
    assert first.public.pass_rate == 0.0 and first.full is None
    assert alpha1.turns[1].public is not None and alpha1.turns[1].public.passed
    assert alpha1.turns[1].full is not None and alpha1.turns[1].full.pass_rate == pytest.approx(
        1 / 3
    )
    assert [r.full.passed for r in beta0.turns if r.full] == [False, False, False]


def test_engine_keeps_going_without_stop_on_pass() -> None:
    episodes, _ = run_episodes(stop_on_pass=False)
    # The reference's rollouts: every episode runs to the turn budget, passing or not.
    assert [len(e.turns) for e in episodes] == [3, 3, 3, 3]
    assert episodes[0].turns[0].public_passed and not any(e.truncated for e in episodes)


def test_engine_caps_episode_tokens_and_records_truncation() -> None:
    episodes, _ = run_episodes(max_tokens=60)
    beta0 = episodes[2]
    assert beta0.truncated and len(beta0.tokens.completion_ids) <= 60
    assert len(beta0.turns) == 1  # no room for the feedback and another reply
    assert not episodes[0].truncated  # alpha/0 finished in 29 tokens


def test_engine_scores_only_the_last_attempt_unless_asked() -> None:
    episodes, sandbox = run_episodes(every_turn=False)
    beta0 = episodes[2]
    assert [r.full is not None for r in beta0.turns] == [False, False, True]
    # Public runs for the 6 attempts with code, full runs for the 4 last attempts.
    assert len(sandbox.requests) == 6 + 4


# ------------------------------------------------------------------------- multiturn


def test_multiturn_grpo_spreads_the_group_advantage_over_policy_tokens() -> None:
    episodes, sandbox = run_episodes(every_turn=False)
    reward = EpisodeReward("binary", sandbox)
    scores = reward([None] * 4, episode=episodes)
    assert scores == [1.0, 0.0, 0.0, 1.0]  # all tests of the last attempt
    # TRL's group advantage: (r - mean) / (sample std + eps), groups (alpha), (beta).
    std = math.sqrt(0.5)
    group = [0.5 / (std + EPS), -0.5 / (std + EPS), -0.5 / (std + EPS), 0.5 / (std + EPS)]
    batch = batch_of(episodes, group)
    advantages = GroupOutcomeCredit().assign(fake_trainer(), episodes, batch)
    width = batch["completion_ids"].size(1)
    for row, episode in enumerate(episodes):
        hand = expected_tokens(episode, [group[row]] * len(episode.turns), width)
        assert torch.allclose(advantages[row], hand)
    assert_feedback_carries_nothing(episodes, advantages)


# ------------------------------------------------------------------------------ RLEF


@pytest.fixture
def tiny_critic(tmp_path: Path) -> Path:
    """A tiny random Llama whose vocabulary covers the character tokenizer."""
    return tiny_llama(tmp_path / "critic", layers=1)[0]


def tiny_llama(path: Path, layers: int) -> tuple[Path, Any]:
    """A tiny random Llama saved to ``path`` (vocabulary 300); returns the path and model."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=300,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(path)
    return path, model


def rlef_config(tmp_path: Path, critic: Path, **options: Any) -> RlefTrainConfig:
    return RlefTrainConfig(
        mode="rlef",
        problems=tmp_path / "p.jsonl",
        out=tmp_path / "run",
        num_generations=2,
        prompts_per_step=2,
        micro_batch_size=4,
        critic_model=str(critic),
        critic_learning_rate=1e-2,
        **{"beta": 0.0, **options},
    )


def test_rlef_turn_rewards_and_gae_by_hand() -> None:
    episodes, _ = run_episodes(every_turn=False)
    alpha1 = episodes[1]
    # No code at turn 1: -0.2; last turn: the episode's score; minus beta x the turn's KL.
    assert rlef_turn_rewards(alpha1, -1.0, 0.2, [0.5, 0.25], 0.1) == pytest.approx(
        [-0.2 - 0.05, -1.0 - 0.025]
    )
    # gamma = lam = 1: A_t = sum of rewards from t on - V_t; targets are the returns.
    advantages, returns = turn_gae([0.0, 0.0, -1.0], [0.5, -0.25, 0.1], 1.0, 1.0)
    assert advantages == pytest.approx([-1.5, -0.75, -1.1])
    assert returns == pytest.approx([-1.0, -1.0, -1.0])
    # gamma 0.5, lam 0.5: delta_t = r_t + 0.5 V_{t+1} - V_t, A_t = delta_t + 0.25 A_{t+1}.
    advantages, _ = turn_gae([0.0, 1.0], [0.2, 0.4], 0.5, 0.5)
    delta1, delta0 = 1.0 - 0.4, 0.0 + 0.5 * 0.4 - 0.2
    assert advantages == pytest.approx([delta0 + 0.25 * delta1, delta1])


def test_rlef_per_token_advantages_equal_returns_minus_critic_values(
    tmp_path: Path, tiny_critic: Path
) -> None:
    episodes, sandbox = run_episodes(every_turn=False)
    EpisodeReward("rlef", sandbox)([None] * 4, episode=episodes)
    assert [e.final_score for e in episodes] == [1.0, -1.0, -1.0, 1.0]
    credit = RlefCredit(rlef_config(tmp_path, tiny_critic), "cpu", tiny_critic)
    trainer = fake_trainer()
    batch = batch_of(episodes)
    width = batch["completion_ids"].size(1)
    # Returns by hand: alpha/0 +1; alpha/1 no code (-0.2) then -1; beta/0 0, 0, -1; beta/1 +1.
    returns = [[1.0], [-1.2, -1.0], [-1.0, -1.0, -1.0], [1.0]]
    for call in range(2):
        values = critic_values(credit, episodes, batch)
        if call == 0:  # zero-initialised head: advantages are the returns
            assert all(v == 0.0 for turns in values for v in turns)
        advantages = credit.assign(trainer, episodes, batch)
        for row, episode in enumerate(episodes):
            hand = [g - v for g, v in zip(returns[row], values[row], strict=True)]
            assert torch.allclose(advantages[row], expected_tokens(episode, hand, width), atol=1e-6)
        assert_feedback_carries_nothing(episodes, advantages)
    # The critic moved towards the returns, and the metrics were logged.
    assert any(v != 0.0 for turns in critic_values(credit, episodes, batch) for v in turns)
    metrics = trainer._metrics["train"]
    assert len(metrics["critic/value_loss"]) == 2 and "critic/value_turn1" in metrics
    assert "critic/explained_variance" in metrics


def test_critic_layers_keeps_the_first_layers_and_round_trips(tmp_path: Path) -> None:
    from cobalt_rl.train.critic import ValueCritic

    _, source = tiny_llama(tmp_path / "policy", layers=3)
    critic = ValueCritic.load(tmp_path / "policy", 1e-3, "cpu", layers=2)
    assert len(critic.backbone.layers) == 2
    for mine, theirs in zip(critic.backbone.layers, source.model.layers[:2], strict=True):
        for a, b in zip(mine.parameters(), theirs.parameters(), strict=True):
            assert torch.equal(a, b)
    critic.save(tmp_path / "saved")
    again = ValueCritic.load(tmp_path / "policy", 1e-3, "cpu", layers=2)
    again.restore(tmp_path / "saved")
    assert len(again.backbone.layers) == 2
    with pytest.raises(ValueError, match="critic_layers: 4 is more than the 3 layers"):
        ValueCritic.load(tmp_path / "policy", 1e-3, "cpu", layers=4)


def critic_values(
    credit: RlefCredit, episodes: list[Episode], batch: dict[str, Any]
) -> list[list[float]]:
    """V at the last token of each turn's context, read straight from the critic."""
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    offset = batch["prompt_ids"].size(1)
    out = []
    with torch.no_grad():
        hidden = credit.critic.backbone(input_ids=ids, attention_mask=mask).last_hidden_state
        for row, episode in enumerate(episodes):
            out.append(
                [
                    float(credit.critic.head(hidden[row, offset + r.start - 1]).squeeze())
                    for r in episode.turns
                ]
            )
    return out


# ------------------------------------------------------------------------------ VeRPO


def test_verpo_weights_and_turn_rewards_by_hand() -> None:
    # Group alpha: attempts alpha/0 t1 [T,T,T], alpha/1 t1 no code, alpha/1 t2 [T,F,F].
    passes = [[True, True, True], [False, False, False], [True, False, False]]
    # rho = 2/3, 1/3, 1/3 -> hardness 1/3, 2/3, 2/3 -> weights 0.2, 0.4, 0.4
    assert verpo_test_weights(passes) == pytest.approx([0.2, 0.4, 0.4])
    rewards = verpo_turn_rewards([[passes[0]], [None, passes[2]]], dense_weight=0.5)
    assert rewards == [pytest.approx([1.0]), pytest.approx([0.0, 0.1])]
    assert verpo_test_weights([[True, True], [True, True]]) == [0.5, 0.5]  # all easy: uniform


def test_verpo_per_token_advantages_by_hand(tmp_path: Path) -> None:
    episodes, sandbox = run_episodes(every_turn=True)
    cfg = VerpoTrainConfig(
        mode="verpo",
        problems=tmp_path / "p.jsonl",
        out=tmp_path / "run",
        num_generations=2,
        prompts_per_step=2,
        micro_batch_size=4,
    )
    credit = VerpoCredit(cfg, sandbox)
    batch = batch_of(episodes)
    advantages = credit.assign(fake_trainer(), episodes, batch)
    width = batch["completion_ids"].size(1)
    s2 = math.sqrt(2)
    # alpha: rewards a0 [1], a1 [0, 0.1] (weights 0.2, 0.4, 0.4); both ended on a public pass,
    # padded to 3 turns with their last reward: returns a0 [3, 2, 1], a1 [0.2, 0.2, 0.1].
    # Turn 1: mean 1.6, std 2.8 / sqrt 2; turn 2: mean 1.1, std 1.8 / sqrt 2.
    alpha0 = [1.4 / (2.8 / s2 + EPS)]
    alpha1 = [-1.4 / (2.8 / s2 + EPS), -0.9 / (1.8 / s2 + EPS)]
    # beta: weights 0.4 (test "4", rho 1/2), 0.6 (test "5", rho 1/4); rewards b0 [0, 0, 0.2],
    # b1 [1] padded [1, 1, 1]; returns b0 [0.2, 0.2, 0.2], b1 [3, 2, 1].
    beta0 = [-1.4 / (2.8 / s2 + EPS), -0.9 / (1.8 / s2 + EPS), -0.4 / (0.8 / s2 + EPS)]
    beta1 = [1.4 / (2.8 / s2 + EPS)]
    for row, hand in enumerate([alpha0, alpha1, beta0, beta1]):
        expected = expected_tokens(episodes[row], hand, width)
        assert torch.allclose(advantages[row], expected, atol=1e-5), row
    assert_feedback_carries_nothing(episodes, advantages)
    # The same numbers from the advantage function alone.
    assert verpo_advantages([[1.0], [0.0, 0.1]], [True, True], 3, 1.0)[1] == pytest.approx(alpha1)


def test_online_modes_parse_and_rlef_kl_is_not_trls_loss(tmp_path: Path) -> None:
    from cobalt_rl.train.common import build_grpo_config
    from cobalt_rl.train.config import parse_train_config

    rlef = parse_train_config({"mode": "rlef", "problems": "p.jsonl", "out": str(tmp_path)})
    verpo = parse_train_config({"mode": "verpo", "problems": "p.jsonl", "out": str(tmp_path)})
    assert isinstance(rlef, RlefTrainConfig) and isinstance(verpo, VerpoTrainConfig)
    assert (rlef.episode.turns, rlef.episode.stop_on_pass, rlef.reward, rlef.beta) == (
        3,
        True,
        "rlef",
        0.05,
    )
    rlef = rlef.model_copy(update={"num_generations": 2, "micro_batch_size": 2})
    assert build_grpo_config(rlef).beta == 0.0  # RLEF's KL is in the reward


def test_each_mode_trains_on_its_own_reward_unless_one_is_given(tmp_path: Path) -> None:
    from cobalt_rl.train.config import parse_train_config

    own = {"bandit": "cobalt", "multiturn": "cobalt", "rlef": "rlef", "verpo": "verpo"}
    for mode, reward in own.items():
        data = {"mode": mode, "out": str(tmp_path), "problems": "p.jsonl"}
        if mode == "bandit":
            data = {"mode": mode, "out": str(tmp_path), "contexts": "c.jsonl"}
        cfg = parse_train_config(data)
        assert cfg.reward == reward
        assert "reward" not in cfg.model_fields_set  # decided by the mode, not given
        given = parse_train_config({**data, "reward": "binary"})
        assert given.reward == "binary"


@pytest.mark.parametrize(
    ("precision", "dtype"), [("bf16", torch.bfloat16), ("fp32", torch.float32)]
)
def test_rlef_reference_is_held_in_the_training_precision(
    tmp_path: Path, tiny_critic: Path, precision: str, dtype: torch.dtype
) -> None:
    # never updated, so bf16 weights when training in bf16: half an fp32 copy's memory
    cfg = rlef_config(tmp_path, tiny_critic, beta=0.1, precision=precision)
    credit = RlefCredit(cfg, "cpu", tiny_critic)
    assert {p.dtype for p in credit.reference.parameters()} == {dtype}
    assert not any(p.requires_grad for p in credit.reference.parameters())
