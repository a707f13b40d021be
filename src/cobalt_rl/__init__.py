"""cobalt-rl: train code LLMs to use execution feedback across turns (Cobalt, arXiv 2602.03806).

Importing the package is cheap and has no side effects; heavy parts (torch, transformers,
the sandbox pool) are imported by the modules that need them.
"""

from cobalt_rl.errors import CobaltError
from cobalt_rl.records import (
    Attempt,
    Context,
    ExecResult,
    Message,
    Mode,
    Problem,
    Status,
    TestCase,
    TestOutcome,
    Trajectory,
)

__version__ = "0.1.0"

__all__ = [
    "Attempt",
    "CobaltError",
    "Context",
    "ExecResult",
    "Message",
    "Mode",
    "Problem",
    "Status",
    "TestCase",
    "TestOutcome",
    "Trajectory",
    "__version__",
]
