"""Analytic test functions of hyperparameter optimization, with their known minima."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence


def branin(x: Sequence[float]) -> float:
    """Branin on x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 at three points."""
    x1, x2 = x[0], x[1]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_HARTMANN_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
_HARTMANN_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]
_HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x: Sequence[float]) -> float:
    """Hartmann 6-D on [0, 1]^6; minimum -3.32237."""
    total = 0.0
    for alpha, a_row, p_row in zip(_HARTMANN_ALPHA, _HARTMANN_A, _HARTMANN_P, strict=True):
        total -= alpha * math.exp(-sum(a * (xi - p) ** 2 for a, xi, p in zip(a_row, x[:6], p_row, strict=True)))
    return total


def rosenbrock(x: Sequence[float]) -> float:
    """Rosenbrock on x1..x4 (any box around [0, 2]); minimum 0 at (1, 1, 1, 1)."""
    xs = list(x[:4])
    return sum(100 * (b - a * a) ** 2 + (1 - a) ** 2 for a, b in zip(xs[:-1], xs[1:], strict=True))


def sphere(x: Sequence[float]) -> float:
    """Sum of squares of x1..x6; minimum 0 at the origin."""
    return sum(v * v for v in x[:6])


FUNCTIONS: dict[str, Callable[[Sequence[float]], float]] = {
    "branin": branin,
    "hartmann6": hartmann6,
    "rosenbrock": rosenbrock,
    "sphere": sphere,
}
MINIMA = {"branin": 0.397887, "hartmann6": -3.32237, "rosenbrock": 0.0, "sphere": 0.0}
