"""Cyclical learning rates (Smith, 2017, arXiv:1506.01186): the rate after a number of batches.

Modes: ``triangular`` (constant amplitude), ``triangular2`` (amplitude halved each cycle),
``exp_range`` (amplitude times gamma**iterations). CANDLE's ``clr_mode`` names them ``trng1``,
``trng2`` and ``exp``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

from candle_core.errors import CandleError

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


def schedule_from(params: Mapping[str, Any]) -> Callable[[int], float] | None:
    """The learning rate per batch count that CANDLE's ``clr_flag`` and ``clr_*`` keywords ask
    for, or None without ``clr_flag``. Missing or inconsistent keywords are a ``CandleError``."""
    if not params.get("clr_flag"):
        return None
    missing = [name for name in ("clr_mode", "clr_base_lr", "clr_max_lr") if params.get(name) is None]
    if missing:
        raise CandleError(
            f"clr_flag needs {', '.join(missing)} (e.g. clr_mode = 'trng1', clr_base_lr = 1e-4, clr_max_lr = 1e-3)"
        )
    base, peak = float(params["clr_base_lr"]), float(params["clr_max_lr"])
    if base >= peak:
        raise CandleError(f"clr_base_lr ({base:g}) must be below clr_max_lr ({peak:g})")
    for other in ("decay", "reduce_lr"):
        if params.get(other):
            raise CandleError(f"clr_flag and {other} both change the learning rate; choose one")
    return functools.partial(
        cyclic_rate,
        base_lr=base,
        max_lr=peak,
        step_size=float(params.get("clr_step_size") or 2000),
        mode=str(params["clr_mode"]),
        gamma=float(params.get("clr_gamma") or 1.0),
    )
