"""The shipped multi-GPU launch configs (``configs/accelerate/``).

``ddp.yaml`` runs for real on CPU: ``accelerate launch --config_file configs/accelerate/ddp.yaml
--num_processes 2`` starts two ``cobalt train`` processes through torchrun and, without CUDA,
accelerate joins them over gloo, so the config a GPU box uses is exercised end to end
(``--cpu`` would not do: accelerate starts a single process for it). A test-only reward module
records, in each process, its rank, the world size and accelerate's distributed type.

``fsdp.yaml`` cannot run here: accelerate enables FSDP only for GPU-like devices, and on a CPU
machine the same launch silently trains as plain data parallel (``MULTI_CPU``; checked when
this test was written, accelerate 1.15 / torch 2.13). DeepSpeed is not installed (nor a
dependency). For both we check what accelerate's own launcher makes of the file: the
environment it hands the training processes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cobalt_rl.records import Context, Message, Mode, TestCase, write_jsonl

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "accelerate"

REWARD_MODULE = """
import json
from pathlib import Path

def score(result, response, prev_best_pass_rate):
    from accelerate.state import AcceleratorState

    state = AcceleratorState()
    record = {"rank": state.process_index, "world": state.num_processes,
              "type": state.distributed_type.value}
    with (Path(__file__).parent / f"rank{state.process_index}.jsonl").open("a") as f:
        f.write(json.dumps(record) + "\\n")
    return float(len(response.split()) % 3)  # varies within a group, so there is a gradient
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def weights(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def launch_ddp(tmp_path: Path, tiny_models: Any, *extra: str) -> Path:
    """``cobalt train`` in two processes under ddp.yaml; returns the run directory."""
    contexts = tmp_path / "contexts.jsonl"
    write_jsonl(
        contexts,
        [
            Context(
                id=f"c{i}",
                problem_id=f"p{i}",
                prompt=[Message(role="user", content="please write one two three")],
                tests=[TestCase(input="", output="")],
                mode=Mode.STDIN,
            )
            for i in range(4)
        ],
    )
    (tmp_path / "rank_reward.py").write_text(REWARD_MODULE)
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(CONFIGS / "ddp.yaml"),
        "--num_processes", "2", "--mixed_precision", "no",
        "--main_process_port", str(free_port()),
        "-m", "cobalt_rl.cli.main", "train",
        "--contexts", str(contexts), "--out", str(out), "--model", str(tiny_models.random),
        "--reward", "rank_reward:score",
        "--num-generations", "2", "--prompts-per-step", "2", "--micro-batch-size", "2",
        "--sampling-max-new-tokens", "4", "--max-steps", "2", "--save-steps", "2",
        "--beta", "0", "--learning-rate", "1e-2", "--sandbox-workers", "1", *extra,
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",  # two processes on a small CI machine
    }
    done = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return out


@pytest.mark.slow
def test_ddp_config_trains_two_processes_over_gloo(tmp_path: Path, tiny_models: Any) -> None:
    out = launch_ddp(tmp_path, tiny_models)

    # Both processes scored their own share: 2 prompts x 2 completions per step split in two,
    # over 2 steps, so 4 completions each (8 would mean each process took the whole batch).
    for rank in (0, 1):
        records = [json.loads(line) for line in (tmp_path / f"rank{rank}.jsonl").open()]
        assert len(records) == 4, records
        assert all(r == {"rank": rank, "world": 2, "type": "MULTI_CPU"} for r in records), records

    rows = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    steps = [r for r in rows if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2]  # one row per step, not one per process
    assert all(r["world_size"] == 2 for r in rows)
    # prompts_per_step counts both processes: 2 steps of 2 prompts are one pass over 4.
    assert steps[-1]["epoch"] == pytest.approx(1.0)

    before, after = weights(tiny_models.random), weights(out / "final")
    assert sorted(before) == sorted(after)
    assert any(not before[k].equal(after[k]) for k in before)
    assert (out / "checkpoints" / "checkpoint-2").is_dir()


@pytest.mark.slow
def test_time_budget_stops_every_process_at_the_same_step(tmp_path: Path, tiny_models: Any) -> None:
    # Rank 0 decides and tells the others: a rank stopping alone would hang the other in
    # the next step's collective (the launch would then run into its timeout).
    out = launch_ddp(tmp_path, tiny_models, "--max-seconds", "0.01", "--max-steps", "5")
    for rank in (0, 1):
        assert len((tmp_path / f"rank{rank}.jsonl").read_text().splitlines()) == 2  # 1 step
    rows = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    assert [r["stopped"] for r in rows if "stopped" in r] == ["time budget"]  # rank 0 only


def launcher_env(config: str) -> dict[str, str]:
    """The environment ``accelerate launch --config_file CONFIG`` gives training processes."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_deepspeed_cmd_env, prepare_multi_gpu_env

    parsed = launch_command_parser().parse_args(
        ["--config_file", str(CONFIGS / config), "--num_processes", "8", "train.py"]
    )
    args, defaults, _ = _validate_launch_command(parsed)
    if args.use_deepspeed:
        args.deepspeed_fields_from_accelerate_config = list(defaults.deepspeed_config)
        return dict(prepare_deepspeed_cmd_env(args)[1])
    return dict(prepare_multi_gpu_env(args))


def test_launch_configs_resolve_as_intended(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sorted(p.name for p in CONFIGS.iterdir()) == [
        "ddp.yaml",
        "deepspeed-zero2.yaml",
        "fsdp.yaml",
    ]
    ddp = launcher_env("ddp.yaml")
    assert ddp["ACCELERATE_MIXED_PRECISION"] == "bf16" and "ACCELERATE_USE_FSDP" not in ddp

    fsdp = launcher_env("fsdp.yaml")
    for key in fsdp:
        if key.startswith(("FSDP_", "ACCELERATE_")):
            monkeypatch.setenv(key, fsdp[key])
    from accelerate.utils import FullyShardedDataParallelPlugin

    plugin = FullyShardedDataParallelPlugin()  # reads the launcher's environment
    assert fsdp["ACCELERATE_USE_FSDP"] == "true" and plugin.fsdp_version == 2
    # The final model must be an ordinary checkpoint that rollouts and vLLM load.
    assert plugin.state_dict_type.name == "FULL_STATE_DICT"
    assert fsdp["FSDP_AUTO_WRAP_POLICY"] == "TRANSFORMER_BASED_WRAP"

    zero = launcher_env("deepspeed-zero2.yaml")
    assert zero["ACCELERATE_USE_DEEPSPEED"] == "true"
    assert zero["ACCELERATE_DEEPSPEED_ZERO_STAGE"] == "2"
