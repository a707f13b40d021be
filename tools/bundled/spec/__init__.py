"""Authoring source of the bundled problem set (see ``tools/bundled/build.py``).

Each problem is a :class:`Spec`: a statement written for a model, a trusted reference solution,
test *inputs* (never expected outputs: the build computes those by running the reference) and
one or two hand-written wrong solutions that the tests must catch. The modules below hold the
problems by theme; :func:`all_specs` returns them in a fixed order.

Functional tests follow LiveCodeBench's format: each test input is the call's arguments. In a
spec, a one-argument function lists each test's argument as is; a function of several
arguments lists a tuple of arguments per test. Stdin tests are the text fed on stdin.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Spec", "all_specs", "functional", "lcg", "stdin"]


@dataclass(frozen=True)
class Spec:
    """One bundled problem as authored.

    Attributes:
        slug: short name; the problem id is ``bundled/<slug>``.
        title: a human title.
        statement: the task, written for a model (the build appends the signature and one
            example, the first public test, with its computed output).
        mode: ``"functional"`` (call ``fn_name``) or ``"stdin"`` (a program reading stdin).
        difficulty: ``"easy"`` or ``"medium"``.
        tags: topic tags.
        reference: the reference solution (a module defining the function, or a program).
        public: public test inputs (shown as feedback), at least 2.
        hidden: hidden test inputs (for scoring), at least 6, edge cases included.
        wrong: plausible wrong solutions; each must fail at least one hidden test.
        signature: the ``def`` line of a functional problem.
        alternatives: other correct solutions (often brute force) that must agree with the
            reference on every test; a cross-check of the reference, not shipped.
    """

    slug: str
    title: str
    statement: str
    mode: Literal["functional", "stdin"]
    difficulty: Literal["easy", "medium"]
    tags: tuple[str, ...]
    reference: str
    public: tuple[Any, ...]
    hidden: tuple[Any, ...]
    wrong: tuple[str, ...]
    signature: str | None = None
    alternatives: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"bundled/{self.slug}"

    @property
    def fn_name(self) -> str | None:
        if self.signature is None:
            return None
        return _parse_signature(self.signature)[0]

    @property
    def arity(self) -> int:
        assert self.signature is not None
        return _parse_signature(self.signature)[1]


def _parse_signature(signature: str) -> tuple[str, int]:
    tree = ast.parse(signature.rstrip().rstrip(":") + ": ...")
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef), signature
    return fn.name, len(fn.args.args)


def _code(src: str) -> str:
    return textwrap.dedent(src).strip("\n") + "\n"


def _text(src: str) -> str:
    return textwrap.dedent(src).strip()


def functional(
    slug: str,
    title: str,
    signature: str,
    statement: str,
    reference: str,
    public: list[Any],
    hidden: list[Any],
    wrong: list[str],
    *,
    difficulty: Literal["easy", "medium"] = "easy",
    tags: tuple[str, ...] = (),
    alternatives: tuple[str, ...] = (),
) -> Spec:
    """A functional problem: the tests call ``signature``'s function."""
    return Spec(
        slug=slug,
        title=title,
        statement=_text(statement),
        mode="functional",
        difficulty=difficulty,
        tags=tags,
        reference=_code(reference),
        public=tuple(public),
        hidden=tuple(hidden),
        wrong=tuple(_code(w) for w in wrong),
        signature=signature.strip().rstrip(":"),
        alternatives=tuple(_code(a) for a in alternatives),
    )


def stdin(
    slug: str,
    title: str,
    statement: str,
    reference: str,
    public: list[str],
    hidden: list[str],
    wrong: list[str],
    *,
    difficulty: Literal["easy", "medium"] = "easy",
    tags: tuple[str, ...] = (),
    alternatives: tuple[str, ...] = (),
) -> Spec:
    """A stdin problem: the program reads the test input on stdin and prints its answer."""
    return Spec(
        slug=slug,
        title=title,
        statement=_text(statement),
        mode="stdin",
        difficulty=difficulty,
        tags=tags,
        reference=_code(reference),
        public=tuple(public),
        hidden=tuple(hidden),
        wrong=tuple(_code(w) for w in wrong),
        alternatives=tuple(_code(a) for a in alternatives),
    )


def lcg(seed: int, n: int, lo: int, hi: int) -> list[int]:
    """``n`` pseudo-random integers in ``[lo, hi]``, the same on every Python version.

    Large test inputs come from here rather than :mod:`random`, whose algorithms may change
    between versions and would make the build non-reproducible.
    """
    out = []
    x = seed
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(lo + (x >> 33) % (hi - lo + 1))
    return out


def all_specs() -> list[Spec]:
    """Every problem, in a fixed order."""
    from . import (
        algorithms,
        arithmetic,
        lists,
        stdin_algorithms,
        stdin_basics,
        strings,
    )

    modules = (arithmetic, strings, lists, algorithms, stdin_basics, stdin_algorithms)
    return [spec for module in modules for spec in module.PROBLEMS]
