"""Build cobalt-rl's bundled problem set from the specs in ``tools/bundled/spec``.

    .venv/bin/python tools/bundled/build.py            # verify every problem, then write
    .venv/bin/python tools/bundled/build.py --check    # verify, and fail if the files differ

Expected outputs are never typed by hand: each reference solution (our own, trusted code) is
run on its test inputs in a subprocess, and what it prints or returns becomes the expected
output. Before anything is written the build checks every problem:

- the spec is well formed: >= 2 public and >= 6 hidden tests, no repeated input, a unique id;
- the reference runs cleanly and fast, gives the same outputs under two hash seeds (no
  dependence on set order), and agrees with every alternative solution in the spec;
- the tests discriminate: the public outputs are not all equal (perturbation swaps two public
  outputs that differ), nor are the hidden ones;
- every hand-written wrong solution, and a solution that prints or returns nothing, fails at
  least one hidden test even under a lenient comparison (whitespace-insensitive tokens, numbers
  within 1e-6), so they fail under the sandbox's ``livecodebench`` (default) and ``exact``
  gradings. (``taco`` grading, which accepts a line whose tokens are a permutation, is looser:
  a few order-only wrong solutions pass it.)

If any check fails the build names the problem and what failed, and writes nothing.

Splits are deterministic: problems are grouped by (mode, difficulty), each group is ordered by
the SHA-256 of the id, and positions 0-2 of every 5 go to train, 3 to validation, 4 to test, so
every split gets the same mix. Files are serialized with ``cobalt_rl.records.write_jsonl``,
one ``Problem`` per line, sorted by id; re-running gives byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

from cobalt_rl.records import Problem, read_jsonl, write_jsonl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT_DIR = ROOT / "src" / "cobalt_rl" / "problems" / "bundled"
SPLITS = ("train", "validation", "test")
MIN_PUBLIC, MIN_HIDDEN = 2, 6
REFERENCE_SECONDS = 1.0  # per test; the sandbox allows 4 s, so references leave headroom
TEST_TIMEOUT_S = 2.0  # per test, for wrong solutions that might loop


def _load_spec_package() -> ModuleType:
    """Import ``tools/bundled/spec`` under a private name (no ``sys.path`` changes)."""
    name = "cobalt_bundled_spec"
    if name in sys.modules:
        return sys.modules[name]
    found = importlib.util.spec_from_file_location(
        name, HERE / "spec" / "__init__.py", submodule_search_locations=[str(HERE / "spec")]
    )
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module
    found.loader.exec_module(module)
    return module


_spec = _load_spec_package()
Spec = _spec.Spec
all_specs = _spec.all_specs

# Runs programs in a fresh interpreter. Input (JSON on stdin): mode, fn_name, timeout and a
# list of programs, each run on every input. Output (JSON on stdout): for each program, for
# each input, {"output": str | None, "error": str | None, "seconds": float}.
HARNESS = r"""
import io, json, signal, sys, time

class _Timeout(BaseException):
    pass

def _alarm(signum, frame):
    raise _Timeout()

signal.signal(signal.SIGALRM, _alarm)
job = json.load(sys.stdin)
real_out = sys.stdout
results = []
for code in job["programs"]:
    compiled = compile(code, "solution.py", "exec")
    rows = []
    for text in job["inputs"]:
        row = {"output": None, "error": None, "seconds": 0.0}
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, job["timeout"])
        try:
            if job["mode"] == "stdin":
                sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")
                sys.stdout = out
                try:
                    exec(compiled, {"__name__": "__main__"})
                except SystemExit as e:
                    if e.code not in (None, 0):
                        raise
                out.flush()
                row["output"] = out.buffer.getvalue().decode("utf-8")
            else:
                namespace = {"__name__": "solution"}
                exec(compiled, namespace)
                args = [json.loads(line) for line in text.split("\n")]
                value = namespace[job["fn_name"]](*args)
                row["output"] = json.dumps(value, allow_nan=False)
        except BaseException as e:  # our own trusted programs; any failure is recorded
            row["error"] = f"{type(e).__name__}: {e}"[:300]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            row["seconds"] = time.perf_counter() - start
            sys.stdin, sys.stdout = sys.__stdin__, real_out
        rows.append(row)
    results.append(rows)
json.dump(results, real_out)
"""


class BuildError(Exception):
    """A spec failed a check; the message names the problem and the check."""


# ----------------------------------------------------------------------------- test inputs


def encode_input(spec: Spec, value: Any) -> str:
    """The ``TestCase.input`` text for one authored test input."""
    if spec.mode == "stdin":
        if not isinstance(value, str):
            raise BuildError(f"{spec.id}: stdin test inputs must be strings, got {value!r}")
        return value if value == "" or value.endswith("\n") else value + "\n"
    args = (value,) if spec.arity == 1 else value
    if not isinstance(args, tuple) or len(args) != spec.arity:
        raise BuildError(
            f"{spec.id}: a test of a {spec.arity}-argument function needs a tuple of "
            f"{spec.arity} arguments, got {value!r}"
        )
    # One argument per line, as LiveCodeBench stores them.
    return "\n".join(json.dumps(a) for a in args)


def empty_solution(spec: Spec) -> str:
    if spec.mode == "stdin":
        return "pass\n"
    return f"def {spec.fn_name}(*args):\n    pass\n"


# --------------------------------------------------------------------------------- running


def run_programs(
    spec: Spec, programs: Sequence[str], inputs: Sequence[str], *, hash_seed: int = 0
) -> list[list[dict[str, Any]]]:
    job = {
        "mode": spec.mode,
        "fn_name": spec.fn_name,
        "timeout": TEST_TIMEOUT_S,
        "programs": list(programs),
        "inputs": list(inputs),
    }
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-c", HARNESS],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=env,
        timeout=60 + TEST_TIMEOUT_S * len(programs) * len(inputs),
        check=False,
    )
    if proc.returncode != 0:
        raise BuildError(f"{spec.id}: the harness failed:\n{proc.stderr[-2000:]}")
    results: list[list[dict[str, Any]]] = json.loads(proc.stdout)
    return results


def _tokens_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return abs(float(a) - float(b)) <= 1e-6
    except ValueError:
        return False


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) <= 1e-6
    return bool(a == b)


def lenient_match(mode: str, got: str | None, expected: str) -> bool:
    """Whether ``got`` passes under the most lenient comparison a grader might use."""
    if got is None:
        return False
    if mode == "stdin":
        g, e = got.split(), expected.split()
        return len(g) == len(e) and all(_tokens_equal(x, y) for x, y in zip(g, e, strict=True))
    try:
        return _values_equal(json.loads(got), json.loads(expected))
    except ValueError:
        return False


# -------------------------------------------------------------------------------- checking


def check_shape(spec: Spec) -> None:
    where = spec.id
    if spec.mode not in ("stdin", "functional") or spec.difficulty not in ("easy", "medium"):
        raise BuildError(f"{where}: bad mode {spec.mode!r} or difficulty {spec.difficulty!r}")
    if (spec.mode == "functional") != (spec.signature is not None):
        raise BuildError(f"{where}: functional problems (only) need a signature")
    if len(spec.public) < MIN_PUBLIC or len(spec.hidden) < MIN_HIDDEN:
        raise BuildError(
            f"{where}: needs >= {MIN_PUBLIC} public and >= {MIN_HIDDEN} hidden tests, has "
            f"{len(spec.public)} and {len(spec.hidden)}"
        )
    if not spec.wrong:
        raise BuildError(f"{where}: needs at least one wrong solution")
    if not spec.title or not spec.statement or not spec.tags:
        raise BuildError(f"{where}: needs a title, a statement and tags")
    if spec.mode == "functional" and f"def {spec.fn_name}(" not in spec.reference:
        raise BuildError(f"{where}: the reference does not define {spec.fn_name}")


def build_problem(spec: Spec, *, verify: bool = True) -> dict[str, Any]:
    """Compute expected outputs and run every check for one spec; return Problem fields.

    With ``verify=False`` only the reference runs (to compute outputs): the wrong solutions,
    alternatives and the hash-seed rerun are skipped. Tests use this to check the data files
    are up to date cheaply; the build itself always verifies.
    """
    check_shape(spec)
    where = spec.id
    public_in = [encode_input(spec, v) for v in spec.public]
    hidden_in = [encode_input(spec, v) for v in spec.hidden]
    inputs = public_in + hidden_in
    if len(set(inputs)) != len(inputs):
        raise BuildError(f"{where}: a test input is repeated")

    if verify:
        programs = [spec.reference, *spec.alternatives, *spec.wrong, empty_solution(spec)]
    else:
        programs = [spec.reference]
    results = run_programs(spec, programs, inputs, hash_seed=0)

    ref = results[0]
    for i, row in enumerate(ref):
        if row["error"] is not None:
            raise BuildError(f"{where}: reference fails on input {inputs[i]!r}: {row['error']}")
        if verify and row["seconds"] > REFERENCE_SECONDS:
            raise BuildError(f"{where}: reference takes {row['seconds']:.2f}s on test {i}")
        if spec.mode == "stdin" and not row["output"].endswith("\n"):
            raise BuildError(f"{where}: reference output for test {i} is not newline-ended")
    outputs: list[str] = [row["output"] for row in ref]
    n_pub = len(public_in)
    if verify:
        verify_problem(spec, inputs, outputs, n_pub, results)
    return {
        "id": spec.id,
        "source": "bundled",
        "statement": render_statement(spec, spec.public[0], outputs[0], public_in[0]),
        "starter_code": f"{spec.signature}:\n" if spec.signature else "",
        "mode": spec.mode,
        "fn_name": spec.fn_name,
        "public_tests": [
            {"input": i, "output": o} for i, o in zip(public_in, outputs[:n_pub], strict=True)
        ],
        "hidden_tests": [
            {"input": i, "output": o} for i, o in zip(hidden_in, outputs[n_pub:], strict=True)
        ],
        "difficulty": spec.difficulty,
        "metadata": {
            "title": spec.title,
            "tags": list(spec.tags),
            "reference_solution": spec.reference,
            "wrong_solutions": list(spec.wrong),
        },
    }


def verify_problem(
    spec: Spec,
    inputs: list[str],
    outputs: list[str],
    n_pub: int,
    results: list[list[dict[str, Any]]],
) -> None:
    """The checks that need more than the reference's outputs (see the module docstring)."""
    where = spec.id
    (again,) = run_programs(spec, [spec.reference], inputs, hash_seed=1)
    if [row["output"] for row in again] != outputs:
        raise BuildError(f"{where}: reference outputs change with the hash seed")

    n_alt = len(spec.alternatives)
    for k, rows in enumerate(results[1 : 1 + n_alt]):
        for i, row in enumerate(rows):
            if row["output"] != outputs[i]:
                raise BuildError(
                    f"{where}: alternative {k} disagrees on input {inputs[i]!r}: "
                    f"{row['output'] or row['error']!r} != reference {outputs[i]!r}"
                )

    if len(set(outputs[:n_pub])) < 2:
        raise BuildError(f"{where}: all public tests have the same output")
    if len(set(outputs[n_pub:])) < 2:
        raise BuildError(f"{where}: all hidden tests have the same output")

    labelled = [(f"wrong solution {k}", r) for k, r in enumerate(results[1 + n_alt : -1])]
    labelled.append(("the empty solution", results[-1]))
    for label, rows in labelled:
        hidden_rows = rows[n_pub:]
        if all(
            lenient_match(spec.mode, row["output"], exp)
            for row, exp in zip(hidden_rows, outputs[n_pub:], strict=True)
        ):
            raise BuildError(f"{where}: {label} passes every hidden test")


def render_statement(spec: Spec, example: Any, output: str, example_input: str) -> str:
    """The statement shown to a model: the authored text plus one worked example."""
    if spec.mode == "stdin":
        shown = output.rstrip("\n")
        return f"{spec.statement}\n\nExample\n\nInput:\n{example_input}\nOutput:\n{shown}\n"
    args = (example,) if spec.arity == 1 else example
    call = f"{spec.fn_name}({', '.join(repr(a) for a in args)})"
    return (
        f"{spec.statement}\n\nFunction signature:\n{spec.signature}\n\n"
        f"Example:\n{call} returns {json.loads(output)!r}\n"
    )


# ---------------------------------------------------------------------------------- splits


def assign_splits(problems: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in problems:
        groups.setdefault((p["mode"], p["difficulty"]), []).append(p)
    splits: dict[str, list[dict[str, Any]]] = {name: [] for name in SPLITS}
    for key in sorted(groups):
        ordered = sorted(groups[key], key=lambda p: hashlib.sha256(p["id"].encode()).hexdigest())
        for i, p in enumerate(ordered):
            splits[("train", "train", "train", "validation", "test")[i % 5]].append(p)
    return {name: sorted(ps, key=lambda p: p["id"]) for name, ps in splits.items()}


def build(
    specs: Sequence[Spec], *, verify: bool = True, jobs: int | None = None
) -> dict[str, bytes]:
    """Check every spec and return the bytes of each split's JSONL file."""
    ids = [s.id for s in specs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise BuildError(f"duplicate problem ids: {dupes}")
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        futures = [pool.submit(build_problem, s, verify=verify) for s in specs]
        problems, errors = [], []
        for f in futures:
            try:
                problems.append(f.result())
            except BuildError as e:
                errors.append(str(e))
    if errors:
        raise BuildError(f"{len(errors)} problem(s) failed:\n" + "\n".join(errors))

    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, rows in assign_splits(problems).items():
            path = Path(tmp) / f"{name}.jsonl"
            write_jsonl(path, [Problem.model_validate(r) for r in rows])
            assert len(list(read_jsonl(path, Problem))) == len(rows)
            files[name] = path.read_bytes()
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="verify, and fail if the files are not up to date"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args(argv)
    try:
        files = build(all_specs())
    except BuildError as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    if args.check:
        stale = [n for n, data in files.items() if _read(args.out / f"{n}.jsonl") != data]
        if stale:
            print(f"out of date: {stale}; run tools/bundled/build.py", file=sys.stderr)
            return 1
        print("bundled problem set is up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        tmp = args.out / f"{name}.jsonl.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, args.out / f"{name}.jsonl")
    print(summary(files))
    return 0


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def summary(files: dict[str, bytes]) -> str:
    lines = []
    for name, data in files.items():
        rows = [json.loads(line) for line in data.decode().splitlines()]
        counts: dict[str, int] = {}
        for r in rows:
            for key in (r["mode"], r["difficulty"]):
                counts[key] = counts.get(key, 0) + 1
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        lines.append(f"{name}: {len(rows)} problems ({detail})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
