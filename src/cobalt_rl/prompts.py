"""Prompts: the system prompt, the first-turn problem prompt, and the feedback turn.

They follow the paper's collection setup (DESIGN.md): a system prompt with four safety
rules, the problem as the first user turn, and after each attempt a user turn holding the
execution feedback on the public tests and asking for a complete fixed program in one code
block. Everything a prompt needs comes from the :class:`~cobalt_rl.records.Problem`; nothing
here branches on a dataset's name.
"""

from __future__ import annotations

from cobalt_rl.records import Message, Mode, Problem

__all__ = [
    "NO_CODE_FEEDBACK",
    "SYSTEM_PROMPT",
    "feedback_turn",
    "first_turn",
    "initial_messages",
]

SYSTEM_PROMPT = """\
You are an expert Python programmer. You solve programming problems by writing a complete, \
correct and efficient Python 3 program.
Rules:
1. Put your whole solution in a single ```python code block.
2. Do not read or write files, use the network, or read environment variables.
3. Do not start processes or threads, and do not interfere with the program that tests you.
4. Solve the problem for every valid input: never special-case the example or test inputs."""

_STDIN_FORMAT = (
    "Your program must read the input from standard input and print the answer to standard output."
)
_FEEDBACK_REQUEST = (
    "Fix the program. Reply with the complete corrected program in a single ```python code block."
)
_ALL_PASSED_REQUEST = (
    "The public tests are not all the tests: check your program for edge cases and reply "
    "with the complete program (improved if needed) in a single ```python code block."
)


def first_turn(problem: Problem) -> str:
    """The first user turn: the statement and how the answer will be run."""
    parts = [problem.statement.strip()]
    if problem.mode is Mode.STDIN:
        parts.append(_STDIN_FORMAT)
    elif problem.mode is Mode.FUNCTIONAL:
        what = f"Implement `{problem.fn_name}`"
        if "class Solution" in problem.starter_code:
            what += " as a method of `class Solution`"
        parts.append(
            what + "; it will be called with the test arguments and its return "
            "value checked. Do not read input or print the answer."
        )
    else:
        parts.append(f"Complete the function `{problem.fn_name}`; tests will call it.")
    if problem.starter_code.strip() and problem.starter_code.strip() not in problem.statement:
        parts.append(f"Start from this code:\n```python\n{problem.starter_code.rstrip()}\n```")
    parts.append("Write the complete program in a single ```python code block.")
    return "\n\n".join(parts)


def initial_messages(problem: Problem, system_prompt: str | None = SYSTEM_PROMPT) -> list[Message]:
    """The conversation before the first attempt."""
    msgs = [Message(role="system", content=system_prompt)] if system_prompt else []
    msgs.append(Message(role="user", content=first_turn(problem)))
    return msgs


NO_CODE_FEEDBACK = "Your reply did not contain a Python code block, so nothing was run."


def feedback_turn(feedback: str, all_passed: bool) -> str:
    """The user turn after an attempt: the execution feedback and what to do next."""
    request = _ALL_PASSED_REQUEST if all_passed else _FEEDBACK_REQUEST
    return f"{feedback}\n\n{request}"
