"""The multi-turn episode, written once: reply, run the public tests, show the feedback, reply
again, until the public tests pass (``stop_on_pass``), the turns are spent, or the episode's
token budget is.

The loop is :func:`episode_script`, a Python generator that does no I/O: it yields what the
episode needs next (:class:`ReplyWanted`, :class:`ResultsWanted`) and is sent the answer
(a :class:`Reply`, a list of :class:`~cobalt_rl.records.ExecResult`). Whoever drives it
decides how replies are generated and programs run:

- :class:`EpisodeBatch` and :func:`run_batch`: many episodes advanced together, every reply
  of a turn from one generate call and every program of a turn in one sandbox batch (the
  online trainers; the rollout stage pipelines two batches, :mod:`cobalt_rl.episode.rollout`);
- :func:`run_async`: one episode under asyncio (verl's agent loop, whose server generates one
  request at a time).

Code is found in the FULL reply (:func:`~cobalt_rl.llm.extract.extract_code`, by the
profile's rule); the history keeps the reply after its reasoning, capped at
``max_reply_chars``. The cap is for the context, never for what runs: a program longer than
the cap runs whole, as in the reference (``run_multi_turn_vllm.py`` runs each completion and
caps only what it appends to the conversation). In the token view the tokens are the tokens
generated (reasoning included); the cap applies to the text shown, not to what is trained on.

Execution: every attempt with code runs on the problem's public tests (the perturbed ones on
a perturbed problem: that is what the model is shown). A reply without code gets the
no-code feedback and counts as failing every public test; a problem without public tests
counts as passed. Where a trainer assigns credit, attempts also run on the TRUE public plus
hidden tests (``full``): every attempt (``score="every"``, VeRPO) or only the last
(``score="last"``); rollouts leave hidden scoring to the evaluate stage (``score="none"``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cobalt_rl.episode.config import EpisodeConfig
from cobalt_rl.episode.prompts import feedback_turn, initial_messages, no_code_feedback
from cobalt_rl.episode.tokens import ChatTokens, TokenTrace
from cobalt_rl.llm.base import FinishReason
from cobalt_rl.llm.extract import extract_code
from cobalt_rl.llm.reasoning import cap_reply, strip_reasoning
from cobalt_rl.records import (
    Attempt,
    ExecResult,
    Message,
    Problem,
    Status,
    TestOutcome,
    Trajectory,
)
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.feedback import all_passed_message

__all__ = [
    "Episode",
    "EpisodeBatch",
    "Reply",
    "ReplyWanted",
    "ResultsWanted",
    "Scoring",
    "Turn",
    "episode_script",
    "give_results",
    "run_async",
    "run_batch",
]

Scoring = Literal["none", "last", "every"]
"""Which attempts also run on the true public + hidden tests (``Turn.full``)."""


@dataclass(frozen=True)
class Reply:
    """One generated reply: its text, or its token ids (the token view decodes them), with
    the log-probabilities of those tokens where the generator knows them."""

    text: str = ""
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    finish_reason: FinishReason | None = None


@dataclass
class Turn:
    """One attempt of an episode.

    Attributes:
        number: 1 for the first attempt.
        raw: the reply as generated (reasoning included): what rewards read.
        reply: the reply as the conversation shows it (reasoning dropped, capped).
        code: the extracted program (None: no code block).
        finish_reason: ``"length"``: the reply was cut at its token cap.
        public: the result on the public tests as shown (a reply without code fails each).
        public_passed: the attempt passed every public test (or the problem has none).
        full: the result on the true public + hidden tests, where scored.
        start, end: the attempt's tokens are ``tokens.completion_ids[start:end]``.
    """

    number: int
    raw: str
    reply: str
    code: str | None
    finish_reason: FinishReason | None = None
    public: ExecResult | None = None
    public_passed: bool = False
    full: ExecResult | None = None
    start: int = 0
    end: int = 0

    def attempt(self) -> Attempt:
        """The attempt as a trajectory records it."""
        return Attempt(
            turn=self.number,
            response=self.reply,
            code=self.code,
            public=self.public,
            finish_reason=self.finish_reason,
        )


@dataclass
class Episode:
    """One multi-turn episode: the conversation, its turns and (token view) its tokens."""

    problem: Problem
    messages: list[Message]
    sample: int = 0
    turns: list[Turn] = field(default_factory=list)
    tokens: TokenTrace | None = None
    truncated: bool = False
    done: bool = False
    final_score: float | None = None
    """A trainer's reward of the episode (its last attempt), once scored."""

    @classmethod
    def start(
        cls,
        problem: Problem,
        config: EpisodeConfig,
        *,
        sample: int = 0,
        messages: Sequence[Message] | None = None,
        chat: ChatTokens | None = None,
    ) -> Episode:
        """A new episode of ``problem``: the first turn the config's profile and system
        prompt write (or ``messages``), as tokens too where ``chat`` is given."""
        if messages is None:
            messages = initial_messages(problem, config.system_prompt, config.profile)
        opening = list(messages)
        tokens = None
        if chat is not None:
            tokens = TokenTrace(chat.prompt([m.model_dump() for m in opening]))
        return cls(problem=problem, messages=opening, sample=sample, tokens=tokens)

    @property
    def last(self) -> Turn:
        return self.turns[-1]

    def trajectory(self) -> Trajectory:
        """The episode as a trajectory record (``trajectories.jsonl``)."""
        return Trajectory(
            problem_id=self.problem.id,
            sample=self.sample,
            messages=self.messages,
            attempts=[t.attempt() for t in self.turns],
            perturbed=self.problem.perturbed,
        )


@dataclass(frozen=True)
class ReplyWanted:
    """The episode waits for its next reply, of at most ``max_new_tokens`` tokens."""

    episode: Episode
    max_new_tokens: int


@dataclass(frozen=True)
class ResultsWanted:
    """The episode waits for these programs' results, in order."""

    episode: Episode
    requests: list[ExecRequest]


Step = ReplyWanted | ResultsWanted
Script = Generator[Step, object, None]


def _no_code_result(problem: Problem, config: EpisodeConfig) -> ExecResult:
    outcomes = [
        TestOutcome(status=Status.RUNTIME_ERROR, detail="no code block in the reply")
        for _ in problem.public_tests
    ]
    return ExecResult(outcomes=outcomes, feedback=no_code_feedback(config.profile))


def _record_reply(
    episode: Episode,
    reply: Reply,
    budget: int | None,
    config: EpisodeConfig,
    chat: ChatTokens | None,
) -> Turn:
    """The reply as a new turn (cut to the token budget, where tokens are counted)."""
    raw, start, end = reply.text, 0, 0
    finish = reply.finish_reason
    if episode.tokens is not None and reply.token_ids is not None and chat is not None:
        new = list(reply.token_ids)
        if budget is not None and len(new) > budget:  # the budget ends inside this reply
            new, episode.truncated = new[:budget], True
        start = len(episode.tokens.completion_ids)
        episode.tokens.add(new, policy=True, logprobs=reply.logprobs)
        end = start + len(new)
        raw = chat.decode(new)
        if finish is None:
            finish = "stop" if new and new[-1] == chat.eos else "length"
    turn = Turn(
        number=len(episode.turns) + 1,
        raw=raw,
        reply=cap_reply(strip_reasoning(raw), config.max_reply_chars),
        code=extract_code(raw, profile=config.profile),
        finish_reason=finish,
        start=start,
        end=end,
    )
    episode.turns.append(turn)
    return turn


def _requests(episode: Episode, turn: Turn, config: EpisodeConfig, full: bool) -> list[ExecRequest]:
    """The turn's programs to run: public tests (unless decided without running), then all
    tests where ``full``. Sets ``turn.public`` where nothing runs."""
    problem, profile = episode.problem, config.profile
    if turn.code is None:
        turn.public = _no_code_result(problem, config)
        return []
    requests = []
    if problem.public_tests:
        requests.append(ExecRequest.for_problem(problem, turn.code, "public", profile=profile))
    else:  # nothing to show: counts as passing
        turn.public = ExecResult(outcomes=[], feedback=all_passed_message(profile))
    if full:
        requests.append(ExecRequest.for_problem(problem, turn.code, "all", profile=profile))
    return requests


def _attach(episode: Episode, turn: Turn, results: Sequence[ExecResult], full: bool) -> None:
    results = list(results)
    if turn.code is not None and episode.problem.public_tests:
        turn.public = results.pop(0)
    if full and results:
        turn.full = results.pop(0)
    assert turn.public is not None
    turn.public_passed = turn.code is not None and (
        turn.public.passed or not episode.problem.public_tests
    )


def _add_feedback(
    episode: Episode, turn: Turn, config: EpisodeConfig, chat: ChatTokens | None
) -> bool:
    """Append the feedback turn; False when the token budget leaves no room for it."""
    assert turn.public is not None
    text = feedback_turn(turn.public.feedback, turn.public_passed, config.profile)
    if episode.tokens is not None and chat is not None:
        suffix = chat.feedback([m.model_dump() for m in episode.messages], text)
        new = episode.tokens.completion_ids[turn.start : turn.end]
        if not new or new[-1] != chat.eos:  # a reply cut by the token cap: close it first
            suffix = [chat.eos, *suffix]
        used = len(episode.tokens.completion_ids)
        if (
            config.max_episode_tokens is not None
            and used + len(suffix) >= config.max_episode_tokens
        ):
            episode.truncated = True  # no room for the feedback and a reply
            return False
        episode.tokens.add(suffix, policy=False)
    episode.messages.append(Message(role="user", content=text))
    return True


def episode_script(
    episode: Episode,
    config: EpisodeConfig,
    max_new_tokens: int,
    chat: ChatTokens | None = None,
    score: Scoring = "none",
) -> Script:
    """The turn loop of one episode (see the module docstring); drive it with
    :class:`EpisodeBatch` or :func:`run_async`.

    Args:
        episode: a new episode (:meth:`Episode.start`); filled in as the loop runs.
        config: turns, stop rule, history cap, profile, token budget.
        max_new_tokens: the reply cap (the sampling's).
        chat: the token view (replies come as token ids); None: text only.
        score: which attempts also run on all tests.
    """
    for _ in range(config.turns):
        budget = None
        if episode.tokens is not None and config.max_episode_tokens is not None:
            budget = config.max_episode_tokens - len(episode.tokens.completion_ids)
        cap = min(max_new_tokens, budget) if budget is not None else max_new_tokens
        reply = yield ReplyWanted(episode, cap)
        assert isinstance(reply, Reply)
        turn = _record_reply(episode, reply, budget, config, chat)
        requests = _requests(episode, turn, config, full=score == "every")
        results = (yield ResultsWanted(episode, requests)) if requests else []
        assert isinstance(results, list)
        _attach(episode, turn, results, full=score == "every")
        episode.messages.append(Message(role="assistant", content=turn.reply))
        if (
            turn.number >= config.turns
            or (turn.public_passed and config.stop_on_pass)
            or episode.truncated
            or not _add_feedback(episode, turn, config, chat)
        ):
            break
    last = episode.last
    if score == "last" and last.code is not None:
        request = ExecRequest.for_problem(episode.problem, last.code, "all", profile=config.profile)
        results = yield ResultsWanted(episode, [request])
        assert isinstance(results, list)
        last.full = results[0]
    episode.done = True


class EpisodeBatch:
    """Episodes advanced together: a driver answers every waiting reply with one generate
    call and every waiting program with one sandbox batch.

    Args:
        episodes: new episodes.
        config, max_new_tokens, chat, score: as :func:`episode_script` takes them.
    """

    def __init__(
        self,
        episodes: Sequence[Episode],
        config: EpisodeConfig,
        max_new_tokens: int,
        chat: ChatTokens | None = None,
        score: Scoring = "none",
    ):
        self.episodes = list(episodes)
        self._scripts: dict[int, Script] = {}
        self._steps: dict[int, Step] = {}
        for episode in self.episodes:
            script = episode_script(episode, config, max_new_tokens, chat, score)
            self._scripts[id(episode)] = script
            self._steps[id(episode)] = next(script)

    @property
    def active(self) -> list[Episode]:
        """Episodes not yet done, in their order."""
        return [e for e in self.episodes if id(e) in self._steps]

    def replies_wanted(self) -> list[ReplyWanted]:
        return [s for s in self._steps.values() if isinstance(s, ReplyWanted)]

    def results_wanted(self) -> list[ResultsWanted]:
        return [s for s in self._steps.values() if isinstance(s, ResultsWanted)]

    def give(self, episode: Episode, answer: Reply | list[ExecResult]) -> None:
        """Answer what ``episode`` waits for; it runs on to its next wait (or its end)."""
        key = id(episode)
        try:
            self._steps[key] = self._scripts[key].send(answer)
        except StopIteration:
            del self._steps[key], self._scripts[key]


GenerateBatch = Callable[[list[ReplyWanted]], list[Reply]]
ExecuteBatch = Callable[[list[ExecRequest]], list[ExecResult]]


def give_results(
    batch: EpisodeBatch, wanted: Sequence[ResultsWanted], results: Sequence[ExecResult]
) -> None:
    """Hand a flat list of results (the requests of ``wanted``, in order) to their episodes."""
    position = 0
    for step in wanted:
        count = len(step.requests)
        batch.give(step.episode, list(results[position : position + count]))
        position += count


def run_batch(
    batch: EpisodeBatch,
    generate: GenerateBatch,
    execute: ExecuteBatch,
    keep_going: Callable[[bool], bool] = bool,
) -> list[Episode]:
    """Drive ``batch`` to the end: per round, one sandbox batch for every waiting program,
    then one generate call for every waiting reply.

    ``keep_going(any_reply_wanted_here)`` decides whether to call ``generate`` again; with
    several processes whose generation is collective it is true while any process still has
    a reply to generate (this one then generates nothing, in step with the others).
    """
    while True:
        wanted = batch.results_wanted()
        if wanted:
            results = execute([r for step in wanted for r in step.requests])
            give_results(batch, wanted, results)
            continue
        replies = batch.replies_wanted()
        if not keep_going(bool(replies)):
            break
        for step, reply in zip(replies, generate(replies), strict=True):
            batch.give(step.episode, reply)
    return batch.episodes


async def run_async(
    episode: Episode,
    config: EpisodeConfig,
    max_new_tokens: int,
    generate: Callable[[ReplyWanted], Awaitable[Reply]],
    execute: ExecuteBatch,
    chat: ChatTokens | None = None,
    score: Scoring = "none",
) -> Episode:
    """Drive one episode under asyncio; programs run in a thread, off the event loop."""
    script = episode_script(episode, config, max_new_tokens, chat, score)
    step = next(script)
    while True:
        answer: Reply | list[ExecResult]
        if isinstance(step, ReplyWanted):
            answer = await generate(step)
        else:
            answer = await asyncio.to_thread(execute, step.requests)
        try:
            step = script.send(answer)
        except StopIteration:
            return episode
