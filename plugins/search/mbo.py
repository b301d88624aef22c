"""Model-based optimization: a Gaussian-process surrogate (default) or CANDLE mlrMBO's random
forest, proposing several points per round.

After an initial Latin-hypercube design (``initial_design``, default max(D + 1, workers, 5,
min(2D, budget/5)) points for D parameters: twice the dimension where the budget allows, as Ax
chooses), each round fits the surrogate to every finished trial:

* ``surrogate=gp`` (default): see ``candle_plugins.search.gp`` (Matérn-5/2 ARD GP, warped
  outputs, multi-start LogEI, integers and categories snapped inside the acquisition, qLogEI's
  greedy step for batches and running trials). Above ``max_history`` trials (default 300) the GP
  sees the best half of that many and an even spread of the rest, which bounds its cost.
  ``outputs``: ``evidence`` (default: standardized or Yeo-Johnson warped, whichever the
  marginal likelihood prefers), ``standardized``, or ``hedge`` (the two take turns).
  ``length_scale_samples`` (default 4): the acquisition is averaged over the fitted model and
  the others of that many whose length scales are drawn from their posterior (1: the fitted one
  only, as Optuna's GPSampler).
* ``surrogate=forest``: a scikit-learn random forest (``trees``) scored on ``candidates`` random
  points and perturbations of the best ones by mean − λ·std, one λ per proposal drawn from an
  exponential of mean ``lcb_lambda`` (qLCB). For huge or mostly categorical spaces.

Failed trials (a crash, no objective) count as the worst loss seen, so the model steers away
from where they failed. ``warm_start=DIR[,DIR...]`` adds the finished trials of earlier
experiments (their folders, or their results.sqlite) that fit this space to the model's data,
as a prior: the initial design shrinks by as many.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from candle_core import hookimpl
from candle_core.contracts import SearchAlgorithm
from candle_core.errors import CandleError
from candle_core.search.store import DATABASE, ResultsStore
from candle_core.status import TrialStatus

SURROGATES = ("gp", "forest")
OUTPUTS = ("evidence", "standardized", "hedge")  # candle_plugins.search.gp.Proposer's choices
SURROGATE_OPTIONS = {
    "gp": ("outputs", "max_history", "length_scale_samples"),
    "forest": ("candidates", "trees", "lcb_lambda"),
}


def with_failures(trials, objective, known=()) -> tuple[list[dict], np.ndarray]:
    """Parameters and losses of the finished ``trials`` after the ``known`` (parameters, loss)
    pairs; a failed trial (a crash, no or a non-finite objective) gets the worst loss seen, so a
    model steers away from where trials fail."""
    points, losses = [p for p, _ in known], [loss for _, loss in known]
    failed = []
    for trial in trials:
        loss = None if trial.objective is None else objective.loss(trial.objective)
        if trial.status == TrialStatus.OK and loss is not None and math.isfinite(loss):
            points.append(trial.params)
            losses.append(loss)
        else:
            failed.append(trial.params)
    if failed and losses:
        points += failed
        losses += [max(losses)] * len(failed)
    return points, np.array(losses, dtype=float)


def _key(point: dict) -> str:
    return json.dumps(point, sort_keys=True, default=str)


class ModelBasedSearch(SearchAlgorithm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.surrogate = self.option("surrogate", "gp", str)
        if self.surrogate not in SURROGATES:
            raise CandleError(f"--option surrogate={self.surrogate}: expected one of {', '.join(SURROGATES)}")
        dimensions = len(self.space)
        default_design = max(dimensions + 1, self.workers, 5, min(2 * dimensions, self.budget // 5))
        self.initial_design = self.option("initial_design", default_design, int, "[1, inf)")
        self.n_candidates = self.option("candidates", 2000, int, "[1, inf)")
        self.trees = self.option("trees", 100, int, "[1, inf)")
        self.lcb_lambda = self.option("lcb_lambda", 1.0, float, "[0, inf)")
        self.max_history = self.option("max_history", 300, int, "[10, inf)")
        self.length_scale_samples = self.option("length_scale_samples", 4, int, "[1, inf)")
        self.outputs = self.option("outputs", "evidence", str)
        if self.outputs not in OUTPUTS:
            raise CandleError(f"--option outputs={self.outputs}: expected one of {', '.join(OUTPUTS)}")
        (other,) = set(SURROGATES) - {self.surrogate}
        unused = [name for name in SURROGATE_OPTIONS[other] if name in self.options]
        if unused:
            warnings.warn(
                f"--option {', '.join(unused)}: no effect with surrogate={self.surrogate} ({other} options)",
                stacklevel=2,
            )
        self.prior = self._earlier_trials(self.option("warm_start", "", str))
        self.asked: Counter[str] = Counter()
        self.design = self._design(max(0, self.initial_design - len(self.prior)))
        self._proposer = None

    # ------------------------------------------------------------------ data
    def _earlier_trials(self, folders: str) -> list[tuple[dict, float]]:
        """(parameters, loss) of the finished trials of earlier experiments that fit the space."""

        prior = []
        for folder in filter(None, (f.strip() for f in folders.split(","))):
            path = Path(folder).expanduser()
            path = path if path.name.endswith(".sqlite") else path / DATABASE
            if not path.is_file():
                raise CandleError(
                    f"--option warm_start={folder}: no {path.name} there; "
                    "give the experiment folder of an earlier search"
                )
            for trial in ResultsStore(path).trials():
                params = {name: trial.params.get(name) for name in self.space.names}
                if trial.status == TrialStatus.OK and trial.objective is not None and self.space.contains(params):
                    prior.append((params, self.objective.loss(trial.objective)))
        return prior

    def _history(self) -> tuple[list[dict], np.ndarray]:
        """Parameters and losses of every finished trial, after the warm-start prior's."""
        return with_failures(self.told, self.objective, self.prior)

    def _pending(self) -> list[dict]:
        waiting = self.asked - Counter(_key(t.params) for t in self.told)
        return [json.loads(key) for key in waiting.elements()]

    # ------------------------------------------------------------------ proposals
    def _design(self, size: int) -> list[dict]:
        if not size or not len(self.space):
            return []
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(self.space), seed=self.rng).random(size)
        return [self.space.decode(row) for row in unit]

    def ask(self, n: int) -> list[dict]:
        points: list[dict] = []
        while self.design and len(points) < n:
            points.append(self.design.pop(0))
        if len(points) < n:
            history, losses = self._history()
            if len(set(losses.tolist())) < 2:
                points += [self.space.sample(self.rng) for _ in range(n - len(points))]
            elif self.surrogate == "gp":
                points += self._gp_infill(history, losses, points, n - len(points))
            else:
                points += self._forest_infill(history, losses, n - len(points))
        for point in points:
            self.asked[_key(point)] += 1
        return points

    def _subsample(self, history: list[dict], losses: np.ndarray) -> tuple[list[dict], np.ndarray]:
        if len(losses) <= self.max_history:
            return history, losses
        order = np.argsort(losses)
        keep = self.max_history // 2
        rest = order[keep:][np.linspace(0, len(order) - keep - 1, self.max_history - keep).astype(int)]
        chosen = np.concatenate([order[:keep], rest])
        return [history[i] for i in chosen], losses[chosen]

    def _gp_infill(self, history: list[dict], losses: np.ndarray, chosen: list[dict], n: int) -> list[dict]:
        from candle_plugins.search.gp import Proposer

        if self._proposer is None:
            self._proposer = Proposer(
                self.space, self.rng, outputs=self.outputs, length_scale_samples=self.length_scale_samples
            )
        encoding = self._proposer.encoding
        history, losses = self._subsample(history, losses)
        x = np.array([encoding.encode(p) for p in history])
        pending = [encoding.encode(p) for p in self._pending() + chosen]
        vectors = self._proposer.propose(x, losses, n, np.array(pending) if pending else None)
        return [encoding.decode(v) for v in vectors]

    def _forest_infill(self, history: list[dict], losses: np.ndarray, n: int) -> list[dict]:
        from sklearn.ensemble import RandomForestRegressor

        x = np.array([self.space.encode(params) for params in history])
        forest = RandomForestRegressor(
            n_estimators=self.trees, min_samples_leaf=1, random_state=int(self.rng.integers(2**31))
        )
        forest.fit(x, losses)
        best = x[np.argsort(losses)[:5]]
        local = best[self.rng.integers(len(best), size=self.n_candidates // 2)]
        local = np.clip(local + self.rng.normal(0, 0.08, local.shape), 0, 1)
        candidates = np.vstack([self.rng.random((self.n_candidates - len(local), len(self.space))), local])
        per_tree = np.stack([tree.predict(candidates) for tree in forest.estimators_])
        mean, std = per_tree.mean(axis=0), per_tree.std(axis=0)
        taken = {_key(p) for p in history} | set(self.asked)
        points: list[dict] = []
        for lam in self.rng.exponential(self.lcb_lambda, size=n):
            for index in np.argsort(mean - lam * std):
                point = self.space.decode(candidates[index])
                if _key(point) not in taken:
                    taken.add(_key(point))
                    points.append(point)
                    break
            else:
                points.append(self.space.sample(self.rng))
        return points


@hookimpl
def candle_search_algorithms():
    return {"mbo": lambda: ModelBasedSearch}
