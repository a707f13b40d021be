"""Back-ports for Python 3.10, where verl's reference environment runs our reward path.

cobalt-rl itself requires Python 3.11, but ``cobalt export verl``'s reward module imports
:mod:`cobalt_rl.export.verl` (and through it records, rewards and the sandbox) inside verl's
own environment, which is Python 3.10 in verl 0.5's install guide and the Cobalt reference
README. Everything on that path uses these names instead of their 3.11-only originals;
``tests/export/test_verl_py310.py`` keeps it so.
"""

from __future__ import annotations

import sys
from enum import Enum

__all__ = ["StrEnum"]

if sys.version_info >= (3, 11):  # noqa: UP036 - this module exists for 3.10
    from enum import StrEnum
else:  # pragma: no cover - exercised by the Python 3.10 test

    class StrEnum(str, Enum):  # noqa: UP042 - enum.StrEnum is 3.11+
        """``enum.StrEnum`` as 3.11 has it: members are strings, ``str()`` is the value."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)
