"""Search problems: a space, a function of a parameter dict and its known minimum (regret =
best value found − minimum). The analytic functions on their boxes, plus mixed spaces with
categories, integers and log scales, as hyperparameter searches have them."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from candle_benchmarks.testfn.functions import FUNCTIONS, MINIMA, branin
from candle_core.search.space import Parameter, SearchSpace

BOUNDS = {
    "branin": [(-5.0, 10.0), (0.0, 15.0)],
    "hartmann6": [(0.0, 1.0)] * 6,
    "rosenbrock": [(-2.0, 2.0)] * 4,
    "sphere": [(-5.0, 5.0)] * 6,
    "ackley5": [(-5.0, 10.0)] * 5,
}
MIXED_OFFSETS = {"a": 0.0, "b": 1.0, "c": 2.5, "d": 5.0}
OPTIMIZERS = {"sgd": (-1.0, 0.4), "rmsprop": (-2.5, 0.15), "adam": (-3.0, 0.0)}  # best log10 lr, cost


def ackley(x) -> float:
    """Ackley on x1..x5; minimum 0 at the origin (off the box's centre on [-5, 10]^5)."""
    d = len(x)
    root = math.sqrt(sum(v * v for v in x) / d)
    return -20 * math.exp(-0.2 * root) - math.exp(sum(math.cos(2 * math.pi * v) for v in x) / d) + 20 + math.e


def mixed(p: Mapping[str, Any]) -> float:
    """Branin + a 4-way categorical offset + a quadratic in an integer 0..15 (best 11)."""
    return branin([p["x1"], p["x2"]]) + MIXED_OFFSETS[p["c"]] + 0.05 * (p["k"] - 11) ** 2


def hyperparameters(p: Mapping[str, Any]) -> float:
    """A validation-loss-like surface: the best learning rate (log scale) depends on the
    optimizer, dropout interacts with width, an integer depth; minimum 0 (adam, lr 1e-3,
    dropout 0.3, width 256, depth 5)."""
    shift, cost = OPTIMIZERS[p["optimizer"]]
    lr = math.log10(p["learning_rate"]) - shift
    width = math.log2(p["width"]) - 8
    dropout = p["dropout"] - 0.3 - 0.05 * width
    return 0.5 * lr * lr + 4 * dropout * dropout + 0.1 * width * width + 0.05 * (p["depth"] - 5) ** 2 + cost


@dataclass(frozen=True)
class Problem:
    space: SearchSpace
    evaluate: Callable[[Mapping[str, Any]], float]
    minimum: float


def _box(name: str) -> Problem:
    space = SearchSpace(
        [Parameter(f"x{i + 1}", "float", lower=low, upper=high) for i, (low, high) in enumerate(BOUNDS[name])],
        source=name,
    )
    f = ackley if name == "ackley5" else FUNCTIONS[name]
    return Problem(space, lambda p: f([p[n] for n in space.names]), MINIMA.get(name, 0.0))


def problem(name: str) -> Problem:
    if name in BOUNDS:
        return _box(name)
    if name == "mixed":
        space = SearchSpace(
            [
                Parameter("x1", "float", lower=-5.0, upper=10.0),
                Parameter("x2", "float", lower=0.0, upper=15.0),
                Parameter("c", "categorical", values=tuple(MIXED_OFFSETS)),
                Parameter("k", "int", lower=0, upper=15),
            ],
            source=name,
        )
        return Problem(space, mixed, MINIMA["branin"])
    if name == "hyperparameters":
        space = SearchSpace(
            [
                Parameter("learning_rate", "float", lower=1e-5, upper=1.0, log=True),
                Parameter("optimizer", "categorical", values=tuple(OPTIMIZERS)),
                Parameter("dropout", "float", lower=0.0, upper=0.8),
                Parameter("width", "int", lower=16, upper=2048, log=True),
                Parameter("depth", "int", lower=1, upper=10),
            ],
            source=name,
        )
        return Problem(space, hyperparameters, 0.0)
    raise KeyError(name)


PROBLEMS = ("branin", "hartmann6", "rosenbrock", "mixed", "ackley5", "hyperparameters")


def with_fidelity(task: Problem, max_epochs: int) -> Problem:
    """``task`` as a multi-fidelity problem: a trial of ``epochs`` < ``max_epochs`` sees the value
    plus a bias that shrinks as 1/epochs and moves its minimum (a short training run ranks
    configurations roughly, not exactly); at ``max_epochs`` it sees the true value."""

    def evaluate(params: dict) -> float:
        x = np.array(
            [float(params[name]) if isinstance(params[name], (int, float)) else 0.0 for name in task.space.names]
        )
        shortfall = 1 / int(params["epochs"]) - 1 / max_epochs
        return task.evaluate(params) + 20 * shortfall * (1 + np.sin(0.5 * x.sum()))

    return Problem(task.space, evaluate, task.minimum)
