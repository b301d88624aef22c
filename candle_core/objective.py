"""Which way a metric improves, decided once for runs, early stopping, checkpoints and searches.

Losses and errors go down; accuracy, r2, correlations and F1 scores go up, also per head of a
multi-task network (``val_primary_site_macro_f1``). ``Objective`` applies the rule to a history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAXIMIZED = ("accuracy", "acc", "r2", "corr", "f1")


def is_maximized(metric: str) -> bool:
    name = metric.removeprefix("val_").removeprefix("test_")
    return any(name == kind or name.endswith(f"_{kind}") for kind in MAXIMIZED)


@dataclass(frozen=True)
class Objective:
    """A metric to optimize: ``maximize`` None takes the direction from the metric's name;
    ``mode`` takes a history's ``best`` epoch or its ``last``."""

    metric: str = "val_loss"
    maximize: bool | None = None
    mode: str = "best"

    def __post_init__(self) -> None:
        if self.maximize is None:
            object.__setattr__(self, "maximize", is_maximized(self.metric))

    def loss(self, value: float) -> float:
        """The value turned into something to minimize."""
        return -value if self.maximize else value

    def better(self, value: float | None, than: float | None, min_delta: float = 0.0) -> bool:
        """True if ``value`` beats ``than`` (None: nothing to beat) by more than ``min_delta``."""
        if value is None:
            return False
        return than is None or self.loss(value) < self.loss(than) - min_delta

    def series(self, history: Sequence[Mapping[str, float]]) -> list[tuple[int, float]]:
        """(epoch, value) of every epoch that reported the metric (NaN left out)."""
        return [
            (int(row.get("epoch", index + 1)), float(row[self.metric]))
            for index, row in enumerate(history)
            if self.metric in row and not math.isnan(row[self.metric])
        ]

    def best_epoch(self, history: Sequence[Mapping[str, float]]) -> tuple[int, float] | None:
        """(epoch, value) of the best epoch (the first of equals), or None."""
        best = None
        for epoch, value in self.series(history):
            if best is None or self.better(value, best[1]):
                best = (epoch, value)
        return best

    def of(self, history: Sequence[Mapping[str, float]]) -> float | None:
        """The history's value: its best epoch's, or its last epoch's (``mode='last'``)."""
        series = self.series(history)
        if not series:
            return None
        if self.mode == "last":
            return series[-1][1]
        best = self.best_epoch(history)
        return None if best is None else best[1]
