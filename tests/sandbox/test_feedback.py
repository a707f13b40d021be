"""The feedback text shown to the model (DESIGN.md: the paper's reference format)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sandbox_helpers import FAST, needs_bwrap, stdin_request

from cobalt_rl.profiles import Profile, profile_spec
from cobalt_rl.records import Mode, Status, TestCase, TestOutcome
from cobalt_rl.sandbox import ALL_PASSED, ExecRequest, LocalSandbox, render_feedback
from cobalt_rl.sandbox.feedback import FIELD_CHARS, clip_middle, reference_clean_traceback
from cobalt_rl.sandbox.grading import Grading
from cobalt_rl.sandbox.limits import Limits
from cobalt_rl.sandbox.verdicts import exec_result, judge

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


# ------------------------------------------------- the reference profile: streams and cuts

REF, OURS = Profile.REFERENCE, Profile.COBALT_RL


def _judged(profile: Profile, test: TestCase, **reply: object) -> str:
    """The feedback for one test whose process ended as ``reply`` says (see verdicts.judge)."""
    spec = profile_spec(profile)
    request = ExecRequest(
        code="", tests=[test], mode=Mode.STDIN, grading=Grading(spec.grading), profile=profile
    )
    report = {"stdout": "", "stderr": "", "exit_code": 0, "seconds": 0.01, **reply}
    outcome = judge(report, test, request, timeout_s=4.0)
    return exec_result(request, [outcome], Limits()).feedback


def test_reference_whitespace_only_stderr_gets_the_stderr_form() -> None:
    # remote_reward_server.py tests `if stderr:` before it strips: whitespace is "something".
    test = TestCase(input="1\n", output="2\n")
    failed = {"stdout": "partial\n", "stderr": "   \n\t\n", "exit_code": 1}
    assert _judged(REF, test, **failed) == "Input:\n1\nProgram's Output:\npartial\nStderr:\n"
    silent = {"stdout": "partial\n", "stderr": "", "exit_code": 1}
    assert _judged(REF, test, **silent).endswith("Expected Output:\n2")
    # cobalt-rl as before: the exit detail stands in for an empty-looking stderr.
    assert _judged(OURS, test, **failed).endswith("Stderr:\nexit code 1")


def _distinct(n: int) -> str:
    """``n`` characters with no repeated stretch (so any cut shows where it was made)."""
    return "".join(chr(97 + i % 26) + str(i) for i in range(n))[:n]


def test_reference_long_output_shows_the_originals_head_and_tail() -> None:
    # The original strips the whole stream, then truncatefn keeps 200 + 200 characters. Ours
    # keeps 2,000 of a stream first: leading and trailing whitespace must not take that room.
    core, err_core = _distinct(5000), "E" + _distinct(3000) + "Z"
    test = TestCase(input="\n" * 700 + _distinct(2500) + "  \n" * 600, output="x\n")
    stdout = " " * 1500 + core + "\n" * 1500
    feedback = _judged(REF, test, stdout=stdout)
    clipped = core[:200] + "...(truncated) ..." + core[-200:]
    assert f"Program's Output:\n{clipped}\nExpected Output:\nx" in feedback
    stripped_input = test.input.strip()
    assert feedback.startswith(
        f"Input:\n{stripped_input[:200]}...(truncated) ...{stripped_input[-200:]}\n"
    )
    crashed = _judged(
        REF, test, stdout=stdout, stderr="\n" * 800 + err_core + " " * 900, exit_code=1
    )
    assert crashed.endswith(f"Stderr:\n{err_core[:200]}...(truncated) ...{err_core[-200:]}")


def test_cobalt_rl_keeps_its_own_cut_of_long_output() -> None:
    core = _distinct(5000)
    test = TestCase(input="1\n", output="x\n")
    feedback = _judged(OURS, test, stdout=" " * 1500 + core + "\n" * 1500)
    shown = feedback.split("Program's Output:\n")[1].split("\nExpected Output:")[0]
    assert shown == clip_middle(clip_middle(" " * 1500 + core + "\n" * 1500, 2000).rstrip("\n"))


def test_reference_clean_traceback_cuts_at_the_first_exec_frame() -> None:
    stderr = (
        'Traceback (most recent call last):\n  File "solution.py", line 1, in <module>\n'
        '    exec("1/0")\n  File "<string>", line 1, in <module>\nZeroDivisionError: x'
    )
    cleaned = reference_clean_traceback(stderr)
    assert cleaned == (
        'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
        "ZeroDivisionError: x"
    )
    assert reference_clean_traceback(cleaned) == cleaned
    assert reference_clean_traceback("ValueError: v") == "ValueError: v"


# ------------------------------------ the reference profile against the original evaluator

# The programs, inputs and expected outputs run by both (name: (program, input, expected)).
REFERENCE_CASES = {
    "crlf": ('import sys\nsys.stdout.write("1\\r\\n2\\r\\n")\n', "", "1\n2\n"),
    "lone_cr": ('import sys\nsys.stdout.write("1\\r2\\r")\n', "", "1\n2"),
    "crlf_expected": ('print("1\\n2")\n', "", "1\r\n2\r\n"),
    "memory": ("n = int(input())\nx = [0] * (10 ** n)\nprint(len(x))\n", "10\n", "0\n"),
    "whitespace_stderr": (
        'import sys\nprint("partial")\nsys.stderr.write("   \\n\\t\\n")\nsys.exit(3)\n',
        "1\n",
        "2\n",
    ),
    "silent_exit": ("import sys\nsys.exit(2)\n", "1\n", "2\n"),
    "long_output": (
        'print(" " * 1500 + "".join(chr(97 + i % 26) + str(i) for i in range(800))'
        ' + "\\n" * 1500)\n',
        "\n" * 700 + " ".join(str(i) for i in range(900)) + "  \n" * 600,
        "x\n",
    ),
    "number_1_0": ('print("1.0")\n', "", "1\n"),
    "number_spaces": ('print(" 1 \\n\\n")\n', "", "1\n"),
    "number_inner": ('print("1  2")\n', "", "1 2\n"),
    "number_exp": ('print("1e3")\n', "", "1000\n"),
    "exec_error": ('exec("x = 1\\n1/0")\n', "", "1\n"),
    "exit_message": ('import sys\nsys.exit("bye")\n', "", "1\n"),
    "crlf_stderr": ('import sys\nsys.stderr.write("a\\r\\nb\\r\\n")\nsys.exit(1)\n', "", "1\n"),
}

# What the original gave (name: (passed, feedback)): OSU-NLP-Group/cobalt @ 18ce6ae,
# verl/remote_reward_server.py, its Evaluator.__call__ (Ray stubbed) running run_single_test
# as written (its guard, bubblewrap, python3 -S; Python 3.11.7), once, outside this project.
# A passing test's message is never shown (the model gets the all-passed message instead).
ORIGINAL_FEEDBACK = {
    "crlf": (True, "Input:\n\nProgram's Output:\n1\n2\nExpected Output:\n1\n2"),
    "lone_cr": (True, "Input:\n\nProgram's Output:\n1\n2\nExpected Output:\n1\n2"),
    "crlf_expected": (False, "Input:\n\nProgram's Output:\n1\n2\nExpected Output:\n1\r\n2"),
    "memory": (
        False,
        (
            "Input:\n10\nProgram's Output:\n"
            "\nStderr:\nTraceback (most recent call last):\n"
            '  File "/dev/shm/tmpiy81s6mm", line 72, in <module>\n'
            "    x = [0] * (10 ** n)\n        ~~~~^~~~~~~~~~~\n"
            "MemoryError"
        ),
    ),
    "whitespace_stderr": (False, "Input:\n1\nProgram's Output:\npartial\nStderr:\n"),
    "silent_exit": (False, "Input:\n1\nProgram's Output:\n\nExpected Output:\n2"),
    "long_output": (
        False,
        (
            "Input:\n0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 "
            "26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 5"
            "1 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 ...(truncated) ... 8"
            "50 851 852 853 854 855 856 857 858 859 860 861 862 863 864 865 866 867 868 8"
            "69 870 871 872 873 874 875 876 877 878 879 880 881 882 883 884 885 886 887 8"
            "88 889 890 891 892 893 894 895 896 897 898 899\n"
            "Program's Output:\na0b1c2d3e4f5g6h7i8j9k10l11m12n13o14p15q16r17s18t19u20v21w"
            "22x23y24z25a26b27c28d29e30f31g32h33i34j35k36l37m38n39o40p41q42r43s44t45u46v4"
            "7w48x49y50z51a52b53c54d55e56f57g58h59i60j61k62l63m64n65o66p67q68r69...(trunc"
            "ated) ...w750x751y752z753a754b755c756d757e758f759g760h761i762j763k764l765m76"
            "6n767o768p769q770r771s772t773u774v775w776x777y778z779a780b781c782d783e784f78"
            "5g786h787i788j789k790l791m792n793o794p795q796r797s798t799\n"
            "Expected Output:\nx"
        ),
    ),
    "number_1_0": (False, "Input:\n\nProgram's Output:\n1.0\nExpected Output:\n1"),
    "number_spaces": (True, "Input:\n\nProgram's Output:\n1\nExpected Output:\n1"),
    "number_inner": (False, "Input:\n\nProgram's Output:\n1  2\nExpected Output:\n1 2"),
    "number_exp": (False, "Input:\n\nProgram's Output:\n1e3\nExpected Output:\n1000"),
    "exec_error": (
        False,
        (
            "Input:\n\nProgram's Output:\n"
            "\nStderr:\nTraceback (most recent call last):\n"
            '  File "<string>", line 2, in <module>\n'
            "ZeroDivisionError: division by zero"
        ),
    ),
    "exit_message": (False, "Input:\n\nProgram's Output:\n\nStderr:\nbye"),
    "crlf_stderr": (False, "Input:\n\nProgram's Output:\n\nStderr:\na\nb"),
}

# The original runs the program as a temporary file after its 70-line guard; we run it as
# solution.py (docs/profiles.md, "Tracebacks"). That is the one difference taken out here.
_ORIGINAL_FRAME = re.compile(r'File "/dev/shm/tmp\w+", line (\d+)')


def _as_ours(feedback: str) -> str:
    return _ORIGINAL_FRAME.sub(lambda m: f'File "solution.py", line {int(m[1]) - 70}', feedback)


@pytest.fixture(scope="module")
def reference_sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=1, cache_size=0) as pool:  # the original's 4 s and 1 GiB
        yield pool


@needs_bwrap
@pytest.mark.parametrize("name", sorted(REFERENCE_CASES))
def test_reference_verdict_and_feedback_equal_the_originals(
    reference_sandbox: LocalSandbox, name: str
) -> None:
    program, test_input, expected = REFERENCE_CASES[name]
    spec = profile_spec(REF)
    request = ExecRequest(
        code=program,
        tests=[TestCase(input=test_input, output=expected)],
        mode=Mode.STDIN,
        grading=Grading(spec.grading),
        profile=REF,
        test_concurrency=spec.test_concurrency,
    )
    result = reference_sandbox.run(request)
    passed, feedback = ORIGINAL_FEEDBACK[name]
    assert result.passed is passed
    if not passed:
        assert result.feedback == _as_ours(feedback)


@needs_bwrap
def test_cobalt_rl_memory_feedback_is_one_line(reference_sandbox: LocalSandbox) -> None:
    program, test_input, expected = REFERENCE_CASES["memory"]
    request = stdin_request(program, [(test_input, expected)])
    result = reference_sandbox.run(request)
    assert result.outcomes[0].status is Status.MEMORY
    assert result.feedback.endswith("\nMemory Limit Exceeded: the program ran out of memory.")
    assert result.outcomes[0].stderr.endswith("MemoryError\n")  # the traceback, kept
