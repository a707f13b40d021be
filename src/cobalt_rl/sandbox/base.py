"""The ``Sandbox`` protocol and the request it takes. Backends live one per module."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.profiles import DEFAULT_PROFILE, Profile, profile_spec
from cobalt_rl.records import ExecResult, Mode, Problem, TestCase
from cobalt_rl.sandbox.grading import Grading
from cobalt_rl.sandbox.limits import Limits

__all__ = ["ExecRequest", "Sandbox", "TestSelection"]

TestSelection = Literal["public", "hidden", "all"]


class ExecRequest(BaseModel):
    """One program and the tests to run it on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    tests: list[TestCase]
    mode: Mode
    fn_name: str | None = None
    grading: Grading = Grading.LIVECODEBENCH
    stop_on_first_failure: bool = Field(
        False,
        description="Stop at the first failing test (LiveCodeBench's grading); the rest are "
        "reported as skipped. Off by default: pass rates (and so rewards) need every test.",
    )
    stop_after_timeout: bool = Field(
        False,
        description="Stop at the first test that times out; the rest are reported as timeouts "
        "without running. A program that hangs on one test usually hangs on all, and each "
        "costs the per-test limit (benchmarks/timeout_cost.py: 1.2% of a rollout's programs, "
        "80% of its test seconds). Changes the pass rate of a program that times out on one "
        "test and passes a later one.",
    )
    limits: Limits | None = Field(None, description="Per-request limits; None: the sandbox's.")
    profile: Profile = Field(
        DEFAULT_PROFILE,
        description="Feedback wording and what a program whose time budget runs out gets "
        "(reference: it fails whole); see cobalt_rl.profiles.",
    )
    test_concurrency: int = Field(
        1,
        ge=1,
        description="Tests of the program counted as running this many at a time against its "
        "time budget (the reference: 4). Each test still has its own limit.",
    )

    @model_validator(mode="after")
    def _check(self) -> ExecRequest:
        if self.mode is Mode.FUNCTIONAL and not self.fn_name:
            raise ValueError("functional requests need fn_name")
        return self

    @classmethod
    def for_problem(
        cls,
        problem: Problem,
        code: str,
        tests: TestSelection = "all",
        profile: Profile | str | None = None,
        **options: object,
    ) -> ExecRequest:
        """A request running ``code`` on ``problem``'s tests.

        ``public`` is the public tests as the model is shown them (perturbed ones on a
        perturbed problem: that is what feedback is computed from); ``hidden`` the hidden
        tests; ``all`` the TRUE public tests plus the hidden ones (for scoring and rewards).
        ``profile`` sets the profile's grading and test concurrency too (an explicit option
        wins).
        """
        if profile is not None:
            spec = profile_spec(profile)
            options = {
                "profile": spec.profile,
                "grading": Grading(spec.grading),
                "test_concurrency": spec.test_concurrency,
                **options,
            }
        if tests == "public":
            chosen = problem.public_tests
        elif tests == "hidden":
            chosen = problem.hidden_tests
        else:
            chosen = problem.true_public_tests + problem.hidden_tests
        return cls.model_validate(
            {
                "code": code,
                "tests": chosen,
                "mode": problem.mode,
                "fn_name": problem.fn_name,
                **options,
            }
        )

    def key(self, default_limits: Limits) -> str:
        """Content address of the request (what the result cache is keyed by)."""
        payload: list[object] = [
            self.code,
            [[t.input, t.output] for t in self.tests],
            self.mode.value,
            self.fn_name,
            self.grading.value,
            self.stop_on_first_failure,
            (self.limits or default_limits).model_dump(),
        ]
        if self.profile is not DEFAULT_PROFILE or self.test_concurrency != 1:
            payload += [self.profile.value, self.test_concurrency]  # older keys unchanged
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


@runtime_checkable
class Sandbox(Protocol):
    """Runs untrusted programs against tests. Never raises for anything a program does.

    ``stats`` counts what the sandbox did since it started: every backend has ``programs``
    (the programs it ran; the local and Ray backends do not count answers from their cache)
    and adds its own (``tests``, ``cache_hits``, ``retries``...).
    """

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot of the sandbox's counters (at least ``programs``)."""
        ...

    def submit(self, request: ExecRequest) -> Future[ExecResult]:
        """Schedule one request; the future resolves to its result."""
        ...

    def run(self, request: ExecRequest) -> ExecResult:
        """Run one request."""
        ...

    def run_batch(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
        """Run many requests concurrently; results in the same order."""
        ...

    def close(self) -> None:
        """Release workers and other resources."""
        ...
