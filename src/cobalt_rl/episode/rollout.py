"""The rollout stage: ``samples`` multi-turn episodes per problem, written as trajectories.

Each episode runs on the one engine (:mod:`cobalt_rl.episode.engine`): an attempt, its code
on the problem's public tests, the feedback as the next user turn. The paper's collection
keeps going after the public tests pass (``stop_on_pass=False``); evaluation may stop there.

Throughput: problems are processed in groups, and two groups are in flight at once, so that
while the model generates for one group the sandbox executes the other's programs (the
sandbox runs in its own processes). The first turn of a problem is one conversation with
``n = samples`` completions; later turns are one completion per (diverged) conversation.

Output is appended to ``trajectories.jsonl`` one problem at a time (all its samples), each
line a :class:`~cobalt_rl.records.Trajectory`. On restart, (problem, sample) pairs already in
the file are skipped, so a killed run resumes without duplicates.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from cobalt_rl.episode.config import RolloutConfig
from cobalt_rl.episode.engine import (
    Episode,
    EpisodeBatch,
    Reply,
    ReplyWanted,
    ResultsWanted,
    give_results,
)
from cobalt_rl.llm import Generator
from cobalt_rl.llm.base import Completion
from cobalt_rl.records import ExecResult, JsonlWriter, Message, Problem, Trajectory, read_jsonl
from cobalt_rl.sandbox.base import ExecRequest, Sandbox

__all__ = ["RolloutProgress", "completed_samples", "run_rollout"]

log = logging.getLogger(__name__)


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


def completed_samples(path: str) -> set[tuple[str, int]]:
    """(problem id, sample) pairs already written to a trajectories file."""
    if not os.path.exists(path):
        return set()
    return {(t.problem_id, t.sample) for t in read_jsonl(path, Trajectory)}


class _Runner:
    def __init__(
        self,
        generator: Generator,
        sandbox: Sandbox,
        settings: RolloutConfig,
        writer: JsonlWriter[Trajectory],
        progress: RolloutProgress,
        on_progress: Callable[[RolloutProgress], None] | None,
    ):
        self.generator = generator
        self.sandbox = sandbox
        self._threads: ThreadPoolExecutor | None = None
        self.settings = settings
        self.writer = writer
        self.progress = progress
        self.on_progress = on_progress
        self._pending: dict[int, list[tuple[ResultsWanted, list[Future[ExecResult]]]]] = {}
        self._counted: dict[int, int] = {}

    # -- generation ----------------------------------------------------------------------

    def _replies(self, wanted: list[ReplyWanted]) -> list[Completion]:
        """One reply per wanted step: first turns of one problem share the prompt, so they
        are one conversation with n replies; later turns one reply per conversation."""
        sampling = self.settings.sampling
        replies: dict[int, Completion] = {}
        first = [w for w in wanted if not w.episode.turns]
        later = [w for w in wanted if w.episode.turns]
        by_problem: dict[str, list[ReplyWanted]] = {}
        for w in first:
            by_problem.setdefault(w.episode.problem.id, []).append(w)
        if by_problem:
            owners = list(by_problem.values())
            n = max(len(o) for o in owners)  # every conversation asks for the same n
            convs: list[Sequence[Message]] = [o[0].episode.messages for o in owners]
            outs = self.generator.generate(convs, n, sampling)
            for steps, completions in zip(owners, outs, strict=True):
                for w, c in zip(steps, completions, strict=False):
                    replies[id(w)] = c
        if later:
            outs = self.generator.generate([w.episode.messages for w in later], 1, sampling)
            for w, completions in zip(later, outs, strict=True):
                replies[id(w)] = completions[0]
        return [replies[id(w)] for w in wanted]

    def _generate(self, batch: EpisodeBatch) -> None:
        """One attempt for every episode of ``batch`` that waits for one; starts their
        programs."""
        wanted = batch.replies_wanted()
        for w, completion in zip(wanted, self._replies(wanted), strict=True):
            self.progress.tokens += completion.completion_tokens
            reply = Reply(text=completion.text, finish_reason=completion.finish_reason)
            batch.give(w.episode, reply)
        self._pending[id(batch)] = [
            (step, [self._submit(r) for r in step.requests]) for step in batch.results_wanted()
        ]

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

    def _collect(self, batch: EpisodeBatch) -> None:
        """Wait for the batch's programs; their episodes go on to feedback (or end)."""
        pending = self._pending.pop(id(batch), [])
        for step, futures in pending:
            give_results(batch, [step], [f.result() for f in futures])
        for episode in batch.episodes:
            for turn in episode.turns[self._counted.get(id(episode), 0) :]:
                self.progress.attempts += 1
                self.progress.public_passes += int(turn.public is not None and turn.public.passed)
            self._counted[id(episode)] = len(episode.turns)
        self._flush(batch)
        if self.on_progress:
            self.on_progress(self.progress)

    def _flush(self, batch: EpisodeBatch) -> None:
        """Write every problem of the batch whose samples are all done (once)."""
        by_problem: dict[str, list[Episode]] = {}
        for e in batch.episodes:
            by_problem.setdefault(e.problem.id, []).append(e)
        keep: list[Episode] = []
        for episodes in by_problem.values():
            if all(e.done for e in episodes):
                for e in sorted(episodes, key=lambda x: x.sample):
                    self.writer.write(e.trajectory())
                self.progress.problems_done += 1
            else:
                keep.extend(episodes)
        batch.episodes = keep

    # -- schedule ------------------------------------------------------------------------

    def run(self, batches: list[EpisodeBatch]) -> None:
        """Two batches in flight: generate for one while the other's programs execute."""
        try:
            in_flight: list[EpisodeBatch] = []
            queue = list(batches)
            while queue or in_flight:
                while len(in_flight) < 2 and queue:
                    batch = queue.pop(0)
                    self._generate(batch)
                    in_flight.append(batch)
                batch = in_flight.pop(0)
                self._collect(batch)
                if batch.active:
                    self._generate(batch)
                    in_flight.append(batch)
        finally:
            if self._threads is not None:
                self._threads.shutdown(wait=True, cancel_futures=True)


def run_rollout(
    problems: Sequence[Problem],
    generator: Generator,
    sandbox: Sandbox,
    out: str,
    settings: RolloutConfig,
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
        todo = [
            Episode.start(p, settings.episode, sample=s)
            for p in problems
            for s in range(settings.samples)
            if (p.id, s) not in done
        ]
        progress = RolloutProgress(
            problems_total=len(problems),
            problems_done=len(problems) - len({e.problem.id for e in todo}),
        )
        if done:
            log.info("resuming: %d samples already in %s", len(done), out)
        ids = list(dict.fromkeys(e.problem.id for e in todo))
        per_group = max(1, settings.group_size)
        batches = []
        for i in range(0, len(ids), per_group):
            chunk = set(ids[i : i + per_group])
            episodes = [e for e in todo if e.problem.id in chunk]
            batches.append(
                EpisodeBatch(episodes, settings.episode, settings.sampling.max_new_tokens)
            )
        _Runner(generator, sandbox, settings, writer, progress, on_progress).run(batches)
    return progress
