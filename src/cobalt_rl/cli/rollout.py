"""``cobalt rollout``: multi-turn trajectories with execution feedback on public tests."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cobalt_rl.config import add_model_arguments, config_from_yaml_and_args, validate_config
from cobalt_rl.llm.registry import Backend
from cobalt_rl.sandbox.factory import SandboxConfig

__all__ = ["RolloutConfig", "register", "run"]


class RolloutConfig(BaseModel):
    """Options of ``cobalt rollout`` (also the keys of its YAML config)."""

    model_config = ConfigDict(extra="forbid")

    problems: Path = Field(description="Problems JSONL to roll out on.")
    out: Path = Field(description="Trajectories JSONL (appended per problem; resumes).")
    samples: int = Field(16, ge=1, description="Trajectories per problem.")
    turns: int = Field(3, ge=1, description="Most attempts per trajectory.")
    stop_on_pass: bool = Field(
        False,
        description="End a trajectory once its program passes every public test (the paper's "
        "collection keeps going).",
    )
    limit: int | None = Field(None, ge=1, description="Use only the first N problems.")
    group_size: int = Field(
        8, ge=1, description="Problems per generation group (two groups are in flight)."
    )
    backend: Backend = Field("embedded", description="Generator backend.")
    model: str | None = Field(None, description="Checkpoint dir / served model name.")
    base_url: str | None = Field(None, description="openai backend: the server's API root.")
    api_key_env: str | None = Field(None, description="openai: env var holding the API key.")
    device: str = Field("cpu", description="transformers/embedded: cpu, cuda, cuda:N, mps.")
    dtype: str = Field("auto", description="auto, float32, bfloat16 or float16.")
    batch_size: int = Field(16, ge=1, description="Sequences per generation batch.")
    num_threads: int | None = Field(0, ge=0, description="torch CPU threads (0: one a core).")
    cache_dir: Path | None = Field(None, description="embedded: converted-model cache dir.")
    temperature: float = Field(1.0, ge=0, description="Sampling temperature (0: greedy).")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass.")
    max_new_tokens: int = Field(512, ge=1, description="Most tokens per reply.")
    seed: int | None = Field(0, description="Sampling seed (unset: not seeded).")
    max_reply_chars: int = Field(6000, ge=1, description="Replies kept in history are capped.")
    workers: int | None = Field(None, ge=1, description="Sandbox workers (default: one a core).")
    sandbox: SandboxConfig = Field(
        default_factory=SandboxConfig,
        description="Where programs run: backend local, ray, http or sandboxfusion "
        "(see cobalt_rl.sandbox.factory).",
    )
    timeout: float = Field(4.0, gt=0, description="Wall-clock limit per test, in seconds.")

    def generator_config(self) -> Any:
        from cobalt_rl.llm import GeneratorConfig

        data = {
            "backend": self.backend,
            "model": self.model,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "device": self.device,
            "dtype": self.dtype,
            "batch_size": self.batch_size,
            "num_threads": self.num_threads,
            "cache_dir": self.cache_dir,
        }
        return validate_config(GeneratorConfig, data, where="generator settings")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "rollout",
        help="collect multi-turn trajectories with execution feedback",
        description="Roll out SAMPLES trajectories of up to TURNS attempts per problem; each "
        "attempt runs on the public tests and the feedback becomes the next user turn.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML file with any of the options below (flags given here override it)",
    )
    add_model_arguments(parser, RolloutConfig)
    for action in parser._actions:  # problems/out may come from the YAML file instead
        if action.dest in ("problems", "out"):
            action.required = False
    parser.set_defaults(func=run)


def load_config(args: argparse.Namespace) -> RolloutConfig:
    cfg = config_from_yaml_and_args(RolloutConfig, args.config, "rollout", args)
    cfg.generator_config()  # validate before any model loads
    return cfg


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    from tqdm import tqdm

    from cobalt_rl.llm import SamplingParams, make_generator
    from cobalt_rl.problems import load_problems
    from cobalt_rl.rollout import EpisodeSettings, RolloutProgress, run_rollout
    from cobalt_rl.sandbox import Limits
    from cobalt_rl.sandbox.factory import make_sandbox

    problems = load_problems(cfg.problems)
    if cfg.limit:
        problems = problems[: cfg.limit]
    sampling = SamplingParams(
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
    )
    settings = EpisodeSettings(
        samples=cfg.samples,
        turns=cfg.turns,
        stop_on_pass=cfg.stop_on_pass,
        max_reply_chars=cfg.max_reply_chars,
        group_size=cfg.group_size,
    )
    bar = tqdm(total=len(problems), desc="rollout", unit="problem", file=sys.stderr, disable=None)

    def show(p: RolloutProgress) -> None:
        bar.n = p.problems_done
        bar.set_postfix(attempts=p.attempts, public_pass=f"{p.pass_rate:.2f}", tokens=p.tokens)

    limits = Limits(timeout_s=cfg.timeout, program_timeout_s=max(30.0, cfg.timeout))
    generator = make_generator(cfg.generator_config())
    try:
        with closing(make_sandbox(cfg.sandbox, limits, workers=cfg.workers)) as sandbox:
            progress = run_rollout(
                problems, generator, sandbox, str(cfg.out), settings, sampling, show
            )
    finally:
        generator.close()
        bar.close()
    print(
        f"rollout: {progress.problems_done}/{progress.problems_total} problems, "
        f"{progress.attempts} new attempts (public pass rate {progress.pass_rate:.3f}), "
        f"{progress.tokens} tokens; trajectories in {cfg.out}"
    )
    return 0
