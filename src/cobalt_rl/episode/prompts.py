"""Prompts: the system prompt, the first-turn problem prompt, and the feedback turn.

They follow the paper's collection setup (DESIGN.md): a system prompt with four safety
rules, the problem as the first user turn, and after each attempt a user turn holding the
execution feedback on the public tests and asking for a complete fixed program in one code
block. Everything a prompt needs comes from the :class:`~cobalt_rl.records.Problem`; nothing
here branches on a dataset's name.

The wording follows the profile (:mod:`cobalt_rl.profiles`). ``cobalt-rl`` is ours, written
for small models as well as large ones. ``reference`` is the Cobalt reference's, word for
word, because a model trained under that profile should see what the paper's model saw:
its system prompt and feedback template (OSU-NLP-Group/cobalt ``run_multi_turn_vllm.py``,
``SYS`` and ``FEEDBACK_TEMPLATE``), its no-code message (same file, ``eval_completion``) and
its problem instruction (``preproc/preproc_lcb_test6.py``, ``INST``; a problem converted from
the reference's data keeps its own ``instruction`` in ``metadata`` and that is used as it is).
The reference's texts are quoted under its MIT licence.
"""

from __future__ import annotations

from cobalt_rl.profiles import DEFAULT_PROFILE, Profile
from cobalt_rl.records import Message, Mode, Problem

__all__ = [
    "NO_CODE_FEEDBACK",
    "REFERENCE_FEEDBACK_TEMPLATE",
    "REFERENCE_INSTRUCTION",
    "REFERENCE_NO_CODE_FEEDBACK",
    "REFERENCE_SYSTEM_PROMPT",
    "SYSTEM_PROMPT",
    "feedback_turn",
    "first_turn",
    "initial_messages",
    "no_code_feedback",
    "system_prompt",
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


# --- The reference's texts (see the module docstring) ----------------------------------------

REFERENCE_SYSTEM_PROMPT = """\
You are a helpful and safe Python programming assistant. Please help the user to solve the \
given coding problem.

Your code will be executed in a read-only filesystem and must strictly comply with the \
following rules:
R1. Respect all resource limits; avoid deep recursion and heavy memory use.
R2. Never terminate or fork processes, send signals, or invoke shells/system commands.
R3. Do not alter or traverse the filesystem or working directories.
R4. Import only safe, non-system modules (exclude psutil, resource, ipdb, tkinter, joblib).

You should think carefully about these rules and ensure your code complies with them. In \
your reasoning, you should selectively cite these rules to justify your design choices, but \
DO NOT simply repeat the rules verbatim."""

REFERENCE_FEEDBACK_TEMPLATE = """\
Think step by step and fix any issues in your previous Python code solution to make it correct.
You should do a full analysis of the code and the feedback given below before writing the \
fixed code.
In your analysis, you should use the given feedback to trace the execution of the prior code \
and find relevant code snippets that caused the issues mentioned in the feedback.
Cite these relevant code snippets in your reasoning explicitly and explain how you would \
modify them to fix the issues.
If there are missing packages in the execution environment, please think of a way to \
implement the functionality without using those packages. You are NOT allowed to change the \
execution environment.
Once you have a clear idea of how to fix the code, write the complete fixed code with \
step-by-step comments in a single new code block. Please do NOT propose a few line changes, \
incomplete program outline, or partial code that requires the user to modify.

Here is the execution feedback:
{feedback}"""

REFERENCE_NO_CODE_FEEDBACK = (
    "Failed to extract code from model response. Please ensure the model's response "
    "contains a valid code block."
)

REFERENCE_INSTRUCTION = """\
Please first think step by step and then write a complete Python program that solves the \
given problem.
You should carefully analyze the problem, creatively brainstorm different approaches that \
comply with the rules, actively reflect on your current approach to correct identified \
mistakes, proactively try different approaches, and make further improvements until you are \
confident in your solution.
Please explicitly write out all your thoughts, reasoning, and reflections in detail to help \
the user understand your thought process.
After wrapping up your thinking, you should implement your program. Your program should be \
formatted in a single code block and include detailed explanations for each step in the \
comments. For example:
```python
# Print the sum of two numbers\x20
def add_numbers(a, b):
    # 1) Calculate the sum of a and b
    c = a + b
    # 2) Return the result
    return c
```

Here is the problem you need to solve. Remember, your program should read from stdin and \
write to stdout:
{statement}"""


def system_prompt(profile: Profile | str = DEFAULT_PROFILE) -> str:
    """The system prompt of ``profile``."""
    return REFERENCE_SYSTEM_PROMPT if Profile(profile) is Profile.REFERENCE else SYSTEM_PROMPT


def no_code_feedback(profile: Profile | str = DEFAULT_PROFILE) -> str:
    """The feedback for a reply in which no code was found."""
    if Profile(profile) is Profile.REFERENCE:
        return REFERENCE_NO_CODE_FEEDBACK
    return NO_CODE_FEEDBACK


def _reference_first_turn(problem: Problem) -> str:
    instruction = problem.metadata.get("instruction") if problem.metadata else None
    if isinstance(instruction, str) and instruction.strip():
        return instruction
    return REFERENCE_INSTRUCTION.format(statement=problem.statement.strip())


def first_turn(problem: Problem, profile: Profile | str = DEFAULT_PROFILE) -> str:
    """The first user turn: the statement and how the answer will be run."""
    if Profile(profile) is Profile.REFERENCE:
        return _reference_first_turn(problem)
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


def initial_messages(
    problem: Problem,
    system_prompt: str | None = SYSTEM_PROMPT,
    profile: Profile | str = DEFAULT_PROFILE,
) -> list[Message]:
    """The conversation before the first attempt (``system_prompt`` None: none)."""
    msgs = [Message(role="system", content=system_prompt)] if system_prompt else []
    msgs.append(Message(role="user", content=first_turn(problem, profile)))
    return msgs


NO_CODE_FEEDBACK = "Your reply did not contain a Python code block, so nothing was run."


def feedback_turn(feedback: str, all_passed: bool, profile: Profile | str = DEFAULT_PROFILE) -> str:
    """The user turn after an attempt: the execution feedback and what to do next (the
    reference wraps every feedback, all-passed included, in one template)."""
    if Profile(profile) is Profile.REFERENCE:
        return REFERENCE_FEEDBACK_TEMPLATE.format(feedback=feedback)
    request = _ALL_PASSED_REQUEST if all_passed else _FEEDBACK_REQUEST
    return f"{feedback}\n\n{request}"
