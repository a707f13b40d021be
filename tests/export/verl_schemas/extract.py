"""Regenerate the verl schema excerpts in this folder from verl's released wheels.

Not a test. Run it with any Python that has PyYAML, on wheels unpacked without their
dependencies (nothing of verl is imported; its files are only read):

    pip download --no-deps verl==0.9.1 -d wheels && unzip -q wheels/verl-0.9.1-*.whl -d src/0.9.1
    python tests/export/verl_schemas/extract.py src/0.9.1 [src/0.8.0 ...]

Each ``verl-<version>.json`` holds, from that release:

- ``config_keys``: every dotted key of ``verl/trainer/config/_generated_ppo_trainer.yaml``
  (verl's own composition of ``ppo_trainer.yaml``; a Hydra override of a key not listed fails,
  unless written ``+key=...``), for the sections an export touches;
- ``reward_managers``: the names ``@register``-ed in ``verl/workers/reward_manager/`` (the
  legacy reward path, used by 0.5-0.6);
- ``reward_loop_managers``: the names in ``verl/experimental/reward_loop/reward_manager/`` (the
  reward loop, on by default from 0.7);
- ``agent_loops``: the names in ``verl/experimental/agent_loop/``;
- ``main_ppo_migrates_legacy_reward_keys``: whether ``verl/trainer/main_ppo.py`` calls
  ``migrate_legacy_reward_impl`` (0.7-0.8 copy ``reward_model.*`` / ``custom_reward_function.*``
  into ``reward.*``; 0.9 does not, so those keys are accepted and ignored);
- ``agent_loop_run_gets_row_fields``: whether ``AgentLoopWorker`` calls
  ``agent_loop.run(sampling_params, **kwargs)`` with the row's fields (0.5 passes only the
  messages, so an agent loop cannot see a problem's tests).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

SECTIONS = (
    "actor_rollout_ref",
    "algorithm",
    "critic",
    "custom_reward_function",
    "data",
    "reward",
    "reward_model",
    "trainer",
)
_REGISTER = re.compile(r"""@register(?:_manager)?\(\s*["'](\w+)["']\s*\)""")


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            keys += _flatten(value, key + ".")
        else:
            keys.append(key)
    return keys


def _registered(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted({m for f in folder.glob("*.py") for m in _REGISTER.findall(f.read_text())})


def extract(root: Path) -> dict[str, Any]:
    version = re.search(r"\d+\.\d+\.\d+", (root / "verl" / "version" / "version").read_text())
    assert version is not None
    config = root / "verl/trainer/config/_generated_ppo_trainer.yaml"
    tree = yaml.safe_load(config.read_text())
    keys = sorted(k for k in _flatten(tree) if k.split(".")[0] in SECTIONS)
    main_ppo = (root / "verl/trainer/main_ppo.py").read_text()
    agent_loop = (root / "verl/experimental/agent_loop/agent_loop.py").read_text()
    return {
        "verl": version.group(0),
        "source": f"https://github.com/volcengine/verl (PyPI wheel verl=={version.group(0)})",
        "files": [
            "verl/trainer/config/_generated_ppo_trainer.yaml",
            "verl/workers/reward_manager/*.py",
            "verl/experimental/reward_loop/reward_manager/*.py",
            "verl/experimental/agent_loop/*.py",
            "verl/trainer/main_ppo.py",
        ],
        "main_ppo_migrates_legacy_reward_keys": "migrate_legacy_reward_impl(config)" in main_ppo,
        "agent_loop_run_gets_row_fields": "agent_loop.run(sampling_params, **kwargs)" in agent_loop,
        "reward_managers": _registered(root / "verl/workers/reward_manager"),
        "reward_loop_managers": _registered(root / "verl/experimental/reward_loop/reward_manager"),
        "agent_loops": _registered(root / "verl/experimental/agent_loop"),
        "config_keys": keys,
    }


def main(roots: list[str]) -> None:
    here = Path(__file__).parent
    for root in roots:
        data = extract(Path(root))
        out = here / f"verl-{data['verl']}.json"
        out.write_text(json.dumps(data, indent=1) + "\n")
        print(f"{out}: {len(data['config_keys'])} keys")


if __name__ == "__main__":
    main(sys.argv[1:])
