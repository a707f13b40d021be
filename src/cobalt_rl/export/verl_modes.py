"""The modes ``cobalt export verl`` writes, one entry each: the algorithm in verl's terms,
where the rows come from and which reward scores them. Code that differs by mode reads these
fields; no mode is compared by name outside this table (verpo, refused, is the export
config's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["VERL_MODES", "VerlMode", "rlef_defaults"]


@dataclass(frozen=True)
class VerlMode:
    """What one export mode writes: its algorithm in verl's terms and where its rows come from."""

    name: str
    title: str
    """The first line of run_verl.sh."""
    estimator: str
    """verl's ``algorithm.adv_estimator``."""
    kl_loss: bool
    """The actor's KL loss (GRPO's); RLEF puts its KL penalty in the reward instead."""
    online: bool
    """Episodes in verl's agent loop, from problems; else one reply per offline context."""
    reward: str = "cobalt"
    """The reward: of the reply (offline), or of an episode's last attempt (online)."""
    algorithm: str = ""
    """The README's paragraph on the algorithm (online modes)."""

    @property
    def critic(self) -> bool:
        """A learned value function (verl's critic workers)."""
        return self.estimator == "gae"


VERL_MODES = {
    mode.name: mode
    for mode in (
        VerlMode("cobalt", "Cobalt: contextual-bandit GRPO", "grpo", kl_loss=True, online=False),
        VerlMode(
            "multiturn",
            "Online multi-turn GRPO with sandbox feedback",
            "grpo",
            kl_loss=True,
            online=True,
            algorithm="GRPO: the group of episodes of one problem is the baseline (rollout.n).",
        ),
        VerlMode(
            "rlef",
            "RLEF: multi-turn PPO with a critic and sandbox feedback",
            "gae",
            kl_loss=False,
            online=True,
            reward="rlef",
            algorithm=(
                "RLEF (arXiv 2410.02089): PPO with a learned critic (verl's token-level GAE; "
                "gamma = lambda = 1), a KL penalty to the initial policy in the reward "
                "(`algorithm.use_kl_in_reward`, coefficient {kl}), reward +1 solved, -1 not, "
                "-{penalty} per reply without valid code. Departure: verl's critic is "
                "token-level and the reward sits on the last token, where `cobalt train --mode "
                "rlef` values turns. The critic starts from `CRITIC_MODEL` (default: the policy)."
            ),
        ),
    )
}
"""The modes ``cobalt export verl`` writes (verpo is refused: see ``VerlExportConfig.mode``)."""


def rlef_defaults() -> dict[str, Any]:
    """RLEF's numbers as ``cobalt train --mode rlef`` has them by default."""
    from cobalt_rl.train.config import RlefTrainConfig

    return {name: RlefTrainConfig.default_of(name) for name in ("beta", "invalid_code_penalty")}
