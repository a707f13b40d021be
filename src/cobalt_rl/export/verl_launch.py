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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cobalt_rl.episode.config import EpisodeConfig, episode_section
from cobalt_rl.errors import ConfigError
from cobalt_rl.export.verl import (
    ABILITY,
    AGENT_NAME,
    DATA_SOURCE,
    TRAIN_SPLIT,
    VALIDATION_SPLIT,
    problem_to_verl_row,
    write_verl_parquet,
    write_verl_rows,
)
from cobalt_rl.export.verl_modes import VERL_MODES, VerlMode, rlef_defaults
from cobalt_rl.export.verl_texts import (
    AGENT_LOOP_TEMPLATE,
    CRITIC_VARIABLE,
    LAUNCH_SCRIPT_TEMPLATE,
    ONLINE_README,
    README_TEMPLATE,
    REWARD_MODULE_TEMPLATE,
)
from cobalt_rl.export.verl_versions import (
    NEWEST_VERL,
    ONLINE_MIN_VERL,
    VerlKeys,
    parse_verl_version,
)
from cobalt_rl.llm.base import SamplingParams
from cobalt_rl.profiles import DEFAULT_PROFILE, PROFILE_FIELD_DOC, Profile
from cobalt_rl.records import Context, Problem, read_jsonl
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

    mode: Literal["cobalt", "multiturn", "rlef", "verpo"] = Field(
        "cobalt",
        description="cobalt: one reply per offline context (the paper's contextual bandit, "
        "from --contexts); multiturn (GRPO) or rlef (PPO with a critic): online episodes "
        "with sandbox feedback in verl's agent loop (from --problems, verl 0.6+); verpo is "
        "refused (its test weights need a whole group, which verl's per-episode loop never "
        "sees: use `cobalt train --mode verpo`).",
    )
    verl_version: str = Field(
        NEWEST_VERL,
        description="The verl release the launch keys are written for: 0.5 through 0.9 "
        "(0.9.1 is the newest checked); 0.7+ scores in reward-loop workers on every node.",
    )
    contexts: Path | None = Field(
        None, description="Training contexts JSONL from `cobalt contexts` (mode cobalt)."
    )
    problems: Path | None = Field(
        None, description="Problems JSONL the online modes roll out on (multiturn, rlef)."
    )
    episode: EpisodeConfig = Field(
        default_factory=lambda: EpisodeConfig(stop_on_pass=True, max_episode_tokens=6144),
        description="How each online episode runs (turns, stop_on_pass...; its profile is the "
        "export's; max_episode_tokens, replies plus feedback, is verl's "
        "data.max_response_length in the online modes: reference 6144).",
    )
    sampling: SamplingParams = Field(
        default_factory=lambda: SamplingParams(max_new_tokens=6144),
        description="How verl samples (temperature; max_new_tokens: the reply cap, which is "
        "verl's data.max_response_length in mode cobalt: reference 6144; online, each reply's "
        "cap inside the episode's budget).",
    )
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
        DEFAULT_PROFILE,
        description="The reward's rules (default cobalt-rl, as every entry point; reference: "
        "the paper's own reward, format term and code extraction, as verl trained with them). "
        + PROFILE_FIELD_DOC,
    )
    sandbox: SandboxConfig = Field(
        default_factory=default_sandbox_config,
        description="Where the reward process runs programs, and their limits (written into "
        "cobalt_reward.py; local: workers per reward process, default its cores).",
    )

    @model_validator(mode="before")
    @classmethod
    def _episode_profile(cls, data: Any) -> Any:
        """The episode's profile is the export's; RLEF's stop rule unless it says otherwise."""
        default = cls.model_fields["profile"].default
        profile = data.get("profile", default) if isinstance(data, dict) else None
        defaults = {"stop_on_pass": True, "max_episode_tokens": 6144}
        return episode_section(data, profile, "episode", defaults)

    @field_validator("verl_version")
    @classmethod
    def _version(cls, value: str) -> str:
        return parse_verl_version(value)

    @model_validator(mode="after")
    def _check(self) -> VerlExportConfig:
        if self.mode == "verpo":
            raise ValueError(
                "mode verpo cannot be exported to verl: VeRPO weights each test by its pass "
                "rate in the problem's group, and verl's agent loop and reward loop score one "
                "episode at a time; train it with `cobalt train --mode verpo`"
            )
        if not self.verl_mode.online and self.contexts is None:
            raise ValueError("mode cobalt needs --contexts (build them with `cobalt contexts`)")
        if self.verl_mode.online:
            if self.problems is None:
                raise ValueError(f"mode {self.mode} rolls out on problems: pass --problems")
            if not VerlKeys(self.verl_version).supports_online:
                raise ValueError(
                    f"mode {self.mode} needs verl {ONLINE_MIN_VERL}+ (verl "
                    f"{self.verl_version}'s agent loop gets only the messages, not the "
                    "problem's tests); pass --verl-version 0.6 or newer"
                )
        if self.sampling.stop or self.sampling.stop_at_program_end:
            raise ValueError(
                "sampling.stop and sampling.stop_at_program_end are not written into verl's "
                "launch (its vLLM rollout generates to the cap); leave them unset"
            )
        if self.val_contexts is not None and self.val_contexts == self.contexts:
            raise ValueError(
                "val_contexts is the training file: build validation contexts with "
                "`cobalt contexts --split validation` on held-out problems"
            )
        return self

    @property
    def verl_mode(self) -> VerlMode:
        """The mode's entry in :data:`VERL_MODES`."""
        return VERL_MODES[self.mode]

    @property
    def max_response_length(self) -> int:
        """verl's ``data.max_response_length``: the reply cap in mode cobalt, the episode's
        token budget (replies plus feedback) online."""
        if self.verl_mode.online and self.episode.max_episode_tokens is not None:
            return self.episode.max_episode_tokens
        return self.sampling.max_new_tokens


REFERENCE_SCRIPT = "OSU-NLP-Group/cobalt scripts/train_grpo_multi_turn.sh"
_REF_TRAIN_BATCH_SIZE = 128
_REF_PPO_MINI_BATCH_SIZE = 64


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


def _overrides(lines: list[str]) -> str:
    return "".join(f"    {line} \\\n" for line in lines)


def _mode_overrides(cfg: VerlExportConfig) -> tuple[list[str], list[str]]:
    """The reward keys (offline) and the agent-loop and critic keys (online) of ``cfg``."""
    from cobalt_rl.train.config import RlefTrainConfig  # RLEF's numbers, as cobalt train has them

    keys = VerlKeys(cfg.verl_version)
    mode = cfg.verl_mode
    if not mode.online:
        return keys.reward_overrides('"$HERE/cobalt_reward.py"'), []
    online = keys.agent_overrides('"$HERE/cobalt_agent_loop.yaml"', AGENT_NAME)
    if mode.critic:  # PPO with a critic and RLEF's KL penalty in the reward
        rlef = RlefTrainConfig.default_of
        online += [
            'critic.model.path="$CRITIC_MODEL"',
            f"critic.optim.lr={rlef('critic_learning_rate')}",
            "critic.ppo_micro_batch_size_per_gpu=2",
            f"algorithm.gamma={rlef('gamma')}",
            f"algorithm.lam={rlef('lam')}",
            "algorithm.use_kl_in_reward=True",
            f"algorithm.kl_ctrl.kl_coef={rlef('beta')}",
        ]
    return [], online


def _validation_overrides(has_val: bool) -> list[str]:
    if has_val:
        return ['data.val_files="$HERE/val.parquet"', "trainer.test_freq=10"]  # reference
    # verl always builds a validation set; with no val.parquet it never runs
    return [
        'data.val_files="$HERE/train.parquet"',
        "trainer.test_freq=-1",
        "trainer.val_before_train=False",
    ]


def render_launch_script(cfg: VerlExportConfig, train_rows: int, has_val: bool) -> str:
    """The text of ``run_verl.sh`` (GRPO's numbers: cobalt-rl's train config defaults)."""
    from cobalt_rl.train.config import GrpoOptions  # the numbers we share

    grpo = GrpoOptions()
    batch, mini = _batch_sizes(train_rows)
    reward_keys, online_keys = _mode_overrides(cfg)
    return LAUNCH_SCRIPT_TEMPLATE.format(
        title=cfg.verl_mode.title,
        version=cfg.verl_version,
        reference=REFERENCE_SCRIPT,
        model=cfg.model,
        critic_variable=CRITIC_VARIABLE if cfg.verl_mode.critic else "",
        nnodes=cfg.nnodes,
        n_gpus_per_node=cfg.n_gpus_per_node,
        max_prompt_length=cfg.max_prompt_length,
        max_response_length=cfg.max_response_length,
        batch=batch,
        mini=mini,
        batch_note="reference: 128"
        if batch == _REF_TRAIN_BATCH_SIZE
        else f"reference: 128; {train_rows} training rows here",
        grpo=f"num_generations={grpo.num_generations}, learning_rate={grpo.learning_rate}, "
        f"epsilon={grpo.epsilon}, epsilon_high={grpo.epsilon_high}",
        num_generations=grpo.num_generations,
        learning_rate=grpo.learning_rate,
        epsilon=grpo.epsilon,
        epsilon_high=grpo.epsilon_high,
        beta=grpo.beta,
        temperature=cfg.sampling.temperature,
        top_p=cfg.sampling.top_p,
        top_k=cfg.sampling.top_k or -1,  # verl's "off" is -1
        estimator=cfg.verl_mode.estimator,
        kl_loss=cfg.verl_mode.kl_loss,
        online_keys=_overrides(online_keys),
        validation=_overrides(_validation_overrides(has_val)),
        reward_keys=_overrides(reward_keys),
    )


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
        reward_doc="`cobalt_rl.rewards.scores.reference_score`, the paper's reward"
        if reference
        else "`cobalt_rl.rewards.scores.cobalt_score`; docs/profiles.md lists how it differs",
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
    if cfg.verl_mode.online:
        return _export_online(cfg)
    assert cfg.contexts is not None  # the config's validator
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


def _export_online(cfg: VerlExportConfig) -> VerlExport:
    from cobalt_rl.episode.prompts import initial_messages

    assert cfg.problems is not None  # the config's validator
    problems = list(read_jsonl(cfg.problems, Problem))
    if not problems:
        raise ConfigError(f"{cfg.problems} holds no problems")
    rows = [
        problem_to_verl_row(
            problem,
            [
                m.model_dump()
                for m in initial_messages(problem, cfg.episode.system_prompt, cfg.episode.profile)
            ],
            TRAIN_SPLIT,
            index,
        )
        for index, problem in enumerate(problems)
    ]
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    train_rows = write_verl_rows(rows, out / "train.parquet")
    for stale in ("val.parquet", "cobalt_reward.py"):  # not part of an online export
        if (out / stale).exists():
            (out / stale).unlink()
    mode = cfg.verl_mode
    rlef = rlef_defaults()
    texts = {
        "cobalt_agent_loop.yaml": AGENT_LOOP_TEMPLATE.format(
            mode=cfg.mode,
            version=cfg.verl_version,
            name=AGENT_NAME,
            episode=cfg.episode.model_dump_json(exclude={"max_episode_tokens"}),
            max_new_tokens=cfg.sampling.max_new_tokens,
            reward=mode.reward,
            invalid_code_penalty=rlef["invalid_code_penalty"],
            sandbox=cfg.sandbox.model_dump_json(),
        ),
        "run_verl.sh": render_launch_script(cfg, train_rows, False),
        "README.md": ONLINE_README.format(
            mode=cfg.mode,
            version=cfg.verl_version,
            problems=cfg.problems,
            rows=train_rows,
            agent=AGENT_NAME,
            estimator=mode.estimator,
            turns=cfg.episode.turns,
            stop_on_pass=cfg.episode.stop_on_pass,
            reward=mode.reward,
            algorithm=mode.algorithm.format(kl=rlef["beta"], penalty=rlef["invalid_code_penalty"]),
            sandbox=_sandbox_summary(cfg.sandbox),
        ),
    }
    files = [out / "train.parquet"]
    for name, text in texts.items():
        _write_text(out / name, text, executable=name.endswith(".sh"))
        files.append(out / name)
    return VerlExport(out=out, train_rows=train_rows, val_rows=0, files=tuple(files))
