"""The grading modes compare outputs the way their evaluators do (see grading.py's docstring)."""

from __future__ import annotations

import pytest

from cobalt_rl.profiles import Profile, profile_spec
from cobalt_rl.records import Mode, Status, TestCase
from cobalt_rl.sandbox.base import ExecRequest
from cobalt_rl.sandbox.grading import Grading, compare_stdout, compare_value
from cobalt_rl.sandbox.verdicts import judge

LCB, TACO, EXACT = Grading.LIVECODEBENCH, Grading.TACO, Grading.EXACT


# ------------------------------------------------------------------ stdin: livecodebench


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("6\n", "6"),  # surrounding whitespace of the whole output
        ("  6  \n\n", "6\n"),
        ("1 2\n3 4\n", "1 2\n3 4"),
        ("1 2 \n 3 4\n", "1 2\n3 4"),  # each line stripped
        ("1.0\n", "1.00\n"),  # decimals compare as numbers
        ("0.5 2\n", ".50 2.0\n"),
        ("1e3\n", "1000\n"),
        ("-0\n", "0\n"),
    ],
)
def test_livecodebench_accepts(output: str, expected: str) -> None:
    assert compare_stdout(output, expected, LCB)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("", "6"),
        ("7\n", "6\n"),
        ("1.0000001\n", "1.0\n"),  # decimals are exact: no tolerance
        ("1 2\n", "1\n2\n"),  # lines must line up
        ("1\n\n2\n", "1\n2\n"),  # an inner blank line is a line
        ("YES\n", "yes\n"),  # case matters
        ("1 2\n", "1  2 3\n"),
        ("a b\n", "a  b\n"),  # not decimals: the stripped lines must be equal
    ],
)
def test_livecodebench_rejects(output: str, expected: str) -> None:
    assert not compare_stdout(output, expected, LCB)


def test_livecodebench_tokens_split_on_any_whitespace_for_numbers() -> None:
    assert compare_stdout("1   2\t3\n", "1 2 3\n", LCB)


# ---------------------------------------------------------------------- stdin: taco


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("1\n\n2\n", "1\n2\n"),  # blank lines dropped
        ("a  b\n", "a b\n"),  # whitespace tokens
        ("1 2\n3\n", "1\n2 3\n"),  # the same tokens, however split into lines
        ("0.1000001\n", "0.1\n"),  # floats close (rel 1e-5)
        ("3 1 2\n", "1 2 3\n"),  # the same set of tokens per line
    ],
)
def test_taco_accepts(output: str, expected: str) -> None:
    assert compare_stdout(output, expected, TACO)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("0.11\n", "0.1\n"),
        ("1 2\n", "1 2 3\n"),
        ("a\n", "b\n"),
        ("1 1 2\n", "1 2 2\n3\n"),
    ],
)
def test_taco_rejects(output: str, expected: str) -> None:
    assert not compare_stdout(output, expected, TACO)


def test_taco_is_more_lenient_than_livecodebench() -> None:
    assert compare_stdout("1\n\n2\n", "1\n2\n", TACO)
    assert not compare_stdout("1\n\n2\n", "1\n2\n", LCB)


# --------------------------------------------------------------------- stdin: exact


def test_exact_is_byte_for_byte() -> None:
    assert compare_stdout("6\n", "6\n", EXACT)
    assert not compare_stdout("6\n", "6", EXACT)
    assert not compare_stdout("1.0\n", "1.00\n", EXACT)


# ----------------------------------------------------------------------- functional


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ("[1, 2]", "[1, 2]"),
        ("[1,2]", " [1, 2] "),  # JSON values, not their text
        ('{"a": 1}', '{"a":1}'),
        ("1", "1.0"),  # Python equality of the decoded values
        ("true", "1"),
        ('"abc"', '"abc"'),
        ("null", "null"),
    ],
)
def test_functional_livecodebench_accepts(returned: str, expected: str) -> None:
    assert compare_value(returned, expected, LCB)


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ("[2, 1]", "[1, 2]"),
        ("1.00001", "1"),  # no tolerance
        ("[1]", "1"),
        ("not json", "1"),
        ("", "1"),
    ],
)
def test_functional_livecodebench_rejects(returned: str, expected: str) -> None:
    assert not compare_value(returned, expected, LCB)


def test_functional_tuples_arrive_as_lists() -> None:
    # the worker JSON-encodes the returned value: (1, 2) becomes [1, 2]
    assert compare_value("[1, 2]", "[1, 2]", LCB)


def test_functional_taco_leniency() -> None:
    assert compare_value("3", "[3]", TACO)  # TACO often stores outputs wrapped in a list
    assert compare_value("[0.1000001, 2]", "[0.1, 2]", TACO)  # floats close
    assert not compare_value("[0.2, 2]", "[0.1, 2]", TACO)
    assert not compare_value("3", "[3]", LCB)


def test_functional_exact_is_canonical_json() -> None:
    assert compare_value('{"b": 1, "a": [1, 2]}', '{"a": [1, 2], "b": 1}', EXACT)
    assert not compare_value("1", "1.0", EXACT)
    assert not compare_value("true", "1", EXACT)


def test_functional_expected_output_that_is_not_json_compares_as_text() -> None:
    assert compare_value('"abc"', "abc", LCB)  # a returned string against raw text
    assert not compare_value('"abd"', "abc", LCB)


# ------------------------------------------- line breaks as each profile reads the output


def _stdin_verdict(stdout: str, expected: str, profile: Profile) -> Status:
    """The verdict :func:`judge` gives a program that exited normally writing ``stdout``."""
    spec = profile_spec(profile)
    request = ExecRequest(
        code="",
        tests=[TestCase(input="", output=expected)],
        mode=Mode.STDIN,
        grading=Grading(spec.grading),
        profile=profile,
    )
    reply = {"stdout": stdout, "stderr": "", "exit_code": 0, "seconds": 0.01}
    return judge(reply, request.tests[0], request, timeout_s=4.0).status


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        ("1\r\n2\r\n", "1\n2\n"),  # Windows line breaks
        ("1\r2\r", "1\n2"),  # lone carriage returns (old Mac line breaks)
        ("a b\r\nc\r\n\r\n", "a b\nc"),
    ],
)
def test_reference_reads_stdout_in_text_mode(stdout: str, expected: str) -> None:
    # remote_reward_server.py, run_single_test: Popen(text=True) folds \r\n and \r to \n
    # before its strip-compare; the original passes all three (recorded, test_feedback.py).
    assert _stdin_verdict(stdout, expected, Profile.REFERENCE) is Status.PASSED
    assert not compare_stdout(stdout, expected, Grading.STRIP)  # the fold is the reading's


def test_reference_does_not_fold_the_expected_output() -> None:
    # The original reads the program in text mode but takes the expected output as stored.
    assert _stdin_verdict("1\n2\n", "1\r\n2\r\n", Profile.REFERENCE) is Status.WRONG_ANSWER


def test_cobalt_rl_line_breaks_are_livecodebench_s() -> None:
    # Lines are split on \n and stripped: \r\n passes, a lone \r joins two lines into one.
    assert _stdin_verdict("1\r\n2\r\n", "1\n2\n", Profile.COBALT_RL) is Status.PASSED
    assert _stdin_verdict("1\r2\r", "1\n2", Profile.COBALT_RL) is Status.WRONG_ANSWER
