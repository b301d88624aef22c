"""Which way a metric improves: losses and errors go down, accuracy, r2 and correlations go up."""

from __future__ import annotations

MAXIMIZED = ("accuracy", "acc", "r2", "corr")


def is_maximized(metric: str) -> bool:
    return metric.removeprefix("val_") in MAXIMIZED


def improved(metric: str, value: float, best: float | None, min_delta: float = 0.0) -> bool:
    """True if ``value`` beats ``best`` (None: nothing to beat) by more than ``min_delta``."""
    if best is None:
        return True
    return value > best + min_delta if is_maximized(metric) else value < best - min_delta
