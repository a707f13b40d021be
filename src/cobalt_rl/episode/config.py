"""How an episode runs (:class:`EpisodeConfig`) and how a stage rolls episodes out
(:class:`RolloutConfig`).

Every turn loop of the project reads one :class:`EpisodeConfig`: the rollout stage, the
evaluations, validation during training, the online trainers and verl's agent loop hold it as
a field. How replies are sampled is the generator's :class:`~cobalt_rl.llm.SamplingParams`;
its ``max_new_tokens`` is the reply cap, the one name it has in every config.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.episode.prompts import SYSTEM_PROMPT, system_prompt
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.profiles import DEFAULT_PROFILE, PROFILE_FIELD_DOC, Profile, with_profile

__all__ = ["EpisodeConfig", "RolloutConfig", "episode_section"]


class EpisodeConfig(BaseModel):
    """One multi-turn episode: how many turns, when it stops, what the history keeps, the
    profile's prompts and feedback, and (token view only) a cap on its tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    turns: int = Field(3, ge=1, description="Most attempts per episode.")
    stop_on_pass: bool = Field(
        False,
        description="End an episode once its program passes every public test (the paper's "
        "collection keeps going; RLEF's episodes and evaluation may stop).",
    )
    max_reply_chars: int = Field(
        6000,
        ge=1,
        description="Replies kept in the history are capped at this many characters "
        "(the reference's cap); code is always taken from the full reply.",
    )
    max_episode_tokens: int | None = Field(
        None,
        ge=1,
        description="Most completion tokens per episode (replies plus feedback turns), where "
        "tokens are counted (the online trainers, verl); an episode that reaches it ends there "
        "and is recorded as truncated. Unset: no cap beyond each reply's.",
    )
    system_prompt: str | None = Field(
        SYSTEM_PROMPT,
        description="System prompt of every episode (None: none; unset: the profile's).",
        json_schema_extra={"cli": False},
    )
    profile: Profile = Field(DEFAULT_PROFILE, description=PROFILE_FIELD_DOC)

    @model_validator(mode="before")
    @classmethod
    def _profile_prompt(cls, data: Any) -> Any:
        """``system_prompt`` not given: the profile's own."""
        if isinstance(data, dict) and "system_prompt" not in data and "profile" in data:
            try:
                return {**data, "system_prompt": system_prompt(data["profile"])}
            except ValueError:
                return data  # the profile field's own validation says what is wrong
        return data


class RolloutConfig(BaseModel):
    """A stage that rolls out episodes (``rollout:`` and ``eval:`` sections, ``cobalt
    rollout``, validation during training): the episode, the sampling, and how many episodes
    per problem."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    episode: EpisodeConfig = Field(
        default_factory=EpisodeConfig,
        description="How each episode runs.",
        json_schema_extra={"cli_flatten": True},
    )
    sampling: SamplingParams = Field(
        default_factory=lambda: SamplingParams(seed=0),
        description="How replies are sampled (max_new_tokens: the reply cap).",
        json_schema_extra={"cli_flatten": True},
    )
    samples: int = Field(16, ge=1, description="Episodes per problem.")
    group_size: int = Field(
        8, ge=1, description="Problems per generation group (two groups are in flight)."
    )

    @model_validator(mode="after")
    def _profile_stop(self) -> RolloutConfig:
        """The stop at the program's end as the episode's profile decides it, where unset
        (decided, not given: ``fields_set`` kept)."""
        object.__setattr__(self, "sampling", self.sampling.for_profile(self.episode.profile))
        return self

    @property
    def profile(self) -> Profile:
        return self.episode.profile


def episode_section(
    data: Any, profile: Any, where: str, defaults: dict[str, Any] | None = None
) -> Any:
    """The ``episode`` mapping of a config that holds one (a trainer, the verl export): the
    profile of the config around it (given once, there), ``defaults`` under what the section
    sets. ``data`` is that config's raw mapping; anything else is returned as it is."""
    if not isinstance(data, dict):
        return data
    episode = with_profile(data.get("episode") or {}, profile, where)
    if isinstance(episode, dict):
        episode = {**(defaults or {}), **episode}
    return {**data, "episode": episode}
