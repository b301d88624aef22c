"""Losses and metrics computed in numpy from predictions: one definition for every backend.

They follow Keras: cross-entropies clip probabilities to [1e-7, 1 - 1e-7]; ``accuracy`` is
categorical (argmax) for several outputs and binary (threshold 0.5) for one; ``r2`` is
CANDLE's 1 - SS_res / (SS_tot + 1e-7); ``corr`` is P1B1's Pearson correlation of all values
(flattened); ``macro_f1`` and ``micro_f1`` are scikit-learn's F1 scores of the argmax classes.

A multi-head network (``ModelSpec.heads``) sums the loss over its heads; each metric is
reported per head (``val_<head>_accuracy``), on the rows that have a label for that head
(a row without one has an all-zero target there), and as the mean over heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EPSILON = 1e-7


Heads = Sequence[tuple[str, int, int]] | None


def loss_value(name: str, y_true: np.ndarray, y_pred: np.ndarray, heads: Heads = None) -> float:
    """Mean loss over samples (summed over heads)."""
    if heads:
        return sum(loss_value(name, y_true[:, start:stop], y_pred[:, start:stop]) for _, start, stop in heads)
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


def _f1(y_true: np.ndarray, y_pred: np.ndarray, average: str) -> float:
    classes = np.arange(y_true.shape[-1])
    truth, guess = np.argmax(y_true, axis=-1)[:, None], np.argmax(y_pred, axis=-1)[:, None]
    true_positive = np.sum((guess == classes) & (truth == classes), axis=0)
    false_positive = np.sum((guess == classes) & (truth != classes), axis=0)
    false_negative = np.sum((guess != classes) & (truth == classes), axis=0)
    if average == "micro":
        denominator = 2 * true_positive.sum() + false_positive.sum() + false_negative.sum()
        return float(2 * true_positive.sum() / denominator) if denominator else 0.0
    present = (true_positive + false_positive + false_negative) > 0  # labels seen in truth or guess
    scores = 2 * true_positive[present] / (2 * true_positive + false_positive + false_negative)[present]
    return float(scores.mean()) if scores.size else 0.0


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
    if name == "corr":
        return float(np.corrcoef(y_true.ravel(), y_pred.ravel())[0, 1])
    if name in ("macro_f1", "micro_f1"):
        return _f1(y_true, y_pred, name.split("_")[0])
    raise ValueError(f"unknown metric {name!r}")


def evaluate(
    loss: str, metrics: Sequence[str], y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "", heads: Heads = None
) -> dict:
    """``{prefix+loss: ..., prefix+metric: ...}`` for one set of predictions (and
    ``prefix+head_metric`` per head of a multi-head network)."""
    values = {f"{prefix}loss": loss_value(loss, y_true, y_pred, heads)}
    if not heads:
        for metric in metrics:
            values[f"{prefix}{metric}"] = metric_value(metric, y_true, y_pred)
        return values
    for metric in metrics:
        per_head = []
        for head, start, stop in heads:
            truth, guess = y_true[:, start:stop], y_pred[:, start:stop]
            labelled = truth.sum(axis=-1) > 0
            if labelled.any():
                per_head.append(metric_value(metric, truth[labelled], guess[labelled]))
                values[f"{prefix}{head}_{metric}"] = per_head[-1]
        values[f"{prefix}{metric}"] = float(np.mean(per_head)) if per_head else float("nan")
    return values
