"""cobalt-rl: train code LLMs to use execution feedback across turns (Cobalt, arXiv 2602.03806).

Importing the package is cheap and has no side effects; heavy parts (torch, transformers,
the sandbox pool) are imported by the modules that need them. Each part is imported from its
own module: the typed records every stage reads and writes from :mod:`cobalt_rl.records`,
the errors from :mod:`cobalt_rl.errors` (:class:`CobaltError` is their base, also here), and
each stage from its package (``docs/architecture.md`` maps them).
"""

from cobalt_rl.errors import CobaltError

__version__ = "0.1.0"

__all__ = ["CobaltError", "__version__"]
