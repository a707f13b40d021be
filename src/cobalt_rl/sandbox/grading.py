"""How a program's output is compared with the expected output: named, documented modes.

The comparison always runs on the host, outside the sandbox; the program never sees the
expected output.

- ``livecodebench`` (default): LiveCodeBench's evaluator (``lcb_runner/evaluation/
  testing_util.py``). Stdin: strip both outputs, split into lines, require the same number of
  lines; lines equal after ``strip()`` match, otherwise a line matches when both parse as
  whitespace-separated decimals and the ``Decimal`` lists are equal (so ``1.0`` equals
  ``1.00`` but not ``1.0000001``). Functional: the returned JSON value equals the expected
  one (tuples arrive as lists).
- ``taco``: TACO's more lenient checks (``testing_util.py`` of TACO/APPS): lines compared
  after stripping and dropping blank lines; then whitespace tokens; then tokens as floats
  with ``math.isclose`` (rel 1e-5, abs 1e-8, as its ``np.allclose``); then the *sets* of
  tokens per line. Functional: equal, or equal to a one-element list wrapping it (TACO
  often stores outputs wrapped), or floats close.
- ``exact``: byte-for-byte equality of stdout; functional values equal as canonical JSON
  (so ``1``, ``1.0`` and ``true`` all differ).
- ``strip``: the Cobalt reference evaluator's rule (OSU-NLP-Group/cobalt
  ``verl/remote_reward_server.py``, ``run_single_test``): stdout and the expected output equal
  after ``strip()`` of both ends, nothing more (so ``1`` and ``1.0`` differ, and so do
  ``1 2`` and ``1  2``). The reference has no functional mode; functional values compare as
  canonical JSON there, as under ``exact``. The ``reference`` profile grades with it, and
  under that profile stdout reaches it read as the reference reads it, in text mode (``\\r\\n``
  and ``\\r`` already ``\\n``: :mod:`cobalt_rl.sandbox.verdicts`); ``compare_stdout`` itself
  compares the text it is given.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from cobalt_rl._compat import StrEnum

__all__ = ["Grading", "compare_stdout", "compare_value"]


class Grading(StrEnum):
    LIVECODEBENCH = "livecodebench"
    TACO = "taco"
    EXACT = "exact"
    STRIP = "strip"


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(tok) for tok in line.split()]
    except InvalidOperation:
        return None


def _lcb_stdout(output: str, expected: str) -> bool:
    out_lines = output.strip().split("\n")
    exp_lines = expected.strip().split("\n")
    if len(out_lines) != len(exp_lines):
        return False
    for out, exp in zip(out_lines, exp_lines, strict=True):
        out, exp = out.strip(), exp.strip()
        if out == exp:
            continue
        a, b = _decimals(out), _decimals(exp)
        if a is None or b is None or a != b:
            return False
    return True


def _floats(tokens: list[str]) -> list[float] | None:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def _close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-8) for x, y in zip(a, b, strict=True)
    )


def _taco_stdout(output: str, expected: str) -> bool:
    out_lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()]
    exp_lines = [ln.strip() for ln in expected.strip().splitlines() if ln.strip()]
    if out_lines == exp_lines:
        return True
    out_tok = [ln.split() for ln in out_lines]
    exp_tok = [ln.split() for ln in exp_lines]
    if out_tok == exp_tok:
        return True
    flat_out = [t for ln in out_tok for t in ln]
    flat_exp = [t for ln in exp_tok for t in ln]
    if flat_out == flat_exp:
        return True
    fo, fe = _floats(flat_out), _floats(flat_exp)
    if fo is not None and fe is not None and _close(fo, fe):
        return True
    return len(out_tok) == len(exp_tok) and all(
        set(a) == set(b) for a, b in zip(out_tok, exp_tok, strict=True)
    )


def compare_stdout(output: str, expected: str, grading: Grading) -> bool:
    """Whether a program's stdout ``output`` matches ``expected`` under ``grading``."""
    if grading is Grading.LIVECODEBENCH:
        return _lcb_stdout(output, expected)
    if grading is Grading.TACO:
        return _taco_stdout(output, expected)
    if grading is Grading.STRIP:
        return output.strip() == expected.strip()
    return output == expected


def _values_close(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-8)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_values_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def compare_value(returned_json: str, expected_json: str, grading: Grading) -> bool:
    """Whether a function's returned value (JSON text) matches the expected JSON text."""
    try:
        got = json.loads(returned_json)
    except ValueError:
        return False
    try:
        expected = json.loads(expected_json)
    except ValueError:
        # Expected outputs that are not JSON (hand-written files) compare as text.
        return returned_json.strip() == expected_json.strip() or got == expected_json.strip()
    if grading in (Grading.EXACT, Grading.STRIP):  # canonical JSON: 1, 1.0 and true all differ
        return json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
    if got == expected:  # LiveCodeBench: Python equality of the decoded values
        return True
    if grading is Grading.TACO:
        if isinstance(expected, list) and len(expected) == 1 and got == expected[0]:
            return True
        return _values_close(got, expected)
    return False
