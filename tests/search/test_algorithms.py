"""Each algorithm on the cheap analytic functions, in this process."""

import numpy as np
import pytest

from candle_benchmarks.testfn.functions import MINIMA
from candle_benchmarks.testfn.harness import optimize
from candle_core.plugin_manager import get_plugin_manager


def algorithm(name):
    return get_plugin_manager().component("search", name)()


OPTIONS = {"pbt": {"population": 8}, "mbo-forest": {"surrogate": "forest"}}


@pytest.mark.parametrize(
    "name", ["random", "mbo", "mbo-forest", "ga", "hyperspace", "asha", "hyperband", "bohb", "pbt"]
)
def test_algorithms_improve_and_are_reproducible(name):
    options = OPTIONS.get(name)
    name = name.removesuffix("-forest")
    curve = optimize(algorithm(name), "branin", budget=32, seed=3, options=options)
    assert len(curve) == 32 and curve[-1] < curve[0] and curve[-1] >= MINIMA["branin"] - 1e-6
    assert optimize(algorithm(name), "branin", budget=32, seed=3, options=options) == curve
    assert optimize(algorithm(name), "branin", budget=32, seed=4, options=options) != curve


def test_grid_covers_the_grid_then_stops():
    curve = optimize(algorithm("grid"), "branin", budget=100, seed=0, options={"grid_points": 4})
    assert len(curve) == 16


def test_mbo_beats_random_on_every_function():
    for function in ("branin", "hartmann6", "mixed"):
        mbo = np.median([optimize(algorithm("mbo"), function, 30, seed)[-1] for seed in range(3)])
        rnd = np.median([optimize(algorithm("random"), function, 30, seed)[-1] for seed in range(3)])
        assert mbo < rnd, function
