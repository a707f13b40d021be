"""Profiles: one switch for the rules that decide what the model is told and how it is scored.

A profile selects, together: the reward's format term (:mod:`cobalt_rl.rewards.scores`), how code is
found in a reply (:mod:`cobalt_rl.llm.extract`), how a program's output is graded
(:mod:`cobalt_rl.sandbox.grading`), how many tests of one program run at once and what
happens when the program's time budget runs out (:mod:`cobalt_rl.sandbox.local`), the
wording of the execution feedback (:mod:`cobalt_rl.sandbox.feedback`), the prompts
(:mod:`cobalt_rl.episode.prompts`) and whether a reply may end where its program ends
(:attr:`~cobalt_rl.llm.base.SamplingParams.stop_at_program_end`).

- ``reference``: the behaviour of the Cobalt paper's reference code (OSU-NLP-Group/cobalt:
  ``verl/code_reward_func_think.py``, ``verl/remote_reward_server.py``,
  ``run_multi_turn_vllm.py``), for reproducing the paper.
- ``cobalt-rl`` (the default): ours; every place it departs from ``reference``, what it does
  instead and why, is the table in ``docs/profiles.md``.

A run config holds ONE top-level ``profile``; it reaches every stage config that needs it
(rollout, evaluation, contexts, training). Each module asks :func:`profile_spec` for what the
profile selects rather than comparing profile names itself where a value will do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from cobalt_rl._compat import StrEnum

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILE_FIELD_DOC",
    "Profile",
    "ProfileSpec",
    "profile_spec",
    "with_profile",
]


class Profile(StrEnum):
    """The named sets of rules (see the module docstring)."""

    COBALT_RL = "cobalt-rl"
    REFERENCE = "reference"


DEFAULT_PROFILE = Profile.COBALT_RL

PROFILE_FIELD_DOC = (
    "Rules for code extraction, grading, feedback wording, prompts, the reward's format term "
    "and per-program test concurrency: 'reference' reproduces the Cobalt paper's reference "
    "code, 'cobalt-rl' is ours (docs/profiles.md lists every difference)."
)
"""The one description of a ``profile`` config field, shared by every config that has one."""


@dataclass(frozen=True)
class ProfileSpec:
    """What one profile selects.

    Attributes:
        profile: the profile.
        grading: how stdout is compared with the expected output: a
            :class:`~cobalt_rl.sandbox.grading.Grading` value (a name here, so that this
            module imports nothing of ours and every module may import it).
        test_concurrency: tests of one program that run at once (their time is counted in
            that many lanes against the program's budget).
        whole_program_budget: when the program's time budget runs out, the whole program
            fails with one message (the reference's evaluator) instead of the tests not
            started being reported one by one as timed out.
        extraction: ``"lenient"`` (:func:`~cobalt_rl.llm.extract.extract_code`'s rules) or
            ``"last-fence"`` (the reference's: the last ```` ``` ```` block, whatever its
            language, in the whole reply, reasoning included; nothing for an unclosed block).
        format_term: ``"cobalt-rl"`` (small penalties) or ``"reference"`` (-0.9 for a
            malformed reply, a thinking bonus and length penalties).
        stop_at_program_end: replies end right after their first complete code block
            (:attr:`~cobalt_rl.llm.base.SamplingParams.stop_at_program_end`) by default, and
            may; False: they run to their end and the switch is refused (the reference's
            generation has no such stop, and its extraction reads the whole reply).
        reward_stops_after_timeout: a training reward stops running a program's tests at the
            first that times out, the rest counted as timeouts
            (:attr:`~cobalt_rl.sandbox.base.ExecRequest.stop_after_timeout`): measured on a
            rollout of the embedded model on the bundled training problems
            (benchmarks/timeout_cost.py), 5 of 418 programs timed out and held 80% of the
            test seconds; the batch's sandbox wall went from 53.5 to 21.7 s, and one
            program's pass rate changed (2 later tests it would have passed). The reference
            scores every test.
    """

    profile: Profile
    grading: str
    test_concurrency: int
    whole_program_budget: bool
    extraction: str
    format_term: str
    stop_at_program_end: bool
    reward_stops_after_timeout: bool


_SPECS = {
    Profile.COBALT_RL: ProfileSpec(
        profile=Profile.COBALT_RL,
        grading="livecodebench",
        test_concurrency=1,
        whole_program_budget=False,
        extraction="lenient",
        format_term="cobalt-rl",
        stop_at_program_end=True,
        reward_stops_after_timeout=True,
    ),
    Profile.REFERENCE: ProfileSpec(
        profile=Profile.REFERENCE,
        # remote_reward_server.py, run_single_test: stdout.strip() == expected.strip(), rc 0.
        grading="strip",
        # remote_reward_server.py, Evaluator.__init__: asyncio.Semaphore(4) per program.
        test_concurrency=4,
        # remote_reward_server.py, Evaluator.__call__: a gather past its deadline replaces
        # every result by one failing entry.
        whole_program_budget=True,
        extraction="last-fence",
        format_term="reference",
        # run_multi_turn_vllm.py asks its engine for temperature, top_p, max_new_tokens and n,
        # no stop strings: a reply runs to its end token or the cap, and the last fence of
        # all of it is the program.
        stop_at_program_end=False,
        # remote_reward_server.py runs every test of a program (a gather per program).
        reward_stops_after_timeout=False,
    ),
}


def profile_spec(profile: Profile | str) -> ProfileSpec:
    """What ``profile`` selects.

    Raises:
        ValueError: ``profile`` names no profile (the message lists them).
    """
    try:
        return _SPECS[Profile(profile)]
    except ValueError:
        names = ", ".join(p.value for p in Profile)
        raise ValueError(f"unknown profile {profile!r}; profiles: {names}") from None


def with_profile(section: Any, profile: Any, where: str) -> Any:
    """A section (a mapping or a model) given the ``profile`` set above it (the run's, or
    the trainer's for its episode).

    Raises:
        ValueError: the section names another profile (there is one, at the top).
    """
    if isinstance(section, BaseModel):
        section = section.model_dump(exclude_unset=True)
    if not isinstance(section, dict):
        return section
    given = section.get("profile")
    if given is not None and str(given) != str(profile):
        raise ValueError(
            f"{where}.profile ({given}) differs from the profile above it ({profile}): the "
            "profile is set once, at the top of the config; remove it from the section"
        )
    return {**section, "profile": profile}
