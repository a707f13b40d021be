"""verl's agent loop for the online modes (``cobalt export verl --mode multiturn|rlef``).

Imported by verl's agent-loop workers only (it imports verl: never import it in cobalt-rl's
own environment). ``cobalt_agent_loop.yaml`` registers it as ``cobalt_feedback`` with
``_target_: cobalt_rl.export.verl_agent.CobaltFeedbackAgentLoop``, and the keys of that file
(the episode config as JSON, reward, sandbox...) arrive here as keyword arguments.

It uses only what verl 0.6 through 0.9 share: ``AgentLoopBase.__init__(*args, **kwargs)``,
``self.tokenizer``, ``self.apply_chat_template_kwargs`` (the data config's; verl renders every
prompt with them), ``self.config.actor_rollout_ref.rollout.response_length``,
``self.server_manager.generate(request_id, prompt_ids=, sampling_params=)`` (a token list in
0.5, a ``TokenOutput`` from 0.6), ``run(sampling_params, **row)`` and ``AgentLoopOutput``'s
``prompt_ids``, ``response_ids``, ``response_mask``, ``num_turns``, ``metrics`` and
``reward_score`` (verl puts it on the last token as ``rm_scores`` and uses it instead of a
reward function). The episode itself is the project's one engine
(:mod:`cobalt_rl.episode.engine`, through :func:`cobalt_rl.export.verl.run_feedback_episode`),
tested without verl; the chat template's token ids come from
:class:`~cobalt_rl.episode.tokens.ChatTokens` (transformers 4 and 5).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from verl.experimental.agent_loop.agent_loop import (  # type: ignore[import-not-found]
    AgentLoopBase,
    AgentLoopOutput,
)

from cobalt_rl.episode.config import EpisodeConfig
from cobalt_rl.episode.engine import Reply
from cobalt_rl.episode.tokens import ChatTokens
from cobalt_rl.export.verl import LazySandbox, run_feedback_episode

__all__ = ["CobaltFeedbackAgentLoop", "VerlChatTokens"]

_SANDBOXES: dict[str, LazySandbox] = {}  # one per sandbox config in this worker process


def _template_kwargs(loop: Any) -> dict[str, Any]:
    """``data.apply_chat_template_kwargs`` (e.g. ``enable_thinking`` for Qwen3) as a plain
    dict: verl's base class reads it from the data config (0.6+); else the trainer config."""
    from omegaconf import DictConfig, OmegaConf  # type: ignore[import-not-found]

    kwargs = getattr(loop, "apply_chat_template_kwargs", None)
    if kwargs is None:
        kwargs = loop.config.data.get("apply_chat_template_kwargs", None)
    if isinstance(kwargs, DictConfig):
        kwargs = OmegaConf.to_container(kwargs, resolve=True)
    return dict(kwargs or {})


class VerlChatTokens(ChatTokens):
    """:class:`ChatTokens` whose feedback turns are the tokens verl's own agent loops append.

    From verl 0.9 that is the loop's continuous-token builder, which also inserts what the
    chat template puts after a reply's end token and generation leaves out (Qwen's newline
    after ``<|im_end|>``: without it the trained tokens differ from the template's). Before
    0.9 verl renders the user turn alone less the template's system prefix, which leaves that
    newline out; here the turn is ChatTokens' own cut, which keeps it, so the policy trains
    on the tokens its template makes (tests/export/test_verl_releases.py checks both).
    Every reply the engine hands over ends with the end token (a cut one is closed first).
    """

    def __init__(self, tokenizer: Any, template_kwargs: dict[str, Any], builder: Any) -> None:
        super().__init__(tokenizer, template_kwargs)
        self.builder = builder

    def feedback(self, messages: Sequence[Mapping[str, str]], text: str) -> list[int]:
        if self.builder is None:
            return super().feedback(messages, text)
        conversation = [{"role": m["role"], "content": m["content"]} for m in messages]
        user = {"role": "user", "content": text}
        merged = self.builder.merge_context_tokens(conversation, [*conversation, user], [self.eos])
        return [int(t) for t in merged.token_ids[1:]]


class CobaltFeedbackAgentLoop(AgentLoopBase):  # type: ignore[misc]
    """Multi-turn episodes whose feedback comes from cobalt-rl's sandbox (public tests)."""

    def __init__(
        self,
        *args: Any,
        episode: str = "{}",
        reward: str = "cobalt",
        max_new_tokens: int | None = None,
        invalid_code_penalty: float = 0.2,
        sandbox: str = "{}",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.episode_json = json.loads(episode)
        self.reward = str(reward)
        self.max_new_tokens = None if max_new_tokens is None else int(max_new_tokens)
        self.invalid_code_penalty = float(invalid_code_penalty)
        if sandbox not in _SANDBOXES:
            _SANDBOXES[sandbox] = LazySandbox(json.loads(sandbox))
        self.sandbox = _SANDBOXES[sandbox]
        builder = getattr(self, "continuous_token_builder", None)  # verl 0.9+
        self.chat = VerlChatTokens(self.tokenizer, _template_kwargs(self), builder)

    async def run(self, sampling_params: dict[str, Any], **row: Any) -> Any:
        """One episode of the row's problem (verl 0.6+ passes the row's fields)."""
        response_length = int(self.config.actor_rollout_ref.rollout.response_length)
        episode = EpisodeConfig.model_validate(
            {**self.episode_json, "max_episode_tokens": response_length}
        )
        request_id = uuid.uuid4().hex  # one sticky session per episode

        async def generate(context: list[int], cap: int) -> Reply:
            params = {**sampling_params, "max_tokens": cap}
            out = await self.server_manager.generate(
                request_id, prompt_ids=context, sampling_params=params
            )
            if isinstance(out, list):  # verl 0.5: the token ids alone
                return Reply(token_ids=[int(t) for t in out])
            logprobs = getattr(out, "log_probs", None)
            return Reply(
                token_ids=[int(t) for t in out.token_ids],
                logprobs=[float(v) for v in logprobs] if logprobs is not None else None,
            )

        prompt = [{"role": m["role"], "content": m["content"]} for m in row["raw_prompt"]]
        result = await run_feedback_episode(
            prompt=prompt,
            ground_truth=row["reward_model"]["ground_truth"],
            generate=generate,
            chat=self.chat,
            sandbox=self.sandbox.get(),
            reward=self.reward,
            episode=episode,
            max_new_tokens=min(self.max_new_tokens or response_length, response_length),
            invalid_code_penalty=self.invalid_code_penalty,
        )
        return AgentLoopOutput(
            prompt_ids=self.chat.prompt(prompt),
            response_ids=result.response_ids,
            response_mask=result.response_mask,
            response_logprobs=result.response_logprobs,
            reward_score=result.reward,
            num_turns=2 * result.turns,  # user and assistant turns, as verl counts them
            metrics={},
        )
