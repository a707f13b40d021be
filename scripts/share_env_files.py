"""Hard-link files that are the same in several virtual environments, to save disk.

    python scripts/share_env_files.py .venv .venv-verl-0.5 .venv-verl-0.7 .venv-verl-0.9

The side environments of `make test` (scripts/verl_envs.sh) install many of the same wheels
(torch, ray, pyarrow, pandas, ...) at the same versions: three copies cost ~5 GB, more than
some CI machines have free. A file of a later environment is replaced by a hard link to the
first environment's file at the same path under site-packages when both have the same size
and bytes. Both keep working: pip uninstalls by unlinking, and nothing writes installed files
in place. Only regular files on the same file system are linked; prints the bytes saved.
"""

from __future__ import annotations

import filecmp
import os
import sys
from pathlib import Path


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        raise SystemExit(f"share_env_files: no lib/python3*/site-packages under {venv}")
    return found[0]


def share(venvs: list[Path]) -> int:
    """Link each later environment's files to the first identical one; returns bytes saved."""
    seen: dict[tuple[str, int], list[Path]] = {}
    saved = 0
    for venv in venvs:
        root = site_packages(venv)
        device = root.stat().st_dev
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                stat = path.lstat()
                if not path.is_file() or path.is_symlink() or stat.st_dev != device:
                    continue
                key = (str(path.relative_to(root)), stat.st_size)
                candidates = seen.setdefault(key, [])
                for other in candidates:
                    if other.stat().st_ino == stat.st_ino:
                        break  # already the same file
                    if filecmp.cmp(other, path, shallow=False):
                        tmp = path.with_name(path.name + ".cobalt-link")
                        os.link(other, tmp)
                        os.replace(tmp, path)
                        saved += stat.st_size
                        break
                else:
                    candidates.append(path)
    return saved


def main(argv: list[str]) -> int:
    venvs = [Path(arg) for arg in argv if Path(arg).is_dir()]
    if len(venvs) < 2:
        return 0
    saved = share(venvs)
    mib = saved / 2**20
    print(f"share_env_files: {mib:.0f} MiB saved by hard links across {len(venvs)} environments")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
