"""The feedback text shown to the model (DESIGN.md: the paper's reference format)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import FAST, needs_bwrap, stdin_request

from cobalt_rl.records import Mode, Status, TestCase, TestOutcome
from cobalt_rl.sandbox import ALL_PASSED, ExecRequest, LocalSandbox, render_feedback
from cobalt_rl.sandbox.feedback import FIELD_CHARS, clip_middle

PASS = TestOutcome(status=Status.PASSED, output="ok")


def test_wrong_answer_shows_input_output_and_expected() -> None:
    tests = [TestCase(input="1 2\n", output="3\n")]
    outcomes = [TestOutcome(status=Status.WRONG_ANSWER, output="4\n")]
    assert render_feedback(tests, outcomes, Mode.STDIN) == (
        "Your code failed the following test:\n"
        "Input:\n1 2\n"
        "Program's Output:\n4\n"
        "Expected Output:\n3"
    )


def test_only_the_first_failing_test_is_described() -> None:
    tests = [TestCase(input=f"in{i}", output=f"out{i}") for i in range(3)]
    outcomes = [
        PASS,
        TestOutcome(status=Status.WRONG_ANSWER, output="bad1"),
        TestOutcome(status=Status.WRONG_ANSWER, output="bad2"),
    ]
    text = render_feedback(tests, outcomes, Mode.STDIN)
    assert "in1" in text and "bad1" in text and "out1" in text
    assert "in0" not in text and "in2" not in text and "bad2" not in text


def test_skipped_tests_are_not_failures_to_describe() -> None:
    tests = [TestCase(input="a", output="1"), TestCase(input="b", output="2")]
    outcomes = [TestOutcome(status=Status.SKIPPED), TestOutcome(status=Status.WRONG_ANSWER)]
    assert "Input:\nb\n" in render_feedback(tests, outcomes, Mode.STDIN)


def test_runtime_error_shows_stderr() -> None:
    tests = [TestCase(input="x", output="1")]
    outcomes = [TestOutcome(status=Status.RUNTIME_ERROR, stderr="ValueError: boom\n")]
    assert render_feedback(tests, outcomes, Mode.STDIN) == (
        "Your code failed the following test:\nInput:\nx\nStderr:\nValueError: boom"
    )


def test_a_crash_without_stderr_shows_the_detail() -> None:
    tests = [TestCase(input="x", output="1")]
    outcomes = [TestOutcome(status=Status.RUNTIME_ERROR, detail="killed by signal SIGSEGV")]
    assert render_feedback(tests, outcomes, Mode.STDIN).endswith(
        "Stderr:\nkilled by signal SIGSEGV"
    )


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (Status.TIMEOUT, "Time Limit Exceeded: the program ran longer than 2.5 seconds."),
        (Status.MEMORY, "Memory Limit Exceeded: the program ran out of memory."),
        (Status.OUTPUT_LIMIT, "Output Limit Exceeded: the program wrote too much output."),
    ],
)
def test_limits_get_one_line(status: Status, line: str) -> None:
    tests = [TestCase(input="x", output="1")]
    text = render_feedback(tests, [TestOutcome(status=status)], Mode.STDIN, timeout_s=2.5)
    assert text == f"Your code failed the following test:\nInput:\nx\n{line}"


def test_functional_input_is_shown_as_a_call() -> None:
    tests = [TestCase(input='[1, 2]\n"a"', output="3")]
    outcomes = [TestOutcome(status=Status.WRONG_ANSWER, output="4")]
    text = render_feedback(tests, outcomes, Mode.FUNCTIONAL, fn_name="solve")
    assert 'Input:\nsolve([1, 2], "a")\n' in text


def test_script_mode_shows_the_test_code() -> None:
    tests = [TestCase(input="assert f(1) == 2")]
    outcomes = [TestOutcome(status=Status.RUNTIME_ERROR, stderr="AssertionError")]
    assert "Test:\nassert f(1) == 2\n" in render_feedback(tests, outcomes, Mode.SCRIPT)


def test_fields_are_cut_to_400_characters_keeping_both_ends() -> None:
    long_input = "I" * 150 + "<middle>" + "J" * 850
    tests = [TestCase(input=long_input, output="E" * 1000)]
    outcomes = [TestOutcome(status=Status.WRONG_ANSWER, output="a" * 200 + "b" * 800)]
    text = render_feedback(tests, outcomes, Mode.STDIN)
    shown_input = text.split("Input:\n")[1].split("\nProgram's Output:")[0]
    assert shown_input.startswith("I" * 150 + "<middle>" + "J" * 42)
    assert shown_input.endswith("J" * 200)
    assert "<middle>" in shown_input and "(608 characters omitted)" in shown_input
    shown_output = text.split("Program's Output:\n")[1].split("\nExpected Output:")[0]
    assert shown_output == clip_middle("a" * 200 + "b" * 800)
    assert shown_output.startswith("a" * 200) and shown_output.endswith("b" * 200)
    assert "a" * 201 not in shown_output and "b" * 201 not in shown_output


def test_clip_middle_keeps_short_text() -> None:
    text = "x" * FIELD_CHARS
    assert clip_middle(text) == text
    clipped = clip_middle(text + "y")
    assert clipped.startswith("x" * 200) and clipped.endswith("x" * 199 + "y")
    assert "(1 characters omitted)" in clipped


def test_all_passed_message() -> None:
    tests = [TestCase(input="a", output="1"), TestCase(input="b", output="2")]
    assert render_feedback(tests, [PASS, PASS], Mode.STDIN) == ALL_PASSED


def test_no_tests() -> None:
    assert "no tests" in render_feedback([], [], Mode.STDIN)


# --------------------------------------------------------- through the sandbox (bwrap)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=1, limits=FAST, cache_size=0) as pool:
        yield pool


@needs_bwrap
def test_traceback_names_solution_py_and_no_sandbox_paths(sandbox: LocalSandbox) -> None:
    code = "def helper(n):\n    return 10 // n\n\nprint(helper(int(input())))\n"
    result = sandbox.run(stdin_request(code, [("5\n", "2\n"), ("0\n", "0\n")]))
    assert [o.status for o in result.outcomes] == [Status.PASSED, Status.RUNTIME_ERROR]
    feedback = result.feedback
    assert feedback.startswith("Your code failed the following test:\nInput:\n0\nStderr:\n")
    assert 'File "solution.py", line 4, in <module>' in feedback
    assert 'File "solution.py", line 2, in helper' in feedback
    assert feedback.rstrip().endswith("ZeroDivisionError: integer division or modulo by zero")
    for leak in ("/sandbox", "worker.py", "_worker", "run_program", "cobalt_rl"):
        assert leak not in feedback


@needs_bwrap
def test_syntax_error_feedback(sandbox: LocalSandbox) -> None:
    result = sandbox.run(stdin_request("print(1\n"))
    assert [o.status for o in result.outcomes] == [Status.SYNTAX_ERROR]
    assert 'File "solution.py", line 1' in result.feedback
    assert "SyntaxError" in result.feedback
    assert "worker" not in result.feedback


@needs_bwrap
def test_timeout_feedback_through_the_sandbox(sandbox: LocalSandbox) -> None:
    result = sandbox.run(stdin_request("while True:\n    pass\n"))
    assert result.feedback.endswith("Time Limit Exceeded: the program ran longer than 1 seconds.")


@needs_bwrap
def test_functional_wrong_answer_feedback_through_the_sandbox(sandbox: LocalSandbox) -> None:
    request = ExecRequest(
        code="class Solution:\n    def add(self, a, b):\n        return a - b\n",
        tests=[TestCase(input="2\n1", output="3")],
        mode=Mode.FUNCTIONAL,
        fn_name="add",
    )
    assert sandbox.run(request).feedback == (
        "Your code failed the following test:\nInput:\nadd(2, 1)\n"
        "Program's Output:\n1\nExpected Output:\n3"
    )


@needs_bwrap
def test_all_passed_through_the_sandbox(sandbox: LocalSandbox) -> None:
    assert sandbox.run(stdin_request("print(int(input()) * 2)")).feedback == ALL_PASSED
