"""The multi-turn episode loop: attempts, execution on PUBLIC tests, feedback as the next turn.

For every problem, ``samples`` trajectories; each runs up to ``turns`` attempts. After an
attempt its code runs on the problem's public tests (the perturbed ones on a perturbed
problem: that is what the model is shown) and the feedback becomes the next user turn
(:mod:`cobalt_rl.episode.prompts`). The paper's collection keeps going after the public tests pass
(``stop_on_pass=False``); evaluation may stop there.

Throughput: problems are processed in groups, and two groups are in flight at once, so that
while the model generates for one group the sandbox executes the other's programs (the
sandbox runs in its own processes). The first turn of a problem is one conversation with
``n = samples`` completions; later turns are one completion per (diverged) conversation.

Code is found in the FULL reply (:func:`~cobalt_rl.llm.extract.extract_code`, by the
profile's rule); the history keeps the reply after its reasoning, capped at
``max_reply_chars``. The cap is for the context, never for what runs: a program longer than
the cap runs whole, as in the reference (``run_multi_turn_vllm.py`` runs each completion and
caps only what it appends to the conversation).

Output is appended to ``trajectories.jsonl`` one problem at a time (all its samples), each
line a :class:`~cobalt_rl.records.Trajectory`. On restart, (problem, sample) pairs already in
the file are skipped, so a killed run resumes without duplicates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.episode.prompts import (
    SYSTEM_PROMPT,
    feedback_turn,
    initial_messages,
    no_code_feedback,
    system_prompt,
)
from cobalt_rl.llm import Generator, SamplingParams, cap_reply, strip_reasoning
from cobalt_rl.llm.base import Completion, FinishReason
from cobalt_rl.llm.extract import extract_code
from cobalt_rl.profiles import DEFAULT_PROFILE, PROFILE_FIELD_DOC, Profile
from cobalt_rl.records import (
    Attempt,
    ExecResult,
    JsonlWriter,
    Message,
    Problem,
    Status,
    TestOutcome,
    Trajectory,
    read_jsonl,
)
from cobalt_rl.sandbox.base import ExecRequest, Sandbox
from cobalt_rl.sandbox.feedback import all_passed_message

__all__ = ["EpisodeConfig", "EpisodeRules", "RolloutProgress", "completed_samples", "run_rollout"]

log = logging.getLogger(__name__)


class EpisodeRules(BaseModel):
    """How one multi-turn episode runs: how many turns, when it stops, what the history keeps,
    and the profile's prompts and feedback. The online trainers take these as they are and
    sample with their own GRPO options; :class:`EpisodeConfig` adds the sampling."""

    model_config = ConfigDict(extra="forbid")

    turns: int = Field(3, ge=1, description="Most attempts per trajectory.")
    stop_on_pass: bool = Field(
        False,
        description="End a trajectory once its program passes every public test (the paper's "
        "collection keeps going; RLEF's episodes and evaluation may stop).",
    )
    max_reply_chars: int = Field(
        6000,
        ge=1,
        description="Replies kept in the history are capped at this many characters "
        "(the reference's cap); code is always taken from the full reply.",
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


class EpisodeConfig(EpisodeRules):
    """One multi-turn episode with its sampling: how many per problem and how replies are
    sampled, over :class:`EpisodeRules`. The one model the rollout stage, evaluation and
    validation during training read (``rollout:`` / ``eval:`` sections of a run config, the
    flags of ``cobalt rollout``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: int = Field(16, ge=1, description="Trajectories per problem.")
    temperature: float = Field(1.0, ge=0, description="Sampling temperature (0: greedy).")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass.")
    max_new_tokens: int = Field(512, ge=1, description="Most tokens per reply.")
    seed: int | None = Field(0, description="Sampling seed (unset: not seeded).")
    group_size: int = Field(
        8, ge=1, description="Problems per generation group (two groups are in flight)."
    )

    def sampling(self) -> SamplingParams:
        """How the generator samples each reply."""
        return SamplingParams(
            temperature=self.temperature,
            top_p=self.top_p,
            max_new_tokens=self.max_new_tokens,
            seed=self.seed,
        )


@dataclass
class RolloutProgress:
    """Counts a progress bar shows; updated as the rollout goes."""

    problems_done: int = 0
    problems_total: int = 0
    attempts: int = 0
    public_passes: int = 0
    tokens: int = 0

    @property
    def pass_rate(self) -> float:
        return self.public_passes / self.attempts if self.attempts else 0.0


@dataclass
class _Episode:
    problem: Problem
    sample: int
    messages: list[Message]
    attempts: list[Attempt] = field(default_factory=list)
    done: bool = False
    pending: Future[ExecResult] | None = None
    pending_reply: str = ""
    pending_code: str | None = None
    pending_finish: FinishReason | None = None


@dataclass
class _Group:
    episodes: list[_Episode]

    @property
    def active(self) -> list[_Episode]:
        return [e for e in self.episodes if not e.done]


def completed_samples(path: str) -> set[tuple[str, int]]:
    """(problem id, sample) pairs already written to a trajectories file."""
    import os

    if not os.path.exists(path):
        return set()
    return {(t.problem_id, t.sample) for t in read_jsonl(path, Trajectory)}


def _no_code_result(problem: Problem, profile: Profile) -> ExecResult:
    outcomes = [
        TestOutcome(status=Status.RUNTIME_ERROR, detail="no code block in the reply")
        for _ in problem.public_tests
    ]
    return ExecResult(outcomes=outcomes, feedback=no_code_feedback(profile))


class _Runner:
    def __init__(
        self,
        generator: Generator,
        sandbox: Sandbox,
        settings: EpisodeConfig,
        writer: JsonlWriter[Trajectory],
        progress: RolloutProgress,
        on_progress: Callable[[RolloutProgress], None] | None,
    ):
        self.generator = generator
        self.sandbox = sandbox
        self._threads: ThreadPoolExecutor | None = None
        self.settings = settings
        self.sampling = settings.sampling()
        self.writer = writer
        self.progress = progress
        self.on_progress = on_progress

    # -- generation ----------------------------------------------------------------------

    def _generate(self, group: _Group) -> None:
        """One attempt for every active episode of ``group``; submits their executions."""
        active = group.active
        first = [e for e in active if not e.attempts]
        later = [e for e in active if e.attempts]
        # First turns: episodes of one problem share the prompt -> one conversation, n replies.
        by_problem: dict[str, list[_Episode]] = {}
        for e in first:
            by_problem.setdefault(e.problem.id, []).append(e)
        convs: list[Sequence[Message]] = []
        owners: list[list[_Episode]] = []
        for eps in by_problem.values():
            convs.append(eps[0].messages)
            owners.append(eps)
        replies: list[tuple[_Episode, Completion]] = []
        if convs:
            # Every conversation asks for the same n: pad owners with the max count.
            n = max(len(o) for o in owners)
            outs = self.generator.generate(convs, n, self.sampling)
            for eps, comps in zip(owners, outs, strict=True):
                for e, c in zip(eps, comps, strict=False):
                    replies.append((e, c))
                    self.progress.tokens += c.completion_tokens
        if later:
            outs = self.generator.generate([e.messages for e in later], 1, self.sampling)
            for e, comps in zip(later, outs, strict=True):
                replies.append((e, comps[0]))
                self.progress.tokens += comps[0].completion_tokens
        profile = self.settings.profile
        for e, completion in replies:
            # Code from the full reply; the cap is only for what the history keeps.
            raw = completion.text
            code = extract_code(raw, profile=profile)
            reply = cap_reply(strip_reasoning(raw), self.settings.max_reply_chars)
            e.pending_reply, e.pending_code = reply, code
            e.pending_finish = completion.finish_reason  # "length": cut by the token cap
            if code is None or not e.problem.public_tests:
                done: Future[ExecResult] = Future()
                done.set_result(
                    _no_code_result(e.problem, profile)
                    if code is None
                    else ExecResult(outcomes=[], feedback=all_passed_message(profile))
                )
                e.pending = done
            else:
                request = ExecRequest.for_problem(e.problem, code, "public", profile=profile)
                e.pending = self._submit(request)

    def _submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Start one execution: the sandbox's own futures, or a thread calling ``run``."""
        submit = getattr(self.sandbox, "submit", None)
        if submit is not None:
            future: Future[ExecResult] = submit(request)
            return future
        if self._threads is None:
            self._threads = ThreadPoolExecutor(32, thread_name_prefix="rollout-exec")
        return self._threads.submit(self.sandbox.run, request)

    # -- execution results ---------------------------------------------------------------

    def _collect(self, group: _Group) -> None:
        """Wait for the group's executions; record attempts and add feedback turns."""
        for e in group.active:
            if e.pending is None:
                continue
            result = e.pending.result()
            e.pending = None
            turn = len(e.attempts) + 1
            e.attempts.append(
                Attempt(
                    turn=turn,
                    response=e.pending_reply,
                    code=e.pending_code,
                    public=result,
                    finish_reason=e.pending_finish,
                )
            )
            e.messages.append(Message(role="assistant", content=e.pending_reply))
            self.progress.attempts += 1
            all_passed = e.pending_code is not None and (
                result.passed or not e.problem.public_tests
            )
            self.progress.public_passes += int(result.passed)
            if turn >= self.settings.turns or (all_passed and self.settings.stop_on_pass):
                e.done = True
                continue
            e.messages.append(
                Message(
                    role="user",
                    content=feedback_turn(result.feedback, all_passed, self.settings.profile),
                )
            )
        self._flush(group)
        if self.on_progress:
            self.on_progress(self.progress)

    def _flush(self, group: _Group) -> None:
        """Write every problem of the group whose samples are all done (once)."""
        by_problem: dict[str, list[_Episode]] = {}
        for e in group.episodes:
            by_problem.setdefault(e.problem.id, []).append(e)
        keep: list[_Episode] = []
        for eps in by_problem.values():
            if all(e.done for e in eps):
                for e in sorted(eps, key=lambda x: x.sample):
                    # The final assistant turn ends the conversation (no feedback after it).
                    self.writer.write(
                        Trajectory(
                            problem_id=e.problem.id,
                            sample=e.sample,
                            messages=e.messages,
                            attempts=e.attempts,
                            perturbed=e.problem.perturbed,
                        )
                    )
                self.progress.problems_done += 1
            else:
                keep.extend(eps)
        group.episodes = keep

    # -- schedule ------------------------------------------------------------------------

    def run(self, groups: list[_Group]) -> None:
        """Two groups in flight: generate for one while the other's programs execute."""
        try:
            self._run(groups)
        finally:
            if self._threads is not None:
                self._threads.shutdown(wait=True, cancel_futures=True)

    def _run(self, groups: list[_Group]) -> None:
        in_flight: list[_Group] = []
        queue = list(groups)
        while queue or in_flight:
            while len(in_flight) < 2 and queue:
                g = queue.pop(0)
                self._generate(g)
                in_flight.append(g)
            g = in_flight.pop(0)
            self._collect(g)
            if g.active:
                self._generate(g)
                in_flight.append(g)


def run_rollout(
    problems: Sequence[Problem],
    generator: Generator,
    sandbox: Sandbox,
    out: str,
    settings: EpisodeConfig,
    on_progress: Callable[[RolloutProgress], None] | None = None,
) -> RolloutProgress:
    """Roll out ``settings.samples`` episodes per problem, appending to ``out``.

    Samples already in ``out`` are skipped (resume). Returns the final counts.
    """
    # Opening the writer first moves a torn last line (a kill mid-write) aside, so reading
    # what is already done sees only complete records.
    with JsonlWriter(out, Trajectory) as writer:
        if writer.torn_bytes:
            log.warning("%s: moved a torn last line (%d bytes) aside", out, writer.torn_bytes)
        done = completed_samples(out)
        todo: list[_Episode] = []
        for p in problems:
            for s in range(settings.samples):
                if (p.id, s) not in done:
                    messages = initial_messages(p, settings.system_prompt, settings.profile)
                    todo.append(_Episode(p, s, messages))
        progress = RolloutProgress(
            problems_total=len(problems),
            problems_done=len(problems) - len({e.problem.id for e in todo}),
        )
        if done:
            log.info("resuming: %d samples already in %s", len(done), out)
        groups: list[_Group] = []
        per_group = max(1, settings.group_size)
        ids = list(dict.fromkeys(e.problem.id for e in todo))
        for i in range(0, len(ids), per_group):
            chunk = set(ids[i : i + per_group])
            groups.append(_Group([e for e in todo if e.problem.id in chunk]))
        _Runner(generator, sandbox, settings, writer, progress, on_progress).run(groups)
    return progress
