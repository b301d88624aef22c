"""The search driver: ask the algorithm, hand trials to the evaluator, record, tell, repeat.

Everything a search knows is in its SQLite store as soon as it happens, so a driver killed at
any moment can be resumed (``--resume``): finished trials are read back and told to a fresh
algorithm, trials that were still running are forgotten and proposed anew.

In a batch job (``cluster.walltime``) the driver starts no trial that would not end before the
allocation does, by the longest trial so far, and on the job's warning signal it starts no more
and leaves before the end, stopping the trials still running (they are run again on resume).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from candle_core.cluster import walltime
from candle_core.contracts import SearchAlgorithm
from candle_core.errors import CandleError
from candle_core.locks import Lease
from candle_core.objective import Objective
from candle_core.plots import save_figure, search_progress_figure
from candle_core.search.model_cache import ModelCache
from candle_core.search.space import SearchSpace
from candle_core.search.store import DATABASE, ResultsStore
from candle_core.search.trial import NODE_LOST, Proposal, Trial, TrialTask
from candle_core.status import TrialStatus
from candle_core.tensorboard import OBJECTIVE_TAG, TENSORBOARD_DIR, write_experiment, write_session
from candle_core.tensorboard import available as tensorboard_available

PROGRESS_PNG = "search_progress.png"
LEASE_FILE = "driver.lease"


@dataclass
class SearchSettings:
    """What defines a search; a resumed search must match the stored one."""

    benchmark: str
    algorithm: str
    space: str
    budget: int
    workers: int
    objective: Objective
    seed: int = 7102
    argv: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    retries: int = 2  # times a trial lost with its node runs again
    model_cache: str = "shared"  # where trials write their state: shared, or node (node_cache.py)
    tensorboard: bool = True  # HParams records for TensorBoard (when the package is installed)

    def identity(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "algorithm": self.algorithm,
            "space": self.space,
            "objective": asdict(self.objective),
            "argv": list(self.argv),
            "seed": self.seed,
        }


@dataclass
class SearchSummary:
    experiment_dir: Path
    trials: list[Trial]
    best: Trial | None
    resumed: int
    stopped: str | None = None  # why the search stopped before its budget (the walltime), or None


def _progress(total: int, initial: int):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="search", unit="trial", disable=None)


def run_search(
    settings: SearchSettings,
    algorithm: SearchAlgorithm,
    evaluator: Any,
    experiment_id: str,
    experiment_dir: Path,
    resume: str | None = None,
    keep_models: int | None = None,
) -> SearchSummary:
    with Lease(experiment_dir / LEASE_FILE):  # one driver per experiment, across nodes
        return _drive(settings, algorithm, evaluator, experiment_dir, resume, keep_models, experiment_id)


def _drive(
    settings: SearchSettings,
    algorithm: SearchAlgorithm,
    evaluator: Any,
    experiment_dir: Path,
    resume: str | None,
    keep_models: int | None,
    experiment_id: str,
) -> SearchSummary:
    store = ResultsStore(experiment_dir / DATABASE)
    finished = _prepare(store, settings, resume, experiment_dir)
    cache = ModelCache(
        experiment_dir, keep_models, settings.objective, lambda trial: experiment_dir / TrialTask.run_id_of(trial)
    )
    for trial in finished:
        algorithm.tell(trial)
    all_trials = list(finished)
    trial_by_id = {t.id: t for t in finished}
    best = _best(all_trials, settings.objective)
    next_id = max((t.id for t in finished), default=-1) + 1
    running: dict[int, Trial] = {}
    started: dict[int, float] = {}
    longest = 0.0  # the longest trial so far, in seconds: the estimate of the next one
    stopped: str | None = None
    again: list[Trial] = []  # trials lost with their node, to run again
    losses: dict[str, int] = {}  # times each parameter set was lost
    bar = _progress(settings.budget, len(finished))
    hparams = settings.tensorboard and tensorboard_available()
    if hparams and not finished:
        _hparams_experiment(getattr(algorithm, "space", None), settings.objective, experiment_dir)
    try:
        while len(all_trials) < settings.budget or running:
            stopped = stopped or _walltime_stop(longest)
            if stopped and (not running or _must_leave()):
                break
            room = min(evaluator.workers - len(running), settings.budget - len(all_trials) - len(running))
            if room > 0 and not stopped:
                retried, again = again[:room], again[room:]
                proposals = [*retried, *(algorithm.ask(room - len(retried)) if not algorithm.exhausted else [])]
                for proposal in proposals:
                    trial = _new_trial(next_id, proposal, trial_by_id, experiment_dir)
                    next_id += 1
                    task = TrialTask(
                        settings.benchmark,
                        settings.argv,
                        experiment_id,
                        trial,
                        settings.objective,
                        node_cache=settings.model_cache == "node",
                        keep_loss_below=cache.keep_loss_below(all_trials),
                    )
                    store.start_trial(trial.id, trial.params, str(experiment_dir / task.run_id), trial.label)
                    evaluator.submit(task)
                    running[trial.id] = trial
                    started[trial.id] = time.monotonic()
            if not running:
                if again:
                    stopped = "every node that could run a trial was lost; resume in a new allocation"
                break  # nothing proposed, nothing running: the algorithm is done
            for done in evaluator.completed(timeout=1.0):
                running.pop(done.id, None)
                seconds = time.monotonic() - started.pop(done.id, time.monotonic())
                store.finish_trial(done.id, done.status, done.objective, done.history, done.results, done.error)
                key = json.dumps([done.params, done.label], sort_keys=True, default=str)
                if is_lost(done) and losses.get(key, 0) < settings.retries:
                    losses[key] = losses.get(key, 0) + 1
                    again.append(done)  # recorded as lost; the same parameters run again, not yet counted
                    print(f"candle: trial {done.id}: {done.error.splitlines()[0]}; running it again", file=sys.stderr)
                    continue
                longest = max(longest, seconds)
                if hparams:
                    _hparams_session(done, experiment_dir, time.time() - seconds)
                algorithm.tell(done)
                all_trials.append(done)
                trial_by_id[done.id] = done
                cache.update(all_trials, algorithm.protected())
                if done.status == TrialStatus.OK and settings.objective.better(
                    done.objective, best.objective if best else None
                ):
                    best = done
                bar.update(1)
                failed = sum(t.status == TrialStatus.FAILED for t in all_trials)
                bar.set_postfix(
                    {"running": len(running), "failed": failed, "best": f"{best.objective:.4g}" if best else "-"},
                    refresh=True,
                )
    finally:
        bar.close()
        evaluator.shutdown()
    _plot(all_trials, settings.objective, experiment_dir / PROGRESS_PNG)
    if len(all_trials) >= settings.budget or algorithm.exhausted:
        stopped = None
    return SearchSummary(experiment_dir, sorted(all_trials, key=lambda t: t.id), best, len(finished), stopped)


def _hparams_experiment(space: SearchSpace | None, objective: Objective, experiment_dir: Path) -> None:
    """TensorBoard's HParams experiment: the searched parameters' domains and the metrics (a UPF
    has no space: TensorBoard infers the parameters from the trials' sessions)."""
    if space is None:
        return
    domains = {p.name: (p.lower, p.upper) if p.type in ("int", "float") else list(p.choices) for p in space}
    write_experiment(experiment_dir / TENSORBOARD_DIR, domains, [OBJECTIVE_TAG, objective.metric])


def _hparams_session(trial: Trial, experiment_dir: Path, started: float) -> None:
    """A finished trial's HParams session, beside its own event files."""
    logdir = experiment_dir / TrialTask.run_id_of(trial) / TENSORBOARD_DIR
    ok = trial.status == TrialStatus.OK
    write_session(logdir, trial.params, trial.objective, ok, started, step=len(trial.history))


def is_lost(trial: Trial) -> bool:
    """A trial whose node died under it (the srun evaluator's "node lost")."""
    return trial.status == TrialStatus.FAILED and (trial.error or "").startswith(NODE_LOST)


def _new_trial(trial_id: int, proposal: Any, trial_by_id: dict[int, Trial], experiment_dir: Path) -> Trial:
    """A trial to start: from an algorithm's proposal (parameters, or a Proposal), or a lost trial again."""
    if isinstance(proposal, Trial):
        params, label, warm, checkpoint = proposal.params, proposal.label, proposal.warm_start, proposal.checkpoint
    else:
        if not isinstance(proposal, Proposal):
            proposal = Proposal(dict(proposal))
        parent = proposal.warm_start
        warm = None if parent is None else str(experiment_dir / TrialTask.run_id_of(trial_by_id[parent]))
        params, label, checkpoint = proposal.params, proposal.label, proposal.checkpoint
    return Trial(
        trial_id, dict(params), status=TrialStatus.RUNNING, label=label, warm_start=warm, checkpoint=checkpoint
    )


def _walltime_stop(longest: float) -> str | None:
    """Why no trial may start now: the job's warning came, or the next trial (as long as the
    longest so far) would not end before the allocation does; None while trials may start."""
    if walltime.warned():
        return "the batch job's walltime warning came"
    left = walltime.remaining()
    if left is not None and longest and left - walltime.MARGIN_SECONDS < longest:
        return f"{left:.0f} s left in the batch job, and a trial takes up to {longest:.0f} s"
    return None


def _must_leave() -> bool:
    """Trials still running must be stopped now: the end is near, or unknown after a warning."""
    left = walltime.remaining()
    return left is None or left < walltime.MARGIN_SECONDS


def _prepare(store: ResultsStore, settings: SearchSettings, resume: str | None, experiment_dir: Path) -> list[Trial]:
    store.check()
    stored = store.settings()
    if resume == "auto":  # a batch chain's job: continue the search if there is one, else start it
        resume = "yes" if stored else None
    if resume and not stored:
        state = "is empty (truncated?)" if store.emptied else "holds no search"
        raise CandleError(
            f"{store.path} {state}: nothing to resume, and a new search would write over the trial folders "
            f"in {experiment_dir}; restore the store from a copy, or start without --resume under another "
            "--experiment_id"
        )
    if not stored and any(experiment_dir.glob("RUN*")):
        raise CandleError(
            f"{experiment_dir} holds trial folders but {store.path.name} holds no search (emptied or removed?); "
            "a new search would write over them: choose another --experiment_id"
        )
    if stored and not resume:
        raise CandleError(
            f"{store.path} already holds a search; add --resume to continue it, or choose another --experiment_id"
        )
    if stored and stored.get("identity") != settings.identity():
        before, now = stored.get("identity", {}), settings.identity()
        differs = [k for k in now if before.get(k) != now[k]]
        raise CandleError(
            f"{store.path}: --resume with different settings ({', '.join(differs)}); "
            f"use the original ones or another --experiment_id"
        )
    store.save_settings({"identity": settings.identity(), "budget": settings.budget, "workers": settings.workers})
    store.discard_unfinished()
    trials = [
        Trial(
            r.id,
            r.params,
            status=TrialStatus(r.status),
            objective=r.objective,
            history=r.history,
            results=r.results,
            error=r.error,
            label=r.label,
        )
        for r in store.trials()
    ]
    return [t for t in trials if not is_lost(t)]  # lost with their node: proposed anew


def _best(trials: Sequence[Trial], objective: Objective) -> Trial | None:
    best = None
    for trial in trials:
        if trial.status == TrialStatus.OK and objective.better(trial.objective, best.objective if best else None):
            best = trial
    return best


def _plot(trials: Sequence[Trial], objective: Objective, path: Path) -> None:
    """Objective of each trial (failed ones marked) and the best so far, as a PNG."""
    if trials:
        points = [(t.id, t.objective, t.status == TrialStatus.OK) for t in trials]
        save_figure(search_progress_figure(points, objective), path)
