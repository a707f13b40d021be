"""The console keeps our lines on the terminal and every library's output in the log."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

from cobalt_rl.console import Console, active, installed


def library_print(text: str, module: str = "transformers.trainer") -> None:
    """``print`` as ``module`` calls it (``__name__`` in its globals names it)."""
    exec("print(text)", {"__name__": module, "text": text})


def our_print(text: str) -> None:
    library_print(text, module="cobalt_rl.cli.run")


def test_library_output_goes_to_the_log_and_ours_to_the_terminal(tmp_path: Path) -> None:
    terminal = io.StringIO()
    log = tmp_path / "run.log"
    with installed(Console(stream=terminal), log) as screen:
        assert active() is screen
        our_print("our line")
        print("a test module is not ours")
        library_print("{'loss': 0.1, 'grad_norm': 2.0}")  # TRL's raw log dict
        warnings.warn("`gradient_checkpointing` is deprecated", FutureWarning, stacklevel=1)
        warnings.warn("`gradient_checkpointing` is deprecated", FutureWarning, stacklevel=1)
        # A library's logger (not transformers': once imported, it sets its own level to
        # WARNING, so whether its INFO records exist depends on the tests run before).
        logging.getLogger("some_library.loading").info("Loading weights")
        os.write(2, b"a C extension writes to fd 2\n")
        subprocess.run([sys.executable, "-c", "import sys; print('child', file=sys.stderr)"])
    shown = terminal.getvalue()
    assert "our line" in shown
    for noise in ("loss", "deprecated", "Loading weights", "fd 2", "not ours", "child"):
        assert noise not in shown.split("library output")[0], noise
    text = log.read_text()
    for line in ("our line", "not ours", "'loss': 0.1", "checkpointing", "Loading weights"):
        assert line in text, line
    assert "a C extension writes to fd 2" in text and "child" in text
    # Summarised once: the warning counted by kind, the other lines counted, the log named.
    summary = shown.split("library output")[1]
    assert "(2 warnings of 1 kind and " in summary and str(log) in summary
    assert "2 x FutureWarning: `gradient_checkpointing` is deprecated" in summary


def test_verbose_captures_nothing(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    with installed(Console(verbose=True, stream=io.StringIO()), log):
        library_print("shown")
    assert not log.exists()


def test_a_quiet_command_leaves_no_log(tmp_path: Path) -> None:
    log = tmp_path / "cmd.log"
    terminal = io.StringIO()
    with installed(Console(stream=terminal), log):
        our_print("only ours")
    assert terminal.getvalue() == "only ours\n" and not log.exists()


def test_the_log_moves_to_the_run_directory(tmp_path: Path) -> None:
    first, run_log = tmp_path / "tmp.log", tmp_path / "run" / "run.log"
    with installed(Console(stream=io.StringIO()), first) as screen:
        library_print("before the run directory was known")
        screen.attach_log(run_log)
        library_print("after")
    assert not first.exists()
    text = run_log.read_text()
    assert "before the run directory was known" in text and "after" in text


def test_progress_lines_in_a_file_are_throttled(tmp_path: Path) -> None:
    terminal = io.StringIO()
    screen = Console(stream=terminal, interval=3600)
    for i in range(100):
        screen.status(f"step {i}")
    assert terminal.getvalue() == ""
    screen.status("step 100", force=True)
    assert screen.end_status() == "step 100" and terminal.getvalue() == "step 100\n"


def test_a_step_done_line_ends_with_its_last_progress(tmp_path: Path) -> None:
    from cobalt_rl.pipeline.run import StageLog

    lines: list[str] = []

    def body() -> dict[str, int]:
        active().status("  out.jsonl: 3/3 problems, 12 attempts, ETA 0 s")
        return {"attempts": 12}

    with installed(Console(stream=io.StringIO()), tmp_path / "run.log"):
        summary = StageLog(tmp_path / "stages", lines.append).step("rollout", body)
    assert lines == [
        "[rollout] starting",
        "[rollout] done in 0 s: out.jsonl: 3/3 problems, 12 attempts",
    ]
    assert summary["attempts"] == 12


def test_the_training_line_shows_reward_solved_rate_and_learning_signal(tmp_path: Path) -> None:
    import json

    from cobalt_rl.pipeline.run import training_status

    log = tmp_path / "train" / "metrics.jsonl"
    log.parent.mkdir()
    rows = [
        {"step": 1, "reward": 0.1, "solved_rate": 0.0, "frac_reward_zero_std": 1.0},
        {"step": 2, "reward": 0.25, "solved_rate": 0.5, "frac_reward_zero_std": 0.25},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 3, "rew')  # torn
    line = training_status(tmp_path, max_steps=4)(0.0)
    assert line is not None
    assert "step 2/4, reward 0.250, solved 0.50, signal in 75% of groups" in line
