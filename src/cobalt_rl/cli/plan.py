"""``cobalt plan CONFIG``: per-GPU memory of a training config, by launch layout.

Reads a run config (``configs/*.yaml``: its ``train`` section, the model filled in from its
generator) or a train config file, and prints :func:`cobalt_rl.train.memory.format_plan`'s
table. Nothing is loaded but the model's config (see :mod:`cobalt_rl.train.memory`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cobalt_rl.cli.flags import add_file_command

__all__ = ["load_train_config", "register", "run"]


def register(sub: Any) -> None:
    parser = add_file_command(
        sub, "plan", run, config_help="run config (configs/*.yaml) or train config"
    )
    parser.add_argument(
        "--gpu-memory-gb",
        type=float,
        default=None,
        help="memory per GPU in GB (default: the config's memory.device_gb, else this "
        "machine's GPU, else 80)",
    )


def load_train_config(path: Path) -> Any:
    """The train config of a run config (``run_dir`` present) or of a train config file (its
    ``train`` mapping, or the whole file)."""
    from cobalt_rl.config_io import read_yaml_mapping
    from cobalt_rl.train.config import parse_train_config

    data = read_yaml_mapping(path)
    if "run_dir" in data:
        from cobalt_rl.pipeline import load_run_config

        return load_run_config(path).train
    section = data.get("train", data)
    return parse_train_config(dict(section), where=str(path))


def run(args: argparse.Namespace) -> int:
    """Print the per-GPU memory a training config needs, by launch layout.

    Estimate per-GPU memory (weights, gradients, optimizer states by sharding strategy,
    reference model, vLLM share, activations) for a run or train config, for one GPU,
    DeepSpeed ZeRO-2 and FSDP2 on 4 or 8 GPUs, and a vLLM server GPU. `cobalt train` and
    `cobalt run` run the same check before loading a model.
    """
    from cobalt_rl.train.memory import GB, format_plan, plan

    cfg = load_train_config(args.config)
    device_gb = args.gpu_memory_gb or cfg.memory.device_gb
    if device_gb is None:
        import torch

        cuda = torch.cuda.is_available()
        device_gb = torch.cuda.get_device_properties(0).total_memory / GB if cuda else 80.0
    print(format_plan(cfg, plan(cfg, device_gb), device_gb))
    return 0
