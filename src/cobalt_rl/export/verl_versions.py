"""Which verl releases the export targets, and the launch keys each one reads.

Supported: verl 0.5 through 0.9 (0.9.1 is the newest on PyPI as of 2026-12). The keys were
read from each release's own code, and ``tests/export/test_verl_versions.py`` checks every
key the launch script sets against that release's composed config
(``verl/trainer/config/_generated_ppo_trainer.yaml``, excerpts in
``tests/export/verl_schemas/``) and every reward-manager name against its registry:

- 0.5-0.6: the legacy reward path. The trainer process builds the reward manager named by
  ``reward_model.reward_manager``; ``batch`` hands it a whole step at once, so the step's
  replies run in ONE sandbox batch (``compute_score_batch``).
- 0.7-0.9: the reward loop (on by default). Reward workers (``reward.num_workers`` Ray
  actors, spread over the nodes) score one reply at a time with a manager from the reward-loop
  registry (naive, dapo, gdpo, rate_limited, remote; no ``batch``: 0.7 fails at the first
  reward with ``Unknown reward manager: batch``). The keys moved to ``reward.*``: 0.7-0.8 still
  copy ``reward_model.*`` / ``custom_reward_function.*`` there
  (``migrate_legacy_reward_impl``), 0.9 accepts the old keys and ignores them, falling back
  to its built-in scorer. So from 0.7 the export sets ``reward.reward_manager.name=naive``
  and ``reward.custom_reward_function.{path,name}`` with ``compute_score``; verl runs it on
  its thread pool, and the sandbox is shared by the worker's threads.
- Online modes (multi-turn episodes with execution feedback) need 0.6+: they run in verl's
  agent loop, and 0.5's ``AgentLoopWorker`` calls ``run(messages, sampling_params)`` only, so a
  loop cannot see a problem's tests; from 0.6 it calls ``run(sampling_params, **row)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "NEWEST_VERL",
    "ONLINE_MIN_VERL",
    "VERL_VERSIONS",
    "VerlKeys",
    "parse_verl_version",
    "verl_keys",
]

VERL_VERSIONS = ("0.5", "0.6", "0.7", "0.8", "0.9")
"""The verl minor versions the export writes keys for (each checked against its schema)."""
NEWEST_VERL = VERL_VERSIONS[-1]
ONLINE_MIN_VERL = "0.6"


def parse_verl_version(text: str) -> str:
    """``0.7``, ``0.7.1`` or ``v0.7.1`` as the supported minor version ``0.7``.

    Raises:
        ValueError: not a version, or outside the supported range.
    """
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[.-]?(?:post|rc|dev)\d*)?", text.strip())
    if match is None:
        raise ValueError(f"verl version {text!r} is not a version like 0.9 or 0.9.1")
    minor = f"{int(match.group(1))}.{int(match.group(2))}"
    if minor not in VERL_VERSIONS:
        raise ValueError(
            f"verl {text} is not supported: the export writes keys for verl "
            f"{VERL_VERSIONS[0]} through {NEWEST_VERL} (pass one of {', '.join(VERL_VERSIONS)}; "
            "a newer verl may move keys again: check its ppo_trainer.yaml)"
        )
    return minor


def _at_least(version: str, minimum: str) -> bool:
    return tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))


@dataclass(frozen=True)
class VerlKeys:
    """The launch keys of one verl minor version."""

    version: str

    @property
    def reward_loop(self) -> bool:
        """Rewards run in reward-loop workers on every node (0.7+), not in the trainer."""
        return _at_least(self.version, "0.7")

    @property
    def supports_online(self) -> bool:
        """The agent loop passes the row's fields to ``run`` (0.6+)."""
        return _at_least(self.version, ONLINE_MIN_VERL)

    @property
    def reward_manager(self) -> str:
        """The reward manager the export names (``batch``, or the reward loop's ``naive``)."""
        return "naive" if self.reward_loop else "batch"

    @property
    def reward_function(self) -> str:
        """The function of ``cobalt_reward.py`` verl calls."""
        return "compute_score" if self.reward_loop else "compute_score_batch"

    def reward_overrides(self, reward_path: str) -> list[str]:
        """The Hydra overrides that make verl score with ``reward_path``'s function."""
        if self.reward_loop:
            return [
                f"reward.reward_manager.name={self.reward_manager}",
                f"reward.custom_reward_function.path={reward_path}",
                f"reward.custom_reward_function.name={self.reward_function}",
            ]
        return [
            f"reward_model.reward_manager={self.reward_manager}",
            f"custom_reward_function.path={reward_path}",
            f"custom_reward_function.name={self.reward_function}",
        ]

    def agent_overrides(self, config_path: str, agent_name: str) -> list[str]:
        """The overrides that run episodes in the agent loop ``config_path`` registers."""
        return [
            "data.return_raw_chat=True",  # the loop reads the row's chat (raw_prompt)
            "actor_rollout_ref.rollout.mode=async",  # the agent loop (0.6's default is sync)
            f"actor_rollout_ref.rollout.agent.agent_loop_config_path={config_path}",
            f"actor_rollout_ref.rollout.agent.default_agent_loop={agent_name}",
        ]


def verl_keys(version: str) -> VerlKeys:
    """The keys of ``version`` (any form :func:`parse_verl_version` reads)."""
    return VerlKeys(parse_verl_version(version))
