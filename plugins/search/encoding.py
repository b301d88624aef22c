"""A search space as features for a surrogate model: every parameter in [0, 1] columns.

* ``float``: one column, on a log scale where the space says ``log``;
* ``int``: one column, likewise, whose values snap to the integers (``project``);
* ``ordered`` and ``logical``: one column, the choice's index spread over [0, 1], snapped;
* ``categorical``: one column per choice (one-hot), snapped to the largest;
* ``constant`` (or a single choice): no column.

``project`` turns any point of [0, 1]^D into the features of a valid point, so an acquisition
optimized over the continuous relaxation is always evaluated, and proposed, at a real point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from candle_core.search.space import Parameter, SearchSpace


@dataclass(frozen=True)
class _Column:
    parameter: Parameter
    start: int
    width: int  # 0 (constant), 1 (number or index) or the number of categories (one-hot)

    @property
    def one_hot(self) -> bool:
        return self.parameter.type == "categorical"

    @property
    def levels(self) -> int | None:
        """Number of evenly spaced values of a snapped single column (None: a float)."""
        p = self.parameter
        if p.type in ("ordered", "logical"):
            return len(p.choices)
        if p.type == "int" and not p.log:
            return int(p.upper - p.lower) + 1
        return None


class SpaceEncoding:
    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.columns: list[_Column] = []
        start = 0
        for p in space:
            width = 0
            if p.type in ("float", "int"):
                width = 1 if p.upper > p.lower else 0
            elif len(p.choices) > 1:
                width = len(p.choices) if p.type == "categorical" else 1
            self.columns.append(_Column(p, start, width))
            start += width
        self.width = start

    @property
    def continuous(self) -> np.ndarray:
        """Indices of the single columns (numbers and ordered indices), optimized by gradient."""
        return np.array([c.start for c in self.columns if c.width == 1], dtype=int)

    @property
    def discrete(self) -> list[_Column]:
        """Columns whose values are a finite set (searched by trying neighbours)."""
        return [c for c in self.columns if c.width and (c.one_hot or c.parameter.type != "float")]

    # ------------------------------------------------------------------ points <-> features
    def encode(self, point: Mapping[str, Any]) -> np.ndarray:
        x = np.zeros(self.width)
        for c in self.columns:
            if not c.width:
                continue
            if c.one_hot:
                x[c.start + c.parameter.choices.index(point[c.parameter.name])] = 1.0
            else:
                x[c.start] = c.parameter.encode(point[c.parameter.name])
        return x

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        point = {}
        for c in self.columns:
            p = c.parameter
            if not c.width:
                point[p.name] = p.choices[0] if p.type not in ("float", "int") else _number(p, p.lower)
            elif c.one_hot:
                point[p.name] = p.choices[int(np.argmax(x[c.start : c.start + c.width]))]
            elif p.type in ("ordered", "logical"):
                point[p.name] = p.choices[int(round(float(x[c.start]) * (len(p.choices) - 1)))]
            else:
                point[p.name] = _number(p, _from_unit(p, float(x[c.start])))
        return point

    # ------------------------------------------------------------------ valid points
    def project(self, x: np.ndarray) -> np.ndarray:
        """Snap rows of ``x`` (n, D) to valid points: integers rounded, one-hot blocks to their
        largest entry, everything clipped to [0, 1]."""
        x = np.clip(np.array(x, dtype=float), 0.0, 1.0)
        for c in self.columns:
            if not c.width:
                continue
            if c.one_hot:
                block = x[:, c.start : c.start + c.width]
                hot = np.argmax(block, axis=1)
                block[:] = 0.0
                block[np.arange(len(x)), hot] = 1.0
            elif c.levels is not None:
                steps = c.levels - 1
                x[:, c.start] = np.round(x[:, c.start] * steps) / steps
            elif c.parameter.type == "int":  # log-scaled integers
                p = c.parameter
                values = np.clip(np.round(_from_unit(p, x[:, c.start])), p.lower, p.upper)
                x[:, c.start] = (np.log(values) - math.log(p.lower)) / (math.log(p.upper) - math.log(p.lower))
        return x

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` random valid points (uniform per parameter, log-uniform where ``log``)."""
        return self.project(rng.random((n, self.width)))

    def neighbours(self, x: np.ndarray) -> np.ndarray:
        """Valid points one discrete step from ``x``: each other category, each integer or
        ordered value ±1, the other logical value."""
        result = []
        for c in self.discrete:
            if c.one_hot:
                for k in range(c.width):
                    if x[c.start + k] < 0.5:
                        y = x.copy()
                        y[c.start : c.start + c.width] = 0.0
                        y[c.start + k] = 1.0
                        result.append(y)
                continue
            for direction in (-1, 1):
                y = x.copy()
                y[c.start] = self._step(c, x[c.start], direction)
                if 0.0 <= y[c.start] <= 1.0 and y[c.start] != x[c.start]:
                    result.append(y)
        return np.array(result).reshape(-1, self.width)

    @staticmethod
    def _step(c: _Column, u: float, direction: int) -> float:
        if c.levels is not None:
            return u + direction / (c.levels - 1)
        p = c.parameter  # log-scaled integer
        value = round(float(_from_unit(p, u))) + direction
        if not p.lower <= value <= p.upper:
            return -1.0
        return (math.log(value) - math.log(p.lower)) / (math.log(p.upper) - math.log(p.lower))


def _from_unit(p: Parameter, u):
    """Value of a number parameter at unit coordinate ``u`` (array or float), unrounded."""
    if p.log:
        return np.exp(math.log(p.lower) + np.asarray(u) * (math.log(p.upper) - math.log(p.lower)))
    return p.lower + np.asarray(u) * (p.upper - p.lower)


def _number(p: Parameter, value) -> int | float:
    if p.type == "int":
        return int(min(max(round(float(value)), p.lower), p.upper))
    return float(min(max(float(value), p.lower), p.upper))
