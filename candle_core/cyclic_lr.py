"""Cyclical learning rates (Smith, 2017, arXiv:1506.01186): the rate after a number of batches.

Modes: ``triangular`` (constant amplitude), ``triangular2`` (amplitude halved each cycle),
``exp_range`` (amplitude times gamma**iterations). CANDLE's ``clr_mode`` names them ``trng1``,
``trng2`` and ``exp``.
"""

from __future__ import annotations

import math

MODES = {"trng1": "triangular", "trng2": "triangular2", "exp": "exp_range"}


def cyclic_rate(
    iteration: float, base_lr: float, max_lr: float, step_size: float, mode: str = "triangular", gamma: float = 1.0
) -> float:
    """The learning rate after ``iteration`` batches; ``step_size`` batches make half a cycle."""
    mode = MODES.get(mode, mode)
    cycle = math.floor(1 + iteration / (2 * step_size))
    position = abs(iteration / step_size - 2 * cycle + 1)
    amplitude = (max_lr - base_lr) * max(0.0, 1.0 - position)
    if mode == "triangular":
        scale = 1.0
    elif mode == "triangular2":
        scale = 1.0 / 2.0 ** (cycle - 1)
    elif mode == "exp_range":
        scale = gamma**iteration
    else:
        raise ValueError(f"cyclic learning-rate mode {mode!r} is not one of triangular, triangular2, exp_range")
    return base_lr + amplitude * scale
