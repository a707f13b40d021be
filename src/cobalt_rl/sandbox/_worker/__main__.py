"""Start the worker: ``python -I -S -B DIR SCRATCH [DIR ...] [--namespaced]``.

Inside the sandbox cobalt_rl is not importable, so this directory is loaded as a package of
its own (``cobalt_worker``) straight from its files, and then taken off ``sys.path`` again:
a program finds neither our modules nor this directory on its import path.
"""

import importlib
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAME = "cobalt_worker"


def _load() -> None:
    spec = importlib.util.spec_from_file_location(
        _NAME, os.path.join(_HERE, "__init__.py"), submodule_search_locations=[_HERE]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = package
    spec.loader.exec_module(package)
    if sys.path and os.path.abspath(sys.path[0]) == _HERE:
        del sys.path[0]


if __name__ == "__main__":
    _load()
    importlib.import_module(f"{_NAME}.worker").main(sys.argv[1:])
