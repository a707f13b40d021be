"""Cobalt contexts: offline trajectories cut into contextual-bandit prompts.

The procedure follows the paper's reference code (OSU-NLP-Group/cobalt,
``preproc/process_multi_turn_taco.py``); every number is a field of :class:`ContextSettings`:

1. **Score** each attempt by its *combined* pass rate over the TRUE public and the hidden
   tests (an attempt without code scores 0).
2. **Drop problems that every first attempt already solves** (nothing to learn there). Every
   other problem gives its first-turn prompt (``prev_best_pass_rate`` 0), whether or not one
   of its trajectories is kept below, as the reference does.
3. **Keep trajectories.** A trajectory's *improvement* is the spread of its scores, best minus
   worst (the reference's ``pass_rate_diffs``). Training keeps trajectories that improve
   (spread > 0) and reach 1.0; they show how to use feedback. Validation keeps one trajectory
   per problem: the one with the least positive improvement (ties: the lowest sample).
4. **Max-variance down-sampling** (training; PODS, arXiv 2504.13818): of the ``top_n`` kept
   trajectories with the largest improvement, keep ``keep_m``: of the subsets made of the
   j lowest and m-j highest improvements, the one whose variance is largest. Ties go to the
   subset with more low ones (the reference starts from the m lowest and replaces only on a
   strictly larger variance). Problems with at most m kept trajectories keep them all.
5. **Prefixes.** Each kept trajectory gives one context per prefix holding 1..
   ``max_prefix_attempts`` attempts, each followed by its feedback turn;
   ``prev_best_pass_rate`` is the best combined score in the prefix. A trajectory's prefixes
   stop (that prefix and the later ones are not made) when the prefix's last two feedbacks both
   said "all public tests passed", or when its last attempt solved the problem (score 1.0).
   Our rollout ends a conversation after the last attempt, with no feedback turn; the reference
   rollout writes one, so a prefix holding the last attempt gets that turn rebuilt from the
   attempt's public result with the same template (:func:`cobalt_rl.episode.prompts.feedback_turn`).
6. **Drop prompts longer than** ``max_prompt_tokens``, measured with the policy's tokenizer.

Where we depart from the reference, and why:

- "Solved": the reference's check (``all_pass_rates[idx, turn // 2 - 2] == 1.0 and
  all_pass_rates[idx, turn // 2] == 1.0``, only for the one-attempt prefix) reads as an
  indexing slip; we stop once the last attempt of a prefix solved the problem, as the issue
  asks: such a prefix leaves nothing to improve (its ``prev_best_pass_rate`` is 1.0).
- Top n: the reference sorts ascending and slices ``sorted[n - k:]`` for the high end, which
  is the top-n only when a problem has at most n kept trajectories (always, with n = 16
  samples); we take the n with the largest improvement, which agrees there.
- The token filter also applies to first-turn prompts (the reference checks prefixes only).

Perturbed-feedback trajectories (rolled out on ``cobalt perturb`` problems) go through the
same steps; their first-turn prompts are left out (they show no feedback and duplicate the
unperturbed ones), and ``round(f / (1 - f) * n)`` of their prefix contexts are drawn (seeded)
and added to the n unperturbed ones, so they make a fraction f = ``perturbed_fraction`` of
the training contexts before the token filter (the paper's defence against in-context reward
hacking). Every context's ``tests`` are the TRUE tests. Output order and the perturbed draw
are deterministic given ``seed``.

:class:`ContextReport` records the count kept at each step and why the rest were dropped:
problems, then trajectories, then prefixes not made (one per prefix a stop rule cut off),
then contexts.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.contexts.downsample import improvement, max_variance_subset
from cobalt_rl.episode.prompts import feedback_turn
from cobalt_rl.errors import ConfigError
from cobalt_rl.profiles import DEFAULT_PROFILE, PROFILE_FIELD_DOC, Profile
from cobalt_rl.records import Attempt, Context, Message, Problem, Trajectory
from cobalt_rl.sandbox.base import ExecRequest, Sandbox

__all__ = [
    "ContextReport",
    "ContextSettings",
    "TokenCounter",
    "all_public_passed",
    "build_contexts",
    "combined_scores",
    "improvement",
    "max_variance_subset",
]

TokenCounter = Callable[[Sequence[Message]], int]


class ContextSettings(BaseModel):
    """How contexts are built (defaults: the paper's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    split: Literal["train", "validation"] = Field(
        "train",
        description="train: improving trajectories that reach 1.0, down-sampled; validation: "
        "one trajectory per problem, the least improving.",
    )
    top_n: int = Field(
        16, ge=1, description="Kept trajectories considered per problem (largest improvement)."
    )
    keep_m: int = Field(
        4, ge=1, description="Trajectories kept per problem (max-variance down-sampling)."
    )
    max_prefix_attempts: int = Field(
        3, ge=1, description="Most earlier attempts (with feedback) a context holds."
    )
    include_first_turn: bool = Field(
        True, description="Also add each problem's first-turn prompt (no earlier attempt)."
    )
    max_prompt_tokens: int = Field(
        10_000, ge=1, description="Drop prompts longer than this, in policy tokenizer tokens."
    )
    perturbed_fraction: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Share of training contexts drawn from perturbed-feedback trajectories.",
    )
    seed: int = Field(0, description="Seed for the perturbed draw and the output order.")
    profile: Profile = Field(
        DEFAULT_PROFILE,
        description="Wording of a rebuilt final feedback turn (the trajectories' own profile). "
        + PROFILE_FIELD_DOC,
    )

    @model_validator(mode="after")
    def _check(self) -> ContextSettings:
        if self.keep_m > self.top_n:
            raise ValueError(
                f"keep_m ({self.keep_m}) must not exceed top_n ({self.top_n}): down-sampling "
                "keeps keep_m of the top_n trajectories; raise top_n or lower keep_m"
            )
        return self


@dataclass
class ContextReport:
    """Counts kept at each step, in pipeline order, and why the rest were dropped."""

    counts: dict[str, int] = field(default_factory=dict)
    dropped: Counter[str] = field(default_factory=Counter)

    def add(self, key: str, count: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + count

    def drop(self, why: str, count: int = 1) -> None:
        if count > 0:
            self.dropped[why] += count

    def summary(self) -> str:
        lines = [f"  {key}: {count}" for key, count in self.counts.items()]
        if self.dropped:
            lines.append("  dropped:")
            lines += [f"    {why}: {count}" for why, count in self.dropped.items()]
        return "\n".join(lines)

    def merge(self, other: ContextReport, prefix: str) -> None:
        """Add ``other``'s counts and drops, each key prefixed with ``prefix``."""
        for key, count in other.counts.items():
            self.add(f"{prefix}{key}", count)
        for why, count in other.dropped.items():
            self.drop(f"{prefix}{why}", count)


def combined_scores(
    trajectories: Sequence[Trajectory],
    problems: dict[str, Problem],
    sandbox: Sandbox | None = None,
) -> list[list[float]]:
    """Each attempt's pass rate over the true public + hidden tests.

    Unperturbed attempts with public and hidden results need no execution. Perturbed ones
    (their public result is against perturbed tests), and any attempt missing a result, are
    run on all true tests through ``sandbox`` in one batch.
    """
    scores: list[list[float]] = []
    requests: list[ExecRequest] = []
    positions: list[tuple[int, int]] = []  # (trajectory, attempt) of each request
    for trajectory_index, trajectory in enumerate(trajectories):
        row = []
        for attempt_index, attempt in enumerate(trajectory.attempts):
            if attempt.code is None:
                row.append(0.0)
            elif (
                not trajectory.perturbed
                and attempt.public is not None
                and attempt.hidden is not None
            ):
                public, hidden = attempt.public, attempt.hidden
                tests = len(public.outcomes) + len(hidden.outcomes)
                row.append((public.num_passed + hidden.num_passed) / tests if tests else 0.0)
            else:
                row.append(0.0)
                problem = problems[trajectory.problem_id]
                requests.append(ExecRequest.for_problem(problem, attempt.code, "all"))
                positions.append((trajectory_index, attempt_index))
        scores.append(row)
    if requests:
        if sandbox is None:
            raise ConfigError(
                "some attempts need execution on the true tests (perturbed, or not yet scored "
                "on hidden tests): pass a sandbox, or run `cobalt evaluate` first"
            )
        results = sandbox.run_batch(requests)
        for (trajectory_index, attempt_index), result in zip(positions, results, strict=True):
            scores[trajectory_index][attempt_index] = result.pass_rate
    return scores


def all_public_passed(attempt: Attempt) -> bool:
    """Whether the feedback after ``attempt`` said every public test passed (as the rollout
    decides it: the reply had code and passed every public test, or there were none)."""
    return (
        attempt.code is not None
        and attempt.public is not None
        and (attempt.public.passed or not attempt.public.outcomes)
    )


def _first_turn_messages(trajectory: Trajectory) -> list[Message]:
    messages = []
    for message in trajectory.messages:
        if message.role == "assistant":
            break
        messages.append(message)
    return messages


def _prefix(
    trajectory: Trajectory, attempts: int, head: int, profile: Profile = DEFAULT_PROFILE
) -> list[Message] | None:
    """The conversation through the first ``attempts`` attempts and the feedback turn after
    the last of them, or None if it cannot be had.

    ``head`` is the number of messages before the first attempt ([system,] user).
    """
    messages, end = trajectory.messages, head + 2 * attempts
    if len(messages) < end - 1 or messages[end - 2].role != "assistant":
        return None
    if len(messages) >= end:
        return list(messages[:end]) if messages[end - 1].role == "user" else None
    # The conversation ends with the last attempt (the rollout writes no feedback after the
    # last attempt): rebuild the turn the model would have been shown.
    last = trajectory.attempts[attempts - 1]
    if last.public is None:
        return None
    text = feedback_turn(last.public.feedback, all_public_passed(last), profile)
    return [*messages, Message(role="user", content=text)]


def _select(
    scores: list[list[float]],
    trajectories: list[Trajectory],
    settings: ContextSettings,
    report: ContextReport,
) -> list[int]:
    """Steps 3-4: the indices (into ``trajectories``) of the trajectories a problem keeps."""
    gains = [improvement(row) for row in scores]
    everyone = range(len(trajectories))
    if settings.split == "validation":
        improving = [index for index in everyone if gains[index] > 0]
        report.add("trajectories improving", len(improving))
        report.drop("trajectories: pass rate never changes", len(trajectories) - len(improving))
        if not improving:
            return []
        least = min(improving, key=lambda index: (gains[index], trajectories[index].sample))
        report.drop("trajectories: validation keeps the least improving one", len(improving) - 1)
        return [least]
    kept = [index for index in everyone if gains[index] > 0 and max(scores[index]) >= 1.0]
    report.add("trajectories improving to 1.0", len(kept))
    report.drop("trajectories: pass rate does not improve to 1.0", len(trajectories) - len(kept))
    kept.sort(key=lambda index: (-gains[index], trajectories[index].sample))
    top = kept[: settings.top_n]
    report.drop("trajectories: beyond top_n by improvement", len(kept) - len(top))
    subset = max_variance_subset([gains[index] for index in top], settings.keep_m)
    chosen = [top[position] for position in subset]
    report.drop("trajectories: max-variance down-sampling", len(top) - len(chosen))
    return chosen


def _prefix_contexts(
    problem: Problem,
    trajectory: Trajectory,
    scores: list[float],
    settings: ContextSettings,
    report: ContextReport,
    perturbed: bool,
) -> list[Context]:
    """Step 5 for one kept trajectory: a context per prefix, until a stop rule cuts it off;
    ``perturbed``: the problem's trajectories are perturbed-feedback ones (as its first says)."""
    head = len(_first_turn_messages(trajectory))
    possible = min(settings.max_prefix_attempts, len(trajectory.attempts))
    tag = "ptb/" if perturbed else ""
    contexts: list[Context] = []
    for attempts in range(1, possible + 1):
        stop = None
        if attempts >= 2 and all(
            all_public_passed(attempt) for attempt in trajectory.attempts[attempts - 2 : attempts]
        ):
            stop = "prefixes: two all-public-passed feedbacks in a row"
        elif scores[attempts - 1] >= 1.0:
            stop = "prefixes: the last attempt already solved the problem"
        prompt = _prefix(trajectory, attempts, head, settings.profile) if stop is None else None
        if prompt is None:
            why = stop or "prefixes: no feedback turn for the attempt"
            report.drop(why, possible - attempts + 1)
            break
        contexts.append(
            Context(
                id=f"{tag}{problem.id}/s{trajectory.sample}/p{attempts}",
                prompt=prompt,
                prev_best_pass_rate=max(scores[:attempts]),
                num_prev_attempts=attempts,
                perturbed=perturbed,
                metadata={"split": settings.split, "sample": trajectory.sample},
                **_true_tests(problem),
            )
        )
    return contexts


def _true_tests(problem: Problem) -> dict[str, Any]:
    """The fields every context of ``problem`` shares: rewards use the TRUE tests."""
    return {
        "tests": problem.true_public_tests + problem.hidden_tests,
        "mode": problem.mode,
        "fn_name": problem.fn_name,
        "problem_id": problem.id,
    }


def _contexts_of_problem(
    problem: Problem,
    trajectories: list[Trajectory],
    scores: list[list[float]],
    settings: ContextSettings,
    report: ContextReport,
) -> list[Context]:
    """Steps 2-5 for one problem's trajectories."""
    if all(row and row[0] >= 1.0 for row in scores):
        report.drop("problems: solved by every first attempt")
        report.drop("trajectories: problem solved by every first attempt", len(trajectories))
        return []
    report.add("problems not solved by every first attempt", 1)
    report.add("trajectories of those problems", len(trajectories))
    chosen = _select(scores, trajectories, settings, report)
    report.add("problems with a kept trajectory", int(bool(chosen)))
    first_only = " (first turn only)" if settings.include_first_turn else ""
    report.drop(f"problems: no trajectory kept{first_only}", int(not chosen))
    report.add("trajectories kept", len(chosen))
    perturbed = trajectories[0].perturbed
    contexts: list[Context] = []
    if settings.include_first_turn:
        tag = "ptb/" if perturbed else ""
        contexts.append(
            Context(
                id=f"{tag}{problem.id}/first",
                prompt=_first_turn_messages(trajectories[0]),
                prev_best_pass_rate=0.0,
                num_prev_attempts=0,
                perturbed=False,
                metadata={"split": settings.split},
                **_true_tests(problem),
            )
        )
    report.add("first-turn contexts", len(contexts))
    prefixes = 0
    for index in sorted(chosen, key=lambda index: trajectories[index].sample):
        made = _prefix_contexts(
            problem, trajectories[index], scores[index], settings, report, perturbed
        )
        contexts += made
        prefixes += len(made)
    report.add("prefix contexts", prefixes)
    return contexts


def _build(
    trajectories: Sequence[Trajectory],
    problems: dict[str, Problem],
    settings: ContextSettings,
    report: ContextReport,
    sandbox: Sandbox | None,
) -> list[Context]:
    """Steps 1-5 (scoring, then each problem in turn)."""
    by_problem: dict[str, list[int]] = defaultdict(list)
    for index, trajectory in enumerate(trajectories):
        if trajectory.problem_id not in problems:
            raise ConfigError(
                f"trajectory of unknown problem {trajectory.problem_id!r}: pass the "
                "problems file the trajectories were rolled out on"
            )
        by_problem[trajectory.problem_id].append(index)
    report.add("problems in", len(by_problem))
    report.add("trajectories in", len(trajectories))
    scores = combined_scores(trajectories, problems, sandbox)
    contexts: list[Context] = []
    for problem_id, indices in by_problem.items():
        contexts += _contexts_of_problem(
            problems[problem_id],
            [trajectories[index] for index in indices],
            [scores[index] for index in indices],
            settings,
            report,
        )
    report.add("contexts built", len(contexts))
    return contexts


def _draw_perturbed(
    built: list[Context], settings: ContextSettings, report: ContextReport, unperturbed: int
) -> list[Context]:
    """The perturbed-feedback prefix contexts drawn from ``built`` to make
    ``perturbed_fraction`` of the training contexts, next to ``unperturbed`` others (see the
    module docstring)."""
    prefixes = [c for c in built if c.num_prev_attempts > 0]  # first turns show no feedback
    fraction = settings.perturbed_fraction
    wanted = round(fraction / (1 - fraction) * unperturbed)
    drawn = random.Random(settings.seed).sample(prefixes, min(wanted, len(prefixes)))
    report.add("perturbed prefix contexts available", len(prefixes))
    report.add("perturbed contexts mixed in", len(drawn))
    report.drop("perturbed contexts: not drawn", len(prefixes) - len(drawn))
    return drawn


def build_contexts(
    trajectories: Sequence[Trajectory],
    problems: dict[str, Problem],
    settings: ContextSettings,
    count_tokens: TokenCounter | None = None,
    perturbed_trajectories: Sequence[Trajectory] = (),
    sandbox: Sandbox | None = None,
) -> tuple[list[Context], ContextReport]:
    """Build contexts (see the module docstring).

    Args:
        trajectories: unperturbed trajectories (scored by ``cobalt evaluate``, or pass
            ``sandbox`` to score them here).
        problems: every problem the trajectories were rolled out on, by id.
        settings: the numbers of the procedure.
        count_tokens: counts a prompt's tokens with the policy's chat template; None skips
            the length filter.
        perturbed_trajectories: trajectories rolled out on perturbed problems, mixed in at
            ``settings.perturbed_fraction`` (training only).
        sandbox: runs attempts that need scoring on the true tests (perturbed ones always).

    Returns:
        The contexts, shuffled with ``settings.seed``, and the per-step report.
    """
    mix_perturbed = settings.perturbed_fraction > 0 and settings.split == "train"
    if mix_perturbed and not perturbed_trajectories:
        raise ConfigError(
            "perturbed_fraction > 0 needs perturbed-feedback trajectories (roll out on "
            "`cobalt perturb` problems and pass them)"
        )
    report = ContextReport()
    contexts = _build(trajectories, problems, settings, report, sandbox)
    if mix_perturbed:
        perturbed_report = ContextReport()
        built = _build(perturbed_trajectories, problems, settings, perturbed_report, sandbox)
        report.merge(perturbed_report, "perturbed ")
        contexts += _draw_perturbed(built, settings, report, len(contexts))
    elif perturbed_trajectories:
        why = "validation split" if settings.split == "validation" else "perturbed_fraction 0"
        report.drop(f"perturbed trajectories: not used ({why})", len(perturbed_trajectories))
    if count_tokens is not None:
        budget = settings.max_prompt_tokens
        kept = [c for c in contexts if count_tokens(c.prompt) <= budget]
        report.add("contexts within the token budget", len(kept))
        report.drop(f"contexts: prompt over {budget} tokens", len(contexts) - len(kept))
        contexts = kept
    random.Random(settings.seed).shuffle(contexts)
    report.add("contexts written", len(contexts))
    report.add("problems written", len({c.problem_id for c in contexts}))
    return contexts, report
