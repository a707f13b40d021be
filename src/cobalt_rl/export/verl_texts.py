"""The text of the files ``cobalt export verl`` writes: the launch script, the reward module,
the README and the online modes' agent-loop registration and README (filled in by
:mod:`cobalt_rl.export.verl_launch`)."""

from __future__ import annotations

__all__ = [
    "AGENT_LOOP_TEMPLATE",
    "CRITIC_VARIABLE",
    "LAUNCH_SCRIPT_TEMPLATE",
    "ONLINE_README",
    "README_TEMPLATE",
    "REWARD_MODULE_TEMPLATE",
]


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
With the local backend they run where verl computes rewards: up to verl 0.6 in the trainer
process on the head node; from verl 0.7 in reward-loop workers (`reward.num_workers` Ray
actors) on EVERY node, so install bubblewrap (`apt-get install bubblewrap`) and cobalt-rl on
each node. Without bubblewrap the sandbox falls back to weaker isolation and warns on every
start. verl's own environment may be Python 3.10 (verl 0.5's install guide): cobalt-rl
requires 3.11, but its reward path runs on 3.10, so install it with
`pip install --no-deps --ignore-requires-python /path/to/cobalt-rl` there.

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

AGENT_LOOP_TEMPLATE = """\
# verl agent loop of `cobalt export verl --mode {mode}` (verl {version}.x): registered through
# actor_rollout_ref.rollout.agent.agent_loop_config_path; cobalt-rl must be installed in every
# node's verl environment (the class imports verl and cobalt_rl.export.verl).
- name: {name}
  _target_: cobalt_rl.export.verl_agent.CobaltFeedbackAgentLoop
  episode: '{episode}'  # a cobalt_rl EpisodeConfig as JSON (turns, stop_on_pass, profile...)
  reward: {reward}  # the last attempt on true public + hidden tests
  max_new_tokens: {max_new_tokens}  # each reply's cap (the episode's: rollout.response_length)
  invalid_code_penalty: {invalid_code_penalty}  # rlef: per earlier reply without valid code
  sandbox: '{sandbox}'
"""

ONLINE_README = """\
# {mode} with verl {version}.x: online episodes with sandbox feedback

Written by `cobalt export verl --mode {mode}` from `{problems}` ({rows} problems).

| file | what |
| --- | --- |
| `train.parquet` | a row per problem: first turn, `agent_name: {agent}`, tests |
| `cobalt_agent_loop.yaml` | registers `{agent}` (`cobalt_rl.export.verl_agent`) |
| `run_verl.sh` | `python3 -m verl.trainer.main_ppo` with `algorithm.adv_estimator={estimator}` |

Each episode runs in verl's agent loop: the policy replies, its code runs on the PUBLIC tests
in cobalt-rl's sandbox, the feedback becomes the next user turn, up to {turns} replies
(ending early when the public tests pass: {stop_on_pass}). Feedback tokens carry
`response_mask` 0 (no loss, no advantage). The agent loop scores the last attempt on the true
public + hidden tests (`{reward}` reward) and returns it as the episode's `reward_score`, which
verl puts on the last token; no reward function is configured.
{algorithm}

## Where it runs

verl runs agent loops in agent-loop workers (Ray actors on every node), so **every node**
needs, in verl's environment: cobalt-rl (`pip install --no-deps --ignore-requires-python
/path/to/cobalt-rl`: it supports Python 3.10 on this path although it requires 3.11 itself),
pydantic 2, and bubblewrap (`apt-get install bubblewrap`) for the local sandbox ({sandbox}).
Needs verl 0.6 or newer (0.5's agent loop never sees the problem's tests).

## What was and was not run

cobalt-rl's test suite (`tests/export/test_verl_releases.py`) runs verl's own code on an
export like this one, in a side environment per release (verl 0.7.1 with transformers 4.57,
0.9.1 with transformers 5.10): the overrides of `run_verl.sh` composed with verl's config and
validated, the parquet through verl's dataset, and episodes through verl's `AgentLoopWorker`
against a scripted server (token ids, the feedback mask, the log-probs, the reward). Not run
there: vLLM, GPUs, a Ray cluster, a training step.
"""


LAUNCH_SCRIPT_TEMPLATE = """\
#!/usr/bin/env bash
# {title} with verl {version}.x (written by `cobalt export verl`; see README.md).
# Settings: the paper's reference launch script, {reference},
# and cobalt-rl's TrainConfig defaults (the same GRPO numbers). Run it on the Ray head node,
# in verl's own environment. Append any verl override: bash run_verl.sh trainer.total_epochs=1
set -euo pipefail

HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"

MODEL="${{MODEL:-{model}}}"  # reference: Qwen/Qwen3-8B (single-turn: R1-Distill-Llama-8B)
{critic_variable}NNODES="${{NNODES:-{nnodes}}}"  # reference: 1
N_GPUS_PER_NODE="${{N_GPUS_PER_NODE:-{n_gpus_per_node}}}"  # reference: 4
TENSOR_PARALLEL="${{TENSOR_PARALLEL:-1}}"  # vLLM tensor parallelism (reference: 1)
MAX_PROMPT_LENGTH="${{MAX_PROMPT_LENGTH:-{max_prompt_length}}}"  # reference: 10240
MAX_RESPONSE_LENGTH="${{MAX_RESPONSE_LENGTH:-{max_response_length}}}"  # reference: 6144
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
#   beta={beta}: the reference's values. The KL estimator is the reference's mse (k2);
#   our TRL trainer uses TRL's default (k3).
# - Rewards: cobalt_reward.py runs replies in a local sandbox in verl's reward process; the
#   batch manager gives it a whole step at once. The reference used a Ray Serve evaluator
#   and a patched prime manager instead. Validation rows (val.parquet) get the binary reward.
# - vLLM max_num_batched_tokens is prompt + response (the reference: 16384 = 10240 + 6144).
# - Prompts longer than MAX_PROMPT_LENGTH are dropped, not cut (the reference truncated on
#   the right, which cuts the feedback the reply must act on).

python3 -m verl.trainer.main_ppo \\
    algorithm.adv_estimator={estimator} \\
{online_keys}    data.train_files="$HERE/train.parquet" \\
{validation}    data.train_batch_size="$TRAIN_BATCH_SIZE" \\
    data.max_prompt_length="$MAX_PROMPT_LENGTH" \\
    data.max_response_length="$MAX_RESPONSE_LENGTH" \\
    data.filter_overlong_prompts=True \\
    data.truncation=error \\
    actor_rollout_ref.model.path="$MODEL" \\
    actor_rollout_ref.model.use_remove_padding=True \\
    actor_rollout_ref.model.enable_gradient_checkpointing=True \\
    actor_rollout_ref.actor.optim.lr={learning_rate} \\
    actor_rollout_ref.actor.ppo_mini_batch_size="$PPO_MINI_BATCH_SIZE" \\
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2 \\
    actor_rollout_ref.actor.grad_clip=1.0 \\
    actor_rollout_ref.actor.clip_ratio_low={epsilon} \\
    actor_rollout_ref.actor.clip_ratio_high={epsilon_high} \\
    actor_rollout_ref.actor.use_kl_loss={kl_loss} \\
    actor_rollout_ref.actor.kl_loss_coef={beta} \\
    actor_rollout_ref.actor.kl_loss_type=mse \\
    actor_rollout_ref.actor.fsdp_config.param_offload=False \\
    actor_rollout_ref.actor.fsdp_config.optimizer_offload=True \\
    actor_rollout_ref.rollout.name=vllm \\
    actor_rollout_ref.rollout.n={num_generations} \\
    actor_rollout_ref.rollout.temperature={temperature} \\
    actor_rollout_ref.rollout.top_p={top_p} \\
    actor_rollout_ref.rollout.top_k={top_k} \\
    actor_rollout_ref.rollout.gpu_memory_utilization=0.7 \\
    actor_rollout_ref.rollout.tensor_model_parallel_size="$TENSOR_PARALLEL" \\
    actor_rollout_ref.rollout.max_num_batched_tokens=$((MAX_PROMPT_LENGTH + MAX_RESPONSE_LENGTH)) \\
    actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=16 \\
    actor_rollout_ref.rollout.val_kwargs.temperature=0.6 \\
    actor_rollout_ref.rollout.val_kwargs.top_p=0.95 \\
    actor_rollout_ref.rollout.val_kwargs.do_sample=True \\
    actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=16 \\
    actor_rollout_ref.ref.fsdp_config.param_offload=True \\
{reward_keys}    trainer.critic_warmup=0 \\
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

CRITIC_VARIABLE = (
    "CRITIC_MODEL=\"${CRITIC_MODEL:-$MODEL}\"  # the critic's model (default: the policy's)\n"
)
