"""The bundled problem set: its shape, and that its tests judge solutions correctly.

The important checks run every problem through the real sandbox: each reference solution must
pass all its tests, and each hand-written wrong solution, plus a solution that prints or
returns nothing, must fail at least one hidden test.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from cobalt_rl.errors import ConfigError
from cobalt_rl.problems.bundled import SPLITS, load_bundled
from cobalt_rl.records import Mode, Problem, Status
from cobalt_rl.sandbox import ExecRequest, LocalSandbox

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "tools" / "bundled" / "build.py"
DATA_DIR = ROOT / "src" / "cobalt_rl" / "problems" / "bundled"

PROBLEMS = load_bundled()


def empty_solution(problem: Problem) -> str:
    if problem.mode is Mode.STDIN:
        return "pass\n"
    return f"def {problem.fn_name}(*args):\n    pass\n"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox() as sb:
        yield sb


# ------------------------------------------------------------------------------------ shape


def test_at_least_120_problems_with_unique_ids() -> None:
    assert len(PROBLEMS) >= 120
    ids = [p.id for p in PROBLEMS]
    assert len(set(ids)) == len(ids)
    assert all(p.id.startswith("bundled/") and p.source == "bundled" for p in PROBLEMS)


def test_splits_are_disjoint_and_cover_the_set() -> None:
    by_split = {name: {p.id for p in load_bundled(name)} for name in SPLITS}
    for a in SPLITS:
        for b in SPLITS:
            if a < b:
                assert not by_split[a] & by_split[b], (a, b)
    assert [p.id for p in PROBLEMS] == [p.id for s in SPLITS for p in load_bundled(s)]
    # about 60 / 20 / 20
    sizes = {name: len(ids) for name, ids in by_split.items()}
    assert sizes["train"] > sizes["validation"] + sizes["test"]
    assert min(sizes["validation"], sizes["test"]) >= 0.15 * len(PROBLEMS)


@pytest.mark.parametrize("split", SPLITS)
def test_each_split_mixes_modes_and_difficulties(split: str) -> None:
    problems = load_bundled(split)
    assert {p.mode for p in problems} == {Mode.STDIN, Mode.FUNCTIONAL}
    difficulties = Counter(p.difficulty for p in problems)
    assert set(difficulties) == {"easy", "medium"}
    assert difficulties["easy"] > difficulties["medium"]  # mostly easy, for a tiny model


def test_unknown_split_is_a_config_error_naming_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="train, validation, test"):
        load_bundled("dev")


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.id)
def test_problem_is_well_formed(problem: Problem) -> None:
    assert len(problem.public_tests) >= 2
    assert len(problem.hidden_tests) >= 6
    # Perturbation swaps two public outputs that differ; there must be such a pair.
    assert len({t.output for t in problem.public_tests}) >= 2
    meta = problem.metadata
    assert meta["title"] and meta["tags"]
    assert isinstance(meta["reference_solution"], str) and meta["reference_solution"]
    assert meta["wrong_solutions"] and all(isinstance(w, str) for w in meta["wrong_solutions"])
    tests = problem.public_tests + problem.hidden_tests
    if problem.mode is Mode.FUNCTIONAL:
        assert problem.fn_name and f"def {problem.fn_name}(" in meta["reference_solution"]
        assert problem.starter_code.startswith(f"def {problem.fn_name}(")
        assert f"Example:\n{problem.fn_name}(" in problem.statement
        for t in tests:  # one JSON argument per line; the output is JSON
            for line in t.input.split("\n"):
                json.loads(line)
            json.loads(t.output)
    else:
        assert problem.mode is Mode.STDIN and problem.fn_name is None
        assert all(t.output.endswith("\n") for t in tests)
        example = problem.public_tests[0]
        assert f"Input:\n{example.input}\nOutput:\n{example.output}" in problem.statement


# ---------------------------------------------------------------------- judged by the sandbox


def test_reference_solutions_pass_every_test(sandbox: LocalSandbox) -> None:
    requests = [
        ExecRequest.for_problem(p, p.metadata["reference_solution"], tests="all") for p in PROBLEMS
    ]
    results = sandbox.run_batch(requests)
    failures = [
        f"{p.id}: test {i} {o.status.value} {o.detail} {o.stderr[-300:]}"
        for p, r in zip(PROBLEMS, results, strict=True)
        for i, o in enumerate(r.outcomes)
        if o.status is not Status.PASSED
    ]
    assert not failures, "\n".join(failures)


def test_wrong_and_empty_solutions_fail_a_hidden_test(sandbox: LocalSandbox) -> None:
    cases = [
        (p, label, code)
        for p in PROBLEMS
        for label, code in [
            *((f"wrong solution {k}", w) for k, w in enumerate(p.metadata["wrong_solutions"])),
            ("the empty solution", empty_solution(p)),
        ]
    ]
    results = sandbox.run_batch(
        [ExecRequest.for_problem(p, code, tests="hidden") for p, _, code in cases]
    )
    passing = [
        f"{p.id}: {label} passes every hidden test"
        for (p, label, _), r in zip(cases, results, strict=True)
        if r.passed
    ]
    assert not passing, "\n".join(passing)
    # A sandbox failure would make a wrong solution "fail" for the wrong reason.
    assert not any(o.status is Status.SANDBOX_ERROR for r in results for o in r.outcomes)


# ------------------------------------------------------------------------- the generator


def _load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundled_build", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not BUILD_SCRIPT.exists(), reason="needs the source checkout (tools/)")
def test_data_files_are_built_from_the_current_specs() -> None:
    """Editing tools/bundled/spec without re-running tools/bundled/build.py fails here."""
    build = _load_build_script()
    files = build.build(build.all_specs(), verify=False)  # the build script verifies
    for name in SPLITS:
        assert (DATA_DIR / f"{name}.jsonl").read_bytes() == files[name], (
            f"{name}.jsonl is stale: run .venv/bin/python tools/bundled/build.py"
        )
