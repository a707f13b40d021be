"""The text files ``cobalt export verl`` writes: reward module, launch script, README.

Kept apart from :mod:`cobalt_rl.export.verl` (the data and the reward logic) because
they are mostly text. Values come from the paper's reference launch script for Cobalt,
OSU-NLP-Group/cobalt ``scripts/train_grpo_multi_turn.sh`` (its recipe for contextual bandit
learning), and from :class:`~cobalt_rl.train.config.TrainConfig`, which holds the GRPO
numbers both share.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cobalt_rl.train.config import TrainConfig

if TYPE_CHECKING:
    from cobalt_rl.export.verl import VerlExportConfig

__all__ = [
    "README_TEMPLATE",
    "REFERENCE_SCRIPT",
    "REWARD_MODULE_TEMPLATE",
    "render_launch_script",
]

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

from cobalt_rl.export.verl import LazySandbox, verl_compute_score, verl_compute_score_batch

REASONING = {reasoning!r}  # the policy thinks: also score the </think> format
_SANDBOX = LazySandbox(workers={workers!r}, test_timeout={timeout!r})  # started on first call


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    return verl_compute_score(
        _SANDBOX.get(), solution_str, ground_truth, extra_info, reasoning=REASONING
    )


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs):
    return verl_compute_score_batch(
        _SANDBOX.get(), solution_strs, ground_truths, extra_infos, reasoning=REASONING
    )
'''


def _batch_sizes(rows: int) -> tuple[int, int]:
    """verl's train batch and PPO mini-batch (prompts): the reference's 128 / 64, or, for a
    smaller set, the largest power of two that fits (verl drops an incomplete last batch)."""
    batch = _REF_TRAIN_BATCH_SIZE
    if rows < batch:
        batch = 2 ** int(math.log2(max(rows, 1)))
    return batch, min(_REF_PPO_MINI_BATCH_SIZE, batch)


def render_launch_script(cfg: VerlExportConfig, train_rows: int, has_val: bool) -> str:
    """The text of ``run_verl.sh``."""
    d = {name: f.default for name, f in TrainConfig.model_fields.items()}
    grpo = ", ".join(f"{k}={d[k]}" for k in ("num_generations", "learning_rate", "epsilon"))
    grpo += f", epsilon_high={d['epsilon_high']}"
    batch, mini = _batch_sizes(train_rows)
    batch_note = (
        "reference: 128"
        if batch == _REF_TRAIN_BATCH_SIZE
        else f"reference: 128; {train_rows} training rows here"
    )
    if has_val:
        val = (
            '    data.val_files="$HERE/val.parquet" \\\n'
            "    trainer.test_freq=10 \\\n"  # reference
        )
    else:  # verl always builds a validation set; with no val.parquet it never runs
        val = (
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
#   beta={d["beta"]}: the reference's values. The KL estimator is the reference's mse (k2);
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
{val}    data.train_batch_size="$TRAIN_BATCH_SIZE" \\
    data.max_prompt_length="$MAX_PROMPT_LENGTH" \\
    data.max_response_length="$MAX_RESPONSE_LENGTH" \\
    data.filter_overlong_prompts=True \\
    data.truncation=error \\
    actor_rollout_ref.model.path="$MODEL" \\
    actor_rollout_ref.model.use_remove_padding=True \\
    actor_rollout_ref.model.enable_gradient_checkpointing=True \\
    actor_rollout_ref.actor.optim.lr={d["learning_rate"]} \\
    actor_rollout_ref.actor.ppo_mini_batch_size="$PPO_MINI_BATCH_SIZE" \\
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2 \\
    actor_rollout_ref.actor.grad_clip=1.0 \\
    actor_rollout_ref.actor.clip_ratio_low={d["epsilon"]} \\
    actor_rollout_ref.actor.clip_ratio_high={d["epsilon_high"]} \\
    actor_rollout_ref.actor.use_kl_loss=True \\
    actor_rollout_ref.actor.kl_loss_coef={d["beta"]} \\
    actor_rollout_ref.actor.kl_loss_type=mse \\
    actor_rollout_ref.actor.fsdp_config.param_offload=False \\
    actor_rollout_ref.actor.fsdp_config.optimizer_offload=True \\
    actor_rollout_ref.rollout.name=vllm \\
    actor_rollout_ref.rollout.n={d["num_generations"]} \\
    actor_rollout_ref.rollout.temperature={d["temperature"]} \\
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

Programs run in cobalt-rl's sandbox on the node that computes rewards (verl's trainer
process, on the head node). Install bubblewrap there (`apt-get install bubblewrap`) for full
isolation; without it the sandbox falls back to weaker isolation and warns on every start.
It uses {workers} per reward process and {timeout} s per test.

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

`cobalt` (cobalt-rl's `cobalt_rl.rewards.cobalt_score`): 1.0 if all tests pass, 0.2 at least
half, 0.0 some, -0.1 none; an improvement bonus over `prev_best_pass_rate`, a regression
penalty, a format term{reasoning}; -1 without a code block; clipped to [-1, 1].
Validation rows get the binary reward (1 all pass, else 0). Code is taken from the last
Python block after the last `</think>`.
"""
