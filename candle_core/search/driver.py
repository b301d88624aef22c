"""The search driver: ask the algorithm, hand trials to the evaluator, record, tell, repeat.

Everything a search knows is in its SQLite store as soon as it happens, so a driver killed at
any moment can be resumed (``--resume``): finished trials are read back and told to a fresh
algorithm, trials that were still running are forgotten and proposed anew.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from candle_core.errors import CandleError
from candle_core.locks import Lease
from candle_core.search.execute import TrialTask
from candle_core.search.model_cache import ModelCache
from candle_core.search.store import DATABASE, ResultsStore
from candle_core.search.trial import Objective, Proposal, SearchAlgorithm, Trial

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


def _progress(total: int, initial: int):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="search", unit="trial", disable=None)


def run_search(
    settings: SearchSettings,
    algorithm: SearchAlgorithm,
    evaluator: Any,
    experiment_id: str,
    experiment_dir: Path,
    resume: bool = False,
    keep_models: int | None = None,
) -> SearchSummary:
    with Lease(experiment_dir / LEASE_FILE):  # one driver per experiment, across nodes
        return _drive(settings, algorithm, evaluator, experiment_dir, resume, keep_models, experiment_id)


def _drive(
    settings: SearchSettings,
    algorithm: SearchAlgorithm,
    evaluator: Any,
    experiment_dir: Path,
    resume: bool,
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
    bar = _progress(settings.budget, len(finished))
    try:
        while len(all_trials) < settings.budget or running:
            room = min(settings.workers - len(running), settings.budget - len(all_trials) - len(running))
            if room > 0 and not algorithm.exhausted:
                for proposal in algorithm.ask(room):
                    if not isinstance(proposal, Proposal):
                        proposal = Proposal(dict(proposal))
                    parent = proposal.warm_start
                    warm = None if parent is None else str(experiment_dir / TrialTask.run_id_of(trial_by_id[parent]))
                    trial = Trial(
                        next_id,
                        dict(proposal.params),
                        "running",
                        label=proposal.label,
                        warm_start=warm,
                        checkpoint=proposal.checkpoint,
                    )
                    next_id += 1
                    task = TrialTask(settings.benchmark, settings.argv, experiment_id, trial, settings.objective)
                    store.start_trial(trial.id, trial.params, str(experiment_dir / task.run_id), trial.label)
                    evaluator.submit(task)
                    running[trial.id] = trial
            if not running:
                break  # nothing proposed, nothing running: the algorithm is done
            for done in evaluator.completed(timeout=1.0):
                running.pop(done.id, None)
                store.finish_trial(done.id, done.status, done.objective, done.history, done.results, done.error)
                algorithm.tell(done)
                all_trials.append(done)
                trial_by_id[done.id] = done
                cache.update(all_trials, algorithm.protected())
                if done.status == "ok" and settings.objective.better(done.objective, best.objective if best else None):
                    best = done
                bar.update(1)
                failed = sum(t.status == "failed" for t in all_trials)
                bar.set_postfix(
                    {"running": len(running), "failed": failed, "best": f"{best.objective:.4g}" if best else "-"},
                    refresh=True,
                )
    finally:
        bar.close()
        evaluator.shutdown()
    _plot(all_trials, settings.objective, experiment_dir / PROGRESS_PNG)
    return SearchSummary(experiment_dir, sorted(all_trials, key=lambda t: t.id), best, len(finished))


def _prepare(store: ResultsStore, settings: SearchSettings, resume: bool, experiment_dir: Path) -> list[Trial]:
    store.check()
    stored = store.settings()
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
    return [
        Trial(r.id, r.params, r.status, r.objective, r.history, r.results, r.error, r.label) for r in store.trials()
    ]


def _best(trials: Sequence[Trial], objective: Objective) -> Trial | None:
    best = None
    for trial in trials:
        if trial.status == "ok" and objective.better(trial.objective, best.objective if best else None):
            best = trial
    return best


def _plot(trials: Sequence[Trial], objective: Objective, path: Path) -> None:
    """Objective of each trial (failed ones marked) and the best so far, as a PNG."""
    if not trials:
        return
    from candle_core.plots import pyplot, save_figure

    plt = pyplot()

    ordered = sorted(trials, key=lambda t: t.id)
    ok = [(t.id, t.objective) for t in ordered if t.status == "ok" and t.objective is not None]
    failed = [t.id for t in ordered if t.status != "ok"]
    best, so_far = [], None
    for t in ordered:
        if t.status == "ok" and objective.better(t.objective, so_far):
            so_far = t.objective
        best.append(so_far if so_far is not None else math.nan)
    figure, axis = plt.subplots(figsize=(7, 4))
    if ok:
        axis.scatter(*zip(*ok, strict=True), s=14, label=f"trial {objective.metric}")
    axis.plot([t.id for t in ordered], best, color="C1", label="best so far")
    if failed:
        low = min((v for _, v in ok), default=0.0)
        axis.scatter(failed, [low] * len(failed), marker="x", color="C3", label="failed")
    axis.set_xlabel("trial")
    axis.set_ylabel(f"{objective.metric} ({objective.mode} epoch)")
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)
