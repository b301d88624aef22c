"""Which way a metric improves: losses and errors go down; accuracy, r2, correlations and F1
scores go up, also per head of a multi-task network (``val_primary_site_macro_f1``)."""

from __future__ import annotations

MAXIMIZED = ("accuracy", "acc", "r2", "corr", "f1")


def is_maximized(metric: str) -> bool:
    name = metric.removeprefix("val_").removeprefix("test_")
    return any(name == kind or name.endswith(f"_{kind}") for kind in MAXIMIZED)


def improved(metric: str, value: float, best: float | None, min_delta: float = 0.0) -> bool:
    """True if ``value`` beats ``best`` (None: nothing to beat) by more than ``min_delta``."""
    if best is None:
        return True
    return value > best + min_delta if is_maximized(metric) else value < best - min_delta
