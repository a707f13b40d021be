"""Find the program in a model's reply.

The rules, applied to the reply after :func:`~cobalt_rl.llm.reasoning.strip_reasoning` (so
code inside a thinking model's reasoning is never taken):

1. **Blocks.** A block opens with a line of three or more backticks (or tildes), optionally
   indented, followed by an info string whose first word is the language (``python``,
   ``Python3``, ``py`` ...; none for a bare fence). It closes with a line holding only the
   same fence character, at least as many times. A code line directly followed by the
   closing fence (``return x`` and the backticks on one line) also closes the block, since
   small models write that. The block's text is dedented.
2. **Unclosed final block.** If the reply ends inside a block (small models such as
   SmolLM2-135M often stop without closing it, DESIGN.md), the block is everything after the
   opening fence.
3. **Which blocks hold code.** Blocks tagged as Python (:data:`PYTHON_LANGUAGES`) always
   count. Bare blocks count when they look like Python: they parse and are not pure data (a
   sample input such as ``3\\n1 2 3`` or an output such as ``6``), or they fail to parse but a
   line starts like a Python statement (``def``, ``import``, ``print(`` ...). Pure data is
   literals, names and arithmetic without calls, and ``Input: 3``-style lines. Blocks in any
   other language (``bash``, ``text``, ``json``, ``pycon`` ...) never count.
4. **The last one wins, except a trailing usage example.** The answer is the last code block.
   But a trailing block is skipped as a usage example when ALL of these hold:
   it parses; it has at most :data:`USAGE_MAX_LINES` non-blank lines; it defines nothing
   (no ``def``/``class``) and reads no input (no ``input``, no ``stdin``); its top-level
   statements are only expressions, assignments, asserts, imports, ``for``/``if``; it makes
   at least one call; and it uses a name that an EARLIER code block defines at top level
   with ``def``/``class``. Skipping repeats, so several trailing examples are all skipped;
   the answer is then the defining block. A trailing ``if __name__ == "__main__": main()``
   block after a block defining ``main`` is skipped by the same rule (neither block is a
   whole program then; such a reply fails whichever is taken).
5. **No block.** :func:`extract_code` returns ``None``, unless ``allow_unfenced=True`` and
   the whole answer parses as Python that is not pure data (then the answer is the code).

**Where the program ends** (:func:`program_end`, for
:attr:`~cobalt_rl.llm.base.SamplingParams.stop_at_program_end`): right after the closing fence
of the answer's first closed block that holds code by rules 1 and 3, once the line of that
fence is complete (a newline follows it: until then ```` ``` ```` may still grow into
```` ```python ````, which opens a block instead). Inside a thinking model's reasoning (a
``<think>`` not yet closed) there is no end. A reply cut there holds one code block, so rule 4
has nothing to choose; the reply's later blocks (a second version, a usage example) are what
the cut drops.

Under the ``reference`` profile (:mod:`cobalt_rl.profiles`) none of the above applies:
:func:`extract_reference_code` follows the Cobalt reference's rule (OSU-NLP-Group/cobalt
``verl/code_reward_func_think.py`` ``extract_code_from_model``, the same in
``run_multi_turn_vllm.py``): in the WHOLE reply, reasoning included, a block is three
backticks, an optional word, a newline, then everything up to the next three backticks
(anywhere, even mid-line); blocks are found left to right without overlap; the last one,
whatever its language (``text``, ``bash``...), stripped of surrounding whitespace, is the code.
An unclosed final block, a ``~~~`` fence or an info string with more than one word
(```` ```python title=x ````) is no block. docs/profiles.md lists what this changes.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

from cobalt_rl.llm.reasoning import THINK_END, strip_reasoning
from cobalt_rl.profiles import DEFAULT_PROFILE, Profile, profile_spec

__all__ = [
    "PYTHON_LANGUAGES",
    "USAGE_MAX_LINES",
    "CodeBlock",
    "count_code_blocks",
    "extract_code",
    "extract_reference_code",
    "find_code_blocks",
    "program_end",
]

PYTHON_LANGUAGES = frozenset({"python", "python3", "python2", "py", "py3", "ipython"})
USAGE_MAX_LINES = 15

_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
_STATEMENT_START = re.compile(
    r"^[ \t]*(?:(?:async[ \t]+)?def[ \t]+\w|class[ \t]+\w|import[ \t]+\w|from[ \t]+[\w.]+"
    r"[ \t]+import\b|for[ \t].*:|while[ \t].*:|if[ \t].*:|return\b|print\()",
    re.MULTILINE,
)
_DEFINITION = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)
_USAGE_STATEMENTS = (
    ast.Expr,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.Assert,
    ast.Import,
    ast.ImportFrom,
    ast.For,
    ast.If,
    ast.Pass,
)


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block of a reply.

    Attributes:
        language: the info string's first word, lower-cased (``""`` for a bare fence).
        code: the block's text, dedented, without the fences.
        closed: whether a closing fence was found (False only for a final unclosed block).
    """

    language: str
    code: str
    closed: bool

    @property
    def is_python(self) -> bool:
        """Tagged as Python (see :data:`PYTHON_LANGUAGES`)."""
        return self.language in PYTHON_LANGUAGES


def _language(info: str) -> str:
    word = info.split()[0] if info.split() else ""
    return word.lstrip("{.").rstrip("}").lower()


def _block(language: str, lines: list[str], closed: bool) -> CodeBlock:
    return CodeBlock(language, textwrap.dedent("\n".join(lines)).strip("\n"), closed)


def _scan(answer: str) -> list[tuple[CodeBlock, int]]:
    """Every fenced block of ``answer`` with the offset where the line of its closing fence
    ends (``len(answer)`` for a final block without one): rules 1 and 2."""
    blocks: list[tuple[CodeBlock, int]] = []
    fence: str | None = None
    language = ""
    body: list[str] = []
    end = -1
    for line in answer.split("\n"):
        end += len(line) + 1  # where this line ends: its newline, or the end of the answer
        fence_match = _FENCE.match(line)
        if fence is None:
            if fence_match is not None:
                fence, language, body = fence_match["fence"], _language(fence_match["info"]), []
            continue
        if (
            fence_match is not None
            and not fence_match["info"]
            and fence_match["fence"][0] == fence[0]
            and len(fence_match["fence"]) >= len(fence)
        ):
            blocks.append((_block(language, body, closed=True), end))
            fence = None
            continue
        stripped = line.rstrip()
        if stripped.endswith(fence) and stripped.strip(fence[0]):
            body.append(stripped[: -len(fence)])
            blocks.append((_block(language, body, closed=True), end))
            fence = None
            continue
        body.append(line)
    if fence is not None:
        blocks.append((_block(language, body, closed=False), len(answer)))
    return blocks


def find_code_blocks(reply: str) -> list[CodeBlock]:
    """Every fenced block of ``reply`` after its reasoning, in order, in any language.

    A final block without a closing fence is included with ``closed=False``.
    """
    return [block for block, _ in _scan(strip_reasoning(reply))]


def count_code_blocks(reply: str) -> int:
    """How many fenced blocks (any language, an unclosed final one included) the answer has.

    For the reward's format term: DESIGN.md asks for the fixed program in one code block.
    """
    return len(find_code_blocks(reply))


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):  # ValueError: source holds a null byte
        return None


def _is_data(tree: ast.Module) -> bool:
    """Sample inputs/outputs, not code: every statement is an expression without a call, or
    a bare annotation such as ``Output: 6`` (how ``Input: ...``/``Output: ...`` lines parse)."""

    def data(stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            stmt = ast.Expr(stmt.annotation)
        return isinstance(stmt, ast.Expr) and not any(
            isinstance(n, ast.Call) for n in ast.walk(stmt)
        )

    return all(data(stmt) for stmt in tree.body)


def _looks_like_python(code: str) -> bool:
    tree = _parse(code)
    if tree is not None:
        return bool(tree.body) and not _is_data(tree)
    return _STATEMENT_START.search(code) is not None


def _is_code(block: CodeBlock) -> bool:
    if not block.code.strip():
        return False
    if block.is_python:
        return True
    return block.language == "" and _looks_like_python(block.code)


def _usage_names(code: str) -> set[str] | None:
    """The names a usage-example block uses, or None when it is not a usage example."""
    if sum(1 for line in code.splitlines() if line.strip()) > USAGE_MAX_LINES:
        return None
    tree = _parse(code)
    if tree is None or not all(isinstance(s, _USAGE_STATEMENTS) for s in tree.body):
        return None
    names: set[str] = set()
    has_call = False
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return None
        if isinstance(node, ast.Name):
            if node.id == "input":
                return None
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr == "stdin":
            return None
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
            names.add(node.name.split(".")[-1])
        elif isinstance(node, ast.Call):
            has_call = True
    return names if has_call else None


def _defined_names(code: str) -> set[str]:
    return set(_DEFINITION.findall(code))


def program_end(reply: str) -> int | None:
    """Where the program of ``reply`` ends (see the module docstring): the offset just past
    the closing fence of its first closed code block, once a newline follows that fence;
    ``None`` while there is no such block yet (or the reply is inside its reasoning).

    ``reply[:program_end(reply)]`` is the reply cut after its program; a reply that grows
    keeps the same end, so a generator can check it as tokens arrive.
    """
    if reply.rfind("<think>") > reply.rfind(THINK_END):
        return None  # reasoning not yet closed: code in it is a draft, not the answer
    answer = strip_reasoning(reply)
    offset = len(reply) - len(answer)  # the answer is the reply's tail
    for block, end in _scan(answer):
        if block.closed and end < len(answer) and _is_code(block):
            return offset + end
    return None


# The reference's block: ``` then an optional word, a newline, and the shortest run of any
# characters up to the next ``` (a fact of its rule, see the module docstring).
_REFERENCE_BLOCK = re.compile(r"```\w*\n(?P<code>.*?)```", re.DOTALL)


def extract_reference_code(reply: str) -> str | None:
    """The program in ``reply`` by the Cobalt reference's rule (see the module docstring):
    the last closed ```` ``` ```` block of the whole reply, stripped; ``None`` when there is
    none."""
    found = [m["code"] for m in _REFERENCE_BLOCK.finditer(reply)]
    return found[-1].strip() if found else None


def extract_code(
    reply: str, *, allow_unfenced: bool = False, profile: Profile | str = DEFAULT_PROFILE
) -> str | None:
    """The program in ``reply`` (see the module docstring for the exact rules).

    Args:
        reply: a model reply, reasoning included or not. Give the FULL reply: a cap on what
            the history keeps must not cut what runs.
        allow_unfenced: when no code block is found, take the whole answer as code if it
            parses as Python and is not pure data. Off by default: the prompts ask for a
            code block, and the format term of the reward depends on whether there was one.
            Not under the ``reference`` profile.
        profile: ``reference`` applies :func:`extract_reference_code` instead.

    Returns:
        The code, without fences and surrounding blank lines; ``None`` when there is none.
    """
    if profile_spec(profile).extraction == "last-fence":
        return extract_reference_code(reply)
    blocks = [b for b in find_code_blocks(reply) if _is_code(b)]
    if not blocks:
        if allow_unfenced:
            answer = strip_reasoning(reply).strip()
            tree = _parse(answer)
            if answer and tree is not None and not _is_data(tree):
                return answer
        return None
    last = len(blocks) - 1
    while last > 0:
        used = _usage_names(blocks[last].code)
        if used is None or not any(used & _defined_names(b.code) for b in blocks[:last]):
            break
        last -= 1
    return blocks[last].code.rstrip()
