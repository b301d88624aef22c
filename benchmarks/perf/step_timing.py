"""Timing helpers shared by the step benchmarks: median seconds per training step."""

from __future__ import annotations

import statistics
import time

import numpy as np

from candle_core.initializers import initial_weights
from candle_core.model import ModelSpec
from candle_core.plugin_manager import get_plugin_manager


def median_step(times: list[float]) -> float:
    """The median gap between step-end stamps, the first step (a warm-up) left out."""
    return statistics.median(np.diff(times)[1:])


def candle_step(backend_name: str, spec: ModelSpec, x: np.ndarray, y: np.ndarray, batch: int, precision: str) -> float:
    """Median seconds per step of one ``train_epoch`` of candle's backend over ``x``."""
    backend = get_plugin_manager().component("backend", backend_name)()
    model = backend.build(spec, initial_weights(spec.infos(), spec.initializer, 0), precision, 0)
    times = [time.perf_counter()]
    backend.train_epoch(model, x, y, batch, np.arange(len(x)), lambda: times.append(time.perf_counter()))
    return median_step(times)
