"""candle_lib's noise injection: label flips and feature noise (NT3's noise studies).

As in candle_lib, the random draws come from Python's and numpy's global generators, so
``set_seed`` makes them repeatable, and arrays are changed in place where candle_lib does so.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple | np.ndarray) else [value]


def _flip(labels: np.ndarray, row: int) -> None:
    labels[row] = 1 - labels[row].astype(bool)  # every one-hot entry inverted, as candle_lib does


def label_flip(y_data_categorical: np.ndarray, y_noise_level: float) -> tuple[np.ndarray, float]:
    """Invert the one-hot label of each row with probability ``y_noise_level``; return the labels
    and the fraction of rows flipped."""
    flipped = 0
    for row in range(y_data_categorical.shape[0]):
        if random.random() < y_noise_level:
            _flip(y_data_categorical, row)
            flipped += 1
    return y_data_categorical, flipped / y_data_categorical.shape[0]


def label_flip_correlated(
    y_data_categorical: np.ndarray, y_noise_level: float, x_data: np.ndarray, col_ids: Any, threshold: float
) -> tuple[np.ndarray, float]:
    """Flip labels as ``label_flip``, only in rows whose feature ``col_id`` exceeds ``threshold``
    (for each of ``col_ids``); return the labels and the fraction flipped for the last column."""
    fraction = 0.0
    for column in _as_list(col_ids):
        flipped = 0
        for row in range(y_data_categorical.shape[0]):
            if x_data[row][column] > threshold and random.random() < y_noise_level:
                _flip(y_data_categorical, row)
                flipped += 1
        fraction = flipped / y_data_categorical.shape[0]
    return y_data_categorical, fraction


def add_gaussian_noise(x_data: np.ndarray, loc: float = 0.0, scale: float = 0.5) -> np.ndarray:
    """``x_data`` plus normal noise N(loc, scale) on every value (a new array)."""
    return x_data + np.random.normal(loc, scale, size=x_data.shape)


def _draw(noise_type: str, loc: float, scale: float, size: Any = None) -> Any:
    if noise_type == "gaussian":
        return np.random.normal(loc, scale, size=size)
    if noise_type == "uniform":
        return np.random.uniform(-scale, scale, size=size)
    raise ValueError(f"noise_type must be 'gaussian' or 'uniform', got {noise_type!r}")


def add_column_noise(
    x_data: np.ndarray,
    loc: float = 0.0,
    scale: float = 0.5,
    col_ids: Sequence[int] = (0,),
    noise_type: str = "gaussian",
) -> np.ndarray:
    """Noise (gaussian N(loc, scale) or uniform in [-scale, scale]) added to whole columns, in place."""
    for column in _as_list(col_ids):
        x_data[:, column] = x_data[:, column] + _draw(noise_type, loc, scale, x_data.shape[0])
    return x_data


def add_cluster_noise(
    x_data: np.ndarray,
    loc: float = 0.0,
    scale: float = 0.5,
    col_ids: Sequence[int] = (0,),
    noise_type: str = "gaussian",
    row_ids: Sequence[int] = (0,),
    y_noise_level: float = 0.0,
) -> np.ndarray:
    """Noise added to the cells (row_ids x col_ids), each listed row taking part with probability
    ``y_noise_level``; in place."""
    for row in _as_list(row_ids):
        if random.random() < y_noise_level:
            for column in _as_list(col_ids):
                x_data[row, column] = x_data[row, column] + _draw(noise_type, loc, scale)
    return x_data


def add_noise(data: np.ndarray, labels: np.ndarray, params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The noise the parameters ask for, when ``add_noise`` is on: label noise (``label_noise``,
    correlated with ``feature_col`` above ``feature_threshold`` when ``noise_correlated``), else
    ``noise_gaussian``, ``noise_cluster`` or ``noise_column`` feature noise of ``std_dev``."""
    if not params.get("add_noise"):
        return data, labels
    if params.get("label_noise"):
        if params.get("noise_correlated"):
            labels, _ = label_flip_correlated(
                labels, params["label_noise"], data, params["feature_col"], params["feature_threshold"]
            )
        else:
            labels, _ = label_flip(labels, params["label_noise"])
    elif params.get("noise_gaussian"):
        data = add_gaussian_noise(data, 0.0, params["std_dev"])
    elif params.get("noise_cluster"):
        data = add_cluster_noise(
            data,
            0.0,
            params["std_dev"],
            params["feature_col"],
            params.get("noise_type", "gaussian"),
            params["sample_ids"],
            params.get("label_noise") or 0.0,
        )
    elif params.get("noise_column"):
        data = add_column_noise(
            data, 0.0, params["std_dev"], params["feature_col"], params.get("noise_type", "gaussian")
        )
    return data, labels
