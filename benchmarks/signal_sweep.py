"""Short bandit runs side by side: which group size, temperature and learning rate keep a
learning signal (issue 24, item 4).

Each setting trains the embedded model with ``cobalt train --mode bandit`` on the same
contexts for the same wall-clock (``--seconds``), one after another, then the table compares
what the per-step metrics say:

- signal: the share of GRPO groups whose rewards differ (1 - TRL's ``frac_reward_zero_std``),
  over all steps and over the last third (a policy that collapses loses it as it trains);
- entropy: the policy's mean token entropy over the first five and the last five steps;
- solved: the mean share of completions that pass every test;
- the reward's least-squares slope per 100 steps with its 95% interval.

``--reuse NAME=DIR`` adds a run already made (its ``metrics.jsonl``, cut at the same
seconds), for instance the long run's Cobalt cell.

    .venv/bin/python benchmarks/signal_sweep.py \
        --contexts runs/experiment-long/shared/contexts.jsonl --seconds 300 \
        --setting lr=2e-6,t=0.8,g=4 --setting lr=1e-5,t=1.0,g=4 \
        --reuse lr=1e-5,t=0.8,g=4=runs/experiment-long/seed-0/cobalt
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cobalt_rl.evaluate.experiment import fit_trend

ROOT = Path(__file__).resolve().parents[1]


def parse_setting(text: str) -> dict[str, float]:
    """``lr=1e-5,t=0.8,g=4`` -> {"lr": 1e-5, "t": 0.8, "g": 4.0}; every key required."""
    values: dict[str, float] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key not in ("lr", "t", "g") or not value:
            raise SystemExit(f"--setting {text!r}: expected lr=..,t=..,g=.. (got {part!r})")
        values[key] = float(value)
    if set(values) != {"lr", "t", "g"}:
        raise SystemExit(f"--setting {text!r}: needs lr, t and g")
    return values


def steps_within(metrics: Path, seconds: float) -> list[dict[str, Any]]:
    """The step rows of ``metrics`` (the later row of a re-logged step) whose cumulative
    step seconds stay within ``seconds``."""
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    by_step = {r["step"]: r for r in rows if "loss" in r}
    kept, elapsed = [], 0.0
    for _, row in sorted(by_step.items()):
        elapsed += float(row.get("step_seconds", 0.0))
        if elapsed > seconds:
            break
        kept.append(row)
    return kept


def summary(name: str, rows: list[dict[str, Any]]) -> str:
    """One table row for a setting's steps."""
    if not rows:
        return f"| {name} | 0 | – | – | – | – | – | – |"
    signal = [1.0 - float(r.get("frac_reward_zero_std", 1.0)) for r in rows]
    last = signal[-max(1, len(signal) // 3) :]
    entropy = [float(r.get("entropy", float("nan"))) for r in rows]
    solved = statistics.fmean(float(r.get("solved_rate", 0.0)) for r in rows)
    trend = fit_trend([float(r["step"]) for r in rows], [float(r["reward"]) for r in rows])
    slope = (
        f"{100 * trend.slope:+.3f} [{100 * trend.low:+.3f}, {100 * trend.high:+.3f}]"
        if trend
        else "–"
    )
    per_step = statistics.fmean(float(r.get("step_seconds", 0.0)) for r in rows)
    return (
        f"| {name} | {len(rows)} | {statistics.fmean(signal):.0%} / {statistics.fmean(last):.0%} "
        f"| {statistics.fmean(entropy[:5]):.3f} -> {statistics.fmean(entropy[-5:]):.3f} "
        f"| {solved:.3f} | {slope} | {per_step:.1f} |"
    )


def train(setting: dict[str, float], contexts: Path, seconds: float, out: Path) -> Path:
    """One bandit run of ``setting`` for ``seconds`` of training; returns its metrics file."""
    g = int(setting["g"])
    argv = [
        sys.executable, "-m", "cobalt_rl.cli.main", "train", "--mode", "bandit",
        "--contexts", str(contexts), "--out", str(out), "--no-resume",
        "--learning-rate", str(setting["lr"]), "--sampling-temperature", str(setting["t"]),
        "--num-generations", str(g), "--prompts-per-step", "1", "--micro-batch-size", str(g),
        "--beta", "0", "--sampling-max-new-tokens", "256", "--max-steps", "100000",
        "--max-seconds", str(seconds), "--save-steps", "100000", "--seed", "0",
    ]  # fmt: skip
    subprocess.run(argv, check=True, cwd=ROOT)
    return out / "metrics.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contexts", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=300.0, help="training seconds each")
    parser.add_argument("--setting", action="append", default=[], help="lr=..,t=..,g=..")
    parser.add_argument("--reuse", action="append", default=[], help="SETTING=RUN_DIR")
    parser.add_argument("--out", type=Path, default=Path("runs/signal-sweep"))
    args = parser.parse_args()
    if not args.contexts.is_file():
        raise SystemExit(f"--contexts {args.contexts}: no such file")
    results: list[tuple[str, list[dict[str, Any]]]] = []
    for text in args.reuse:
        name, _, directory = text.rpartition("=")
        parse_setting(name)
        metrics = Path(directory) / "metrics.jsonl"
        if not metrics.is_file():
            raise SystemExit(f"--reuse {text!r}: {metrics} does not exist")
        results.append((f"{name} (reused)", steps_within(metrics, args.seconds)))
    for i, text in enumerate(args.setting, 1):
        setting = parse_setting(text)
        start = time.monotonic()
        print(f"[{i}/{len(args.setting)}] {text}: training {args.seconds:g} s", flush=True)
        out = args.out / text.replace(",", "_").replace("=", "")
        metrics = train(setting, args.contexts, args.seconds, out)
        print(f"[{i}/{len(args.setting)}] done in {time.monotonic() - start:.0f} s", flush=True)
        results.append((text, steps_within(metrics, args.seconds)))
    print(
        f"\nbandit on {args.contexts} ({sum(1 for _ in args.contexts.open())} contexts), "
        f"{args.seconds:g} training seconds each, 1 prompt a step, 256 tokens, beta 0\n"
    )
    print(
        "| setting | steps | signal (all / last third) | entropy (first 5 -> last 5) "
        "| solved | reward slope / 100 steps [95%] | s / step |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, rows in results:
        print(summary(name, rows))


if __name__ == "__main__":
    main()
