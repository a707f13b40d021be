"""Export contexts for verl on a Ray cluster: parquet data, a reward module, a launch script.

The paper trained with verl (its reference code, OSU-NLP-Group/cobalt, ships verl v0.5.0);
``cobalt export verl`` writes what a verl run needs, into one directory:

- ``train.parquet`` (and ``val.parquet``): one row per context in verl's RL dataset format
  (verl ``docs/preparation/prepare_data.rst``): ``data_source``, ``prompt`` (chat messages),
  ``ability``, ``reward_model`` ``{style, ground_truth}``, ``extra_info``. ``ground_truth`` is
  a JSON string of ``{"tests", "mode", "fn_name"}`` (the reference's preprocessing,
  ``preproc/verl_preproc_multi_turn.py``, also stores the tests there), so the parquet schema
  stays fixed whatever the tests look like. ``extra_info`` carries ``prev_best_pass_rate``
  (the reward's improvement term) and ``split`` (``validation`` rows get the binary reward).
- ``cobalt_reward.py``: verl's custom reward function (``custom_reward_function.path``):
  ``compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)`` for
  verl's ``naive`` reward manager and ``compute_score_batch(data_sources, solution_strs,
  ground_truths, extra_infos, **kwargs)`` for its ``batch`` manager. It is a few lines that
  call :func:`verl_compute_score_batch` here, so the logic is tested without verl.
- ``run_verl.sh``: ``python3 -m verl.trainer.main_ppo`` with the paper's settings (the
  reference's ``scripts/train_grpo_multi_turn.sh``, its recipe for contextual bandit
  learning), and ``README.md``: how to run it.

Where we depart from the reference and why: the reference scores replies through a Ray Serve
evaluator and a patched ``prime`` reward manager (async); here every reward process runs its
own :class:`~cobalt_rl.sandbox.LocalSandbox` (created on first use, closed at exit) and the
script uses verl's stock ``batch`` manager, so a step's replies run in ONE sandbox batch on
all the node's cores, with no patched verl and no extra service. verl's stock ``prime``
manager would call the function from a pool of processes, each starting its own sandbox pool.
"""

from __future__ import annotations

import atexit
import json
import os
import stat
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cobalt_rl.errors import ConfigError
from cobalt_rl.records import Context, read_jsonl
from cobalt_rl.rewards import CobaltRewardConfig, get_reward
from cobalt_rl.sandbox.base import Sandbox
from cobalt_rl.export._verl_files import (
    README_TEMPLATE,
    REFERENCE_SCRIPT,
    REWARD_MODULE_TEMPLATE,
    render_launch_script,
)

__all__ = [
    "DATA_SOURCE",
    "LazySandbox",
    "VerlExport",
    "VerlExportConfig",
    "context_to_verl_row",
    "export_verl",
    "parse_ground_truth",
    "verl_compute_score",
    "verl_compute_score_batch",
    "verl_schema",
    "write_verl_parquet",
]

DATA_SOURCE = "cobalt"
ABILITY = "code"
TRAIN_SPLIT = "train"
VALIDATION_SPLIT = "validation"


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
    sandbox_workers: int | None = Field(
        None, ge=1, description="Sandbox workers per reward process (default: its cores)."
    )
    test_timeout: float = Field(4.0, gt=0, description="Wall-clock limit per test, seconds.")

    @model_validator(mode="after")
    def _check(self) -> VerlExportConfig:
        if self.val_contexts is not None and self.val_contexts == self.contexts:
            raise ValueError(
                "val_contexts is the training file: build validation contexts with "
                "`cobalt contexts --split validation` on held-out problems"
            )
        return self


# --------------------------------------------------------------------------- data


def verl_schema() -> Any:
    """The parquet schema of the exported rows (a ``pyarrow.Schema``)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("index", pa.int64()),  # verl's RLHFDataset reads extra_info.index
                        ("context_id", pa.string()),
                        ("problem_id", pa.string()),
                        ("prev_best_pass_rate", pa.float64()),
                        ("perturbed", pa.bool_()),
                        ("num_prev_attempts", pa.int64()),
                        ("split", pa.string()),
                    ]
                ),
            ),
        ]
    )


def context_to_verl_row(context: Context, split: str, index: int) -> dict[str, Any]:
    """One context as a verl dataset row (see the module docstring)."""
    ground_truth = {
        "tests": [{"input": t.input, "output": t.output} for t in context.tests],
        "mode": context.mode.value,
        "fn_name": context.fn_name,
    }
    return {
        "data_source": DATA_SOURCE,
        "prompt": [{"role": m.role, "content": m.content} for m in context.prompt],
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": json.dumps(ground_truth)},
        "extra_info": {
            "index": index,
            "context_id": context.id,
            "problem_id": context.problem_id,
            "prev_best_pass_rate": context.prev_best_pass_rate,
            "perturbed": context.perturbed,
            "num_prev_attempts": context.num_prev_attempts,
            "split": split,
        },
    }


def write_verl_parquet(contexts: Sequence[Context], path: Path, split: str) -> int:
    """Write ``contexts`` as verl rows to ``path`` atomically (temp file + rename).

    Returns:
        The number of rows.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [context_to_verl_row(c, split, i) for i, c in enumerate(contexts)]
    table = pa.Table.from_pylist(rows, schema=verl_schema())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return len(rows)


def _read_contexts(path: Path, split: str, flag: str) -> list[Context]:
    contexts = list(read_jsonl(path, Context))
    if not contexts:
        raise ConfigError(f"{path} holds no contexts; build them with `cobalt contexts`")
    for c in contexts:
        built_for = c.metadata.get("split")
        if built_for is not None and built_for != split:
            raise ConfigError(
                f"{path}: context {c.id!r} was built as {built_for!r} contexts but was given "
                f"as {flag}; pass {split} contexts there (`cobalt contexts --split {split}`)"
            )
    return contexts


# --------------------------------------------------------------------------- reward


def parse_ground_truth(ground_truth: str | Mapping[str, Any]) -> dict[str, Any]:
    """The ``{"tests", "mode", "fn_name"}`` of a row's ``reward_model.ground_truth``."""
    data = json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)
    if not isinstance(data, dict) or not {"tests", "mode"} <= data.keys():
        raise ValueError(
            "ground_truth must be the JSON object `cobalt export verl` writes, with 'tests', "
            f"'mode' and 'fn_name'; got {str(ground_truth)[:120]!r}"
        )
    return data


def _is_validation(extra_info: Mapping[str, Any] | None) -> bool:
    # "is_val" is what the reference's patched prime manager sets on validation batches.
    if not extra_info:
        return False
    return extra_info.get("split") == VALIDATION_SPLIT or bool(extra_info.get("is_val", False))


def verl_compute_score_batch(
    sandbox: Sandbox,
    solution_strs: Sequence[str],
    ground_truths: Sequence[str | Mapping[str, Any]],
    extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
    *,
    reasoning: bool = False,
) -> list[float]:
    """The ``cobalt`` reward of verl replies, all run in one sandbox batch per reward kind.

    Rows whose ``extra_info["split"]`` is ``validation`` (or whose ``is_val`` is true) get the
    binary reward, as the reference's validation does; the rest get ``cobalt`` with the row's
    ``prev_best_pass_rate``. Code is found as everywhere else (:func:`~cobalt_rl.llm.extract.
    extract_code`: after the last ``</think>``, the last Python block).

    Args:
        sandbox: runs the programs.
        solution_strs: the decoded replies.
        ground_truths: each row's ``reward_model.ground_truth``.
        extra_infos: each row's ``extra_info`` (None: training rows, no previous best).
        reasoning: score the thinking format too (``CobaltRewardConfig.reasoning``).
    """
    n = len(solution_strs)
    if len(ground_truths) != n:
        raise ValueError(f"{len(ground_truths)} ground truths for {n} replies")
    infos = list(extra_infos) if extra_infos is not None else [None] * n
    if len(infos) != n:
        raise ValueError(f"{len(infos)} extra_infos for {n} replies")
    truths = [parse_ground_truth(g) for g in ground_truths]
    validation = [_is_validation(i) for i in infos]
    scores = [0.0] * n
    for is_val in (False, True):
        idx = [i for i in range(n) if validation[i] is is_val]
        if not idx:
            continue
        reward = (
            get_reward("binary", sandbox)
            if is_val
            else get_reward("cobalt", sandbox, CobaltRewardConfig(reasoning=reasoning))
        )
        values = reward(
            [solution_strs[i] for i in idx],
            tests=[truths[i]["tests"] for i in idx],
            mode=[truths[i]["mode"] for i in idx],
            fn_name=[truths[i].get("fn_name") or "" for i in idx],
            prev_best_pass_rate=[
                float((infos[i] or {}).get("prev_best_pass_rate") or 0.0) for i in idx
            ],
        )
        for i, v in zip(idx, values, strict=True):
            scores[i] = v
    return scores


def verl_compute_score(
    sandbox: Sandbox,
    solution_str: str,
    ground_truth: str | Mapping[str, Any],
    extra_info: Mapping[str, Any] | None = None,
    *,
    reasoning: bool = False,
) -> float:
    """The reward of one reply (see :func:`verl_compute_score_batch`)."""
    return verl_compute_score_batch(
        sandbox, [solution_str], [ground_truth], [extra_info], reasoning=reasoning
    )[0]


class LazySandbox:
    """A process-wide :class:`~cobalt_rl.sandbox.LocalSandbox`, started on first use.

    verl imports the reward module in every process that computes rewards and calls a plain
    function, so the sandbox pool cannot be passed in: it is created on the first call in each
    process (a forked child gets its own) and closed when the process exits.
    """

    def __init__(self, workers: int | None = None, test_timeout: float = 4.0):
        self.workers = workers
        self.test_timeout = test_timeout
        self._sandbox: Sandbox | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def get(self) -> Sandbox:
        """The sandbox of this process (started now if it is the first call)."""
        with self._lock:
            if self._sandbox is None or self._pid != os.getpid():
                from cobalt_rl.sandbox import Limits, LocalSandbox

                # A forked child must not use (or close) its parent's workers and threads.
                limits = Limits(
                    timeout_s=self.test_timeout, program_timeout_s=max(30.0, self.test_timeout)
                )
                self._sandbox = LocalSandbox(workers=self.workers, limits=limits)
                self._pid = os.getpid()
                atexit.register(self.close)
            return self._sandbox

    def close(self) -> None:
        """Stop this process's sandbox workers (a later :meth:`get` starts new ones)."""
        with self._lock:
            if self._sandbox is not None and self._pid == os.getpid():
                self._sandbox.close()
            self._sandbox = None


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class VerlExport:
    """What :func:`export_verl` wrote."""

    out: Path
    train_rows: int
    val_rows: int
    files: tuple[Path, ...]


def _write_text(path: Path, text: str, executable: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    if executable:
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, path)


def export_verl(cfg: VerlExportConfig) -> VerlExport:
    """Write the parquet files, reward module, launch script and README into ``cfg.out``.

    Raises:
        ConfigError: a contexts file is empty or holds contexts of the other split.
        RecordError: a contexts file has a line that is not a valid context.
    """
    train = _read_contexts(cfg.contexts, TRAIN_SPLIT, "--contexts")
    val = (
        _read_contexts(cfg.val_contexts, VALIDATION_SPLIT, "--val-contexts")
        if cfg.val_contexts is not None
        else []
    )
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "train.parquet"]
    train_rows = write_verl_parquet(train, files[0], TRAIN_SPLIT)
    val_rows = 0
    if val:
        files.append(out / "val.parquet")
        val_rows = write_verl_parquet(val, files[-1], VALIDATION_SPLIT)
    elif (out / "val.parquet").exists():  # a stale file from an earlier export would mislead
        (out / "val.parquet").unlink()
    module = REWARD_MODULE_TEMPLATE.format(
        reasoning=cfg.reasoning, workers=cfg.sandbox_workers, timeout=cfg.test_timeout
    )
    files.append(out / "cobalt_reward.py")
    _write_text(files[-1], module)
    files.append(out / "run_verl.sh")
    _write_text(files[-1], render_launch_script(cfg, train_rows, bool(val)), executable=True)
    readme = README_TEMPLATE.format(
        contexts=cfg.contexts,
        val_from=f" and `{cfg.val_contexts}`" if val else "",
        reference=REFERENCE_SCRIPT,
        train_rows=train_rows,
        val_row=f"| `val.parquet` | {val_rows} validation contexts |\n" if val else "",
        workers=(
            f"{cfg.sandbox_workers} workers" if cfg.sandbox_workers else "one worker per core"
        ),
        timeout=cfg.test_timeout,
        data_source=DATA_SOURCE,
        ability=ABILITY,
        reasoning=" (for this thinking model: exactly one `</think>`, and a length limit)"
        if cfg.reasoning
        else "",
    )
    files.append(out / "README.md")
    _write_text(files[-1], readme)
    return VerlExport(out=out, train_rows=train_rows, val_rows=val_rows, files=tuple(files))
