"""``cobalt run CONFIG.yaml``: the whole pipeline in one run directory (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cobalt_rl.cli.flags import add_file_command

__all__ = ["announce", "register", "run"]


def register(sub: Any) -> None:
    from cobalt_rl.pipeline import ALL_STAGES

    parser = add_file_command(sub, "run", run, config_help="run config (see configs/demo.yaml)")
    parser.add_argument(
        "--from",
        dest="from_stage",
        choices=ALL_STAGES,  # hacking stages only with a `hacking` section
        default=None,
        help="re-run from this stage on (earlier outputs are moved aside)",
    )


def run(args: argparse.Namespace) -> int:
    """Run every stage: rollout, contexts, training, evaluation, report.

    Run the whole Cobalt pipeline from one YAML config into one run directory. Finished stages
    are skipped; an interrupted run resumes.
    """
    from cobalt_rl.pipeline import load_run_config, run_pipeline

    cfg = load_run_config(args.config)
    announce("run", args.config, cfg.estimated_minutes, cfg.run_dir)
    print(f"cobalt run: profile {cfg.profile.value} (see docs/profiles.md)", flush=True)
    report = run_pipeline(cfg, args.from_stage)
    print(f"cobalt run: done; report: {report}")
    return 0


def announce(command: str, config: Path, minutes: float | None, out: Path) -> None:
    """Say how long a long job takes before it starts (``minutes``: the config's figure; its
    comment says on which machine it was measured). On a CPU without native bf16 the line
    adds that the run will be slower there."""
    if minutes:
        print(
            f"cobalt {command}: {announcement(config, minutes)}; artifacts go to {out}", flush=True
        )


def announcement(config: Path, minutes: float, native_bf16: bool | None = None) -> str:
    """The expected duration, qualified by this CPU (``native_bf16`` None: detect it)."""
    from cobalt_rl.llm.hf import cpu_has_native_bf16

    text = f"{config} takes about {minutes:g} minutes on a 2-core CPU machine"
    native = cpu_has_native_bf16() if native_bf16 is None else native_bf16
    if not native:
        text += (
            " (this CPU has no native bf16, so it runs in fp32: a training step took 1.7x as "
            "long in fp32 where both were timed, so expect longer; the config says where it "
            "was timed)"
        )
    return text
