"""Running one trial, in whatever process an evaluator gives it.

The trial resolves its parameters like ``candle run BENCH ARGV`` plus the search's values (the
highest precedence), in ``<experiment>/RUN<id>``, and reports its status, history and results.
A Python exception is caught and reported; a crash of the process (abort, kill, out of memory)
is the evaluator's to notice.
"""

from __future__ import annotations

import json
import os
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

from candle_core.checkpoint import copy_latest
from candle_core.cluster import walltime
from candle_core.errors import CandleError
from candle_core.objective import Objective
from candle_core.parameters.pipeline import resolve_benchmark
from candle_core.run import HISTORY_JSON, run_benchmark
from candle_core.search import node_cache
from candle_core.search.space import check_search_values
from candle_core.search.trial import Trial, TrialTask
from candle_core.status import TrialStatus


def trial_argv(task: TrialTask) -> list[str]:
    return [*task.argv, "--experiment_id", task.experiment_id, "--run_id", task.run_id]


def resolve_trial(task: TrialTask) -> tuple[Any, Any, dict[str, Any]]:
    """(plugin manager, benchmark, parameter values) of the trial: ``candle run BENCH ARGV`` plus
    the search's values. Raises CandleError for bad flags or values."""
    trial = task.trial
    overrides = dict(trial.params)
    check_search_values(list(overrides), f"trial {trial.label or trial.id}")
    if trial.warm_start:
        overrides["ckpt_restart_mode"] = "auto"
    found = resolve_benchmark(
        task.benchmark,
        trial_argv(task),
        overrides,
        prog=f"trial {trial.id}",
        override_source=f"search trial {trial.id}",
    )
    return found.manager, found.benchmark, found.values


def run_trial(task: TrialTask, manage_state: bool = True) -> Trial:
    """Run the trial here; return it with status, objective, history, results or error.

    ``manage_state``: prepare the trial's state first (the parent's checkpoint, the node cache)
    and settle it after (a multi-rank trial's job does both once, on its rank 0)."""

    walltime.ignore_warning()  # the driver stops trials at the walltime, a trial never stops itself
    trial, run_dir = task.trial, None
    try:
        manager, benchmark, values = resolve_trial(task)
        run_dir = Path(values["run_dir"])
        if manage_state:
            prepare_state(task, run_dir)
        if "plots" not in trial.params and "--plots" not in task.argv:
            values["plots"] = False  # one picture per search (search_progress.png), not per trial
        if trial.checkpoint and not values.get("ckpt_save_interval"):
            values["ckpt_save_interval"] = values["epochs"]  # the last epoch
        results = run_benchmark(benchmark, values, manager)
        history_path = run_dir / HISTORY_JSON
        history = json.loads(history_path.read_text()) if history_path.exists() else []
        finished = _finished(trial, TrialStatus.OK, history, results, None, task.objective)
    except CandleError as exc:
        finished = _finished(trial, TrialStatus.FAILED, [], {}, "; ".join(exc.messages), task.objective)
    except Exception as exc:  # noqa: BLE001 — a failing trial is recorded, the search goes on
        tail = "".join(traceback.format_exception(exc)[-3:]).strip()
        finished = _finished(trial, TrialStatus.FAILED, [], {}, f"{type(exc).__name__}: {exc}\n{tail}", task.objective)
    return settle_state(task, finished, run_dir) if manage_state and run_dir else finished


def prepare_state(task: TrialTask, run_dir: Path) -> None:
    """Before a trial trains (in one process of it): its state folders on the node's cache
    (``--model-cache node``), and the checkpoint it continues from copied in."""
    if task.node_cache:
        node_cache.attach(run_dir, task.experiment_id)
    if task.trial.warm_start:
        _continue_from(Path(task.trial.warm_start), run_dir)


def settle_state(task: TrialTask, trial: Trial, run_dir: Path) -> Trial:
    """After a trial trained (in the process that prepared it): with the node cache, flush what
    the search keeps to the shared run directory, and say so in the results."""
    if not task.node_cache:
        return trial
    ok = trial.status == TrialStatus.OK
    limit = task.keep_loss_below
    kept = ok and (limit is None or (trial.objective is not None and task.objective.loss(trial.objective) < limit))
    copied = node_cache.flush(run_dir, keep_model=kept, keep_checkpoint=ok and task.trial.checkpoint)
    results = {**trial.results, "node_cache": {"node": node_cache.node_name(), "flushed_bytes": copied}}
    return replace(trial, results=results) if ok else trial


def failed_trial(task: TrialTask, error: str) -> Trial:
    """The trial, failed for ``error`` (its process or job never reported)."""
    return _finished(task.trial, TrialStatus.FAILED, [], {}, error, task.objective)


def _continue_from(parent: Path, run_dir: Path) -> None:
    """Copy the parent trial's latest checkpoint, so that this trial resumes its training (a
    benchmark without checkpoints simply trains from the start)."""
    source = parent / "ckpts"
    if source.is_symlink() and not source.exists():
        raise CandleError(
            f"{parent}: its checkpoint stayed in the node cache of another node ({os.readlink(source)}) "
            "and was not flushed; the trial cannot continue from it"
        )
    copy_latest(source, Path(os.path.realpath(run_dir / "ckpts")))  # realpath: the node cache's folder


def _finished(
    trial: Trial, status: TrialStatus, history: list, results: dict, error: str | None, objective: Objective
) -> Trial:
    value = objective.of(history) if status == TrialStatus.OK else None
    if status == TrialStatus.OK and value is None:
        status, error = TrialStatus.FAILED, f"the run reported no '{objective.metric}'"
    return replace(trial, status=status, objective=value, history=history, results=_plain(results), error=error)


def _plain(results: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in results.items() if k != "params"}


def describe_exit(code: int | None) -> str:
    """Say how a trial process ended."""
    import signal

    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"
