"""Random search: independent draws from the space (log-uniform where ``log`` is set)."""

from __future__ import annotations

import numpy as np

from candle_core import hookimpl
from candle_core.contracts import SearchAlgorithm


class RandomSearch(SearchAlgorithm):
    def ask(self, n: int) -> list[dict]:
        if not hasattr(self, "_stream"):  # after a resume, continue with draws not made before
            self._stream = np.random.default_rng([int(self.rng.integers(2**31)), len(self.told)])
        return [self.space.sample(self._stream) for _ in range(n)]


@hookimpl
def candle_search_algorithms():
    return {"random": lambda: RandomSearch}
