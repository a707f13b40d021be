"""scripts/share_env_files.py: identical installed files become one inode, others stay apart."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location(
        "share_env_files", ROOT / "scripts" / "share_env_files.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _venv(root: Path, name: str, files: dict[str, bytes]) -> Path:
    site = root / name / "lib" / "python3.11" / "site-packages"
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
    return root / name


def test_identical_files_are_linked_and_different_ones_kept(tmp_path: Path) -> None:
    share = _load()
    a = _venv(
        tmp_path, "a", {"pkg/same.py": b"x = 1\n", "pkg/diff.py": b"y = 1\n", "only_a.py": b"a"}
    )
    b = _venv(
        tmp_path,
        "b",
        {"pkg/same.py": b"x = 1\n", "pkg/diff.py": b"y = 2\n", "other/same.py": b"x = 1\n"},
    )
    saved = share.share([a, b])
    sa, sb = (v / "lib" / "python3.11" / "site-packages" for v in (a, b))
    assert (sa / "pkg/same.py").stat().st_ino == (sb / "pkg/same.py").stat().st_ino
    assert (sa / "pkg/diff.py").stat().st_ino != (sb / "pkg/diff.py").stat().st_ino
    assert (sb / "pkg/diff.py").read_bytes() == b"y = 2\n"
    # same bytes at another path are not linked (only the same installed file is)
    assert (sb / "other/same.py").stat().st_ino != (sa / "pkg/same.py").stat().st_ino
    assert saved == len(b"x = 1\n")
    # a second pass finds nothing more, and removing one link leaves the other intact
    assert share.share([a, b]) == 0
    (sb / "pkg/same.py").unlink()
    assert (sa / "pkg/same.py").read_bytes() == b"x = 1\n"
