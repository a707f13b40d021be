"""One mixed batch for comparing sandbox backends: normal, wrong and hostile programs.

Every backend must give each request the same verdict (status per test, pass rate). The
hostile programs are the local suite's (tests/sandbox/test_hostile.py), whose statuses are
decided by the worker, not by timing luck: an infinite loop, a fork bomb, killing its own
worker and a memory bomb.
"""

from __future__ import annotations

import textwrap

from sandbox_helpers import FAST, NORMAL, stdin_request

from cobalt_rl.records import ExecResult, Mode, Status, TestCase
from cobalt_rl.sandbox import ExecRequest

# Time enough to touch all the memory allowed on a loaded machine: MEMORY, not TIMEOUT.
ROOMY = FAST.model_copy(update={"timeout_s": 5.0, "program_timeout_s": 5.0})

INFINITE_LOOP = "while True:\n    pass\n"
FORK_BOMB = textwrap.dedent(
    """
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
    """
)
KILLS_ITS_WORKER = "import os\nos.kill(os.getppid(), 9)\n"
MEMORY_BOMB = "x = []\nwhile True:\n    x.append(b'x' * (16 << 20))\n"

# The statuses the hostile programs must get (on every backend).
HOSTILE = {
    "infinite loop": (INFINITE_LOOP, Status.TIMEOUT),
    "fork bomb": (FORK_BOMB, Status.TIMEOUT),
    "kills its worker": (KILLS_ITS_WORKER, Status.RUNTIME_ERROR),
    "memory bomb": (MEMORY_BOMB, Status.MEMORY),
}


def mixed_batch(tag: str = "") -> list[ExecRequest]:
    """About 20 requests: passes, partial passes, wrong answers, errors in every mode, and
    the hostile programs. ``tag`` (a comment) makes the programs distinct from another
    batch's, so no cache answers them."""
    note = f"\n# {tag}\n" if tag else "\n"
    doubles = [(f"{n}\n", f"{2 * n}\n") for n in range(4)]
    requests = [
        stdin_request(NORMAL + note + f"# {i}", doubles) for i in range(6)
    ]  # six distinct passing programs
    requests += [
        stdin_request("print(int(input()) + 3)" + note, doubles),  # passes only n=3
        stdin_request("n = int(input())\nprint(n * 2 if n % 2 else 0)" + note, doubles),
        stdin_request("print(int(input()) * 3)" + note, doubles),  # wrong but for 0
        stdin_request("raise ValueError('boom')" + note, doubles[:2]),
        stdin_request("def broken(:\n    pass" + note, doubles[:2]),
        stdin_request("import time\ntime.sleep(0.3)\nprint(int(input()) * 2)" + note, doubles[:2]),
        ExecRequest(
            code="def add(a, b):\n    return a + b" + note,
            tests=[TestCase(input="1\n2", output="3"), TestCase(input="2\n2", output="5")],
            mode=Mode.FUNCTIONAL,
            fn_name="add",
        ),
        ExecRequest(
            code="def add(a, b):\n    return a + b" + note,
            tests=[
                TestCase(input="assert add(2, 2) == 4"),
                TestCase(input="assert add(1, 1) == 3"),
            ],
            mode=Mode.SCRIPT,
        ),
    ]
    for name, (code, _) in HOSTILE.items():
        limits = ROOMY if name == "memory bomb" else None
        requests.append(stdin_request(code + note, [("3\n", "6\n")], limits=limits))
    return requests


def verdicts(results: list[ExecResult]) -> list[tuple[list[Status], float]]:
    """What must agree across backends: the status of every test and the pass rate."""
    return [([o.status for o in r.outcomes], r.pass_rate) for r in results]


def check_hostile(results: list[ExecResult]) -> None:
    """The hostile programs (the last ones of :func:`mixed_batch`) got their statuses."""
    tail = results[-len(HOSTILE) :]
    for (name, (_, status)), result in zip(HOSTILE.items(), tail, strict=True):
        assert [o.status for o in result.outcomes] == [status], name
