"""``cobalt export verl``: write what a verl run needs into one directory.

- ``train.parquet`` (and ``val.parquet``): the contexts as verl rows
  (:mod:`cobalt_rl.export.verl` says the format);
- ``cobalt_reward.py``: verl's custom reward function (``custom_reward_function.path``):
  ``compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)`` for
  verl's ``naive`` reward manager and ``compute_score_batch(data_sources, solution_strs,
  ground_truths, extra_infos, **kwargs)`` for its ``batch`` manager. It is a few lines that
  call :func:`cobalt_rl.export.verl.verl_compute_score_batch`, so the logic is tested
  without verl;
- ``run_verl.sh``: ``python3 -m verl.trainer.main_ppo`` with the paper's settings, and
  ``README.md``: how to run it.

Values come from the paper's reference launch script for Cobalt, OSU-NLP-Group/cobalt
``scripts/train_grpo_multi_turn.sh`` (its recipe for contextual bandit learning), and from
:class:`~cobalt_rl.train.config.GrpoOptions`, which holds the GRPO numbers both share.
This module imports :mod:`cobalt_rl.export.verl`; that one never imports this one (it must
load in verl's environment on its own).
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.errors import ConfigError
from cobalt_rl.export.verl import (
    ABILITY,
    DATA_SOURCE,
    TRAIN_SPLIT,
    VALIDATION_SPLIT,
    write_verl_parquet,
)
from cobalt_rl.profiles import PROFILE_FIELD_DOC, Profile
from cobalt_rl.records import Context, read_jsonl
from cobalt_rl.sandbox.config import LocalSandboxConfig, SandboxConfig, default_sandbox_config

__all__ = [
    "README_TEMPLATE",
    "REFERENCE_SCRIPT",
    "REWARD_MODULE_TEMPLATE",
    "VerlExport",
    "VerlExportConfig",
    "export_verl",
    "render_launch_script",
    "render_readme",
    "render_reward_module",
]


class VerlExportConfig(BaseModel):
    """Options of ``cobalt export verl`` (defaults: the paper's reference launch script)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contexts: Path = Field(description="Training contexts JSONL from `cobalt contexts`.")
    val_contexts: Path | None = Field(
        None,
        description="Validation contexts JSONL (`cobalt contexts --split validation`); scored "
        "with the binary reward. Unset: no validation during training.",
    )
    out: Path = Field(
        description="Directory to write train.parquet, val.parquet, cobalt_reward.py, "
        "run_verl.sh and README.md into (created; those files are replaced)."
    )
    max_prompt_length: int = Field(
        10240,
        ge=1,
        description="verl data.max_prompt_length, tokens (reference: 10240; `cobalt "
        "contexts` drops prompts over 10,000 tokens).",
    )
    max_response_length: int = Field(
        6144, ge=1, description="verl data.max_response_length, tokens (reference: 6144)."
    )
    model: str = Field(
        "Qwen/Qwen3-8B",
        description="Default policy in run_verl.sh (a Hugging Face id or path; the MODEL "
        "variable overrides it; reference: Qwen/Qwen3-8B).",
    )
    nnodes: int = Field(1, ge=1, description="Default node count in run_verl.sh (reference: 1).")
    n_gpus_per_node: int = Field(
        4, ge=1, description="Default GPUs per node in run_verl.sh (reference: 4)."
    )
    reasoning: bool = Field(
        False,
        description="The policy is a thinking model: the reward also wants exactly one "
        "</think> and penalizes over-long replies (code is taken after </think> either way).",
    )
    profile: Profile = Field(
        Profile.REFERENCE,
        description="The reward's rules (default reference: the paper's own reward, format "
        "term and code extraction, as verl trained with them; cobalt-rl: ours). "
        + PROFILE_FIELD_DOC,
    )
    sandbox: SandboxConfig = Field(
        default_factory=default_sandbox_config,
        description="Where the reward process runs programs, and their limits (written into "
        "cobalt_reward.py; local: workers per reward process, default its cores).",
    )

    @model_validator(mode="after")
    def _check(self) -> VerlExportConfig:
        if self.val_contexts is not None and self.val_contexts == self.contexts:
            raise ValueError(
                "val_contexts is the training file: build validation contexts with "
                "`cobalt contexts --split validation` on held-out problems"
            )
        return self


REFERENCE_SCRIPT = "OSU-NLP-Group/cobalt scripts/train_grpo_multi_turn.sh"
_REF_TRAIN_BATCH_SIZE = 128
_REF_PPO_MINI_BATCH_SIZE = 64

REWARD_MODULE_TEMPLATE = '''\
"""verl reward for Cobalt contexts (written by `cobalt export verl`; see README.md).

verl: custom_reward_function.path=<this file>, custom_reward_function.name=compute_score_batch
with reward_model.reward_manager=batch (one sandbox batch per step), or name=compute_score
with the naive manager (one reply at a time). Needs cobalt-rl installed where verl computes
rewards; the logic is cobalt_rl.export.verl.verl_compute_score_batch.
"""

import json

from cobalt_rl.export.verl import LazySandbox, verl_compute_score, verl_compute_score_batch

REASONING = {reasoning!r}  # the policy thinks: also score the </think> format (cobalt-rl)
PROFILE = {profile!r}  # the reward's rules: reference (the paper's) or cobalt-rl
# Where programs run, and their limits: a cobalt_rl.sandbox.config.SandboxConfig as JSON.
SANDBOX_CONFIG = {sandbox_config!r}
_SANDBOX = LazySandbox(json.loads(SANDBOX_CONFIG))  # started on first call


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    return verl_compute_score(
        _SANDBOX.get(), solution_str, ground_truth, extra_info, reasoning=REASONING,
        profile=PROFILE,
    )


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs):
    return verl_compute_score_batch(
        _SANDBOX.get(), solution_strs, ground_truths, extra_infos, reasoning=REASONING,
        profile=PROFILE,
    )
'''


def _batch_sizes(rows: int) -> tuple[int, int]:
    """verl's train batch and PPO mini-batch (prompts): the reference's 128 / 64, or, for a
    smaller set, the largest power of two that fits (verl drops an incomplete last batch)."""
    batch = _REF_TRAIN_BATCH_SIZE
    if rows < batch:
        batch = 2 ** int(math.log2(max(rows, 1)))
    return batch, min(_REF_PPO_MINI_BATCH_SIZE, batch)


def render_reward_module(cfg: VerlExportConfig) -> str:
    """The text of ``cobalt_reward.py``."""
    return REWARD_MODULE_TEMPLATE.format(
        reasoning=cfg.reasoning,
        profile=cfg.profile.value,
        sandbox_config=cfg.sandbox.model_dump_json(),
    )


def render_launch_script(cfg: VerlExportConfig, train_rows: int, has_val: bool) -> str:
    """The text of ``run_verl.sh``."""
    from cobalt_rl.train.config import GrpoOptions  # only here: the GRPO numbers we share

    defaults = GrpoOptions()
    grpo = (
        f"num_generations={defaults.num_generations}, learning_rate={defaults.learning_rate}, "
        f"epsilon={defaults.epsilon}, epsilon_high={defaults.epsilon_high}"
    )
    batch, mini = _batch_sizes(train_rows)
    batch_note = (
        "reference: 128"
        if batch == _REF_TRAIN_BATCH_SIZE
        else f"reference: 128; {train_rows} training rows here"
    )
    if has_val:
        validation = (
            '    data.val_files="$HERE/val.parquet" \\\n'
            "    trainer.test_freq=10 \\\n"  # reference
        )
    else:  # verl always builds a validation set; with no val.parquet it never runs
        validation = (
            '    data.val_files="$HERE/train.parquet" \\\n'
            "    trainer.test_freq=-1 \\\n"
            "    trainer.val_before_train=False \\\n"
        )
    return f"""\
#!/usr/bin/env bash
# Cobalt: contextual-bandit GRPO with verl (written by `cobalt export verl`; see README.md).
# Settings: the paper's reference launch script, {REFERENCE_SCRIPT},
# and cobalt-rl's TrainConfig defaults (the same GRPO numbers). Run it on the Ray head node,
# in verl's own environment. Append any verl override: bash run_verl.sh trainer.total_epochs=1
set -euo pipefail

HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"

MODEL="${{MODEL:-{cfg.model}}}"  # reference: Qwen/Qwen3-8B (single-turn: R1-Distill-Llama-8B)
NNODES="${{NNODES:-{cfg.nnodes}}}"  # reference: 1
N_GPUS_PER_NODE="${{N_GPUS_PER_NODE:-{cfg.n_gpus_per_node}}}"  # reference: 4
TENSOR_PARALLEL="${{TENSOR_PARALLEL:-1}}"  # vLLM tensor parallelism (reference: 1)
MAX_PROMPT_LENGTH="${{MAX_PROMPT_LENGTH:-{cfg.max_prompt_length}}}"  # reference: 10240
MAX_RESPONSE_LENGTH="${{MAX_RESPONSE_LENGTH:-{cfg.max_response_length}}}"  # reference: 6144
TRAIN_BATCH_SIZE="${{TRAIN_BATCH_SIZE:-{batch}}}"  # prompts per step ({batch_note})
PPO_MINI_BATCH_SIZE="${{PPO_MINI_BATCH_SIZE:-{mini}}}"  # prompts per update (reference: 64)
TOTAL_EPOCHS="${{TOTAL_EPOCHS:-2}}"  # reference: 2 (single-turn script: 4)
LOGGER="${{LOGGER:-['console']}}"  # reference: ['wandb']
PROJECT="${{PROJECT:-cobalt}}"
EXPERIMENT="${{EXPERIMENT:-cobalt-$(basename "$MODEL")-$(date +%Y%m%d-%H%M%S)}}"
CHECKPOINT_DIR="${{CHECKPOINT_DIR:-$HERE/checkpoints/$EXPERIMENT}}"

# Notes on the settings:
# - GRPO: rollout.n, lr, clip ratios (clip-higher) and KL loss coefficient are TrainConfig's
#   {grpo},
#   beta={defaults.beta}: the reference's values. The KL estimator is the reference's mse (k2);
#   our TRL trainer uses TRL's default (k3).
# - Rewards: cobalt_reward.py runs replies in a local sandbox in verl's reward process; the
#   batch manager gives it a whole step at once. The reference used a Ray Serve evaluator
#   and a patched prime manager instead. Validation rows (val.parquet) get the binary reward.
# - vLLM max_num_batched_tokens is prompt + response (the reference: 16384 = 10240 + 6144).
# - Prompts longer than MAX_PROMPT_LENGTH are dropped, not cut (the reference truncated on
#   the right, which cuts the feedback the reply must act on).

python3 -m verl.trainer.main_ppo \\
    algorithm.adv_estimator=grpo \\
    data.train_files="$HERE/train.parquet" \\
{validation}    data.train_batch_size="$TRAIN_BATCH_SIZE" \\
    data.max_prompt_length="$MAX_PROMPT_LENGTH" \\
    data.max_response_length="$MAX_RESPONSE_LENGTH" \\
    data.filter_overlong_prompts=True \\
    data.truncation=error \\
    actor_rollout_ref.model.path="$MODEL" \\
    actor_rollout_ref.model.use_remove_padding=True \\
    actor_rollout_ref.model.enable_gradient_checkpointing=True \\
    actor_rollout_ref.actor.optim.lr={defaults.learning_rate} \\
    actor_rollout_ref.actor.ppo_mini_batch_size="$PPO_MINI_BATCH_SIZE" \\
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2 \\
    actor_rollout_ref.actor.grad_clip=1.0 \\
    actor_rollout_ref.actor.clip_ratio_low={defaults.epsilon} \\
    actor_rollout_ref.actor.clip_ratio_high={defaults.epsilon_high} \\
    actor_rollout_ref.actor.use_kl_loss=True \\
    actor_rollout_ref.actor.kl_loss_coef={defaults.beta} \\
    actor_rollout_ref.actor.kl_loss_type=mse \\
    actor_rollout_ref.actor.fsdp_config.param_offload=False \\
    actor_rollout_ref.actor.fsdp_config.optimizer_offload=True \\
    actor_rollout_ref.rollout.name=vllm \\
    actor_rollout_ref.rollout.n={defaults.num_generations} \\
    actor_rollout_ref.rollout.temperature={defaults.temperature} \\
    actor_rollout_ref.rollout.gpu_memory_utilization=0.7 \\
    actor_rollout_ref.rollout.tensor_model_parallel_size="$TENSOR_PARALLEL" \\
    actor_rollout_ref.rollout.max_num_batched_tokens=$((MAX_PROMPT_LENGTH + MAX_RESPONSE_LENGTH)) \\
    actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=16 \\
    actor_rollout_ref.rollout.val_kwargs.temperature=0.6 \\
    actor_rollout_ref.rollout.val_kwargs.top_p=0.95 \\
    actor_rollout_ref.rollout.val_kwargs.do_sample=True \\
    actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=16 \\
    actor_rollout_ref.ref.fsdp_config.param_offload=True \\
    reward_model.reward_manager=batch \\
    custom_reward_function.path="$HERE/cobalt_reward.py" \\
    custom_reward_function.name=compute_score_batch \\
    trainer.critic_warmup=0 \\
    trainer.logger="$LOGGER" \\
    trainer.project_name="$PROJECT" \\
    trainer.experiment_name="$EXPERIMENT" \\
    trainer.nnodes="$NNODES" \\
    trainer.n_gpus_per_node="$N_GPUS_PER_NODE" \\
    trainer.default_local_dir="$CHECKPOINT_DIR" \\
    trainer.save_freq=10 \\
    trainer.total_epochs="$TOTAL_EPOCHS" \\
    "$@" 2>&1 | tee "$HERE/verl_train.log"
"""


README_TEMPLATE = """\
# Cobalt training with verl

Written by `cobalt export verl` from `{contexts}`{val_from}. The paper trained with verl on
Ray ({reference}); this directory holds what such a run needs:

| file | what |
| --- | --- |
| `train.parquet` | {train_rows} training contexts, one row each (schema below) |
{val_row}| `cobalt_reward.py` | verl's custom reward function: the `cobalt` reward, sandboxed |
| `run_verl.sh` | `python3 -m verl.trainer.main_ppo` with the paper's GRPO settings |

## 1. An environment for verl (never cobalt-rl's own)

verl installs its own torch, transformers, vLLM and Ray, pinned to each other. Give it its own
environment (conda or venv) on every node, following verl's install guide for the version you
use (the paper used verl v0.5.0 with vLLM). **Do not install verl into cobalt-rl's
environment**, and do not install cobalt-rl's dependencies into verl's: cobalt-rl pins a
torch build that would replace verl's.

The reward module needs only cobalt-rl's records, rewards and sandbox (pure Python and
pydantic), so add cobalt-rl to verl's environment *without* its dependencies, on every node:

```bash
pip install --no-deps /path/to/cobalt-rl     # or the wheel
pip install "pydantic>=2.7,<3"               # usually there already
python -c "import cobalt_rl.export.verl"  # must work in verl's environment
```

Programs run in cobalt-rl's sandbox, as `SANDBOX_CONFIG` in `cobalt_reward.py` says: {sandbox}.
With the local backend they run on the node that computes rewards (verl's trainer process, on
the head node): install bubblewrap there (`apt-get install bubblewrap`) for full isolation;
without it the sandbox falls back to weaker isolation and warns on every start.

## 2. A Ray cluster

On the head node, then on each other node (in verl's environment):

```bash
ray start --head --port=6379
ray start --address=HEAD_IP:6379
```

## 3. Run

On the head node (verl's `ray.init()` joins the running cluster):

```bash
MODEL=Qwen/Qwen3-8B NNODES=2 N_GPUS_PER_NODE=8 bash run_verl.sh
bash run_verl.sh trainer.save_freq=20   # any verl override may be appended
```

Variables at the top of `run_verl.sh` (MODEL, NNODES, N_GPUS_PER_NODE, MAX_PROMPT_LENGTH,
MAX_RESPONSE_LENGTH, TRAIN_BATCH_SIZE, TOTAL_EPOCHS, LOGGER, CHECKPOINT_DIR...) may be set in
the environment. The log goes to `verl_train.log`, checkpoints to `checkpoints/`; convert one
to a Hugging Face model with verl's model merger (see verl's docs for your version), then
evaluate it with `cobalt rollout` and `cobalt evaluate`.

## The data

One row per context, in verl's RL dataset format:

- `data_source`: `"{data_source}"`; `ability`: `"{ability}"`
- `prompt`: the chat messages (`[{{role, content}}]`): a trajectory prefix ending in a user turn
- `reward_model`: `{{style: "rule", ground_truth}}`, where `ground_truth` is a JSON string
  `{{"tests": [{{"input", "output"}}], "mode", "fn_name"}}` (the TRUE tests, also for
  contexts with perturbed feedback)
- `extra_info`: `index`, `context_id`, `problem_id`, `prev_best_pass_rate` (the reward's
  improvement baseline), `perturbed`, `num_prev_attempts`, `split` (`train` or `validation`)

## The reward

`cobalt` under the `{profile}` profile ({reward_doc}): 1.0 if all tests pass, 0.2 at
least half, 0.0 some, -0.1 none; an improvement bonus over `prev_best_pass_rate`, a
regression penalty, a format term{reasoning}; -1 without a code block; clipped to [-1, 1].
Validation rows get the binary reward (1 all pass, else 0). {extraction}
"""


def _read_contexts(path: Path, split: str, flag: str) -> list[Context]:
    contexts = list(read_jsonl(path, Context))
    if not contexts:
        raise ConfigError(f"{path} holds no contexts; build them with `cobalt contexts`")
    for context in contexts:
        built_for = context.metadata.get("split")
        if built_for is not None and built_for != split:
            raise ConfigError(
                f"{path}: context {context.id!r} was built as {built_for!r} contexts but was given "
                f"as {flag}; pass {split} contexts there (`cobalt contexts --split {split}`)"
            )
    return contexts


@dataclass(frozen=True)
class VerlExport:
    """What :func:`export_verl` wrote."""

    out: Path
    train_rows: int
    val_rows: int
    files: tuple[Path, ...]


def _write_text(path: Path, text: str, executable: bool = False) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    if executable:
        partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(partial, path)


def _sandbox_summary(sandbox: SandboxConfig) -> str:
    per_test = f"{sandbox.limits.timeout_s:g} s per test"
    if isinstance(sandbox, LocalSandboxConfig):
        workers = f"{sandbox.workers} workers" if sandbox.workers else "one worker per core"
        return f"local, {workers} per reward process, {per_test}"
    return f"the {sandbox.backend} backend, {per_test}"


def render_readme(cfg: VerlExportConfig, train_rows: int, val_rows: int) -> str:
    """The text of ``README.md``."""
    reference = cfg.profile is Profile.REFERENCE
    if reference:
        reasoning = (
            " (the reference's: -0.9 for a malformed reply, a thinking bonus, length penalties)"
        )
    else:
        reasoning = " (for this thinking model: exactly one `</think>`, and a length limit)"
    return README_TEMPLATE.format(
        profile=cfg.profile.value,
        reward_doc="`cobalt_rl.rewards.reference_score`, the paper's reward"
        if reference
        else "`cobalt_rl.rewards.cobalt_score`; docs/profiles.md lists how it differs",
        extraction="Code is the last fenced block of the whole reply, the reference's rule."
        if reference
        else "Code is taken from the last Python block after the last `</think>`.",
        contexts=cfg.contexts,
        val_from=f" and `{cfg.val_contexts}`" if val_rows else "",
        reference=REFERENCE_SCRIPT,
        train_rows=train_rows,
        val_row=f"| `val.parquet` | {val_rows} validation contexts |\n" if val_rows else "",
        sandbox=_sandbox_summary(cfg.sandbox),
        data_source=DATA_SOURCE,
        ability=ABILITY,
        reasoning=reasoning if cfg.reasoning or reference else "",
    )


def export_verl(cfg: VerlExportConfig) -> VerlExport:
    """Write the parquet files, reward module, launch script and README into ``cfg.out``.

    Raises:
        ConfigError: a contexts file is empty or holds contexts of the other split.
        RecordError: a contexts file has a line that is not a valid context.
    """
    train = _read_contexts(cfg.contexts, TRAIN_SPLIT, "--contexts")
    validation = (
        _read_contexts(cfg.val_contexts, VALIDATION_SPLIT, "--val-contexts")
        if cfg.val_contexts is not None
        else []
    )
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    train_rows = write_verl_parquet(train, out / "train.parquet", TRAIN_SPLIT)
    files = [out / "train.parquet"]
    val_rows = 0
    if validation:
        val_rows = write_verl_parquet(validation, out / "val.parquet", VALIDATION_SPLIT)
        files.append(out / "val.parquet")
    elif (out / "val.parquet").exists():  # a stale file from an earlier export would mislead
        (out / "val.parquet").unlink()
    texts = {
        "cobalt_reward.py": render_reward_module(cfg),
        "run_verl.sh": render_launch_script(cfg, train_rows, bool(validation)),
        "README.md": render_readme(cfg, train_rows, val_rows),
    }
    for name, text in texts.items():
        _write_text(out / name, text, executable=name.endswith(".sh"))
        files.append(out / name)
    return VerlExport(out=out, train_rows=train_rows, val_rows=val_rows, files=tuple(files))
