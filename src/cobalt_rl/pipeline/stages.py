"""The stages of ``cobalt run``, as data: a name, what it reads and writes, and its body.

In the algorithm's order:

1. ``problems``: the training and evaluation problem sets (``problems-{train,eval}.jsonl``).
2. ``rollout``: the reference model's multi-turn trajectories on the training problems.
3. ``score``: every training attempt scored on hidden tests (contexts need combined scores).
4. ``contexts``: Cobalt contexts (partial trajectories, filtered and down-sampled).
5. ``train``: bandit GRPO on the contexts.
   With a ``replay`` section, ``replay`` first writes the replay reference's trajectories
   (known-wrong attempts, their real feedback, then a passing attempt:
   :mod:`cobalt_rl.contexts.replay_reference`) and ``contexts`` mixes their contexts in at its
   fraction.
6. ``eval_base`` / ``eval_trained``: multi-turn rollouts of the base and the trained model on
   the held-out problems, scored on hidden tests.
7. ``report``: ``report/index.html`` and ``report/report.md``.

With a ``hacking`` section (in-context reward hacking, :mod:`cobalt_rl.hacking`), these run
before the report: ``perturb`` (perturbed copies of both problem sets), ``rollout_perturbed``,
``contexts_perturbed`` and ``train_perturbed`` (the same stages as above on other inputs: a
second policy trained with a share of perturbed-feedback contexts mixed in, the paper's
defence), ``eval_perturbed`` (its Pass@1 on the held-out problems), and ``hacking_base`` /
``hacking_trained`` / ``hacking_perturbed`` (each model rolled out on the perturbed held-out
problems, scored, and its hacking turns detected); the report then shows base / Cobalt /
Cobalt+perturbation side by side.

A stage's ``outputs`` are what ``--from`` moves aside; the report's cost table follows the
same list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cobalt_rl.errors import ConfigError
from cobalt_rl.pipeline.config import RunConfig
from cobalt_rl.pipeline.run import BASE, Run
from cobalt_rl.records import Problem

if TYPE_CHECKING:
    from cobalt_rl.hacking.detect import HackingReport

__all__ = ["ALL_STAGES", "HACKING_STAGES", "STAGES", "Stage", "stage_list", "stages_for"]


@dataclass(frozen=True)
class Stage:
    """One step of a run: what it reads and writes (run-relative paths) and its body."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    body: Callable[[Run], dict[str, Any]]
    loads_model: bool = False
    """Whether the body loads a model (a generator or a trainer): such a stage can run in a
    process of its own (``RunConfig.stage_processes``)."""


def problems_stage() -> Stage:
    def body(run: Run) -> dict[str, Any]:
        from cobalt_rl.records import write_jsonl

        counts = {}
        for which, problem_set in (
            ("train", run.cfg.train_problems),
            ("eval", run.cfg.eval_problems),
        ):
            problems, summary = problem_set.load()
            write_jsonl(run.path(f"problems-{which}.jsonl"), problems)
            counts[which] = len(problems)
            run.echo(f"  {which}: {len(problems)} problems ({summary})")
        return counts

    return Stage("problems", (), ("problems-train.jsonl", "problems-eval.jsonl"), body)


def rollout_stage(name: str, problems: str, out: str) -> Stage:
    """The reference model's trajectories on ``problems-<problems>.jsonl``."""

    def body(run: Run) -> dict[str, Any]:
        return run.roll_out(BASE, run.problems(problems), run.path(out), run.cfg.rollout)

    return Stage(name, (f"problems-{problems}.jsonl",), (out,), body, loads_model=True)


def score_stage() -> Stage:
    def body(run: Run) -> dict[str, Any]:
        scored = run.score(
            run.path("rollout-train.jsonl"),
            run.problems("train"),
            run.path("report/reference"),
            "reference (train problems)",
        )
        return {"programs": scored.programs}

    return Stage("score", ("rollout-train.jsonl",), ("report/reference",), body)


def contexts_stage(
    name: str, out: str, perturbed: str | None = None, replayed: str | None = None
) -> Stage:
    """Contexts from the scored reference trajectories; with ``perturbed`` trajectories, a
    share of contexts with perturbed feedback mixed in (the hacking section's fraction); with
    ``replayed`` trajectories, a share of replayed-failure contexts (the replay section's)."""

    def body(run: Run) -> dict[str, Any]:
        from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl

        settings = run.cfg.contexts
        mixed_in = []
        if perturbed is not None:
            assert run.cfg.hacking is not None
            fraction = run.cfg.hacking.perturbed_fraction
            settings = settings.model_copy(update={"perturbed_fraction": fraction})
            mixed_in = list(read_jsonl(run.path(perturbed), Trajectory))
        trajectories = list(read_jsonl(run.path("rollout-train.jsonl"), Trajectory))
        contexts, counts = _contexts(run, trajectories, settings, mixed_in)
        summary: dict[str, Any] = {"own": len(contexts), "counts": counts}
        if replayed is not None:
            contexts = _mix_replayed(run, contexts, run.path(replayed))
            summary["replayed"] = sum(c.id.startswith("replay/") for c in contexts)
            summary["own"] = len(contexts) - summary["replayed"]
        if not contexts:
            raise ConfigError("no contexts were kept: roll out more samples or problems")
        write_jsonl(run.path(out), contexts)
        summary["contexts"] = len(contexts)
        if perturbed is not None:
            summary["perturbed"] = sum(c.perturbed for c in contexts)
        return summary

    inputs = ("rollout-train.jsonl", *(path for path in (perturbed, replayed) if path))
    return Stage(name, inputs, (out,), body)


def _contexts(
    run: Run, trajectories: list[Any], settings: Any, perturbed: list[Any]
) -> tuple[list[Any], dict[str, Any]]:
    """``build_contexts`` on the training problems (rewards on their TRUE tests); the
    contexts and the counts kept and dropped at each filter."""
    from cobalt_rl.contexts.build import build_contexts

    problems = {p.id: p for p in run.problems("train")}
    with run.sandbox() as sandbox:
        contexts, report = build_contexts(
            trajectories, problems, settings, run.token_counter(), perturbed, sandbox
        )
    counts = report.counts
    run.echo(
        f"  contexts: {counts.get('contexts written', 0)} written from "
        f"{counts.get('trajectories in', 0)} trajectories of {counts.get('problems in', 0)} "
        f"problems ({counts.get('prefix contexts', 0)} with earlier attempts); the count "
        "kept at each filter is in stages/<stage>.json"
    )
    return contexts, {"kept": report.counts, "dropped": dict(report.dropped)}


def _mix_replayed(run: Run, own: list[Any], path: Path) -> list[Any]:
    """Replayed-failure contexts mixed into ``own`` at the replay section's fraction."""
    from cobalt_rl.contexts.replay_reference import mix_contexts
    from cobalt_rl.records import Trajectory, read_jsonl

    replay = run.cfg.replay
    assert replay is not None
    settings = run.cfg.contexts.model_copy(update={"perturbed_fraction": 0.0})
    built, _ = _contexts(run, list(read_jsonl(path, Trajectory)), settings, [])
    # Their first-turn prompts are the own rollouts' too: what replay adds is the prefixes
    # holding a failed attempt and its feedback.
    replayed = [c for c in built if c.num_prev_attempts >= 1]
    mixed = mix_contexts(own, replayed, replay.fraction, run.cfg.contexts.seed)
    drawn = sum(c.id.startswith("replay/") for c in mixed)
    share = drawn / max(1, len(mixed))
    run.echo(
        f"  contexts: {len(own)} own + {drawn} of {len(replayed)} replayed prefixes; "
        f"replayed share {share:.2f}"
    )
    return mixed


def replay_stage() -> Stage:
    """The replay reference: given attempts on the training problems, executed for real."""

    def body(run: Run) -> dict[str, Any]:
        from cobalt_rl.contexts.replay_reference import (
            read_sequences,
            reference_sequences,
            replay_rollout,
        )

        replay = run.cfg.replay
        assert replay is not None
        problems = run.problems("train")
        if replay.programs is not None:
            sequences = read_sequences(replay.programs)
            sequences = {k: v[: replay.per_problem] for k, v in sequences.items()}
        else:
            sequences = reference_sequences(problems, replay.per_problem)
        if not sequences:
            raise ConfigError(
                "the replay section found no attempts to replay: give replay.programs, or "
                "problems with wrong_solutions and a reference_solution in their metadata"
            )
        out = run.path("rollout-replay.jsonl")
        with run.sandbox() as sandbox:
            progress = replay_rollout(problems, sequences, sandbox, out, run.cfg.rollout)
            programs = sandbox.stats["programs"]
        return {"problems": len(sequences), "attempts": progress.attempts, "programs": programs}

    return Stage("replay", ("problems-train.jsonl",), ("rollout-replay.jsonl",), body)


def train_stage(name: str, contexts: str, out: str) -> Stage:
    """The train section's trainer on ``contexts``, into ``out``."""

    def body(run: Run) -> dict[str, Any]:
        from cobalt_rl.train import train

        update: dict[str, Any] = {"out": run.path(out)}
        if "contexts" in type(run.cfg.train).model_fields:  # a mode that trains on contexts
            update["contexts"] = run.path(contexts)
        return {"final": str(train(run.cfg.train.model_copy(update=update)))}

    return Stage(name, (contexts,), (out,), body, loads_model=True)


def eval_stage(name: str, model: str, label: str) -> Stage:
    """``model`` rolled out on the held-out problems and scored on hidden tests."""
    out = f"eval-{label}.jsonl"

    def body(run: Run) -> dict[str, Any]:
        result = run.evaluate(
            model,
            run.problems("eval"),
            run.path(out),
            run.path(f"report/{label}"),
            label,
            run.cfg.eval,
        )
        return result.cost()

    inputs = ("problems-eval.jsonl",) + (() if model == BASE else (model,))
    return Stage(name, inputs, (out, f"report/{label}"), body, loads_model=True)


def perturb_stage() -> Stage:
    def body(run: Run) -> dict[str, Any]:
        from cobalt_rl.hacking.perturb import perturb_problems
        from cobalt_rl.records import write_jsonl

        assert run.cfg.hacking is not None
        counts = {}
        for which in ("train", "eval"):
            report = perturb_problems(run.problems(which), seed=run.cfg.hacking.seed)
            if not report.perturbed:
                raise ConfigError(
                    f"no {which} problem could be perturbed ({report.summary()}): hacking needs "
                    "problems with two public tests whose expected outputs differ"
                )
            write_jsonl(run.path(f"problems-{which}-perturbed.jsonl"), report.perturbed)
            run.echo(f"  {which}: {report.summary()}")
            counts[which] = len(report.perturbed)
        return counts

    outputs = ("problems-train-perturbed.jsonl", "problems-eval-perturbed.jsonl")
    return Stage("perturb", ("problems-train.jsonl", "problems-eval.jsonl"), outputs, body)


def hacking_stage(name: str, model: str, label: str, title: str) -> Stage:
    """``model`` rolled out on the perturbed held-out problems, scored, hacking detected."""
    out = f"hacking-{label}.jsonl"

    def body(run: Run) -> dict[str, Any]:
        from cobalt_rl.report.hacking import write_hacking_report

        hacking = run.cfg.hacking
        assert hacking is not None
        problems = run.problems("eval-perturbed")
        cost = run.roll_out(model, problems, run.path(out), hacking.eval or run.cfg.eval)
        report, programs = _detect_hacking(run, problems, run.path(out), title)
        write_hacking_report(report, run.path(f"report/hacking-{label}"))
        run.echo(
            f"  {title}: {report.hacks} hacking turns, rate {report.rate:.3f} "
            f"({report.hacking_trajectories}/{report.trajectories} trajectories)"
        )
        cost["programs"] += programs
        return {**cost, "hacks": report.hacks, "rate": report.rate}

    inputs = ("problems-eval-perturbed.jsonl",) + (() if model == BASE else (model,))
    return Stage(name, inputs, (out, f"report/hacking-{label}"), body, loads_model=True)


def _detect_hacking(
    run: Run, problems: list[Problem], trajectories: Path, title: str
) -> tuple[HackingReport, int]:
    """Score the rollouts in ``trajectories`` (rewritten in place) and detect their hacking
    turns, with the judge when the config names one; returns the report and programs run."""
    from cobalt_rl.evaluate import score_trajectories
    from cobalt_rl.hacking.detect import analyze_hacking
    from cobalt_rl.records import Trajectory, read_jsonl, write_jsonl

    hacking = run.cfg.hacking
    assert hacking is not None
    by_id = {p.id: p for p in problems}
    judge = run.make_generator(hacking.judge) if hacking.judge is not None else None
    judge_name = hacking.judge.label if hacking.judge is not None else "judge"
    try:
        with run.sandbox() as sandbox:
            scored = score_trajectories(
                list(read_jsonl(trajectories, Trajectory)), by_id, sandbox, profile=run.cfg.profile
            )
            report = analyze_hacking(scored, by_id, sandbox, judge, judge_name, title)
            programs = sandbox.stats["programs"]
    finally:
        if judge is not None:
            judge.close()
    write_jsonl(trajectories, scored)
    return report, programs


def report_stage(names: list[str]) -> Stage:
    def body(run: Run) -> dict[str, Any]:
        from cobalt_rl.report.run import write_run_report

        paths = write_run_report(run.dir, stage_order=names)
        return {k: str(v) for k, v in paths.items()}

    return Stage("report", (), ("report/index.html", "report/report.md"), body)


def stage_list(hacking: bool, replay: bool = False) -> list[Stage]:
    """Every stage of a run, in order (with the hacking stages when ``hacking``, the replay
    reference when ``replay``)."""
    replayed = "rollout-replay.jsonl" if replay else None
    stages = [
        problems_stage(),
        rollout_stage("rollout", "train", "rollout-train.jsonl"),
        score_stage(),
        *([replay_stage()] if replay else []),
        contexts_stage("contexts", "contexts.jsonl", replayed=replayed),
        train_stage("train", "contexts.jsonl", "train"),
        eval_stage("eval_base", BASE, "base"),
        eval_stage("eval_trained", "train/final", "trained"),
    ]
    if hacking:
        stages += [
            perturb_stage(),
            rollout_stage("rollout_perturbed", "train-perturbed", "rollout-train-perturbed.jsonl"),
            contexts_stage(
                "contexts_perturbed",
                "contexts-perturbed.jsonl",
                "rollout-train-perturbed.jsonl",
                replayed,
            ),
            train_stage("train_perturbed", "contexts-perturbed.jsonl", "train-perturbed"),
            eval_stage("eval_perturbed", "train-perturbed/final", "perturbed"),
            hacking_stage("hacking_base", BASE, "base", "base"),
            hacking_stage("hacking_trained", "train/final", "trained", "Cobalt"),
            hacking_stage(
                "hacking_perturbed", "train-perturbed/final", "perturbed", "Cobalt+perturbation"
            ),
        ]
    names = [s.name for s in stages] + ["report"]
    return [*stages, report_stage(names)]


def stages_for(cfg: RunConfig) -> list[Stage]:
    """The stages a run of ``cfg`` goes through, in order."""
    return stage_list(cfg.hacking_enabled, cfg.replay is not None)


STAGES = [s.name for s in stage_list(hacking=False)]
ALL_STAGES = [s.name for s in stage_list(hacking=True, replay=True)]
HACKING_STAGES = [s.name for s in stage_list(hacking=True) if s.name not in STAGES]
