"""Crash safety, proven by killing: ``cobalt run``, ``cobalt rollout`` and ``cobalt execute``
are SIGKILLed at random moments and resumed each time; the finished output must match an
uninterrupted run's.

What "matches" means: every record once (no duplicated trajectory, context, problem or
result), no torn line in any JSONL (a line cut by a kill is moved aside to ``<file>.torn``
by the next writer, never read as data), every stage finished, and a report equal in its
counts (problems, trajectories, samples, turns, table rows) to the uninterrupted run's.

The base model is the scripted fake generator answering one fixed reply, so the reference
trajectories do not depend on where a kill fell; the trained policy is the tiny random
model, so training and the trained model's evaluation run for real (their pass rates may
differ after a resume, their counts may not). A kill hits the ``cobalt`` process only (as
the OOM killer would); its sandbox workers are cleaned up after.

Sized for CI on 2 cores: about three minutes for the three tests together.
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from cobalt_rl.problems.bundled import load_bundled
from cobalt_rl.records import write_jsonl

pytestmark = pytest.mark.slow

COBALT = [sys.executable, "-m", "cobalt_rl.cli.main"]
REPLY = "```python\nimport sys\nprint(sum(map(int, sys.stdin.read().split())))\n```"
STAGE_LINE = re.compile(r"^\[(\w+)\] (starting|done|already done)")
FINISH_TIMEOUT_S = 240


class Proc:
    """One ``cobalt`` process, its output read line by line as it comes."""

    def __init__(self, args: list[str], cwd: Path):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen(
            [*COBALT, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: its sandbox workers are cleaned up
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, *texts: str, timeout: float) -> str | None:
        """Read output until a line holding one of ``texts`` (returned) or the process ends
        (None)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if line is None:
                return None
            self.lines.append(line)
            for text in texts:
                if text in line:
                    return text
        raise AssertionError(f"no {texts} within {timeout} s; output:\n" + "\n".join(self.lines))

    def running_stage(self) -> str | None:
        """The stage the output last said was starting and has not said was done."""
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        stage = None
        for line in self.lines:
            found = STAGE_LINE.match(line)
            if found:
                stage = found.group(1) if found.group(2) == "starting" else None
        return stage

    def kill(self) -> bool:
        """SIGKILL the cobalt process (False: it had already ended), then its workers."""
        alive = self.popen.poll() is None
        if alive:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return alive

    def finish(self) -> str:
        if self.popen.poll() is None:
            self.wait_for("\0never\0", timeout=FINISH_TIMEOUT_S)
        self._reader.join(timeout=5)
        rc = self.popen.wait(timeout=FINISH_TIMEOUT_S)
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        output = "\n".join(self.lines)
        assert rc == 0, f"exit {rc}:\n{output}"
        return output


def finish(args: list[str], cwd: Path) -> float:
    """Run to the end (exit 0); returns the seconds it took."""
    started = time.monotonic()
    proc = Proc(args, cwd)
    try:
        proc.finish()
    except AssertionError:
        proc.kill()
        raise
    return time.monotonic() - started


def kill_at_random(
    args: list[str],
    cwd: Path,
    rng: random.Random,
    kills: int,
    window: float,
    grows: Path | None = None,
) -> int:
    """Start, kill at a random moment up to ``window`` s later, resume: until ``kills`` kills
    have hit a running process, or it finished under them. With ``grows``, the moment is
    counted from when that file first grows (the command is at work, past its start-up).
    Returns the hits."""
    hits = 0
    for _ in range(3 * kills):
        size = grows.stat().st_size if grows is not None and grows.exists() else 0
        proc = Proc(args, cwd)
        while grows is not None and proc.popen.poll() is None:
            if (grows.stat().st_size if grows.exists() else 0) > size:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, window))
        if not proc.kill():
            break  # it finished before the kill: nothing left to interrupt
        hits += 1
        if hits == kills:
            break
    return hits


TORN = b'{"problem_id": "cut off mid-wr'


def tear(path: Path) -> None:
    """Leave a torn last line, as a kill inside a ``write`` would. SIGKILL between our
    one-``write``-per-line appends almost never cuts a line, so the tests cut one by hand
    before the last resume: the writer must move it aside, never read it as data."""
    with path.open("ab") as f:
        f.write(TORN)


def check_jsonl(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """Every JSONL file under ``directory``: no torn line, every line a JSON object."""
    files = {}
    for path in sorted(directory.rglob("*.jsonl")):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path}: last line has no newline (torn)"
        rows = [json.loads(line) for line in data.splitlines() if line.strip()]
        assert all(isinstance(r, dict) for r in rows), path
        files[str(path.relative_to(directory))] = rows
    return files


def without_timings(value: Any) -> Any:
    """``value`` with every ``seconds`` field dropped (wall times differ from run to run)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def once(rows: list[dict[str, Any]], *keys: str) -> Counter[tuple[Any, ...]]:
    counts = Counter(tuple(r[k] for k in keys) for r in rows)
    duplicated = {key: n for key, n in counts.items() if n > 1}
    assert not duplicated, f"records written more than once: {duplicated}"
    return counts


# ------------------------------------------------------------------------- cobalt run


def run_config(tmp_path: Path, name: str, tiny_model: Path) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "run_dir": str(tmp_path / name),
                "generator": {"backend": "fake", "replies": [REPLY]},
                "train_problems": {"source": "bundled", "split": "train", "limit": 8},
                "eval_problems": {"source": "bundled", "split": "test", "limit": 3},
                "rollout": {
                    "samples": 3,
                    "episode": {"turns": 2},
                    "sampling": {"max_new_tokens": 32},
                    "group_size": 1,
                },
                "contexts": {"top_n": 2, "keep_m": 1},
                "tokenizer_filter": False,
                "train": {
                    "model": str(tiny_model),
                    "num_generations": 2,
                    "prompts_per_step": 1,
                    "micro_batch_size": 2,
                    "sampling": {"max_new_tokens": 4},
                    "max_steps": 3,
                    "save_steps": 1,
                    "beta": 0.0,
                },
                "eval": {
                    "samples": 2,
                    "episode": {"turns": 2},
                    "sampling": {"max_new_tokens": 4},
                    "group_size": 1,
                },
            }
        )
    )
    return path


def report_counts(run_dir: Path) -> dict[str, Any]:
    """What a report's counts rest on: each model's problems, trajectories, samples and
    turns, and the number of rows of every table."""
    counts: dict[str, Any] = {}
    for label in ("base", "trained"):
        metrics = json.loads((run_dir / "report" / label / "metrics.json").read_text())
        counts[label] = {
            k: metrics[k] for k in ("problems", "trajectories", "samples_per_problem")
        } | {"turns": len(metrics["turns"]), "per_problem": sorted(metrics["per_problem"])}
    page = (run_dir / "report" / "index.html").read_text()
    counts["table rows"] = [t.count("<tr>") for t in page.split("<table>")[1:]]
    return counts


def test_cobalt_run_survives_kills_in_every_stage(tmp_path: Path, tiny_models: Any) -> None:
    from cobalt_rl.pipeline import STAGES

    rng = random.Random(16)
    reference = run_config(tmp_path, "reference", tiny_models.random)
    finish(["run", str(reference)], tmp_path)

    config = run_config(tmp_path, "killed", tiny_models.random)
    args = ["run", str(config)]
    landed: list[str | None] = []

    def kill(proc: Proc) -> None:
        stage_now = proc.running_stage()
        if proc.kill():
            landed.append(stage_now)

    # Kills in every stage, each at a random moment inside it: up to 80% of how long the stage
    # took in the uninterrupted run (so the test aims the same on a fast or a loaded machine);
    # a stage the run has finished already gets its kill in the next one.
    took = {
        stage: json.loads((tmp_path / "reference" / "stages" / f"{stage}.json").read_text())
        for stage in STAGES
    }
    windows = {stage: 0.8 * float(took[stage]["seconds"]) for stage in STAGES}
    targets = ["problems", "rollout", "score", "contexts", "train", "train", "train"]
    targets += ["eval_base", "eval_trained", "eval_trained", "report"]
    assert set(targets) == set(STAGES)
    for stage in targets:
        proc = Proc(args, tmp_path)
        started = f"[{stage}] starting"
        seen = proc.wait_for(started, f"[{stage}] already done", timeout=FINISH_TIMEOUT_S)
        time.sleep(rng.uniform(0.0, windows[stage] if seen == started else 1.0))
        kill(proc)
    finish(args, tmp_path)
    print(f"kills landed in: {landed}")
    assert len(landed) >= 10, landed
    # problems and contexts take a fraction of a second: a kill aimed there may land later.
    long_stages = {"rollout", "score", "train", "eval_base", "eval_trained", "report"}
    assert long_stages <= set(landed), landed

    run_dir = tmp_path / "killed"
    for stage in STAGES:
        assert (run_dir / "stages" / f"{stage}.json").exists(), stage
    files = check_jsonl(run_dir)
    expected = check_jsonl(tmp_path / "reference")
    for name in ("rollout-train.jsonl", "eval-base.jsonl", "eval-trained.jsonl"):
        assert once(files[name], "problem_id", "sample") == once(
            expected[name], "problem_id", "sample"
        ), name
        assert [len(t["attempts"]) for t in files[name]] == [
            len(t["attempts"]) for t in expected[name]
        ], name
        assert all(a["hidden"] is not None for t in files[name] for a in t["attempts"]), name
    for name in ("problems-train.jsonl", "problems-eval.jsonl", "contexts.jsonl"):
        assert once(files[name], "id") == once(expected[name], "id"), name
    assert without_timings(files["rollout-train.jsonl"]) == without_timings(
        expected["rollout-train.jsonl"]
    )  # the base model is scripted: the same trajectories, however often it was killed
    assert report_counts(run_dir) == report_counts(tmp_path / "reference")


# ---------------------------------------------------------------------- cobalt rollout


def test_cobalt_rollout_survives_kills(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "problems.jsonl", load_bundled("train"))
    settings = {
        "problems": str(tmp_path / "problems.jsonl"),
        "rollout": {
            "samples": 4,
            "episode": {"turns": 2},
            "group_size": 1,
            "sampling": {"max_new_tokens": 32},
        },
        "generator": {"backend": "fake", "replies": [REPLY]},
    }
    for name in ("reference", "killed"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**settings, "out": str(tmp_path / f"{name}.jsonl")}))
    finish(["rollout", "--config", str(tmp_path / "reference.yaml")], tmp_path)

    args = ["rollout", "--config", str(tmp_path / "killed.yaml")]
    out = tmp_path / "killed.jsonl"
    hits = kill_at_random(args, tmp_path, random.Random(4), kills=10, window=0.05, grows=out)
    tear(tmp_path / "killed.jsonl")
    finish(args, tmp_path)
    assert hits >= 10, hits

    files = check_jsonl(tmp_path)
    killed, reference = files["killed.jsonl"], files["reference.jsonl"]
    assert once(killed, "problem_id", "sample") == once(reference, "problem_id", "sample")
    assert len(killed) == len(load_bundled("train")) * settings["rollout"]["samples"]
    assert (tmp_path / "killed.jsonl.torn").read_text() == TORN.decode() + "\n"
    key = lambda row: (row["problem_id"], row["sample"])  # noqa: E731
    assert without_timings(sorted(killed, key=key)) == without_timings(sorted(reference, key=key))


# ---------------------------------------------------------------------- cobalt execute


def test_cobalt_execute_survives_kills(tmp_path: Path) -> None:
    problems = load_bundled("train")[:30]
    write_jsonl(tmp_path / "problems.jsonl", problems)
    solutions = []
    for problem in problems:
        solutions.append({"problem_id": problem.id, "code": problem.metadata["reference_solution"]})
        solutions.append({"problem_id": problem.id, "code": "print(0)"})
        solutions.append({"problem_id": problem.id, "code": "import time\ntime.sleep(0.05)"})
    (tmp_path / "solutions.jsonl").write_text("".join(json.dumps(s) + "\n" for s in solutions))

    def args(out: str) -> list[str]:
        return [
            "execute",
            "--problems",
            str(tmp_path / "problems.jsonl"),
            "--solutions",
            str(tmp_path / "solutions.jsonl"),
            "--out",
            str(tmp_path / out),
        ]

    seconds = finish(args("reference.jsonl"), tmp_path)
    # Results are written a batch at a time, so kills are timed from the start.
    window = max(1.5, seconds / 4)
    hits = kill_at_random(args("killed.jsonl"), tmp_path, random.Random(5), 10, window)
    tear(tmp_path / "killed.jsonl")
    finish(args("killed.jsonl"), tmp_path)
    assert hits >= 10, hits

    files = check_jsonl(tmp_path)
    killed, reference = files["killed.jsonl"], files["reference.jsonl"]
    assert once(killed, "problem_id", "solution_id") == once(reference, "problem_id", "solution_id")
    assert len(killed) == len(solutions)
    assert (tmp_path / "killed.jsonl.torn").read_text() == TORN.decode() + "\n"
    verdict = {(r["problem_id"], r["solution_id"]): r["passed"] for r in reference}
    assert {(r["problem_id"], r["solution_id"]): r["passed"] for r in killed} == verdict
