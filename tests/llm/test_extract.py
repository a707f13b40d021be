"""Code extraction on replies shaped like real model output (SmolLM2, Qwen, thinking models)."""

from __future__ import annotations

import pytest

from cobalt_rl.llm import count_code_blocks, extract_code, find_code_blocks
from cobalt_rl.llm.extract import program_end

ADD = "def add(a, b):\n    return a + b"


def test_single_python_block() -> None:
    reply = f"Here is the function:\n\n```python\n{ADD}\n```\n\nIt returns the sum."
    assert extract_code(reply) == ADD


@pytest.mark.parametrize("tag", ["python", "py", "Python3", "python3", "PY", "python title=x"])
def test_python_tags(tag: str) -> None:
    assert extract_code(f"```{tag}\n{ADD}\n```") == ADD


def test_bare_block_holding_code() -> None:
    assert extract_code(f"Solution:\n```\n{ADD}\n```") == ADD


def test_no_block_is_none() -> None:
    assert extract_code("I think you should add the two numbers together.") is None
    assert extract_code("") is None


def test_unfenced_code_only_when_asked() -> None:
    reply = "import sys\nn = int(sys.stdin.readline())\nprint(n * 2)\n"
    assert extract_code(reply) is None
    assert extract_code(reply, allow_unfenced=True) == reply.strip()
    # Prose does not parse, and a lone word is data, not code.
    assert extract_code("Sure, here you go: add them.", allow_unfenced=True) is None
    assert extract_code("Hello", allow_unfenced=True) is None


def test_unclosed_final_block_takes_the_rest() -> None:
    # SmolLM2-135M often stops (or is cut off) before closing its block.
    reply = (
        "To solve this, we read n and print the square.\n\n```python\n"
        "n = int(input())\nprint(n * n)\n"
    )
    assert extract_code(reply) == "n = int(input())\nprint(n * n)"
    (block,) = find_code_blocks(reply)
    assert not block.closed


def test_unclosed_block_after_a_closed_one() -> None:
    reply = f"First try:\n```python\nprint(1)\n```\nBetter:\n```python\n{ADD}\n"
    assert extract_code(reply) == ADD


def test_last_block_wins() -> None:
    reply = (
        "My first attempt:\n```python\ndef add(a, b):\n    return a - b\n```\n"
        f"Oops, fixed:\n```python\n{ADD}\n```\n"
    )
    assert extract_code(reply) == ADD


def test_trailing_usage_example_is_skipped() -> None:
    reply = (
        f"```python\n{ADD}\n```\n\nExample usage:\n\n```python\n"
        "result = add(2, 3)\nprint(result)  # Output: 5\n```\n"
    )
    assert extract_code(reply) == ADD


def test_several_trailing_examples_are_skipped() -> None:
    reply = (
        f"```python\n{ADD}\n```\nUsage:\n```python\nprint(add(1, 2))\n```\n"
        "Another:\n```\nassert add(0, 0) == 0\n```\n"
    )
    assert extract_code(reply) == ADD


def test_trailing_class_usage_is_skipped() -> None:
    solution = (
        "class Solution:\n    def twoSum(self, nums, target):\n"
        "        seen = {}\n        for i, x in enumerate(nums):\n"
        "            if target - x in seen:\n                return [seen[target - x], i]\n"
        "            seen[x] = i"
    )
    reply = (
        f"```python\n{solution}\n```\n"
        "```python\nsol = Solution()\nprint(sol.twoSum([2, 7, 11, 15], 9))\n```"
    )
    assert extract_code(reply) == solution


def test_trailing_main_guard_is_skipped() -> None:
    program = "def main():\n    n = int(input())\n    print(n + 1)"
    guard = "if __name__ == '__main__':\n    main()"
    reply = f"```python\n{program}\n```\nRun it with:\n```python\n{guard}\n```"
    assert extract_code(reply) == program


def test_usage_only_block_without_earlier_definition_is_kept() -> None:
    # Nothing earlier defines `add`: the last block is the answer, not an example.
    reply = "```python\nimport math\n```\n```python\nprint(math.sqrt(4))\n```"
    assert extract_code(reply) == "print(math.sqrt(4))"


def test_trailing_stdin_program_is_not_a_usage_example() -> None:
    reply = (
        f"```python\n{ADD}\n```\nFull program:\n```python\n"
        "a, b = map(int, input().split())\nprint(add(a, b))\n```"
    )
    assert extract_code(reply) == "a, b = map(int, input().split())\nprint(add(a, b))"


def test_trailing_block_that_defines_is_the_answer() -> None:
    fixed = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))"
    reply = f"```python\n{ADD}\n```\nWith a demo:\n```python\n{fixed}\n```"
    assert extract_code(reply) == fixed


def test_long_trailing_block_is_not_a_usage_example() -> None:
    calls = "\n".join(f"print(add({i}, {i}))" for i in range(20))
    reply = f"```python\n{ADD}\n```\n```python\n{calls}\n```"
    assert extract_code(reply) == calls


def test_other_languages_are_skipped() -> None:
    reply = (
        f"Install nothing, then:\n```bash\npip install numpy\n```\n```python\n{ADD}\n```\n"
        'Output:\n```text\n5\n```\nConfig:\n```json\n{"a": 1}\n```\n'
    )
    assert extract_code(reply) == ADD


def test_bare_data_blocks_are_not_code() -> None:
    reply = (
        "```python\nn = int(input())\nprint(sum(map(int, input().split())))\n```\n"
        "For the input\n```\n3\n1 2 3\n```\nit prints\n```\n6\n```\n"
    )
    assert extract_code(reply) == "n = int(input())\nprint(sum(map(int, input().split())))"


def test_bare_input_output_blocks_are_not_code() -> None:
    reply = f"```python\n{ADD}\n```\nExample:\n```\nInput: [1, 2]\nOutput: 3\n```"
    assert extract_code(reply) == ADD


def test_bare_block_with_syntax_error_still_counts_as_code() -> None:
    broken = "def add(a, b)\n    return a + b"
    assert extract_code(f"```\n{broken}\n```") == broken


def test_tagged_block_with_syntax_error_is_returned_for_the_sandbox_to_judge() -> None:
    assert extract_code("```python\nprint(1\n```") == "print(1"


def test_reasoning_is_ignored() -> None:
    reply = (
        "<think>\nMaybe:\n```python\ndef add(a, b):\n    return a * b\n```\nNo, that's wrong."
        f"\n</think>\n\n```python\n{ADD}\n```"
    )
    assert extract_code(reply) == ADD
    assert count_code_blocks(reply) == 1


def test_code_only_inside_reasoning_is_none() -> None:
    reply = f"<think>\n```python\n{ADD}\n```\n</think>\nThe answer is above."
    assert extract_code(reply) is None


def test_indented_fences_are_dedented() -> None:
    reply = "1. Write the function:\n\n   ```python\n   def f():\n       return 1\n   ```\n"
    assert extract_code(reply) == "def f():\n    return 1"


def test_closing_fence_glued_to_the_last_line() -> None:
    assert extract_code(f"```python\n{ADD}```\nDone.") == ADD


def test_longer_fences_and_tildes() -> None:
    inner = 'doc = """\n```python\nx = 1\n```\n"""\nprint(doc)'
    assert extract_code(f"````python\n{inner}\n````") == inner
    assert extract_code(f"~~~python\n{ADD}\n~~~") == ADD


def test_blank_lines_inside_are_kept_and_around_are_dropped() -> None:
    code = "import sys\n\n\ndef main():\n    pass"
    assert extract_code(f"```python\n\n{code}\n\n```") == code


def test_empty_block_is_ignored() -> None:
    assert extract_code(f"```python\n{ADD}\n```\n```python\n```") == ADD


def test_count_code_blocks() -> None:
    assert count_code_blocks("no code") == 0
    assert count_code_blocks(f"```python\n{ADD}\n```") == 1
    assert count_code_blocks("```bash\nls\n```\n```python\nx=1\n```\n```python\ny=2") == 3


def test_find_code_blocks_reports_languages() -> None:
    blocks = find_code_blocks("```bash\nls\n```\n```\nx = 1\n```\n```Python3\ny = 2\n```")
    assert [(b.language, b.code, b.is_python) for b in blocks] == [
        ("bash", "ls", False),
        ("", "x = 1", False),
        ("python3", "y = 2", True),
    ]


def test_realistic_smollm2_reply() -> None:
    # Shaped like the embedded model's replies (DESIGN.md): code, prose, then an example.
    reply = (
        "Here's a Python function that checks if a number is even:\n\n"
        '```python\ndef is_even(n):\n    """Return True if n is even."""\n'
        "    return n % 2 == 0\n```\n\n"
        "This function uses the modulo operator `%` to find the remainder.\n\n"
        "Example usage:\n\n```python\nprint(is_even(4))  # True\nprint(is_even(7))  # False\n```"
    )
    assert extract_code(reply) == (
        'def is_even(n):\n    """Return True if n is even."""\n    return n % 2 == 0'
    )


# ---------------------------------------------------------------- where the program ends


def _cut(reply: str) -> str | None:
    end = program_end(reply)
    return None if end is None else reply[:end]


def test_program_end_is_right_after_the_first_closing_fence() -> None:
    reply = "Here:\n```python\ndef f():\n    return 1\n```\nThen\n```python\nprint(f())\n```\n"
    assert _cut(reply) == "Here:\n```python\ndef f():\n    return 1\n```"


def test_program_end_waits_for_the_fence_line_to_finish() -> None:
    # "```" might still become "```python" (a line that opens a block, not one that closes)
    assert _cut("```python\nx = 1\n```") is None
    assert _cut("```python\nx = 1\n```\n") == "```python\nx = 1\n```"
    assert _cut("```python\nx = 1\n    return x```\nmore") == "```python\nx = 1\n    return x```"


def test_program_end_skips_blocks_that_hold_no_code() -> None:
    reply = "Input:\n```\n3\n1 2\n```\n```text\nhi\n```\n```python\nprint(1)\n```\n\nok"
    assert _cut(reply) == reply[: reply.index("print(1)\n```") + len("print(1)\n```")]


def test_no_program_end_in_an_unclosed_block_or_open_reasoning() -> None:
    assert _cut("```python\nx = 1\ny = 2\n") is None
    assert _cut("<think>\n```python\nx = 1\n```\nhmm") is None
    reply = "<think>\n```python\nx = 1\n```\n</think>\n```python\ny = 2\n```\nbye"
    assert _cut(reply) == reply[: reply.rindex("```") + 3]


def test_a_reply_cut_at_its_program_end_extracts_that_program() -> None:
    reply = (
        "```python\ndef f():\n    return 1\n```\nOr better:\n"
        "```python\ndef f():\n    return 2\n```\n"
    )
    cut = _cut(reply)
    assert cut is not None
    assert extract_code(cut) == extract_code(cut, profile="reference") == "def f():\n    return 1"
