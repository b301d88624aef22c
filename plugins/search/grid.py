"""Grid search: every combination of the parameters' values (numbers: ``grid_points`` evenly
spaced values, default 5), in order, skipping points already evaluated (on resume)."""

from __future__ import annotations

import json

from candle_core import hookimpl
from candle_core.contracts import SearchAlgorithm
from candle_core.search.trial import Trial


class GridSearch(SearchAlgorithm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.points = self.space.grid(self.option("grid_points", 5, int, "[1, inf)"))
        self.position = 0
        self.seen: set[str] = set()

    def ask(self, n: int) -> list[dict]:
        proposals = []
        while len(proposals) < n and self.position < len(self.points):
            point = self.points[self.position]
            self.position += 1
            if json.dumps(point, sort_keys=True, default=str) not in self.seen:
                proposals.append(point)
        return proposals

    def tell(self, trial: Trial) -> None:
        super().tell(trial)
        self.seen.add(json.dumps(trial.params, sort_keys=True, default=str))

    @property
    def exhausted(self) -> bool:
        return self.position >= len(self.points)


@hookimpl
def candle_search_algorithms():
    return {"grid": lambda: GridSearch}
