"""Model-based optimization, as CANDLE's mlrMBO workflow: a random-forest surrogate and a
confidence-bound infill that proposes several points per round (qLCB).

After an initial random design (``initial_design``, default max(2 x parameters, workers, 4)
points), each round fits a random forest (scikit-learn, ``trees`` trees) to the trials so far,
in the space's [0, 1] coordinates (so int, float, log-scaled, logical, categorical and ordered
parameters mix), scores candidates — random points and perturbations of the best ones — by
mean − λ·std of the trees' predictions, with one λ drawn per proposed point from an exponential
distribution of mean ``lcb_lambda`` (default 1; small λ exploits, large λ explores), and proposes
the best candidate for each λ, never a point already tried or pending.
"""

from __future__ import annotations

import json

import numpy as np

from candle_core import hookimpl
from candle_core.search.trial import SearchAlgorithm


def _key(point: dict) -> str:
    return json.dumps(point, sort_keys=True, default=str)


class ModelBasedSearch(SearchAlgorithm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        default_design = max(2 * len(self.space), self.workers, 4)
        self.initial_design = self.option("initial_design", default_design, int, "[1, inf)")
        self.n_candidates = self.option("candidates", 2000, int, "[1, inf)")
        self.trees = self.option("trees", 100, int, "[1, inf)")
        self.lcb_lambda = self.option("lcb_lambda", 1.0, float, "[0, inf)")
        self.proposed: set[str] = set()

    def _fresh(self, point: dict) -> bool:
        return _key(point) not in self.proposed and all(_key(t.params) != _key(point) for t in self.told)

    def ask(self, n: int) -> list[dict]:
        scored = self.scored()
        if len(self.proposed) + len(self.told) < self.initial_design or len(scored) < 2:
            points = [self.space.sample(self.rng) for _ in range(n)]
        else:
            points = self._infill(scored, n)
        for point in points:
            self.proposed.add(_key(point))
        return points

    def _infill(self, scored: list, n: int) -> list[dict]:
        from sklearn.ensemble import RandomForestRegressor

        x = np.array([self.space.encode(params) for params, _ in scored])
        y = np.array([loss for _, loss in scored])
        forest = RandomForestRegressor(
            n_estimators=self.trees, min_samples_leaf=1, random_state=int(self.rng.integers(2**31))
        )
        forest.fit(x, y)
        best = x[np.argsort(y)[:5]]
        local = best[self.rng.integers(len(best), size=self.n_candidates // 2)]
        local = np.clip(local + self.rng.normal(0, 0.08, local.shape), 0, 1)
        candidates = np.vstack([self.rng.random((self.n_candidates - len(local), len(self.space))), local])
        per_tree = np.stack([tree.predict(candidates) for tree in forest.estimators_])
        mean, std = per_tree.mean(axis=0), per_tree.std(axis=0)
        points: list[dict] = []
        chosen: set[str] = set()
        for lam in self.rng.exponential(self.lcb_lambda, size=n):
            for index in np.argsort(mean - lam * std):
                point = self.space.decode(candidates[index])
                if self._fresh(point) and _key(point) not in chosen:
                    chosen.add(_key(point))
                    points.append(point)
                    break
            else:
                points.append(self.space.sample(self.rng))
        return points


@hookimpl
def candle_search_algorithms():
    return {"mbo": lambda: ModelBasedSearch}
