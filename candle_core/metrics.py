"""Losses and metrics computed in numpy from predictions: one definition for every backend.

They follow Keras: cross-entropies clip probabilities to [1e-7, 1 - 1e-7]; ``accuracy`` is
categorical (argmax) for several outputs and binary (threshold 0.5) for one; ``r2`` is
CANDLE's 1 - SS_res / (SS_tot + 1e-7).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EPSILON = 1e-7


def loss_value(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean loss over samples."""
    y_true = y_true.astype(np.float64)
    y_pred = y_pred.astype(np.float64)
    if name == "categorical_crossentropy":
        p = np.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
        return float(np.mean(-np.sum(y_true * np.log(p), axis=-1)))
    if name == "binary_crossentropy":
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return float(np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))))
    if name == "mse":
        return float(np.mean((y_true - y_pred) ** 2))
    if name == "mae":
        return float(np.mean(np.abs(y_true - y_pred)))
    raise ValueError(f"unknown loss {name!r}")


def metric_value(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    if name == "accuracy":
        if y_pred.ndim > 1 and y_pred.shape[-1] > 1:
            return float(np.mean(np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)))
        return float(np.mean((y_pred > 0.5) == (y_true > 0.5)))
    if name in ("mae", "mse"):
        return loss_value(name, y_true, y_pred)
    if name == "r2":
        residual = np.sum((y_true - y_pred) ** 2)
        total = np.sum((y_true - np.mean(y_true, axis=0)) ** 2)
        return float(1 - residual / (total + EPSILON))
    raise ValueError(f"unknown metric {name!r}")


def evaluate(loss: str, metrics: Sequence[str], y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "") -> dict:
    """``{prefix+loss: ..., prefix+metric: ...}`` for one set of predictions."""
    values = {f"{prefix}loss": loss_value(loss, y_true, y_pred)}
    for metric in metrics:
        values[f"{prefix}{metric}"] = metric_value(metric, y_true, y_pred)
    return values
