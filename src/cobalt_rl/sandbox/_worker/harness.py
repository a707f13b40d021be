"""The program harness: run a model's program on one test in this process, report how it ended.

The single source of how a program is run. The local worker (:mod:`.worker`) calls
:func:`run_program` in a child it forks per program; the SandboxFusion backend sends this
file's text, followed by a call of :func:`run_standalone`, as the code of one ``run_code`` call
(:func:`cobalt_rl.sandbox.sandboxfusion.driver_code`). So it imports only the standard
library and its siblings never.

A test's status is an exit code (the host decides the verdict from it and the process state,
never from the program's text; :mod:`cobalt_rl.sandbox.verdicts`):
  0 ran to the end, 1 raised, 2 syntax error, 3 MemoryError, 4 function not found,
  5 the child could not take its next test (the previous test broke its pipes; worker only).

Modes: ``stdin`` runs the program as ``__main__`` on the test's input; ``functional`` calls
``fn_name`` (a method of ``Solution``, or a function) on the JSON-decoded arguments, one per
input line, and returns the JSON of what it returns; ``script`` runs the test code after the
program in the same namespace (as HumanEval does).
"""

from __future__ import annotations

import builtins
import json
import linecache
import os
import sys
import traceback
from types import CodeType
from typing import NoReturn

EXIT_OK, EXIT_RAISED, EXIT_SYNTAX, EXIT_MEMORY, EXIT_NO_FUNCTION, EXIT_HARNESS = 0, 1, 2, 3, 4, 5
SOLUTION_FILE = "solution.py"
TEST_FILE = "test.py"


def remember_source(filename: str, source: str) -> None:
    """Give ``linecache`` the text of ``filename``, so tracebacks through it show its lines.

    The program is compiled from a string, never written to a file, so without this a
    traceback names ``solution.py`` and a line number but not the offending line. No
    modification time: ``linecache.checkcache`` then keeps the entry.
    """
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def compile_program(source: str) -> tuple[CodeType | None, str]:
    """The program compiled as ``solution.py``, or None and the syntax error's text."""
    remember_source(SOLUTION_FILE, source)
    try:
        return compile(source, SOLUTION_FILE, "exec", dont_inherit=True), ""
    except (SyntaxError, ValueError) as e:  # ValueError: source holds null bytes
        return None, "".join(traceback.format_exception_only(type(e), e))


def clean_traceback(exc: BaseException) -> str:
    """Format ``exc`` keeping only frames of the program (not of this harness, whatever file
    name it was given)."""
    tb = exc.__traceback__
    harness = globals()
    while tb is not None and (
        tb.tb_frame.f_code.co_filename != SOLUTION_FILE or tb.tb_frame.f_globals is harness
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def to_jsonable(value: object) -> object:
    """How a returned value JSON cannot encode is written: sets sorted, the rest ``repr``."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def run_program(
    compiled: CodeType, mode: str, fn_name: str | None, test_input: str
) -> tuple[int, str]:
    """Run the program once on one test, in this process; return (status, result)."""
    name = "__main__" if mode == "stdin" else "solution"
    namespace = {"__name__": name, "__builtins__": builtins}
    status, result = EXIT_OK, ""
    try:
        exec(compiled, namespace)
        if mode == "functional":
            cls = namespace.get("Solution")
            if isinstance(cls, type) and hasattr(cls, fn_name or ""):
                fn = getattr(cls(), fn_name or "")
            elif callable(namespace.get(fn_name or "")):
                fn = namespace[fn_name or ""]
            else:
                sys.stderr.write(f"NameError: function {fn_name!r} is not defined\n")
                return EXIT_NO_FUNCTION, ""
            args = [json.loads(line) for line in test_input.split("\n") if line.strip()]
            result = json.dumps(fn(*args), default=to_jsonable)
        elif mode == "script":
            remember_source(TEST_FILE, test_input)
            exec(compile(test_input, TEST_FILE, "exec", dont_inherit=True), namespace)
            result = "completed"
    except SystemExit as e:
        if e.code is None or e.code == 0:
            if mode != "stdin":  # exited before returning a value / finishing the tests
                status = EXIT_RAISED
                sys.stderr.write("SystemExit: the program exited before the tests finished\n")
        else:
            if not isinstance(e.code, int):
                sys.stderr.write(f"{e.code}\n")
            status = EXIT_RAISED
    except MemoryError as e:
        status, result = EXIT_MEMORY, ""
        # The traceback, as the interpreter prints it for an uncaught MemoryError (and the
        # reference's evaluator shows it as the program's stderr). Formatting needs a little
        # memory: where even that fails, the program's data goes first, then the bare name.
        try:
            sys.stderr.write(clean_traceback(e))
        except BaseException:
            namespace.clear()
            try:
                sys.stderr.write("MemoryError\n")
            except BaseException:
                pass
    except BaseException as e:
        status = EXIT_RAISED
        try:
            sys.stderr.write(clean_traceback(e))
        except BaseException:
            pass
    return status, result


def run_standalone(
    source: str, mode: str, fn_name: str | None, test_input: str, marker: str
) -> NoReturn:
    """Run ``source`` on one test in this fresh interpreter and exit with its status.

    For a service that runs one process per test (SandboxFusion): stdin is the test's input;
    a ``functional`` or ``script`` result is written to stdout after ``marker`` at the start
    of a line, so the caller can cut it off the program's own output.
    """
    out, err = sys.stdout, sys.stderr
    compiled, syntax_error = compile_program(source)
    if compiled is None:
        err.write(syntax_error)
        err.flush()
        os._exit(EXIT_SYNTAX)
    status, result = run_program(compiled, mode, fn_name, test_input)
    for stream in {id(s): s for s in (sys.stdout, out, sys.stderr, err)}.values():
        try:
            stream.flush()
        except BaseException:
            if status == EXIT_OK and stream in (sys.stdout, out):
                status = EXIT_RAISED
    if mode != "stdin" and status == EXIT_OK:
        try:
            os.write(1, ("\n" + marker + result).encode("utf-8", "replace"))
        except BaseException:
            status = EXIT_RAISED
    os._exit(status)
