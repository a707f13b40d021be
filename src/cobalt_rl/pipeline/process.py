"""A stage of ``cobalt run`` in a process of its own.

On a GPU, what one stage leaves in its process breaks the next: TRL's colocated vLLM sets
``RANK``/``LOCAL_RANK``/``WORLD_SIZE`` and ``VLLM_ENABLE_V1_MULTIPROCESSING=0`` and leaves them
set, so a later trainer runs as one-process DDP and a later engine in-process; and dropping a
trainer's or an engine's references does not give their memory back, so the evaluation's
engine, asking for most of the GPU, finds it held. A process that ends gives everything back.
So each stage that loads a model runs in a fresh process (``spawn``: nothing of this one's
CUDA or environment state is inherited beyond ``os.environ`` as it was at the start), rebuilds
the run from its config, runs the stage's body and sends its summary back; the stage's
marker is written here, as for a stage run in-process. The child prints to the same console.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any

from cobalt_rl.errors import CobaltError
from cobalt_rl.pipeline.config import RunConfig

__all__ = ["StageProcessError", "call_in_own_process", "own_processes", "run_in_own_process"]


class StageProcessError(CobaltError):
    """A stage failed in its own process (the child's error and traceback are in the
    message), or the process died without saying why (killed, out of memory)."""


def own_processes(cfg: RunConfig, custom_generators: bool = False) -> bool:
    """Whether ``cfg``'s model-loading stages (and an experiment's training and evaluation
    cells) run in processes of their own. Not with a caller's own generator factory (it
    lives in this process only)."""
    if custom_generators or cfg.stage_processes == "shared":
        return False
    if cfg.stage_processes == "own":
        return True
    import torch

    return bool(torch.cuda.is_available())


def run_in_own_process(cfg: RunConfig, stage_name: str) -> dict[str, Any]:
    """Run stage ``stage_name`` of ``cfg`` in a fresh process; returns its summary."""
    summary: dict[str, Any] = call_in_own_process(
        _stage_body, (cfg, stage_name), f"stage {stage_name!r}"
    )
    return summary


def call_in_own_process(function: Callable[..., Any], args: tuple[Any, ...], what: str) -> Any:
    """``function(*args)`` in a fresh process (``function`` importable at module level, the
    arguments and result picklable); its result, or its error raised here as a
    :class:`StageProcessError` naming ``what`` with the child's traceback."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(function, args, send), name="cobalt-stage")
    child.start()
    send.close()
    try:
        message = receive.recv()
    except EOFError:
        message = None
    child.join()
    if message is None:
        raise StageProcessError(
            f"{what}: its process ended with exit code {child.exitcode} before reporting "
            "(killed, or out of memory?); its output so far is kept, and running the same "
            "command again resumes it"
        )
    if message[0] == "error":
        _, kind, text, trace = message
        raise StageProcessError(f"{what} failed in its process: {kind}: {text}\n{trace}")
    return message[1]


def _stage_body(cfg: RunConfig, stage_name: str) -> dict[str, Any]:
    from cobalt_rl.pipeline.run import Run
    from cobalt_rl.pipeline.stages import stages_for

    stage = next(s for s in stages_for(cfg) if s.name == stage_name)
    return stage.body(Run(cfg))


def _child(function: Callable[..., Any], args: tuple[Any, ...], send: Any) -> None:
    """``function(*args)`` in this (fresh) process; its result or its error to the parent."""
    try:
        send.send(("ok", function(*args)))
    except BaseException as error:  # the parent re-raises it, with the child's traceback
        send.send(("error", type(error).__name__, str(error), traceback.format_exc()))
    finally:
        send.close()
