"""Replayed trajectories: offline data that contains feedback, and scripted failures.

Two uses of one mechanism (:class:`~cobalt_rl.llm.replay.ReplayGenerator` in the rollout loop,
so every replayed program really runs and its feedback is the sandbox's):

- **Offline training data with feedback.** A weak policy rarely improves after feedback, so
  its own trajectories give Cobalt few partial-trajectory contexts (measured: 4 of 64 reference
  trajectories of the embedded model improved to a pass). A *replay reference* supplies them:
  known-wrong first attempts (the bundled problems' ``wrong_solutions``, or any file of
  programs, e.g. another model's outputs), each followed by a passing attempt (the problem's
  ``reference_solution``, or the file's next program). ``cobalt contexts`` then cuts them into
  prefix contexts: statement, failed attempt, real feedback → next attempt.
- **Held-out scripted failures.** The same first attempts on held-out problems, then the model
  under evaluation writes the repair: repair@1 measures feedback use directly, on failures no
  model chose.

A programs file is JSONL, one replayed trajectory a line:
``{"problem_id": "...", "attempts": ["<code of attempt 1>", "<code of attempt 2>", ...]}``.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.episode.config import RolloutConfig
from cobalt_rl.episode.prompts import initial_messages
from cobalt_rl.episode.rollout import RolloutProgress, run_rollout
from cobalt_rl.errors import ConfigError, RecordError
from cobalt_rl.llm.base import Generator
from cobalt_rl.llm.replay import ReplayGenerator
from cobalt_rl.records import Context, Problem
from cobalt_rl.sandbox.base import Sandbox

__all__ = [
    "ReplayConfig",
    "Sequences",
    "mix_contexts",
    "read_sequences",
    "reference_sequences",
    "replay_rollout",
    "scripted_failures",
]

Sequences = dict[str, list[list[str]]]
"""Attempt sequences by problem id: each a list of programs, one per turn."""


class ReplayConfig(BaseModel):
    """A replay reference: offline trajectories from given attempts, mixed into training."""

    model_config = ConfigDict(extra="forbid")

    programs: Path | None = Field(
        None,
        description="JSONL of {problem_id, attempts: [code, ...]} to replay; unset: each "
        "problem's known-wrong solutions, each followed by its reference solution.",
    )
    fraction: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="Share of the training contexts drawn from replayed trajectories (at most "
        "as many as they give; 1.0: replayed contexts only).",
    )
    per_problem: int | None = Field(
        None, ge=1, description="Most replayed trajectories per problem (unset: all)."
    )


def reference_sequences(problems: Sequence[Problem], per_problem: int | None = None) -> Sequences:
    """For each problem with ``wrong_solutions`` and a ``reference_solution`` in its metadata:
    one sequence per wrong solution, followed by the reference solution."""
    sequences: Sequences = {}
    for problem in problems:
        wrong = list(problem.metadata.get("wrong_solutions") or [])
        right = problem.metadata.get("reference_solution")
        if wrong and right:
            sequences[problem.id] = [[program, right] for program in wrong][:per_problem]
    return sequences


def scripted_failures(problems: Sequence[Problem], samples: int = 1) -> Sequences:
    """For each problem with ``wrong_solutions``: one one-attempt sequence per wrong solution,
    ``samples`` times over (the model under evaluation writes the turns that follow, one
    independent sample per copy)."""
    return {
        problem.id: [[program] for program in problem.metadata["wrong_solutions"]] * samples
        for problem in problems
        if problem.metadata.get("wrong_solutions")
    }


def read_sequences(path: Path) -> Sequences:
    """A programs file (see the module docs); a bad line is an error naming file and line."""
    sequences: Sequences = defaultdict(list)
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            problem_id, attempts = row["problem_id"], row["attempts"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise RecordError(path, number, f"expected {{problem_id, attempts: [...]}}: {e}") from e
        if (
            not isinstance(attempts, list)
            or not attempts
            or not all(isinstance(a, str) and a.strip() for a in attempts)
        ):
            raise RecordError(path, number, "attempts must be a non-empty list of programs")
        sequences[str(problem_id)].append(attempts)
    return dict(sequences)


def replay_rollout(
    problems: Sequence[Problem],
    sequences: Sequences,
    sandbox: Sandbox,
    out: Path,
    rollout: RolloutConfig,
    then: Generator | None = None,
    on_progress: Callable[[RolloutProgress], None] | None = None,
) -> RolloutProgress:
    """Roll the sequences out on their problems (real execution and feedback), appending to
    ``out`` (resumable like any rollout). A problem gets one trajectory per sequence;
    ``rollout`` gives the turns, stop rule and sampling of what ``then`` generates.

    Returns the counts of the last group rolled out (the file holds them all).
    """
    by_id = {p.id: p for p in problems}
    unknown = sorted(set(sequences) - set(by_id))
    if unknown:
        raise ConfigError(f"replayed attempts for unknown problems: {', '.join(unknown[:5])}")
    prompts: dict[str, list[list[str]]] = {}
    for problem_id, seqs in sequences.items():
        problem = by_id[problem_id]
        episode = rollout.episode
        prompt = initial_messages(problem, episode.system_prompt, episode.profile)[-1].content
        if prompt in prompts:
            raise ConfigError(
                f"problem {problem_id} has the same first prompt as another replayed problem: "
                "the replay cannot tell them apart"
            )
        prompts[prompt] = seqs
    generator = ReplayGenerator(prompts, then)
    # Problems with the same number of sequences roll out together (samples = sequences).
    by_count: dict[int, list[Problem]] = defaultdict(list)
    for problem_id, seqs in sequences.items():
        by_count[len(seqs)].append(by_id[problem_id])
    progress = RolloutProgress()
    for count, group in sorted(by_count.items()):
        longest = max(len(s) for p in group for s in sequences[p.id])
        turns = max(rollout.episode.turns, longest) if then is not None else longest
        config = rollout.model_copy(
            update={
                "samples": count,
                "episode": rollout.episode.model_copy(update={"turns": turns}),
            }
        )
        progress = run_rollout(group, generator, sandbox, str(out), config, on_progress)
    return progress


def mix_contexts(
    own: Sequence[Context], replayed: Sequence[Context], fraction: float, seed: int = 0
) -> list[Context]:
    """``own`` contexts with replayed ones added to make ``fraction`` of the whole (all the
    replayed ones when they are too few; only them at 1.0), shuffled with ``seed``.

    Replayed contexts are told apart by an id prefix ``replay/`` and ``metadata.origin``.
    """
    rng = random.Random(seed)
    wanted = len(replayed) if fraction >= 1.0 else round(fraction / (1 - fraction) * len(own))
    drawn = rng.sample(list(replayed), min(wanted, len(replayed)))
    tagged = [
        c.model_copy(
            update={"id": f"replay/{c.id}", "metadata": {**c.metadata, "origin": "replay"}}
        )
        for c in drawn
    ]
    mixed = ([] if fraction >= 1.0 else list(own)) + tagged
    rng.shuffle(mixed)
    return mixed
