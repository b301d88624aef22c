"""The model cache of a search: keep the trained models of the best K trials, delete the rest as
the search goes (``--keep-models K``).

A trial's trained state is its ``model/`` and ``ckpts/`` folders; its history, results and
parameters always stay. Trials that the algorithm may still continue from (ASHA's promotion
candidates, PBT's current population: ``SearchAlgorithm.protected``) are never deleted, so
warm starts and PBT's weight copies read from the cache. ``model_cache.json`` in the experiment
directory lists what is kept and what was deleted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from candle_core.atomic import write_json_atomic
from candle_core.objective import Objective
from candle_core.search import node_cache
from candle_core.search.trial import Trial
from candle_core.status import TrialStatus

STATE_FOLDERS = node_cache.STATE_FOLDERS
INDEX = "model_cache.json"


class ModelCache:
    def __init__(
        self, experiment_dir: Path, keep: int | None, objective: Objective, run_dir_of: Callable[[Trial], Path]
    ) -> None:
        self.experiment_dir, self.keep, self.objective, self.run_dir_of = experiment_dir, keep, objective, run_dir_of
        self.removed: set[int] = set()

    def update(self, trials: Sequence[Trial], protected: Iterable[int] = ()) -> list[int]:
        """Delete the state of every finished trial outside the best ``keep`` and ``protected``."""
        if self.keep is None:
            return []
        scored = [
            (self.objective.loss(t.objective), t)
            for t in trials
            if t.status == TrialStatus.OK and t.objective is not None
        ]
        ranked = [t for _, t in sorted(scored, key=lambda pair: pair[0])]
        kept = {t.id for t in ranked[: self.keep]} | set(protected)
        newly = []
        for trial in trials:
            if trial.id in kept or trial.id in self.removed or trial.status == TrialStatus.RUNNING:
                continue
            for folder in STATE_FOLDERS:
                node_cache.remove(self.run_dir_of(trial) / folder)
            self.removed.add(trial.id)
            newly.append(trial.id)
        write_json_atomic(
            self.experiment_dir / INDEX,
            {
                "keep": self.keep,
                "kept": sorted(t.id for t in ranked[: self.keep]),
                "protected": sorted(set(protected)),
                "removed": sorted(self.removed),
            },
        )
        return newly

    def keep_loss_below(self, trials: Sequence[Trial]) -> float | None:
        """A trial starting now keeps its model if its loss (``Objective.loss``) ends below this:
        the ``keep``-th best loss so far; None (keep it) without ``keep`` or before ``keep`` trials
        have finished."""
        losses = sorted(
            self.objective.loss(t.objective) for t in trials if t.status == TrialStatus.OK and t.objective is not None
        )
        if self.keep is None or len(losses) < self.keep:
            return None
        return losses[self.keep - 1] if self.keep else -math.inf
