"""Hugging Face hub names as ``--input``: a dataset's name resolved to its files on disk.

``--input`` is a path when one exists by that name. Otherwise a name of the hub's form
``owner/name`` (optionally ``owner/name@revision``: a branch, tag or commit) is looked up in
the Hugging Face hub cache through :func:`huggingface_hub.snapshot_download`, the cache that
``datasets`` and ``hf download`` fill as well (``$HF_HUB_CACHE``, by default
``~/.cache/huggingface/hub``; ``cache_dir`` overrides it). The snapshot directory it returns
holds the repository's files as on the hub (``data/train-00000-of-00001.parquet``,
``test6.jsonl``...), which every source reads like any local directory.

When the dataset is not cached, it is downloaded if ``download`` is set and the hub can be
reached; otherwise the error says which command fetches it and where to put the files. Nothing
is ever downloaded when a local path of that name exists.
"""

from __future__ import annotations

import re
from pathlib import Path

from cobalt_rl.errors import ConfigError

__all__ = ["HUB_NAME", "hub_snapshot", "resolve_input"]

HUB_NAME = re.compile(
    r"^(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:@(?P<revision>[\w./-]+))?$"
)
"""``owner/name`` or ``owner/name@revision``, as the hub spells dataset repositories."""


def _default_cache() -> Path:
    from huggingface_hub import constants  # imported only when a hub name is used

    return Path(constants.HF_HUB_CACHE)


def hub_snapshot(
    source: str,
    repo: str,
    revision: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    download: bool = True,
) -> Path:
    """The local snapshot directory of dataset ``repo`` (from the cache, else downloaded).

    Raises:
        ConfigError: the dataset is not cached and cannot be downloaded (no network, unknown
            repository, gated...); the message says how to fetch it and where to put it.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
    )

    cache = Path(cache_dir) if cache_dir is not None else _default_cache()
    try:
        return Path(
            snapshot_download(
                repo,
                repo_type="dataset",
                revision=revision,
                cache_dir=cache,
                local_files_only=not download,
            )
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, HFValidationError) as e:
        at = f"@{revision}" if revision else ""
        rev = f" --revision {revision}" if revision else ""
        why = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        folder = "datasets--" + repo.replace("/", "--")
        tried = "looked in the cache only" if not download else "could not download it"
        raise ConfigError(
            f"{source}: --input {repo}{at} is not a local path, so it was taken as a Hugging "
            f"Face dataset name; it is not in the hub cache {cache} and cobalt {tried} "
            f"({why}). On a machine with network run `hf download {repo} --repo-type "
            f"dataset{rev}` and copy {Path('~/.cache/huggingface/hub') / folder} into {cache} "
            f"(or set HF_HUB_CACHE / --hub-cache to where it is); or run `hf download {repo} "
            f"--repo-type dataset{rev} --local-dir DIR` and pass --input DIR"
        ) from e


def resolve_input(
    source: str,
    spec: str | Path | None,
    *,
    cache_dir: str | Path | None = None,
    download: bool = True,
) -> Path | None:
    """``spec`` as a local path: itself when it exists, else a hub name's cached snapshot.

    A spec that neither exists nor looks like ``owner/name[@revision]`` comes back as a path,
    so the source reports it missing in its own words.
    """
    if spec is None:
        return None
    path = Path(spec)
    if path.exists():
        return path
    match = HUB_NAME.match(str(spec))
    if match is None:
        return path
    return hub_snapshot(
        source, match["repo"], match["revision"], cache_dir=cache_dir, download=download
    )
