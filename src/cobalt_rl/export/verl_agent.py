"""verl's agent loop for the online modes (``cobalt export verl --mode multiturn|rlef``).

Imported by verl's agent-loop workers only (it imports verl: never import it in cobalt-rl's
own environment). ``cobalt_agent_loop.yaml`` registers it as ``cobalt_feedback`` with
``_target_: cobalt_rl.export.verl_agent.CobaltFeedbackAgentLoop``, and the keys of that file
(turns, stop_on_pass, reward, sandbox...) arrive here as keyword arguments.

It uses only what verl 0.6 through 0.9 share: ``AgentLoopBase.__init__(*args, **kwargs)``,
``self.tokenizer``, ``self.config.actor_rollout_ref.rollout.response_length``,
``self.server_manager.generate(request_id, prompt_ids=, sampling_params=)`` (a token list in
0.5, a ``TokenOutput`` from 0.6), ``run(sampling_params, **row)`` and ``AgentLoopOutput``'s
``prompt_ids``, ``response_ids``, ``response_mask``, ``num_turns``, ``metrics`` and
``reward_score`` (verl puts it on the last token as ``rm_scores`` and uses it instead of a
reward function). The episode itself is
:func:`cobalt_rl.export.verl.run_feedback_episode`, tested without verl.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from verl.experimental.agent_loop.agent_loop import (  # type: ignore[import-not-found]
    AgentLoopBase,
    AgentLoopOutput,
)

from cobalt_rl.export.verl import LazySandbox, run_feedback_episode

__all__ = ["CobaltFeedbackAgentLoop"]

_SANDBOXES: dict[str, LazySandbox] = {}  # one per sandbox config in this worker process


class CobaltFeedbackAgentLoop(AgentLoopBase):  # type: ignore[misc]
    """Multi-turn episodes whose feedback comes from cobalt-rl's sandbox (public tests)."""

    def __init__(
        self,
        *args: Any,
        turns: int = 3,
        stop_on_pass: bool = True,
        reward: str = "cobalt",
        invalid_code_penalty: float = 0.2,
        profile: str = "reference",
        sandbox: str = "{}",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.turns = int(turns)
        self.stop_on_pass = bool(stop_on_pass)
        self.reward = str(reward)
        self.invalid_code_penalty = float(invalid_code_penalty)
        self.profile = str(profile)
        if sandbox not in _SANDBOXES:
            _SANDBOXES[sandbox] = LazySandbox(json.loads(sandbox))
        self.sandbox = _SANDBOXES[sandbox]
        # The tokens a chat template puts before any message (a default system prompt):
        # stripped from each feedback turn, as verl's own ToolAgentLoop does.
        self._template_prefix = len(
            self.tokenizer.apply_chat_template([{}], add_generation_prompt=False, tokenize=True)
        )

    def _feedback_ids(self, text: str) -> list[int]:
        ids = self.tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True
        )
        return list(ids[self._template_prefix :])

    async def run(self, sampling_params: dict[str, Any], **row: Any) -> Any:
        """One episode of the row's problem (verl 0.6+ passes the row's fields)."""
        messages = list(row["raw_prompt"])
        prompt_ids = list(
            self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        )
        request_id = uuid.uuid4().hex  # one sticky session per episode

        async def generate(context: list[int]) -> list[int]:
            out = await self.server_manager.generate(
                request_id, prompt_ids=context, sampling_params=sampling_params
            )
            return list(out if isinstance(out, list) else out.token_ids)

        episode = await run_feedback_episode(
            prompt_ids=prompt_ids,
            ground_truth=row["reward_model"]["ground_truth"],
            generate=generate,
            feedback_ids=self._feedback_ids,
            decode=lambda ids: self.tokenizer.decode(ids, skip_special_tokens=True),
            sandbox=self.sandbox.get(),
            reward=self.reward,
            turns=self.turns,
            stop_on_pass=self.stop_on_pass,
            response_length=int(self.config.actor_rollout_ref.rollout.response_length),
            invalid_code_penalty=self.invalid_code_penalty,
            profile=self.profile,
        )
        return AgentLoopOutput(
            prompt_ids=prompt_ids,
            response_ids=episode.response_ids,
            response_mask=episode.response_mask,
            reward_score=episode.reward,
            num_turns=2 * episode.turns,  # user and assistant turns, as verl counts them
            metrics={},
        )
